"""Report data: everything the night's outputs show, read from the warehouse and typed.

`build_report` runs a handful of set-based queries and returns a frozen `Report`:
plain totals plus polars frames whose values are already what a reader sees
(masked IDs and cards, program names, ISO dates). Rendering (`ykt.report.write` and its renderers)
only lays these out as csv/jsonl/json/xlsx; it never queries or masks.

Two frames keep full identifiers on purpose: `discrepancies` (the bureau's own
systems read discrepancies.csv) — every other frame is masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ykt.cases import CASE_FIELDS, CaseCounts, case_kpis, case_listing
from ykt.config import Programs
from ykt.labels import HEALTH_STATUS_LABELS
from ykt.masking import mask_card_expr, mask_id_expr, mask_value_expr
from ykt.reasons import HEALTH_REASONS
from ykt.report.clues import merge_clues
from ykt.report.health import FileLine, Health, night_health
from ykt.warehouse import Warehouse

if TYPE_CHECKING:  # the quality step imports Great Expectations; the report only reads its summary
    from ykt.quality import QualitySummary

# discrepancies.csv, in contract order (issue 2). `group` is the warehouse's group_name.
DISCREPANCIES_CSV_COLUMNS = (
    "case_id",
    "rule",
    "program_code",
    "period",
    "id_number",
    "name",
    "card_number",
    "township",
    "village",
    "group",
    "amount_due",
    "amount_paid",
    "due_date",
    "paid_date",
    "days_overdue",
    "detail",
    "county_code",  # the county's division code (counties.yaml); empty for a night run without it
)
# cases.jsonl / clues.jsonl keys and the case frames' columns: ykt.cases.CASE_FIELDS (one definition).
# rejects.csv, in contract order (issue 2); not the stored rejects' columns (ykt.ingest), which it is read from.
REJECTS_CSV_COLUMNS = ("file", "sheet", "row", "column", "value", "reason_code", "reason")
FILE_COLUMNS = ("name", "kind", "status", "rows_read", "rows_loaded", "rows_rejected", "reason")
# What the xlsx rule sheets show of a finding (masked), in display order.
FINDING_DISPLAY_COLUMNS = (
    "rule",
    "case_id",
    "program_name",
    "period",
    "id_masked",
    "name",
    "card_masked",
    "township",
    "village",
    "group",
    "amount_due",
    "amount_paid",
    "due_date",
    "paid_date",
    "days_overdue",
    "detail",
)
# The 数据覆盖 sheet: the night's health reasons, coverage gaps and stalled programs first.
COVERAGE_COLUMNS = ("label", "message", "file", "program_name", "period", "code")
CASE_EVENT_COUNTS = ("opened", "reopened", "escalated", "resolved")
CASE_STATUSES = ("open", "escalated", "resolved")
NIGHT_IN_ORDER = "本次核对读取的文件均已识别，未发现数据覆盖缺口或整项目未发放"


@dataclass(frozen=True)
class RuleLine:
    code: str
    title: str  # Chinese title (sheet name, summary)
    findings: int


@dataclass(frozen=True)
class CaseActivity:
    """Case activity of this run (events) and the state of all cases at as_of (totals, by status and all);
    the cases step's own `CaseCounts` has no resolved or overall totals, so the report counts them."""

    events: Mapping[str, int]  # opened / reopened / escalated / resolved in this run
    totals: Mapping[str, int]  # open / escalated / resolved / all, complaint and clue together


@dataclass(frozen=True)
class Report:
    run_id: str
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    files: tuple[FileLine, ...]
    rules: tuple[RuleLine, ...]
    case_activity: CaseActivity
    kpis: Mapping[str, Any] | None  # ykt.cases.lifecycle.Kpis.as_dict(): {as_of, overall, departments: [...]}
    quality: Mapping[str, Any] | None
    discrepancies: pl.DataFrame  # DISCREPANCIES_CSV_COLUMNS, FULL identifiers (bureau systems only)
    findings: pl.DataFrame  # FINDING_DISPLAY_COLUMNS, masked
    cases: pl.DataFrame  # CASE_FIELDS, complaint route (xlsx 案件 sheet)
    clues: pl.DataFrame  # CASE_FIELDS + reasons (rule codes), clue route, one per mistake (xlsx 线索 sheet)
    case_lines: pl.Series  # cases.jsonl (text, one per case): byte for byte the JSON the platform receives
    clue_lines: pl.Series  # clues.jsonl: the same objects for clue-route cases, with `reasons` (report.clues)
    rejects: pl.DataFrame  # REJECTS_CSV_COLUMNS, masked values
    health: Health  # whether the night understood its input (run.json `health`, the exit code)
    coverage: pl.DataFrame  # COVERAGE_COLUMNS: the health reasons as a person reads them (masked)
    county_code: str | None = None  # the warehouse's county (runs.county_code); None without counties.yaml

    @property
    def rule_titles(self) -> dict[str, str]:
        return {r.code: r.title for r in self.rules}


def build_report(
    wh: Warehouse,
    run_id: str,
    as_of: dt.date,
    programs: Programs,
    *,
    rule_titles: dict[str, str],
    rule_counts: dict[str, int],
    case_counts: CaseCounts | None,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    quality: QualitySummary | None = None,
) -> Report:
    """Read everything the outputs need for one run. Pure apart from reading the warehouse."""
    discrepancies = _discrepancies(wh, as_of)
    files = _files(wh, run_id)
    health = night_health(files, discrepancies, programs.settings)
    cases, case_lines = _case_listing(wh, as_of, "complaint")
    clues, clue_lines = merge_clues(*_case_listing(wh, as_of, "clue"), discrepancies, rule_titles)
    return Report(
        run_id=run_id,
        as_of=as_of,
        started_at=started_at,
        finished_at=finished_at,
        files=files,
        rules=_rule_lines(rule_titles, rule_counts, discrepancies),
        case_activity=_case_activity(wh, run_id, as_of, case_counts),
        kpis=_department_kpis(wh, as_of),
        quality=None if quality is None else quality.to_dict(),
        discrepancies=discrepancies,
        findings=_finding_display(discrepancies, programs),
        cases=cases,
        clues=clues,
        case_lines=case_lines,
        clue_lines=clue_lines,
        rejects=_rejects(wh, run_id),
        health=health,
        coverage=_coverage(health, programs),
        county_code=wh.scalar("report: county", "select max(county_code) from runs"),
    )


# -- files and rejects -----------------------------------------------------------------------------


def _files(wh: Warehouse, run_id: str) -> tuple[FileLine, ...]:
    rows = wh.rows(
        "report: files",
        """
        select original_name, kind, status, rows_read, rows_loaded, rows_rejected, reason, reason_code,
               coalesce(inferences, [])
        from run_files where run_id = $run_id
        order by original_name, kind, status, file_hash
    """,
        {"run_id": run_id},
    )
    return tuple(
        FileLine(name, kind, status, read, loaded, rejected, reason, code, tuple(inferences))
        for name, kind, status, read, loaded, rejected, reason, code, inferences in rows
    )


def _coverage(health: Health, programs: Programs) -> pl.DataFrame:
    """One row per health reason, or one row saying the night is in order (the sheet is never blank)."""
    reasons = [r.as_dict() for r in health.reasons] or [{"code": "OK", "message": NIGHT_IN_ORDER}]
    frame = pl.DataFrame(
        reasons,
        schema={
            "code": pl.Utf8,
            "message": pl.Utf8,
            "file": pl.Utf8,
            "program_code": pl.Utf8,
            "period": pl.Utf8,
        },
    )
    labels = {**HEALTH_REASONS, "OK": HEALTH_STATUS_LABELS["ok"]}
    return frame.with_columns(
        label=pl.col("code").replace_strict(labels, default=pl.col("code"), return_dtype=pl.Utf8),
        program_name=_program_name_expr(programs),
        message=mask_value_expr(pl.col("message")),
    ).select(COVERAGE_COLUMNS)


def _rejects(wh: Warehouse, run_id: str) -> pl.DataFrame:
    """Rejected rows of the files this run processed (a duplicate's rejects were reported when it first came)."""
    return wh.frame(
        "report: rejects",
        """
        select file_name as file, sheet, "row", "column", value_masked as value, reason_code, reason
        from rejects
        where file_hash in (select file_hash from run_files where run_id = $run_id and status <> 'duplicate')
        order by file, sheet nulls first, "row" nulls first, "column" nulls first, reason_code, value
    """,
        {"run_id": run_id},
    ).with_columns(pl.col("value").pipe(mask_value_expr))  # belt and braces: never a full ID


# -- findings --------------------------------------------------------------------------------------


def _discrepancies(wh: Warehouse, as_of: dt.date) -> pl.DataFrame:
    """All findings of as_of, full identifiers, in a total deterministic order."""
    return wh.frame(
        "report: findings",
        """
        select case_id, rule, program_code, period, id_number, name, card_number, township, village,
               group_name as "group", amount_due, amount_paid, due_date, paid_date, days_overdue, detail,
               (select max(county_code) from runs) as county_code
        from findings where as_of = $as_of
        order by rule, program_code, period, township, village, "group", id_number, case_id, card_number,
                 due_date, paid_date, amount_due, amount_paid, days_overdue, name, detail
    """,
        {"as_of": as_of},
    )


def _finding_display(discrepancies: pl.DataFrame, programs: Programs) -> pl.DataFrame:
    """What an inspector reads of each finding: masked identifiers, program by name."""
    return discrepancies.with_columns(
        program_name=_program_name_expr(programs),
        id_masked=mask_id_expr(pl.col("id_number")),
        card_masked=mask_card_expr(pl.col("card_number")),
        detail=mask_value_expr(pl.col("detail")),
    ).select(FINDING_DISPLAY_COLUMNS)


def _rule_lines(
    rule_titles: Mapping[str, str], rule_counts: Mapping[str, int], discrepancies: pl.DataFrame
) -> tuple[RuleLine, ...]:
    """Every rule code, registry order first, zero counts included.

    Counts come from the findings table, so run.json, the xlsx and discrepancies.csv always agree; a code
    that appears only in the findings still gets a line (titled by its code): the report never hides one.
    """
    in_findings = discrepancies.get_column("rule").unique().sort().to_list()
    codes = list(dict.fromkeys([*rule_titles, *sorted(rule_counts), *in_findings]))
    counted = dict(discrepancies.group_by("rule").len().iter_rows())
    return tuple(RuleLine(code, rule_titles.get(code, code), int(counted.get(code, 0))) for code in codes)


# -- cases -----------------------------------------------------------------------------------------


def _case_listing(wh: Warehouse, as_of: dt.date, route: str) -> tuple[pl.DataFrame, pl.Series]:
    """Cases of one route open or escalated at as_of plus those this run resolved (ykt.cases.lifecycle decides which):
    the frame a person reads (CASE_FIELDS) and the JSON lines of the platform, from one query."""
    listing = case_listing(wh, as_of, route)
    frame = listing.with_columns(
        amount=pl.col("amount").cast(pl.Float64),
        persons=pl.col("persons").cast(pl.Int64),
        summary=mask_value_expr(pl.col("summary")),  # belt and braces: a person reads it
    ).select(CASE_FIELDS)
    return frame, listing.get_column("line")


def _program_name_expr(programs: Programs) -> pl.Expr:
    names = {p.code: p.name for p in programs.programs}
    return pl.col("program_code").replace_strict(names, default=pl.col("program_code"), return_dtype=pl.Utf8)


def _case_activity(wh: Warehouse, run_id: str, as_of: dt.date, reported: CaseCounts | None) -> CaseActivity:
    """This run's case events and the status totals; figures the cases step reports win over the events."""
    events = dict.fromkeys(CASE_EVENT_COUNTS, 0)
    events.update(
        wh.rows(
            "report: case events",
            """
        select event, count(*)::integer from case_events where run_id = $run_id group by event
    """,
            {"run_id": run_id},
        )
    )
    if reported is not None:
        events.update({k: getattr(reported, k) for k in CASE_EVENT_COUNTS})
    totals = dict.fromkeys(CASE_STATUSES, 0)
    totals.update(
        wh.rows(
            "report: case totals",
            """
        select status, count(*)::integer from cases where opened_on <= $as_of group by status
    """,
            {"as_of": as_of},
        )
    )
    totals["all"] = sum(totals[s] for s in CASE_STATUSES)
    return CaseActivity(events=events, totals=totals)


def _department_kpis(wh: Warehouse, as_of: dt.date) -> Mapping[str, Any]:
    """Complaint-case KPIs overall and per department, as ykt.cases.lifecycle computes them."""
    return case_kpis(wh, as_of).as_dict()
