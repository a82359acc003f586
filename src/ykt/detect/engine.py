"""Detection rules: the closed registry (rules/rules.yaml + one SQL file per rule) and the runner.

Each rule is one `select` over the warehouse (docs/architecture.md, "Rule SQL contract").
The registry is validated as a whole at start-up: metadata and SQL files together, every
rule executed once against an empty warehouse, every problem reported at once with its
file and rule. The runner builds the as-of views and the shared intermediate tables once,
then inserts each rule's rows into `findings` in one transaction. All values come in as
bound parameters ($as_of and the programs.yaml settings by name); SQL text only ever
contains identifiers that were checked against a fixed list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ykt.config import Programs, Settings
from ykt.errors import ConfigError, ConfigProblem, RuleExecutionError
from ykt.warehouse import Warehouse

ROUTES = ("complaint", "clue", "record")

# The closed set of rules and the route each must take: a clue routed to `complaint` would
# send an accusation to the villagers' platform, so the route is not a free choice.
FIXED_ROUTES: dict[str, str] = {
    "MISSING": "complaint",
    "FAILED_NOT_REISSUED": "complaint",
    "PAID_LATE": "record",
    "UNDERPAID": "complaint",
    "OVERPAID": "clue",
    "DUPLICATE": "clue",
    "UNENTITLED": "clue",
    "PAYEE_MISMATCH": "clue",
    "SHARED_ACCOUNT": "clue",
    "DECEASED_PAYEE": "clue",
    "PUBLIC_EMPLOYEE": "clue",
    "BATCH_STALLED": "complaint",
    "AMOUNT_OUTLIER": "clue",
}

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

CASE_ID_SQL = "'YKT-' || upper(substr(sha256(r.rule_code || '|' || r.program_code || '|' || r.case_key || '|' || r.case_period), 1, 16))"

RULES_YAML = "rules.yaml"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
# A fixed day for validating against the empty warehouse: any date would do.
_VALIDATION_AS_OF = dt.date(2000, 1, 1)

_RULE_KEYS = {"code", "title", "route", "order", "sql_file", "description", "absorbs", "returns"}
# What a rule's select returns: the finding columns themselves, or flagged payments that the
# shared PAYMENT_FINDINGS_SQL turns into findings (one place for how a payment is described).
RETURNS = ("findings", "payments")
PAYMENT_FINDINGS_SQL = "_payment_findings.sql"
FLAGGED_PAYMENT_COLUMNS = ("payment_row", "program_code", "detail", "case_key", "case_period")
_INTERMEDIATE_KEYS = {"name", "sql_file", "description", "materialize"}


@dataclass(frozen=True)
class Absorption:
    """The findings of `rule` equal to this rule's finding on the `match` columns carry its case_id."""

    rule: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    route: str
    sql_file: str
    sql: str
    description: str
    order: int
    absorbs: Absorption | None = None
    returns: str = "findings"
    describe_sql: str = ""  # PAYMENT_FINDINGS_SQL, for a rule that returns payments

    @property
    def finding_sql(self) -> str:
        """The select yielding the finding columns: a payments rule's own select goes through the shared description."""
        if self.returns == "payments":
            return describe_payments_sql(self.sql, self.describe_sql)
        return self.sql

    @property
    def parameters(self) -> tuple[str, ...]:
        return sql_parameters(self.finding_sql)


@dataclass(frozen=True)
class Intermediate:
    """A shared TEMP table (or view) built once per run, before the rules.

    `materialize: view` suits a narrow projection of stored columns: each reader scans the
    warehouse's own columns as fast as it would scan a copy, and the copy is not written."""

    name: str
    sql_file: str
    sql: str
    description: str
    materialize: str = "table"

    @property
    def parameters(self) -> tuple[str, ...]:
        return sql_parameters(self.sql)


@dataclass(frozen=True)
class RuleRegistry:
    rules: tuple[Rule, ...]
    intermediates: tuple[Intermediate, ...] = ()

    def get(self, code: str) -> Rule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(f"unknown rule {code!r}; known: {', '.join(self.codes)}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    def in_order(self) -> tuple[Rule, ...]:
        return tuple(sorted(self.rules, key=lambda rule: rule.order))


# ---------------------------------------------------------------------------------------------
# SQL text helpers (pure)
# ---------------------------------------------------------------------------------------------


def sql_parameters(sql: str) -> tuple[str, ...]:
    """Named parameters ($name) a statement uses, in first-use order (comments ignored)."""
    names = _PARAMETER.findall(_LINE_COMMENT.sub("", sql))
    return tuple(dict.fromkeys(names))


def _clean_sql(text: str) -> str:
    """A rule file is one select: drop a trailing semicolon so it can be wrapped."""
    return text.strip().rstrip(";").rstrip()


def available_parameters(as_of: dt.date, settings: Settings) -> dict[str, Any]:
    return {"as_of": as_of, **dataclasses.asdict(settings)}


def bind(names: tuple[str, ...], available: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Exactly the parameters a statement uses (DuckDB rejects unused ones)."""
    values = {**available, **extra}
    return {name: values[name] for name in names}


# Where each finding column of a flagged payment comes from: the rule's own select (f) or the
# shared description of the payment (d, PAYMENT_FINDINGS_SQL).
_FROM_FLAG = ("program_code", "detail", "case_key", "case_period")


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


def insert_findings_sql(rule: Rule) -> str:
    """Wrap a rule's select: add rule, route, as_of and the stable case_id, insert by name."""
    return _insert_findings(
        "$ykt_rule", "$ykt_route", "null" if rule.route == "record" else CASE_ID_SQL, rule.finding_sql
    )


def _insert_findings(rule_code: str, route: str, case_id: str, finding_sql: str) -> str:
    columns = [c for c in CONTRACT_COLUMNS if c not in CASE_ONLY_COLUMNS]
    return (
        f"insert into findings (as_of, rule, route, case_id, {', '.join(columns)})\n"
        f"select $as_of, r.rule_code, {route}, {case_id}, {', '.join('r.' + c for c in columns)}\n"
        f"from (select {rule_code} as rule_code, * from (\n{finding_sql}\n)) as r"
    )


# The flagged payments of the night's payment rules, described together (one read of the
# flagged rows and their roster rows instead of one per rule).
PENDING_FLAGS_DDL = (
    "create or replace temp table pending_flags (payment_row bigint, program_code varchar, detail varchar, "
    "case_key varchar, case_period varchar, rule_code varchar, route varchar)"
)


def flag_payments_sql(rule: Rule) -> str:
    """A payments rule's select, kept as pending flags under its code and route."""
    return f"insert into pending_flags\nselect *, $ykt_rule, $ykt_route from (\n{rule.sql}\n)"


def describe_pending_sql(payment_findings_sql: str) -> str:
    """Every pending flag as a finding (case_id as for any rule: none for a record-only rule)."""
    finding_sql = describe_payments_sql(
        "select * from pending_flags", payment_findings_sql, passthrough=("rule_code", "route")
    )
    case_id = f"case when r.flag_route = 'record' then null else {CASE_ID_SQL} end"
    return _insert_findings("flag_rule_code", "r.flag_route", case_id, finding_sql)


def absorb_sql(absorption: Absorption) -> str:
    """Re-point the absorbed rule's findings to the case of the absorbing rule's finding."""
    matches = "\n  and ".join(f"member.{c} is not distinct from head.{c}" for c in absorption.match)
    return (
        "update findings as member set case_id = head.case_id\n"
        "from findings as head\n"
        "where head.rule = $ykt_rule and head.as_of = $as_of\n"
        "  and member.rule = $ykt_member and member.as_of = $as_of\n"
        f"  and {matches}"
    )


# ---------------------------------------------------------------------------------------------
# programs_cfg, views and intermediates
# ---------------------------------------------------------------------------------------------

_PROGRAMS_CFG_DDL = """
create or replace table programs_cfg (
    code                    varchar primary key,
    name                    varchar not null,
    cadence                 varchar not null,
    pay_day                 integer,
    due_days_after_approval integer,
    grace_days              integer not null,
    reissue_days            integer not null,
    standard_amount         decimal(18, 2),
    tolerance               decimal(18, 2) not null,
    means_tested            boolean not null,
    department              varchar,
    supervisor              varchar,
    resolve_days            integer not null,
    outlier_check           boolean not null,
    benford_check           boolean not null
)
"""
_PROGRAMS_CFG_FIELDS = (
    "code",
    "name",
    "cadence",
    "pay_day",
    "due_days_after_approval",
    "grace_days",
    "reissue_days",
    "standard_amount",
    "tolerance",
    "means_tested",
    "department",
    "supervisor",
    "resolve_days",
    "outlier_check",
    "benford_check",
)


def install_programs(wh: Warehouse, programs: Programs) -> None:
    """(Re)create `programs_cfg` from programs.yaml; every value is a bound parameter."""
    wh.execute("programs_cfg", _PROGRAMS_CFG_DDL)
    placeholders = ", ".join("?" for _ in _PROGRAMS_CFG_FIELDS)
    rows = [tuple(getattr(p, f) for f in _PROGRAMS_CFG_FIELDS) for p in programs.programs]
    wh.execute_many("programs_cfg", f"insert into programs_cfg values ({placeholders})", rows)


_VIEWS = (
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


def _prepare_inputs(
    wh: Warehouse, registry: RuleRegistry, params: dict[str, Any]
) -> list[tuple[str, RuleExecutionError]]:
    """Bind as_of, create the views and build the intermediates; returns failures (name, error)."""
    # a view cannot hold a prepared parameter, so as_of is bound into a session variable
    wh.execute("as_of", "set variable ykt_as_of = $as_of", {"as_of": params["as_of"]})
    for name, sql in _VIEWS:
        wh.execute(name, sql)
    failures = []
    with _any_row_order(wh):
        for step in registry.intermediates:
            try:
                wh.execute(
                    step.name,
                    f"create or replace temp {step.materialize} {step.name} as\n{step.sql}",
                    bind(step.parameters, params),
                )
            except RuleExecutionError as exc:
                failures.append((step.name, exc))
    return failures


@contextmanager
def _any_row_order(wh: Warehouse) -> Iterator[None]:
    """Let DuckDB write tables in any row order meanwhile (a DuckDB-wide setting, restored after).

    The intermediates are sets: every reader joins, groups or filters them, none relies on their
    order. Kept in input order, a table intermediate is built by an ordered writer that costs
    about a tenth more CPU than the parallel one."""
    kept = wh.scalar("row order: read", "select current_setting('preserve_insertion_order')")
    wh.execute("row order: any", "set preserve_insertion_order = false")
    try:
        yield
    finally:
        wh.execute(
            "row order: restore",
            "set preserve_insertion_order = true" if kept else "set preserve_insertion_order = false",
        )


def _drop_intermediates(wh: Warehouse, registry: RuleRegistry) -> None:
    # names are identifiers (not bindable); load_registry admits only [a-z_][a-z0-9_]*
    for step in registry.intermediates:
        wh.execute(f"drop {step.name}", f"drop {step.materialize} if exists {step.name}")


def _insert_counted(wh: Warehouse, rule: Rule, statement: str, params: dict[str, Any]) -> int:
    """Run one of the rule's inserts (findings or pending flags) under its code; rows inserted."""
    inserted = wh.execute(
        rule.code,
        statement,
        bind(sql_parameters(statement), params, ykt_rule=rule.code, ykt_route=rule.route),
    )
    return int(inserted.fetchone()[0])


def _run_rule(wh: Warehouse, rule: Rule, params: dict[str, Any]) -> int:
    count = _insert_counted(wh, rule, insert_findings_sql(rule), params)
    _absorb(wh, rule, params)
    return count


def _absorb(wh: Warehouse, rule: Rule, params: dict[str, Any]) -> None:
    if rule.absorbs:
        wh.execute(
            f"{rule.code} absorbs {rule.absorbs.rule}",
            absorb_sql(rule.absorbs),
            {"as_of": params["as_of"], "ykt_rule": rule.code, "ykt_member": rule.absorbs.rule},
        )


def _describe_pending(wh: Warehouse, describe_sql: str, params: dict[str, Any]) -> None:
    """Turn the pending flags into findings and clear them."""
    statement = describe_pending_sql(describe_sql)
    wh.execute("describe flagged payments", statement, bind(sql_parameters(statement), params))
    wh.execute("pending flags: clear", "delete from pending_flags")


# ---------------------------------------------------------------------------------------------
# the runner
# ---------------------------------------------------------------------------------------------


def run_rules(wh: Warehouse, programs: Programs, registry: RuleRegistry, as_of: dt.date) -> dict[str, int]:
    """Rewrite `findings` with every rule's rows as of `as_of`, in one transaction.

    Returns the number of findings per rule code (every code present, 0 when none).
    A failing statement raises RuleExecutionError named after its rule.
    """
    params = available_parameters(as_of, programs.settings)
    # The views, programs_cfg and the TEMP intermediates are rebuilt from scratch every run, so
    # they are built before the findings' transaction and dropped after it: the transaction then
    # holds only the findings (all or nothing), and neither it nor its commit carries 10M-row
    # temporary tables.
    try:
        install_programs(wh, programs)
        failures = _prepare_inputs(wh, registry, params)
        if failures:
            raise failures[0][1]
        with wh.transaction():
            wh.execute("findings: clear", "delete from findings")
            wh.execute("pending flags", PENDING_FLAGS_DDL)
            counts = _run_in_order(wh, registry, params)
            wh.execute("drop pending flags", "drop table if exists pending_flags")
    finally:
        _drop_intermediates(wh, registry)
    return {rule.code: counts[rule.code] for rule in registry.rules}


def _run_in_order(wh: Warehouse, registry: RuleRegistry, params: dict[str, Any]) -> dict[str, int]:
    """Each rule in order. A payments rule's flags wait in `pending_flags` and are described
    together: before the next rule that is not a payments rule (a rule may read the findings of
    lower orders), before an absorption, and at the end."""
    describe_sql = next((r.describe_sql for r in registry.rules if r.returns == "payments"), "")
    counts: dict[str, int] = {}
    pending = False
    for rule in registry.in_order():
        if rule.returns == "payments":
            counts[rule.code] = _insert_counted(wh, rule, flag_payments_sql(rule), params)
            pending = not rule.absorbs
            if rule.absorbs:
                _describe_pending(wh, describe_sql, params)
                _absorb(wh, rule, params)
            continue
        if pending:
            _describe_pending(wh, describe_sql, params)
            pending = False
        counts[rule.code] = _run_rule(wh, rule, params)
    if pending:
        _describe_pending(wh, describe_sql, params)
    return counts


# ---------------------------------------------------------------------------------------------
# loading and validating the registry
# ---------------------------------------------------------------------------------------------


def default_ruleset_dir() -> Path:
    return Path(str(resources.files("ykt.rules")))


class _Problems:
    """Collects every problem with its file and rule instead of stopping at the first."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.items: list[ConfigProblem] = []

    def add(self, file: str, rule: str, message: str) -> None:
        self.items.append(ConfigProblem(str(self.directory / file), rule, message))


def load_registry(ruleset_dir: Path | None = None) -> RuleRegistry:
    """Read rules.yaml and the SQL files, validate them together, raise ConfigError listing all problems."""
    directory = Path(ruleset_dir) if ruleset_dir else default_ruleset_dir()
    problems = _Problems(directory)
    raw = _read_yaml(directory, problems)
    if problems.items and not raw:
        raise ConfigError(problems.items)  # nothing to check the SQL files against
    intermediates = _parse_intermediates(raw.get("intermediates"), directory, problems)
    describe_sql = _read_sql(directory, PAYMENT_FINDINGS_SQL, PAYMENT_FINDINGS_SQL, problems)
    rules = _parse_rules(raw.get("rules"), directory, describe_sql, problems)
    _check_closed_set(rules, problems)
    _check_unreferenced_sql(directory, rules, intermediates, problems)
    _check_absorptions(rules, problems)
    registry = RuleRegistry(rules=tuple(rules), intermediates=tuple(intermediates))
    _check_against_empty_warehouse(registry, problems)
    if problems.items:
        raise ConfigError(problems.items)
    return registry


def _read_yaml(directory: Path, problems: _Problems) -> dict:
    path = directory / RULES_YAML
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(RULES_YAML, "-", "文件不存在：规则元数据缺失")
        return {}
    except yaml.YAMLError as exc:
        problems.add(RULES_YAML, "-", f"YAML 格式错误：{exc}")
        return {}
    if not isinstance(raw, dict):
        problems.add(RULES_YAML, "-", "应为含 intermediates 与 rules 两个列表的映射")
        return {}
    for unknown in sorted(set(raw) - {"intermediates", "rules"}):
        problems.add(RULES_YAML, unknown, "未知顶层字段；可用：intermediates, rules")
    return raw


def _entries(raw: Any, what: str, problems: _Problems) -> list[tuple[str, dict]]:
    """(where, mapping) for each list item; anything else is a problem."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(RULES_YAML, what, "应为列表")
        return []
    entries = []
    for i, item in enumerate(raw):
        if isinstance(item, dict):
            entries.append((f"{what}[{i}]", item))
        else:
            problems.add(RULES_YAML, f"{what}[{i}]", "应为键值对")
    return entries


def _read_sql(directory: Path, sql_file: Any, key: str, problems: _Problems) -> str:
    if not isinstance(sql_file, str) or not sql_file.endswith(".sql") or "/" in sql_file:
        problems.add(RULES_YAML, key, f"sql_file 应为 rules 目录下的 .sql 文件名，实际为 {sql_file!r}")
        return ""
    path = directory / sql_file
    if not path.is_file():
        problems.add(sql_file, key, "SQL 文件不存在：请新建该文件或改正 rules.yaml 中的 sql_file")
        return ""
    sql = _clean_sql(path.read_text(encoding="utf-8"))
    if not sql:
        problems.add(sql_file, key, "SQL 文件为空")
    return sql


def _unknown_keys(item: dict, allowed: set[str], key: str, problems: _Problems) -> None:
    for unknown in sorted(set(item) - allowed):
        problems.add(RULES_YAML, key, f"未知字段 {unknown!r}；可用：{', '.join(sorted(allowed))}")


def _parse_intermediates(raw: Any, directory: Path, problems: _Problems) -> list[Intermediate]:
    steps: list[Intermediate] = []
    for where, item in _entries(raw, "intermediates", problems):
        name = item.get("name")
        key = name if isinstance(name, str) else where
        _unknown_keys(item, _INTERMEDIATE_KEYS, key, problems)
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            problems.add(RULES_YAML, key, f"name 应为小写字母、数字和下划线组成的表名，实际为 {name!r}")
            continue
        if name in {s.name for s in steps}:
            problems.add(RULES_YAML, key, "中间表名重复")
            continue
        sql = _read_sql(directory, item.get("sql_file"), key, problems)
        materialize = item.get("materialize", "table")
        if materialize not in ("table", "view"):
            problems.add(RULES_YAML, key, f"materialize 应为 table 或 view，实际为 {materialize!r}")
            continue
        if materialize == "view" and sql_parameters(sql):
            # a view cannot hold a prepared parameter
            problems.add(RULES_YAML, key, "materialize: view 的中间表不能使用参数（$…）；请改为 table")
            continue
        steps.append(
            Intermediate(
                name, str(item.get("sql_file")), sql, str(item.get("description") or ""), materialize
            )
        )
    return steps


def _parse_rules(raw: Any, directory: Path, describe_sql: str, problems: _Problems) -> list[Rule]:
    rules: list[Rule] = []
    if raw is None:
        problems.add(RULES_YAML, "rules", "缺少 rules 列表")
    for where, item in _entries(raw, "rules", problems):
        rule = _parse_rule(item, where, directory, describe_sql, problems)
        if rule is None:
            continue
        if rule.code in {r.code for r in rules}:
            problems.add(RULES_YAML, rule.code, "规则代码重复：每条规则只能登记一次")
            continue
        rules.append(rule)
    return rules


def _parse_rule(
    item: dict, where: str, directory: Path, describe_sql: str, problems: _Problems
) -> Rule | None:
    code = item.get("code")
    key = code if isinstance(code, str) else where
    _unknown_keys(item, _RULE_KEYS, key, problems)
    if code not in FIXED_ROUTES:
        problems.add(RULES_YAML, key, f"未知规则代码 {code!r}；规则集是封闭的：{', '.join(FIXED_ROUTES)}")
        return None
    route = item.get("route")
    if route not in ROUTES:
        problems.add(RULES_YAML, code, f"route 应为 {' | '.join(ROUTES)} 之一，实际为 {route!r}")
    elif route != FIXED_ROUTES[code]:
        problems.add(
            RULES_YAML, code, f"route 固定为 {FIXED_ROUTES[code]}（投诉与线索不可混送），实际为 {route!r}"
        )
    order = item.get("order")
    if isinstance(order, bool) or not isinstance(order, int):
        problems.add(RULES_YAML, code, f"order 应为整数，实际为 {order!r}")
        order = 0
    for text_key in ("title", "description"):
        if not isinstance(item.get(text_key), str) or not item[text_key].strip():
            problems.add(RULES_YAML, code, f"缺少 {text_key}（中文）")
    returns = item.get("returns", "findings")
    if returns not in RETURNS:
        problems.add(RULES_YAML, code, f"returns 应为 {' | '.join(RETURNS)} 之一，实际为 {returns!r}")
        returns = "findings"
    sql = _read_sql(directory, item.get("sql_file"), code, problems)
    absorbs = _parse_absorption(item.get("absorbs"), code, problems)
    return Rule(
        code,
        str(item.get("title") or ""),
        str(route),
        str(item.get("sql_file")),
        sql,
        str(item.get("description") or "").strip(),
        order,
        absorbs,
        returns,
        describe_sql if returns == "payments" else "",
    )


def _parse_absorption(raw: Any, code: str, problems: _Problems) -> Absorption | None:
    if raw is None:
        return None
    # (the key is `match`, not `on`: YAML 1.1 reads a bare `on` as the boolean true)
    match = raw.get("match") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("rule"), str)
        or not isinstance(match, list)
        or not match
    ):
        problems.add(RULES_YAML, code, "absorbs 应为 {rule: 规则代码, match: [列名, ...]}")
        return None
    bad = [c for c in match if c not in CONTRACT_COLUMNS or c in CASE_ONLY_COLUMNS]
    if bad:
        problems.add(
            RULES_YAML, code, f"absorbs.match 含非结果列 {bad}；可用：{', '.join(CONTRACT_COLUMNS[:-2])}"
        )
        return None
    return Absorption(raw["rule"], tuple(match))


def _check_closed_set(rules: list[Rule], problems: _Problems) -> None:
    present = {r.code for r in rules}
    for code in FIXED_ROUTES:
        if code not in present:
            problems.add(RULES_YAML, code, "规则集缺少该规则：请在 rules.yaml 中登记")
    orders: dict[int, str] = {}
    for rule in rules:
        if rule.order in orders:
            problems.add(
                RULES_YAML, rule.code, f"order {rule.order} 与 {orders[rule.order]} 相同：运行顺序必须唯一"
            )
        orders.setdefault(rule.order, rule.code)


def _check_unreferenced_sql(
    directory: Path, rules: list[Rule], steps: list[Intermediate], problems: _Problems
) -> None:
    referenced = {r.sql_file for r in rules} | {s.sql_file for s in steps} | {PAYMENT_FINDINGS_SQL}
    for path in sorted(directory.glob("*.sql")):
        if path.name not in referenced:
            problems.add(
                path.name, path.stem, "SQL 文件没有对应的规则元数据：请在 rules.yaml 中登记或删除该文件"
            )


def _check_absorptions(rules: list[Rule], problems: _Problems) -> None:
    by_code = {r.code: r for r in rules}
    for rule in rules:
        if rule.absorbs is None:
            continue
        member = by_code.get(rule.absorbs.rule)
        if member is None:
            problems.add(RULES_YAML, rule.code, f"absorbs.rule {rule.absorbs.rule!r} 不是已登记的规则")
        elif member.order >= rule.order:
            problems.add(RULES_YAML, rule.code, f"absorbs 的规则 {member.code} 必须先运行（order 更小）")


def _check_against_empty_warehouse(registry: RuleRegistry, problems: _Problems) -> None:
    """Run the real statements once on an empty in-memory warehouse: syntax, names, parameters, columns."""
    params = available_parameters(_VALIDATION_AS_OF, Settings())
    with Warehouse(":memory:") as wh:
        install_programs(wh, Programs(source="(validation)", programs=()))
        for name, error in _prepare_inputs(wh, registry, params):
            step = next(s for s in registry.intermediates if s.name == name)
            problems.add(step.sql_file, name, f"SQL 无法执行：{error.cause}")
        for rule in registry.in_order():
            if rule.sql:
                _check_rule_sql(wh, rule, params, problems)


def _check_rule_sql(wh: Warehouse, rule: Rule, params: dict[str, Any], problems: _Problems) -> None:
    unknown = [p for p in rule.parameters if p not in params]
    if unknown:
        problems.add(
            rule.sql_file,
            rule.code,
            f"未知参数 {', '.join('$' + p for p in unknown)}；可用：{', '.join('$' + p for p in params)}",
        )
        return
    try:
        if rule.returns == "payments":
            flagged = _columns_of(wh, rule.code, rule.sql, params)
            if flagged != FLAGGED_PAYMENT_COLUMNS:
                problems.add(rule.sql_file, rule.code, _column_mismatch(flagged, FLAGGED_PAYMENT_COLUMNS))
                return
        columns = _columns_of(wh, rule.code, rule.finding_sql, params)
        if columns != CONTRACT_COLUMNS:
            problems.add(rule.sql_file, rule.code, _column_mismatch(columns, CONTRACT_COLUMNS))
            return
        _run_rule(wh, rule, params)
    except RuleExecutionError as exc:
        problems.add(rule.sql_file, rule.code, f"SQL 无法执行：{exc.cause}")


def _columns_of(wh: Warehouse, name: str, sql: str, params: dict[str, Any]) -> tuple[str, ...]:
    described = wh.execute(name, f"select * from (\n{sql}\n) limit 0", bind(sql_parameters(sql), params))
    return tuple(d[0] for d in described.description)


def _column_mismatch(columns: tuple[str, ...], expected: tuple[str, ...]) -> str:
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    parts = [f"输出列必须恰为（按此顺序）：{', '.join(expected)}"]
    if missing:
        parts.append(f"缺少：{', '.join(missing)}")
    if extra:
        parts.append(f"多出：{', '.join(extra)}")
    if not missing and not extra:
        parts.append(f"顺序不同，实际为：{', '.join(columns)}")
    return "；".join(parts)
