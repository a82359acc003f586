"""Cases: findings become complaint cases and inspector clues that follow a lifecycle night after night."""

from ykt.cases.kpis import Kpis, case_kpis, case_trend
from ykt.cases.lifecycle import CaseCounts, update_cases
from ykt.cases.listing import (
    CASE_FIELDS,
    case_detail,
    case_events,
    case_findings,
    case_history,
    case_json_lines,
    case_listing,
    case_people,
    case_records,
    finished_nights,
)

__all__ = [
    "CASE_FIELDS",
    "CaseCounts",
    "Kpis",
    "case_detail",
    "case_events",
    "case_findings",
    "case_history",
    "case_json_lines",
    "case_kpis",
    "case_trend",
    "case_listing",
    "case_people",
    "case_records",
    "finished_nights",
    "update_cases",
]
