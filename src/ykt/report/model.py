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

from ykt.cases import CASE_FIELDS, CaseCounts, case_kpis, case_listing, case_trend
from ykt.config import Programs
from ykt.labels import CASE_STATUS_LABELS, EVENT_LABELS, HEALTH_STATUS_LABELS, NOVELTY_LABELS
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
# 待办 (priorities): the open complaint cases, escalated first, then the longest wait, then the largest sum.
PRIORITY_COLUMNS = (*CASE_FIELDS, "novelty", "days_overdue", "status_label")
# A case's history as a person reads it (report.html), every listed case of both routes.
CASE_EVENT_COLUMNS = ("case_id", "on_date", "event_label", "status_label", "detail")
TREND_NIGHTS = 30
NO_TOWNSHIP = "（未注明）"
CASE_EVENT_COUNTS = ("opened", "reopened", "escalated", "resolved")
CASE_STATUSES = ("open", "escalated", "resolved")
NIGHT_IN_ORDER = "本次核对读取的文件均已识别，未发现数据覆盖缺口或整项目未发放"


@dataclass(frozen=True)
class RuleLine:
    code: str
    title: str  # Chinese title (sheet name, summary)
    findings: int
    route: str = ""  # complaint | clue | record, from tonight's findings ("" when it found nothing)


@dataclass(frozen=True)
class Overview:
    """The headline figures of the night (概览, report.html), each defined in docs/kpis.md."""

    new: int  # cases opened or reopened tonight, both routes
    open: int  # cases open at as_of, both routes
    escalated: int
    resolved: int  # cases resolved tonight
    amount_at_stake: float  # complaint cases open or escalated: money still owed to villagers
    amount_in_question: float  # clues open or escalated: money that may have gone astray
    files: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int


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
    findings: pl.DataFrame  # FINDING_DISPLAY_COLUMNS, masked, newest and largest first, batch members apart
    batch_members: pl.DataFrame  # FINDING_DISPLAY_COLUMNS + batch: findings a group case (整批) absorbed
    cases: pl.DataFrame  # CASE_FIELDS, complaint route (xlsx 案件 sheet)
    clues: pl.DataFrame  # CASE_FIELDS + reasons (rule codes), clue route, one per mistake (xlsx 线索 sheet)
    case_lines: pl.Series  # cases.jsonl (text, one per case): byte for byte the JSON the platform receives
    clue_lines: pl.Series  # clues.jsonl: the same objects for clue-route cases, with `reasons` (report.clues)
    rejects: pl.DataFrame  # REJECTS_CSV_COLUMNS, masked values
    health: Health  # whether the night understood its input (run.json `health`, the exit code)
    coverage: pl.DataFrame  # COVERAGE_COLUMNS: the health reasons as a person reads them (masked)
    priorities: pl.DataFrame  # PRIORITY_COLUMNS: open complaint cases in the order to handle them
    case_events: pl.DataFrame  # CASE_EVENT_COLUMNS: the history of every listed case, in order
    trend: pl.DataFrame  # on_date, opened, resolved: complaint cases over the last TREND_NIGHTS days
    townships: pl.DataFrame  # township, cases, amount: money at stake per township, largest first
    county_code: str | None = None  # the warehouse's county (runs.county_code); None without counties.yaml

    @property
    def rule_titles(self) -> dict[str, str]:
        return {r.code: r.title for r in self.rules}

    @property
    def overview(self) -> Overview:
        events, totals = self.case_activity.events, self.case_activity.totals
        overall = (self.kpis or {}).get("overall", {})
        return Overview(
            new=events.get("opened", 0) + events.get("reopened", 0),
            open=totals.get("open", 0),
            escalated=totals.get("escalated", 0),
            resolved=events.get("resolved", 0),
            amount_at_stake=float(overall.get("amount_at_stake", 0)),
            amount_in_question=float(overall.get("amount_in_question", 0)),
            files=len(self.files),
            rows_read=sum(f.rows_read for f in self.files),
            rows_loaded=sum(f.rows_loaded for f in self.files),
            rows_rejected=sum(f.rows_rejected for f in self.files),
        )


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
    findings, members = _rule_sheet_rows(wh, _finding_display(discrepancies, programs), rule_titles)
    return Report(
        run_id=run_id,
        as_of=as_of,
        started_at=started_at,
        finished_at=finished_at,
        files=files,
        rules=_rule_lines(rule_titles, rule_counts, discrepancies, _rule_routes(wh, as_of)),
        case_activity=_case_activity(wh, run_id, as_of, case_counts),
        kpis=_department_kpis(wh, as_of),
        quality=None if quality is None else quality.to_dict(),
        discrepancies=discrepancies,
        findings=findings,
        batch_members=members,
        cases=cases,
        clues=clues,
        case_lines=case_lines,
        clue_lines=clue_lines,
        rejects=_rejects(wh, run_id),
        health=health,
        coverage=_coverage(health, programs),
        priorities=_priorities(wh, as_of, cases, discrepancies),
        case_events=_case_events(wh, as_of),
        trend=case_trend(wh, as_of, TREND_NIGHTS),
        townships=_townships(cases),
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
    rule_titles: Mapping[str, str],
    rule_counts: Mapping[str, int],
    discrepancies: pl.DataFrame,
    routes: Mapping[str, str],
) -> tuple[RuleLine, ...]:
    """Every rule code, registry order first, zero counts included.

    Counts come from the findings table, so run.json, the xlsx and discrepancies.csv always agree; a code
    that appears only in the findings still gets a line (titled by its code): the report never hides one.
    """
    in_findings = discrepancies.get_column("rule").unique().sort().to_list()
    codes = list(dict.fromkeys([*rule_titles, *sorted(rule_counts), *in_findings]))
    counted = dict(discrepancies.group_by("rule").len().iter_rows())
    return tuple(
        RuleLine(code, rule_titles.get(code, code), int(counted.get(code, 0)), routes.get(code, ""))
        for code in codes
    )


def _rule_routes(wh: Warehouse, as_of: dt.date) -> dict[str, str]:
    """Each rule's route as tonight's findings carry it (a rule's route is fixed per code in rules.yaml)."""
    return dict(
        wh.rows(
            "report: rule routes",
            "select rule, any_value(route) from findings where as_of = $as_of group by rule",
            {"as_of": as_of},
        )
    )


def _rule_sheet_rows(
    wh: Warehouse, findings: pl.DataFrame, rule_titles: Mapping[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rule sheets' rows, newest due date and largest sum first, and apart from them the members of
    group cases (a stalled batch or program): a finding whose case belongs to another rule was absorbed by
    that case, which its own rule sheet shows once; the members get a sheet of their own, by batch."""
    case_rules = wh.frame("report: case rules", "select case_id, rule as case_rule from cases")
    keyed = findings.join(case_rules, on="case_id", how="left")
    absorbed = pl.col("case_rule").is_not_null() & (pl.col("case_rule") != pl.col("rule"))
    newest_largest = [
        pl.coalesce("due_date", "paid_date"),
        pl.max_horizontal(pl.col("amount_due").cast(pl.Float64), pl.col("amount_paid").cast(pl.Float64)),
    ]
    rows = (
        keyed.filter(~absorbed)
        .sort(newest_largest, descending=True, nulls_last=True, maintain_order=True)
        .select(FINDING_DISPLAY_COLUMNS)
    )
    title = pl.col("case_rule").replace_strict(
        dict(rule_titles), default=pl.col("case_rule"), return_dtype=pl.Utf8
    )
    members = (
        keyed.filter(absorbed)
        .with_columns(batch=pl.concat_str(pl.col("case_id"), pl.lit(" "), title))
        .sort("case_id", "township", "village", "group", "name", maintain_order=True)
        .select(*FINDING_DISPLAY_COLUMNS, "batch")
    )
    return rows, members


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


def _priorities(
    wh: Warehouse, as_of: dt.date, cases: pl.DataFrame, discrepancies: pl.DataFrame
) -> pl.DataFrame:
    """待办: complaint cases open or escalated, escalated first, then the longest wait (days since the
    payment was due, the case's longest), then the largest sum; 新增 when opened or reopened tonight."""
    new_ids = wh.frame(
        "report: new cases",
        """
        select distinct case_id from case_events
        where on_date = $as_of and event in ('opened', 'reopened')
    """,
        {"as_of": as_of},
    ).get_column("case_id")
    waits = discrepancies.group_by("case_id").agg(pl.col("days_overdue").max())
    return (
        cases.filter(pl.col("status").is_in(["open", "escalated"]))
        .join(waits, on="case_id", how="left")
        .with_columns(
            novelty=pl.when(pl.col("case_id").is_in(new_ids.implode()))
            .then(pl.lit(NOVELTY_LABELS["new"]))
            .otherwise(pl.lit(NOVELTY_LABELS["carried"])),
            status_label=_status_label(pl.col("status")),
            # a short payment made before its due date has a negative lateness: it has not waited at all
            days_overdue=pl.col("days_overdue").cast(pl.Int64).clip(lower_bound=0),
        )
        .sort(
            [pl.col("status") == "escalated", "days_overdue", "amount", "case_id"],
            descending=[True, True, True, False],
            nulls_last=True,
        )
        .select(PRIORITY_COLUMNS)
    )


def _case_events(wh: Warehouse, as_of: dt.date) -> pl.DataFrame:
    """Every event up to as_of of the cases the night lists (open, escalated, or resolved tonight)."""
    events = wh.frame(
        "report: case events",
        """
        select e.case_id, e.on_date, e.event, e.status_after, e.detail
        from case_events as e inner join cases as c on e.case_id = c.case_id
        where e.on_date <= $as_of and (c.status in ('open', 'escalated') or c.resolved_on = $as_of)
        order by e.case_id, e.on_date, e.rowid
    """,
        {"as_of": as_of},
    )
    return events.with_columns(
        event_label=pl.col("event").replace_strict(dict(EVENT_LABELS), default=pl.col("event")),
        status_label=_status_label(pl.col("status_after")),
        detail=mask_value_expr(pl.col("detail")),
    ).select(CASE_EVENT_COLUMNS)


def _townships(cases: pl.DataFrame) -> pl.DataFrame:
    """Money still owed per township: open and escalated complaint cases, largest first."""
    return (
        cases.filter(pl.col("status").is_in(["open", "escalated"]))
        .with_columns(township=pl.col("township").fill_null(NO_TOWNSHIP))
        .group_by("township")
        .agg(cases=pl.len().cast(pl.Int64), amount=pl.col("amount").sum())
        .sort(["amount", "township"], descending=[True, False])
    )


def _status_label(status: pl.Expr) -> pl.Expr:
    return status.replace_strict(dict(CASE_STATUS_LABELS), default=status, return_dtype=pl.Utf8)


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
