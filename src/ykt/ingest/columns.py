"""Which role of the reader's table each loaded column is made from, and the header a clerk sees for it.

The normaliser builds each loaded column from its role; validation reports a failing loaded column
under the header its role had in the file. Both read this one mapping, so validation does not
depend on the normaliser.
"""

from __future__ import annotations

from dataclasses import dataclass

from ykt.ingest.types import RawTable


@dataclass(frozen=True)
class FieldSpec:
    """How one loaded column is made: from which role, with which parser, required or not."""

    target: str
    role: str
    parser: str  # key of the normaliser's parsers (ykt.ingest.normalise.fields._PARSERS)
    required: bool = False


_PLACES = (
    FieldSpec("township", "township", "place"),
    FieldSpec("village", "village", "place"),
    FieldSpec("group_name", "group_name", "place"),
)

# What a roster row and a payment row both carry: where the money goes, for which program and period.
_MONEY_ROW = (
    FieldSpec("card_number", "card_number", "card"),
    FieldSpec("bank", "bank", "text"),
    FieldSpec("program_code", "program", "program"),
    FieldSpec("period", "period", "period"),
)

FIELD_SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "roster": (
        FieldSpec("id_number", "id_number", "id", True),
        FieldSpec("name", "name", "name", True),
        FieldSpec("head_name", "head_name", "name"),
        FieldSpec("head_id", "head_id", "id"),
        FieldSpec("payee_name", "payee_name", "name"),
        FieldSpec("payee_id", "payee_id", "id"),
        *_MONEY_ROW,
        FieldSpec("amount_due", "amount", "amount", True),
        FieldSpec("approval_date", "approval_date", "date"),
        FieldSpec("due_date", "due_date", "date"),
        *_PLACES,
    ),
    "payments": (
        FieldSpec("id_number", "id_number", "id", True),
        FieldSpec("name", "name", "name"),
        FieldSpec("payee_name", "payee_name", "name"),
        *_MONEY_ROW,
        FieldSpec("amount", "amount", "amount", True),
        FieldSpec("pay_date", "pay_date", "date"),
        FieldSpec("status", "status", "status", True),
        FieldSpec("failure_reason", "failure_reason", "text"),
        *_PLACES,
    ),
    "deaths": (
        FieldSpec("id_number", "id_number", "id", True),
        FieldSpec("name", "name", "name"),
        FieldSpec("death_date", "death_date", "date", True),
    ),
    "public_employees": (
        FieldSpec("id_number", "id_number", "id", True),
        FieldSpec("name", "name", "name"),
        FieldSpec("employer", "employer", "text"),
    ),
}


def error_sources(table: RawTable) -> dict[str, tuple[str, str | None]]:
    """For each `_err_<target>`: the raw column whose text a clerk sees, and its header."""
    headers = table.headers
    sources = {s.target: (s.role, headers.get(s.role)) for s in FIELD_SPECS[table.kind]}
    if table.kind == "roster":
        if "id_number" not in table.headers and "head_id" in table.headers:
            sources["id_number"] = ("id_number", table.headers["head_id"])
            sources["name"] = ("name", table.headers.get("head_name"))
        due_role = "due_date" if "due_date" in headers else "approval_date"
        sources["due_date"] = (due_role, headers.get(due_role))
    return sources
