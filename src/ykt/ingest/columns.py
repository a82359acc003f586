"""Which role of the reader's table each loaded column is made from, and the header a clerk sees for it.

The normaliser builds each loaded column from its role; validation reports a failing loaded column
under the header its role had in the file. Both read this one mapping, so validation does not
depend on the normaliser.
"""

from __future__ import annotations

from ykt.ingest.types import RawTable
from ykt.kinds import KIND_SPECS, FieldSpec

# How each kind's loaded columns are made (ykt.kinds, KindSpec.fields).
FIELD_SPECS: dict[str, tuple[FieldSpec, ...]] = {code: spec.fields for code, spec in KIND_SPECS.items()}


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
