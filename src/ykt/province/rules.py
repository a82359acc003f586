"""Province rules: rules/province/rules.yaml and one SQL file per rule, run over the lake.

A rule's select returns the province finding columns (PROVINCE_RULE_COLUMNS); the runner adds the rule code
and a stable case_id (a hash of rule, ID, program and period, so a re-run or the next night names the same
clue the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ykt.config import ConfigProblems, read_yaml
from ykt.errors import ConfigError, ConfigProblem, RuleExecutionError
from ykt.warehouse import Lake

# What every province rule's select returns, in order (rules/province/rules.yaml says so too).
PROVINCE_RULE_COLUMNS = ("program_code", "period", "id_number", "name", "counties", "amount", "detail")
CASE_ID_PREFIX = "YKTP-"  # province clues; county cases are YKT-…


@dataclass(frozen=True)
class ProvinceRule:
    code: str
    title: str  # Chinese
    sql: str
    description: str


def rules_folder() -> Path:
    return Path(str(resources.files("ykt.rules.province")))


def load_province_rules(folder: Path | None = None) -> tuple[ProvinceRule, ...]:
    """The registry and its SQL files, every mistake reported at once (ConfigError, exit 2)."""
    folder = folder or rules_folder()
    path = folder / "rules.yaml"
    c = ConfigProblems(str(path))
    raw = read_yaml(path)
    entries = raw.get("rules") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        c.add("rules", "应有非空的 rules 列表")
        c.raise_if_any()
    rules = [_rule(c, folder, entry, f"rules[{i}]") for i, entry in enumerate(entries or [])]
    codes = [r.code for r in rules]
    for code in sorted({code for code in codes if codes.count(code) > 1}):
        c.add("rules", f"规则代码 {code} 重复")
    c.raise_if_any()
    return tuple(rules)


def _rule(c: ConfigProblems, folder: Path, raw: Any, where: str) -> ProvinceRule:
    if not isinstance(raw, dict):
        c.add(where, "应为键值对：code, title, sql_file, description")
        return ProvinceRule("", "", "", "")
    sql_file = c.get(raw, "sql_file", where, str, default="")
    sql = ""
    if sql_file:
        if "/" in sql_file or not (folder / sql_file).is_file():
            c.add(f"{where}.sql_file", f"文件不存在：{folder / sql_file}")
        else:
            sql = (folder / sql_file).read_text(encoding="utf-8")
    return ProvinceRule(
        code=c.get(raw, "code", where, str, default=""),
        title=c.get(raw, "title", where, str, default=""),
        sql=sql,
        description=c.get(raw, "description", where, str, default=""),
    )


def finding_sql(rule: ProvinceRule) -> str:
    """The rule's select with the rule code ($rule) and the stable case_id added."""
    columns = ", ".join(f"found.{c}" for c in PROVINCE_RULE_COLUMNS if c != "amount")
    return f"""
        select $rule as rule, {columns}, found.amount::decimal(18, 2) as amount,
            '{CASE_ID_PREFIX}' || upper(left(sha256(concat_ws('|', $rule, found.id_number,
                found.program_code, found.period)), 16)) as case_id
        from ({rule.sql}) as found
    """


def run_province_rules(lake: Lake, rules: tuple[ProvinceRule, ...]) -> pl.DataFrame:
    """Every province finding, full IDs (the model masks them), in a deterministic order."""
    frames = [lake.frame(f"province rule {r.code}", finding_sql(r), {"rule": r.code}) for r in rules]
    found = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    order = {r.code: i for i, r in enumerate(rules)}
    return (
        found.with_columns(
            rank=pl.col("rule").replace_strict(order, return_dtype=pl.Int64),
            counties=pl.col("counties").cast(pl.List(pl.Utf8)),
        )
        .sort("rank", "program_code", "period", "id_number")
        .drop("rank")
    )


def check_rule_sql(lake: Lake, rules: tuple[ProvinceRule, ...]) -> None:
    """Each rule binds against the empty lake (a misspelt column is a configuration error before any night)."""
    problems = []
    for r in rules:
        try:
            lake.execute(f"province rule {r.code}: check", f"describe {finding_sql(r)}", {"rule": r.code})
        except RuleExecutionError as exc:
            problems.append((r.code, str(exc.cause).splitlines()[0]))
    if problems:
        raise ConfigError(
            [
                ConfigProblem(str(rules_folder() / "rules.yaml"), code, f"SQL 无法执行：{m}")
                for code, m in problems
            ]
        )
