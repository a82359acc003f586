"""The SQL text the runner executes, built by small pure functions from checked parts.

Only identifiers from fixed lists (the contract columns, intermediate names that the registry
admits as [a-z_][a-z0-9_]*) and the rules' own SQL files go into the text; every value is a
bound parameter.
"""

from __future__ import annotations

import re

CONTRACT_COLUMNS = (
    "program_code",
    "period",
    "id_number",
    "name",
    "card_number",
    "township",
    "village",
    "group_name",
    "amount_due",
    "amount_paid",
    "due_date",
    "paid_date",
    "days_overdue",
    "detail",
    "case_key",
    "case_period",
)
# The runner derives case_id from these; they are not stored in `findings`.
CASE_ONLY_COLUMNS = ("case_key", "case_period")
FLAGGED_PAYMENT_COLUMNS = ("payment_row", "program_code", "detail", "case_key", "case_period")

CASE_ID_SQL = "'YKT-' || upper(substr(sha256(r.rule_code || '|' || r.program_code || '|' || r.case_key || '|' || r.case_period), 1, 16))"

_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")

# Where each finding column of a flagged payment comes from: the rule's own select (f) or the
# shared description of the payment (d, _payment_findings.sql).
_FROM_FLAG = ("program_code", "detail", "case_key", "case_period")

# The flagged payments of the night's payment rules, described together (one read of the
# flagged rows and their roster rows instead of one per rule).
PENDING_FLAGS_DDL = (
    "create or replace temp table pending_flags (payment_row bigint, program_code varchar, detail varchar, "
    "case_key varchar, case_period varchar, rule_code varchar, route varchar)"
)

VIEWS = (
    (
        "view entitlements_current",
        "create or replace temp view entitlements_current as select *, rowid as entitlement_row from entitlements "
        "where superseded_by is null",
    ),
    # payment_row and entitlement_row (the row ids) let a rule find rows on narrow columns and
    # fetch the few it needs whole: a row-id join reads only those rows
    (
        "view payments_asof",
        "create or replace temp view payments_asof as select *, rowid as payment_row from payments "
        "where pay_date <= getvariable('ykt_as_of')",
    ),
)


def sql_parameters(sql: str) -> tuple[str, ...]:
    """Named parameters ($name) a statement uses, in first-use order (comments ignored)."""
    names = _PARAMETER.findall(_LINE_COMMENT.sub("", sql))
    return tuple(dict.fromkeys(names))


def clean_sql(text: str) -> str:
    """A rule file is one select: drop a trailing semicolon so it can be wrapped."""
    return text.strip().rstrip(";").rstrip()


def describe_payments_sql(
    flagged_sql: str, payment_findings_sql: str, passthrough: tuple[str, ...] = ()
) -> str:
    """Flagged payments (a rule's select, or the night's pending flags) as finding rows: the
    flag's own columns plus the shared description of each distinct payment row."""
    columns = [f"f.{c}" if c in _FROM_FLAG else f"d.{c}" for c in CONTRACT_COLUMNS]
    columns += [f"f.{c} as flag_{c}" for c in passthrough]
    return (
        f"with flagged as (\n{flagged_sql}\n),\n"
        "flagged_rows as (\nselect distinct payment_row from flagged\n),\n"
        f"described as (\nselect * from (\n{payment_findings_sql}\n)\n)\n"
        f"select {', '.join(columns)}\n"
        "from flagged as f\njoin described as d\n    on d.payment_row = f.payment_row"
    )


def insert_findings_sql(finding_sql: str, record_only: bool) -> str:
    """Wrap a rule's select: add rule, route, as_of and the stable case_id (none for a record-only
    rule), insert by name."""
    return _insert_findings("$ykt_rule", "$ykt_route", "null" if record_only else CASE_ID_SQL, finding_sql)


def _insert_findings(rule_code: str, route: str, case_id: str, finding_sql: str) -> str:
    columns = [c for c in CONTRACT_COLUMNS if c not in CASE_ONLY_COLUMNS]
    return (
        f"insert into findings (as_of, rule, route, case_id, {', '.join(columns)})\n"
        f"select $as_of, r.rule_code, {route}, {case_id}, {', '.join('r.' + c for c in columns)}\n"
        f"from (select {rule_code} as rule_code, * from (\n{finding_sql}\n)) as r"
    )


def flag_payments_sql(rule_sql: str) -> str:
    """A payments rule's select, kept as pending flags under its code and route."""
    return f"insert into pending_flags\nselect *, $ykt_rule, $ykt_route from (\n{rule_sql}\n)"


def describe_pending_sql(payment_findings_sql: str) -> str:
    """Every pending flag as a finding (case_id as for any rule: none for a record-only rule)."""
    finding_sql = describe_payments_sql(
        "select * from pending_flags", payment_findings_sql, passthrough=("rule_code", "route")
    )
    case_id = f"case when r.flag_route = 'record' then null else {CASE_ID_SQL} end"
    return _insert_findings("flag_rule_code", "r.flag_route", case_id, finding_sql)


def _same(match: tuple[str, ...]) -> str:
    """A member finding equal to the head finding on the `match` columns (nulls equal)."""
    return "\n  and ".join(f"member.{c} is not distinct from head.{c}" for c in match)


def absorb_sql(match: tuple[str, ...]) -> str:
    """Re-point the absorbed rule's findings to the case of the absorbing rule's finding, equal on `match`."""
    return (
        "update findings as member set case_id = head.case_id\n"
        "from findings as head\n"
        "where head.rule = $ykt_rule and head.as_of = $as_of\n"
        "  and member.rule = $ykt_member and member.as_of = $as_of\n"
        f"  and {_same(match)}"
    )


def suppress_sql(match: tuple[str, ...]) -> str:
    """Drop the suppressed rules' findings equal to a finding of the suppressing rule on `match`."""
    return (
        "delete from findings as member\n"
        "using findings as head\n"
        "where head.rule = $ykt_rule and head.as_of = $as_of\n"
        "  and list_contains($ykt_members, member.rule) and member.as_of = $as_of\n"
        f"  and {_same(match)}"
    )


def build_intermediate_sql(name: str, materialize: str, sql: str) -> str:
    """A shared intermediate as a TEMP table or view (name and kind checked by the registry)."""
    return f"create or replace temp {materialize} {name} as\n{sql}"


def drop_intermediate_sql(name: str, materialize: str) -> str:
    return f"drop {materialize} if exists {name}"


def columns_probe_sql(sql: str) -> str:
    """The statement's columns without its rows."""
    return f"select * from (\n{sql}\n) limit 0"
