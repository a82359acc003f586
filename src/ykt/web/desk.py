"""What the inspector's pages read: a night's cases and clues (filtered), one case, the KPIs, and the
report files of every night. Pure reads of the county's warehouse (read-only) and output folder; the
pages only render what these return. IDs and cards are masked here unless the caller asks otherwise."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ykt.cases import (
    Kpis,
    case_detail,
    case_events,
    case_findings,
    case_kpis,
    case_people,
    case_records,
    finished_nights,
)
from ykt.counties import County
from ykt.labels import CASE_STATUS_LABELS, EVENT_LABELS
from ykt.masking import mask_card_expr, mask_id_expr, mask_value_expr
from ykt.warehouse import Warehouse

# the case list's filters (query parameter → column of the night's cases)
FILTER_COLUMNS = {
    "rule": "rule",
    "program": "program_name",
    "township": "township",
    "status": "status",
    "age": "age",
}
FILTERS = tuple(FILTER_COLUMNS)
AGE_LABELS = {"new": "当晚新立", "carried": "延续"}
ROUTE_LABELS = {"complaint": "投诉案件", "clue": "稽查线索"}
PRIORITY_COUNT = 10
_NIGHT_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REPORT_SUFFIXES = (".xlsx", ".html")  # the workbook and the HTML report; never discrepancies.csv (full IDs)


@dataclass(frozen=True)
class Listing:
    as_of: dt.date | None
    nights: list[dt.date]
    cases: list[dict[str, Any]]  # the filtered cases and clues of the night
    priorities: list[dict[str, Any]]
    choices: dict[str, list[str]]  # filter → the values the night has
    chosen: dict[str, str]
    kpis: Kpis | None
    totals: dict[str, int] = field(default_factory=dict)


def night_listing(
    wh: Warehouse, titles: dict[str, str], chosen: dict[str, str], as_of: dt.date | None = None
) -> Listing:
    nights = finished_nights(wh)
    if as_of not in nights:
        as_of = nights[0] if nights else None
    if as_of is None:
        return Listing(None, [], [], [], {}, chosen, None)
    frame = _night_cases(wh, as_of, titles)
    choices = {
        key: sorted(frame.get_column(column).unique().drop_nulls().to_list())
        for key, column in FILTER_COLUMNS.items()
    }
    choices["age"] = ["new", "carried"]  # both offered even when tonight has only one kind
    chosen = {k: v for k, v in chosen.items() if k in FILTERS and v in choices[k]}
    filtered = frame.filter(*[pl.col(FILTER_COLUMNS[k]) == v for k, v in chosen.items()]) if chosen else frame
    totals = {route: int(filtered.filter(pl.col("route") == route).height) for route in ("complaint", "clue")}
    return Listing(
        as_of,
        nights,
        filtered.to_dicts(),
        priorities(frame).to_dicts(),
        choices,
        chosen,
        case_kpis(wh, as_of),
        totals,
    )


def _night_cases(wh: Warehouse, as_of: dt.date, titles: dict[str, str]) -> pl.DataFrame:
    frames = [case_records(wh, as_of, route).with_columns(route=pl.lit(route)) for route in ROUTE_LABELS]
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.with_columns(
        age=pl.when(pl.col("opened_on") == as_of).then(pl.lit("new")).otherwise(pl.lit("carried")),
        title=pl.col("rule").replace_strict(titles, default=pl.col("rule")),
        status_label=pl.col("status").replace_strict(dict(CASE_STATUS_LABELS), default=pl.col("status")),
        route_label=pl.col("route").replace_strict(ROUTE_LABELS, default=pl.col("route")),
    ).sort(  # complaint cases first (a villager waits), then clues; 督办 first, then the largest amounts
        [pl.col("route") != "complaint", pl.col("status") != "escalated", pl.col("status"), pl.col("amount")],
        descending=[False, False, False, True],
        nulls_last=True,
    )


def priorities(frame: pl.DataFrame) -> pl.DataFrame:
    """What to look at first: complaint cases under 督办, then open ones past their deadline soonest, then
    the largest clues; at most PRIORITY_COUNT."""
    live = frame.filter(pl.col("status").is_in(["open", "escalated"]))
    return live.sort(
        [
            pl.col("status") != "escalated",
            pl.col("route") != "complaint",
            pl.col("deadline"),
            pl.col("amount"),
        ],
        descending=[False, False, False, True],
        nulls_last=True,
    ).head(PRIORITY_COUNT)


@dataclass(frozen=True)
class CaseView:
    case: dict[str, Any]
    findings: list[dict[str, Any]]
    events: list[dict[str, Any]]
    full_ids: bool  # the findings carry full IDs and cards (an audited view)
    from_roster: bool = False  # no finding holds the case now: the people are its roster rows


def case_view(
    wh: Warehouse, case_id: str, titles: dict[str, str], *, full_ids: bool = False
) -> CaseView | None:
    case = case_detail(wh, case_id)
    if case is None:
        return None
    case["title"] = titles.get(str(case["rule"]), case["rule"])
    case["status_label"] = CASE_STATUS_LABELS.get(str(case["status"]), case["status"])
    case["route_label"] = ROUTE_LABELS.get(str(case["route"]), case["route"])
    findings = case_findings(wh, case_id)
    from_roster = findings.height == 0  # resolved: no finding holds the case; the roster names the person
    if from_roster:
        findings = pl.concat([findings.clear(), case_people(wh, case_id)], how="diagonal_relaxed")
    if not full_ids:
        findings = findings.with_columns(
            id_number=mask_id_expr(pl.col("id_number")),
            card_number=mask_card_expr(pl.col("card_number")),
            detail=mask_value_expr(pl.col("detail")),
        )
    events = case_events(wh, case_id).with_columns(
        event_label=pl.col("event").replace_strict(dict(EVENT_LABELS), default=pl.col("event")),
        status_label=pl.col("status_after").replace_strict(
            dict(CASE_STATUS_LABELS), default=pl.col("status_after")
        ),
    )
    return CaseView(case, findings.to_dicts(), events.to_dicts(), full_ids, from_roster)


# -- report files of every night ------------------------------------------------------------------------


@dataclass(frozen=True)
class NightReports:
    name: str  # the night's folder name (YYYY-MM-DD), or the as_of of a single --out folder
    folder: Path
    files: tuple[str, ...]  # downloadable file names (REPORT_SUFFIXES)
    health: str | None


def night_reports(county: County) -> list[NightReports]:
    """Each night's folder under the county's output folder (`<out>/<YYYY-MM-DD>/`, a link to the night's
    version inside `<out>/.versions/`), latest first; an output folder written as one night (run.json directly
    inside) counts as the night it names. A link leading out of `<out>` is never followed."""
    out = county.out
    if not out.is_dir():
        return []
    inside = out.resolve()
    found = {
        entry.name: entry
        for entry in out.iterdir()
        if _NIGHT_NAME.match(entry.name) and entry.is_dir() and entry.resolve().is_relative_to(inside)
    }
    single = _run_json(out)
    if single is not None and single.get("as_of") and str(single["as_of"]) not in found:
        found[str(single["as_of"])] = out
    return [_reports(name, folder) for name, folder in sorted(found.items(), reverse=True)]


def _run_json(folder: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _reports(name: str, folder: Path) -> NightReports:
    files = tuple(
        sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.suffix in REPORT_SUFFIXES and entry.is_file() and not entry.is_symlink()
        )
    )
    run = _run_json(folder) or {}
    health = run.get("health")
    status = health.get("status") if isinstance(health, dict) else None
    return NightReports(name, folder, files, str(status) if status else None)


def report_file(county: County, night: str, name: str) -> Path | None:
    """The file a download names, found by listing (never by joining the URL's text onto a path)."""
    for reports in night_reports(county):
        if reports.name == night and name in reports.files:
            return reports.folder / name
    return None
