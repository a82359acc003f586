"""The closed rule registry: rules/rules.yaml and one SQL file per rule, validated together.

Each rule is one `select` over the warehouse (docs/architecture.md, "Rule SQL contract").
The registry is validated as a whole at start-up: metadata, case sentences and SQL files
together, every rule executed once against an empty warehouse, every problem reported at
once with its file and rule. rules.yaml is the one place that states each rule's title,
route and case sentence.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ykt.config import Programs, Settings
from ykt.detect import sql
from ykt.detect.model import Absorption, CaseText, Intermediate, Rule, RuleRegistry, Suppression
from ykt.detect.programs import install_programs
from ykt.detect.runner import Params, available_parameters, bind, prepare_inputs, run_rule
from ykt.errors import ConfigError, ConfigProblem, RuleExecutionError
from ykt.warehouse import Warehouse

ROUTES = ("complaint", "clue", "record")
# Routes that open a case, each with a fallback sentence for a rule without its own case_text.
CASE_ROUTES = ("complaint", "clue")
# The values a case sentence may name, each supplied by ykt.cases.summaries.
CASE_TEXT_FIELDS = (
    "lead",
    "place",
    "period",
    "program",
    "amount",
    "due",
    "paid",
    "due_date",
    "days",
    "findings",
    "persons",
    "card",
    "as_of",
)

RULES_YAML = "rules.yaml"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# A fixed day for validating against the empty warehouse: any date would do.
_VALIDATION_AS_OF = dt.date(2000, 1, 1)

_TOP_KEYS = ("intermediates", "rules", "fallback_case_text")
_RULE_KEYS = {
    "code",
    "title",
    "route",
    "order",
    "sql_file",
    "description",
    "absorbs",
    "returns",
    "case_text",
    "department",
    "supervisor",
    "suppresses",
}
# What a rule's select returns: the finding columns themselves, or flagged payments that the
# shared PAYMENT_FINDINGS_SQL turns into findings (one place for how a payment is described).
RETURNS = ("findings", "payments")
PAYMENT_FINDINGS_SQL = "_payment_findings.sql"
_INTERMEDIATE_KEYS = {"name", "sql_file", "description", "materialize"}


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
    fallbacks = _parse_fallbacks(raw.get("fallback_case_text"), problems)
    _check_order_and_files(rules, problems)
    _check_unreferenced_sql(directory, rules, intermediates, problems)
    _check_absorptions(rules, problems)
    registry = RuleRegistry(tuple(rules), tuple(intermediates), fallbacks)
    _check_against_empty_warehouse(registry, problems)
    if problems.items:
        raise ConfigError(problems.items)
    return registry


def _read_yaml(directory: Path, problems: _Problems) -> dict[str, Any]:
    path = directory / RULES_YAML
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(RULES_YAML, "-", "文件不存在：规则元数据缺失")
        return {}
    except yaml.YAMLError as exc:
        problems.add(RULES_YAML, "-", f"YAML 格式错误：{exc}")
        return {}
    except UnicodeDecodeError:
        problems.add(RULES_YAML, "-", "文件不是 UTF-8 编码（可能用 GBK 保存了）；请用 UTF-8 另存后重试")
        return {}
    if not isinstance(raw, dict):
        problems.add(RULES_YAML, "-", "应为含 intermediates 与 rules 两个列表的映射")
        return {}
    for unknown in sorted(set(raw) - set(_TOP_KEYS)):
        problems.add(RULES_YAML, unknown, f"未知顶层字段；可用：{', '.join(_TOP_KEYS)}")
    return raw


def _entries(raw: object, what: str, problems: _Problems) -> list[tuple[str, dict[str, Any]]]:
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


def _read_sql(directory: Path, sql_file: object, key: str, problems: _Problems) -> str:
    if not isinstance(sql_file, str) or not sql_file.endswith(".sql") or "/" in sql_file:
        problems.add(RULES_YAML, key, f"sql_file 应为 rules 目录下的 .sql 文件名，实际为 {sql_file!r}")
        return ""
    path = directory / sql_file
    if not path.is_file():
        problems.add(sql_file, key, "SQL 文件不存在：请新建该文件或改正 rules.yaml 中的 sql_file")
        return ""
    text = sql.clean_sql(path.read_text(encoding="utf-8"))
    if not text:
        problems.add(sql_file, key, "SQL 文件为空")
    return text


def _unknown_keys(item: dict[str, Any], allowed: set[str], key: str, problems: _Problems) -> None:
    for unknown in sorted(set(item) - allowed):
        problems.add(RULES_YAML, key, f"未知字段 {unknown!r}；可用：{', '.join(sorted(allowed))}")


def _parse_intermediates(raw: object, directory: Path, problems: _Problems) -> list[Intermediate]:
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
        text = _read_sql(directory, item.get("sql_file"), key, problems)
        materialize = item.get("materialize", "table")
        if materialize not in ("table", "view"):
            problems.add(RULES_YAML, key, f"materialize 应为 table 或 view，实际为 {materialize!r}")
            continue
        if materialize == "view" and sql.sql_parameters(text):
            # a view cannot hold a prepared parameter
            problems.add(RULES_YAML, key, "materialize: view 的中间表不能使用参数（$…）；请改为 table")
            continue
        steps.append(
            Intermediate(
                name, str(item.get("sql_file")), text, str(item.get("description") or ""), materialize
            )
        )
    return steps


def _parse_rules(raw: object, directory: Path, describe_sql: str, problems: _Problems) -> list[Rule]:
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
    item: dict[str, Any], where: str, directory: Path, describe_sql: str, problems: _Problems
) -> Rule | None:
    code = item.get("code")
    key = code if isinstance(code, str) else where
    _unknown_keys(item, _RULE_KEYS, key, problems)
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
        problems.add(RULES_YAML, key, f"code 应为大写字母、数字和下划线组成的规则代码，实际为 {code!r}")
        return None
    route = item.get("route")
    if route not in ROUTES:
        problems.add(RULES_YAML, code, f"route 应为 {' | '.join(ROUTES)} 之一，实际为 {route!r}")
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
    case_text = item.get("case_text")
    authority = {}
    for field in ("department", "supervisor"):
        value = item.get(field)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.add(
                RULES_YAML, code, f"{field} 应为非空的中文名称（或不写，沿用项目的），实际为 {value!r}"
            )
        elif value is not None:
            authority[field] = value.strip()
    return Rule(
        code,
        str(item.get("title") or ""),
        str(route),
        str(item.get("sql_file")),
        _read_sql(directory, item.get("sql_file"), code, problems),
        str(item.get("description") or "").strip(),
        order,
        _parse_absorption(item.get("absorbs"), code, problems),
        returns,
        describe_sql if returns == "payments" else "",
        None if case_text is None else parse_case_text(case_text, f"{code}.case_text", problems),
        suppresses=_parse_suppression(item.get("suppresses"), code, problems),
        **authority,
    )


def _match_columns(raw: object, key: str, code: str, problems: _Problems) -> tuple[str, ...] | None:
    """A non-empty list of finding columns (not the case-only ones), or a problem."""
    if not isinstance(raw, list) or not raw:
        return None
    bad = [c for c in raw if c not in sql.CONTRACT_COLUMNS or c in sql.CASE_ONLY_COLUMNS]
    if bad:
        problems.add(
            RULES_YAML, code, f"{key}.match 含非结果列 {bad}；可用：{', '.join(sql.CONTRACT_COLUMNS[:-2])}"
        )
        return None
    return tuple(raw)


def _parse_suppression(raw: object, code: str, problems: _Problems) -> Suppression | None:
    if raw is None:
        return None
    rules = raw.get("rules") if isinstance(raw, dict) else None
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        problems.add(RULES_YAML, code, "suppresses 应为 {rules: [规则代码, ...], match: [列名, ...]}")
        return None
    match = _match_columns(raw.get("match"), "suppresses", code, problems) if isinstance(raw, dict) else None
    if match is None:
        problems.add(RULES_YAML, code, "suppresses.match 应为结果列名的列表")
        return None
    return Suppression(tuple(rules), match)


def _parse_absorption(raw: object, code: str, problems: _Problems) -> Absorption | None:
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
    columns = _match_columns(match, "absorbs", code, problems)
    return None if columns is None else Absorption(raw["rule"], columns)


def parse_case_text(raw: object, key: str, problems: _Problems) -> CaseText | None:
    """A sentence with named fields ({lead}, {amount}…): plain text otherwise, no braces of its own."""
    if not isinstance(raw, str) or not raw.strip():
        problems.add(RULES_YAML, key, "应为非空的中文句子")
        return None
    try:
        pieces = list(string.Formatter().parse(raw))
    except ValueError as exc:
        problems.add(RULES_YAML, key, f"花括号不成对：{exc}；字段写作 {{字段名}}")
        return None
    literals, fields, bad = [""], [], []
    for literal, field, spec, conversion in pieces:
        literals[-1] += literal
        if "{" in literal or "}" in literal:
            bad.append("{{ 或 }}")
        if field is None:
            continue
        if field not in CASE_TEXT_FIELDS or spec or conversion:
            bad.append(
                "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
        fields.append(field)
        literals.append("")
    if bad:
        problems.add(RULES_YAML, key, f"未知字段 {', '.join(bad)}；可用：{', '.join(CASE_TEXT_FIELDS)}")
        return None
    return CaseText(tuple(literals), tuple(fields))


def _parse_fallbacks(raw: object, problems: _Problems) -> tuple[tuple[str, CaseText], ...]:
    if not isinstance(raw, dict) or set(raw) != set(CASE_ROUTES):
        problems.add(RULES_YAML, "fallback_case_text", f"应为 {{{': …, '.join(CASE_ROUTES)}: …}} 两句")
        return ()
    parsed = [
        (route, parse_case_text(raw[route], f"fallback_case_text.{route}", problems)) for route in CASE_ROUTES
    ]
    return tuple((route, text) for route, text in parsed if text is not None)


def _check_order_and_files(rules: list[Rule], problems: _Problems) -> None:
    """Run orders are unique and each SQL file belongs to one rule."""
    orders: dict[int, str] = {}
    files: dict[str, str] = {}
    for rule in rules:
        if rule.order in orders:
            problems.add(
                RULES_YAML, rule.code, f"order {rule.order} 与 {orders[rule.order]} 相同：运行顺序必须唯一"
            )
        if rule.sql and rule.sql_file in files:
            problems.add(RULES_YAML, rule.code, f"sql_file {rule.sql_file} 已属于规则 {files[rule.sql_file]}")
        orders.setdefault(rule.order, rule.code)
        files.setdefault(rule.sql_file, rule.code)


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
        for unknown in [c for c in (rule.suppresses.rules if rule.suppresses else ()) if c not in by_code]:
            problems.add(RULES_YAML, rule.code, f"suppresses.rules 中的 {unknown!r} 不是已登记的规则")
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
        for name, error in prepare_inputs(wh, registry, params):
            step = next(s for s in registry.intermediates if s.name == name)
            problems.add(step.sql_file, name, f"SQL 无法执行：{error.cause}")
        for rule in registry.in_order():
            if rule.sql:
                _check_rule_sql(wh, rule, params, problems)


def _check_rule_sql(wh: Warehouse, rule: Rule, params: Params, problems: _Problems) -> None:
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
            if flagged != sql.FLAGGED_PAYMENT_COLUMNS:
                problems.add(rule.sql_file, rule.code, _column_mismatch(flagged, sql.FLAGGED_PAYMENT_COLUMNS))
                return
        columns = _columns_of(wh, rule.code, rule.finding_sql, params)
        if columns != sql.CONTRACT_COLUMNS:
            problems.add(rule.sql_file, rule.code, _column_mismatch(columns, sql.CONTRACT_COLUMNS))
            return
        run_rule(wh, rule, params)
    except RuleExecutionError as exc:
        problems.add(rule.sql_file, rule.code, f"SQL 无法执行：{exc.cause}")


def _columns_of(wh: Warehouse, name: str, statement: str, params: Params) -> tuple[str, ...]:
    described = wh.execute(
        name, sql.columns_probe_sql(statement), bind(sql.sql_parameters(statement), params)
    )
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
