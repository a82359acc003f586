"""The province report: typed, pure data built from the county outcomes and the province findings.
Renderers (ykt.province.render) only lay it out: province_clues.jsonl and province_summary.json now, the
report issue's workbook and HTML later."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from ykt.counties import Province
from ykt.masking import mask_id_expr, mask_value_expr
from ykt.province.county import CountyOutcome
from ykt.province.rules import ProvinceRule

# province_clues.jsonl: one object per finding, keys in this order (the contract, then the route)
PROVINCE_CLUE_FIELDS = (
    "rule",
    "program_code",
    "period",
    "id_number",  # masked
    "name",
    "counties",  # the county codes involved, sorted
    "amount",
    "detail",
    "case_id",
    "department",  # the province department of counties.yaml (承办部门)
    "supervisor",  # the 纪委监委 of counties.yaml (监督主体)
)
# worst first: a failed county (1) outranks one needing attention (3), which outranks ok (0)
_SEVERITY = {1: 2, 3: 1, 0: 0}


@dataclass(frozen=True)
class ProvinceRuleLine:
    code: str
    title: str
    findings: int


@dataclass(frozen=True)
class ProvinceReport:
    province: Province
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    counties: tuple[CountyOutcome, ...]
    rules: tuple[ProvinceRuleLine, ...]
    clues: pl.DataFrame  # PROVINCE_CLUE_FIELDS, IDs masked
    lake: str

    @property
    def exit_code(self) -> int:
        """The worst of the counties' (the province layer itself ran, or this report would not exist)."""
        return worst_exit_code(c.exit_code for c in self.counties)

    def summary(self) -> dict[str, Any]:
        """province_summary.json, as plain data."""
        counties = [asdict(c) for c in self.counties]
        return {
            "province": {k: getattr(self.province, k) for k in ("code", "name", "department", "supervisor")},
            "as_of": self.as_of.isoformat(),
            "started": self.started_at.isoformat(timespec="seconds"),
            "finished": self.finished_at.isoformat(timespec="seconds"),
            "exit_code": self.exit_code,
            "counties": counties,
            "totals": {
                "counties": len(counties),
                "failed": [c.code for c in self.counties if c.status == "failed"],
                "attention": [c.code for c in self.counties if c.status == "attention"],
                "cases": {
                    k: sum(c.cases.get(k, 0) for c in self.counties)
                    for k in ("open", "escalated", "resolved")
                },
                "money_at_stake": round(sum(c.money_at_stake for c in self.counties), 2),
            },
            "province_findings": {r.code: r.findings for r in self.rules},
            "province_findings_total": sum(r.findings for r in self.rules),
            "province_rules": {r.code: r.title for r in self.rules},
            "lake": self.lake,
        }


def worst_exit_code(codes: Any) -> int:
    return max(codes, key=lambda code: _SEVERITY.get(code, 2), default=0)


def build_province_report(
    province: Province,
    as_of: dt.date,
    outcomes: list[CountyOutcome],
    rules: tuple[ProvinceRule, ...],
    findings: pl.DataFrame,
    *,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    lake: str,
) -> ProvinceReport:
    counted = dict(findings.group_by("rule").len().iter_rows()) if findings.height else {}
    return ProvinceReport(
        province=province,
        as_of=as_of,
        started_at=started_at,
        finished_at=finished_at,
        counties=tuple(sorted(outcomes, key=lambda c: c.code)),
        rules=tuple(ProvinceRuleLine(r.code, r.title, int(counted.get(r.code, 0))) for r in rules),
        clues=_clues(findings, province),
        lake=lake,
    )


def _clues(findings: pl.DataFrame, province: Province) -> pl.DataFrame:
    """What a province inspector reads of each finding: the ID masked, routed to the province's bodies."""
    if findings.height == 0:
        return pl.DataFrame(schema=dict.fromkeys(PROVINCE_CLUE_FIELDS, pl.Utf8)).with_columns(
            counties=pl.lit([], dtype=pl.List(pl.Utf8)), amount=pl.lit(None, dtype=pl.Float64)
        )
    return findings.with_columns(
        id_number=mask_id_expr(pl.col("id_number")),
        detail=mask_value_expr(pl.col("detail")),
        amount=pl.col("amount").cast(pl.Float64),
        department=pl.lit(province.department),
        supervisor=pl.lit(province.supervisor),
    ).select(PROVINCE_CLUE_FIELDS)
