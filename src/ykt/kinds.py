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


_PLACE = ("township", "village", "group_name")

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
                ),  # fmt: skip
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
                ),  # fmt: skip
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
                ),  # fmt: skip
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
                ),  # fmt: skip
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
