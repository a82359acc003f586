"""Reading cases back: the cases of a night's cases.jsonl / clues.jsonl, and one case's history."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ykt.cases.statements import CASE_SQL
from ykt.errors import UsageError
from ykt.labels import EVENT_LABELS
from ykt.warehouse import Warehouse

# The object of one cases.jsonl / clues.jsonl line and of one platform delivery, in order
# (the fields of case_objects.sql).
CASE_FIELDS = (
    "case_id",
    "rule",
    "program_code",
    "program_name",
    "period",
    "township",
    "village",
    "group",
    "persons",
    "amount",
    "department",
    "supervisor",
    "opened_on",
    "deadline",
    "status",
    "resolved_on",
    "summary",
    "county_code",  # the county's division code (counties.yaml); null for a night run without it
)


def stage_case_objects(wh: Warehouse) -> None:
    """The `case_objects` view (a TEMP view lives with its connection, so each reader makes sure of it)."""
    wh.execute("cases.objects", CASE_SQL["case_objects"])


def case_listing(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> pl.DataFrame:
    """The cases of a cases.jsonl (route complaint) or clues.jsonl (route clue): every case open or
    escalated plus those resolved on `as_of`, sorted by case_id, columns CASE_FIELDS and, in `line`,
    the case as JSON text, byte for byte the payload the platform receives."""
    stage_case_objects(wh)
    return wh.frame("cases.listing", CASE_SQL["listing"], {"as_of": as_of, "route": route})


def case_records(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> pl.DataFrame:
    """case_listing's cases, columns exactly CASE_FIELDS."""
    return case_listing(wh, as_of, route).drop("line")


def case_json_lines(wh: Warehouse, as_of: dt.date, route: str = "complaint") -> list[str]:
    """case_listing's cases as JSON text."""
    return [str(line) for line in case_listing(wh, as_of, route).get_column("line")]


def case_history(wh: Warehouse, case_id: str) -> list[str]:
    """Lines for `ykt history CASE_ID`: the case as it stands, then every event in order."""
    summary = wh.rows("cases.history case", CASE_SQL["history_case"], {"id": case_id})
    if not summary:
        raise UsageError(
            f"找不到案件 {case_id}", hint="案件编号形如 YKT-0123456789ABCDEF，见 cases.jsonl 或 clues.jsonl"
        )
    events = wh.rows("cases.history events", CASE_SQL["history_events"], {"id": case_id})
    lines = [f"{case_id}（当前状态：{summary[0][0]}）{summary[0][1] or ''}"]
    lines += [
        f"  {on.isoformat()}  {EVENT_LABELS.get(ev, ev)} → {status}  {detail or ''}  [{run}]"
        for on, ev, status, detail, run, _seq in events
    ]
    return lines


# -- one case as a page shows it (the web desk) ------------------------------------------------------


def finished_nights(wh: Warehouse) -> list[dt.date]:
    """The as_of dates of the nights that ran to their end, latest first."""
    return [row[0] for row in wh.rows("cases.finished nights", CASE_SQL["finished_nights"])]


def case_detail(wh: Warehouse, case_id: str) -> dict[str, object] | None:
    """The case (CASE_FIELDS plus route, escalated_on, reopened_on, reopened_count, last_seen_on), or None
    when this warehouse has no such case."""
    stage_case_objects(wh)
    rows = wh.frame("cases.detail", CASE_SQL["case_detail"], {"id": case_id}).to_dicts()
    return rows[0] if rows else None


def case_findings(wh: Warehouse, case_id: str) -> pl.DataFrame:
    """The findings behind the case on the latest night that had any: the people it is about, IDs and
    cards in full (the caller masks them for whoever may not see them)."""
    return wh.frame("cases.findings", CASE_SQL["case_findings"], {"id": case_id})


def case_events(wh: Warehouse, case_id: str) -> pl.DataFrame:
    """Every event of the case in order: on_date, event, status_after, detail, run_id, seq."""
    return wh.frame("cases.events", CASE_SQL["history_events"], {"id": case_id})


def case_people(wh: Warehouse, case_id: str) -> pl.DataFrame:
    """The roster rows of the villager a case is keyed by (its program and period), IDs in full: who a
    resolved case was about once no finding holds it."""
    return wh.frame("cases.people", CASE_SQL["case_people"], {"id": case_id})
