"""Cases: findings become complaint cases and inspector clues that follow a lifecycle night after night."""

from ykt.cases.lifecycle import (
    CASE_FIELDS,
    CaseCounts,
    Kpis,
    case_history,
    case_kpis,
    case_listing,
    update_cases,
)

__all__ = ["CASE_FIELDS", "CaseCounts", "Kpis", "case_history", "case_kpis", "case_listing", "update_cases"]
