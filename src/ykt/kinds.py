"""The input kinds: one `KindSpec` per kind of file a clerk or the bank sends, and every fact about it.

Everything else is derived from this registry: the inbox folders, the warehouse table and its columns,
the in-file key, what a person calls the kind, which kinds need a program and a period, and which
column holds the amount. A new input kind starts here (docs/architecture.md, "Recipes").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


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


@dataclass(frozen=True)
class KindSpec:
    """One kind of input file and where its rows go."""

    code: str  # roster | payments | deaths | public_employees: stable, used in run.json and outputs
    label: str  # what a person calls it
    inbox_folder: str  # relative to the inbox
    table: str  # the warehouse table its rows are loaded into
    loaded_columns: tuple[str, ...]  # that table's columns filled from the file (besides file_hash)
    # The in-file key: a later row with the same key is a DUPLICATE_ROW. Payments have none: two
    # payments of one key are what the DUPLICATE rule must see.
    key_columns: tuple[str, ...]
    needs_program_and_period: bool  # each row belongs to one program and one period
    amount_column: str | None  # the loaded column holding the row's money, if any
    checked_columns: tuple[str, ...]  # what the data-quality suite reads of each loaded row
    # How each loaded column is made from the file: the role (header) it is read from and the parser.
    # The roles a kind may use in schemas/columns.yaml are the roles named here.
    fields: tuple[FieldSpec, ...]


_PLACE = tuple(field.target for field in _PLACES)

KIND_SPECS: Mapping[str, KindSpec] = MappingProxyType(
    {
        spec.code: spec
        for spec in (
            KindSpec(
                code="roster",
                label="花名册",
                inbox_folder="roster",
                table="entitlements",
                loaded_columns=(
                    "sheet",
                    "source_row",
                    "id_number",
                    "program_code",
                    "period",
                    "name",
                    "head_name",
                    "head_id",
                    "payee_name",
                    "payee_id",
                    "card_number",
                    "bank",
                    *_PLACE,
                    "amount_due",
                    "approval_date",
                    "due_date",
                    "warnings",
                ),
                key_columns=("id_number", "program_code", "period"),
                needs_program_and_period=True,
                amount_column="amount_due",
                checked_columns=(
                    "source_row",
                    "id_number",
                    "program_code",
                    "period",
                    "amount_due",
                    "approval_date",
                    "due_date",
                ),
                fields=(
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
            ),
            KindSpec(
                code="payments",
                label="代发明细",
                inbox_folder="payments",
                table="payments",
                loaded_columns=(
                    "sheet",
                    "source_row",
                    "id_number",
                    "program_code",
                    "period",
                    "name",
                    "payee_name",
                    "card_number",
                    "bank",
                    *_PLACE,
                    "amount",
                    "pay_date",
                    "status",
                    "failure_reason",
                    "warnings",
                ),
                key_columns=(),
                needs_program_and_period=True,
                amount_column="amount",
                checked_columns=(
                    "source_row",
                    "id_number",
                    "program_code",
                    "period",
                    "amount",
                    "pay_date",
                    "status",
                ),
                fields=(
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
            ),
            KindSpec(
                code="deaths",
                label="死亡人员名单",
                inbox_folder="reference/deaths",
                table="deaths",
                loaded_columns=("source_row", "id_number", "name", "death_date"),
                key_columns=("id_number",),
                needs_program_and_period=False,
                amount_column=None,
                checked_columns=("source_row", "id_number", "death_date"),
                fields=(
                    FieldSpec("id_number", "id_number", "id", True),
                    FieldSpec("name", "name", "name"),
                    FieldSpec("death_date", "death_date", "date", True),
                ),
            ),
            KindSpec(
                code="public_employees",
                label="财政供养人员名单",
                inbox_folder="reference/public_employees",
                table="public_employees",
                loaded_columns=("source_row", "id_number", "name", "employer"),
                key_columns=("id_number",),
                needs_program_and_period=False,
                amount_column=None,
                checked_columns=("source_row", "id_number", "employer"),
                fields=(
                    FieldSpec("id_number", "id_number", "id", True),
                    FieldSpec("name", "name", "name"),
                    FieldSpec("employer", "employer", "text"),
                ),
            ),
        )
    }
)

KINDS: tuple[str, ...] = tuple(KIND_SPECS)


def kind_spec(code: str) -> KindSpec:
    return KIND_SPECS[code]


def kind_label(code: str) -> str:
    """What a person calls a kind; an unknown code is shown as it is."""
    spec = KIND_SPECS.get(code)
    return spec.label if spec else code


def role_kinds() -> dict[str, tuple[str, ...]]:
    """Which kinds may use each role (the role contract of schemas/columns.yaml), from the kinds' fields."""
    roles: dict[str, list[str]] = {}
    for code, spec in KIND_SPECS.items():
        for field in spec.fields:
            if code not in roles.setdefault(field.role, []):
                roles[field.role].append(code)
    return {role: tuple(kinds) for role, kinds in roles.items()}
