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
