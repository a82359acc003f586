"""Case lifecycle and case events.

A case groups the findings of one night that share a `case_id` (route complaint or
clue; route `record` never makes a case). The lifecycle is applied set-based, in SQL,
inside one transaction per night:

    open ──(as_of > deadline, still unresolved)──▶ escalated
    open / escalated ──(no finding holds the case_id)──▶ resolved
    resolved ──(the case_id recurs)──▶ open again (reopened_count + 1, new deadline)

Every state change is a `case_events` row and, for complaint cases, an `outbox` row
(written in the same transaction) that `ykt.deliver.platform` posts to the platform. A case
is never deleted. Re-running the same night changes nothing: the changes are derived
from the difference between the findings and the stored state, and a re-run finds none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ykt.cases.listing import stage_case_objects
from ykt.cases.statements import CASE_SQL
from ykt.cases.summaries import stage_summaries
from ykt.config import Programs
from ykt.detect import RuleRegistry, install_programs
from ykt.errors import UsageError
from ykt.labels import EVENT_DETAILS
from ykt.warehouse import Warehouse

# A case whose findings carry no program (SHARED_ACCOUNT: one case per card, program_code '') is
# handled by the department of the program of its first payment, found in `payments`; with no
# such payment it goes to the county commission.
FALLBACK_AUTHORITY = "县纪委监委"
FALLBACK_RESOLVE_DAYS = 15

EVENT_STATUS = {"opened": "open", "reopened": "open", "escalated": "escalated", "resolved": "resolved"}

# The statements that apply tonight's changes to `cases`, in order.
_APPLY = ("open_new", "update_live", "resolve")


@dataclass(frozen=True)
class CaseCounts:
    """State changes of one night (all routes) and the totals after it."""

    opened: int
    reopened: int
    escalated: int
    resolved: int
    open_total: int
    escalated_total: int


def update_cases(
    wh: Warehouse, programs: Programs, registry: RuleRegistry, as_of: dt.date, run_id: str
) -> CaseCounts:
    """Apply one night's findings to the cases: open, escalate, resolve, reopen; record the events
    and queue complaint-case changes in the outbox, all in one transaction."""
    params = {"as_of": as_of}
    with wh.transaction():
        _refuse_going_back(wh, as_of)
        install_programs(wh, programs)
        stage_case_objects(wh)
        wh.execute(
            "cases.stage current",
            CASE_SQL["stage_current"],
            {
                **params,
                # a group rule's finding heads the member findings that carry its case_id: such a
                # case takes its persons and amount from the members, not from its own header row
                "group_rules": list(registry.group_rules),
                "fallback_authority": FALLBACK_AUTHORITY,
                "fallback_resolve_days": FALLBACK_RESOLVE_DAYS,
                # a rule may name the authority of its cases itself (rules.yaml), over its program's
                "rule_departments": _sql_map(registry.authorities("department")),
                "rule_supervisors": _sql_map(registry.authorities("supervisor")),
            },
        )
        stage_summaries(wh, as_of, registry)
        wh.execute("cases.stage changes", CASE_SQL["stage_changes"], params)
        wh.execute("cases.stage next", CASE_SQL["stage_next"])
        for name in _APPLY:
            wh.execute(f"cases.{name}", CASE_SQL[name], params)
        wh.execute(
            "cases.events",
            CASE_SQL["insert_events"],
            {
                **params,
                "run_id": run_id,
                "status_after": _sql_map(EVENT_STATUS),
                "detail": _sql_map(EVENT_DETAILS),
            },
        )
        wh.execute("cases.outbox", CASE_SQL["insert_outbox"], params)
        return _counts(wh)


def _refuse_going_back(wh: Warehouse, as_of: dt.date) -> None:
    """A night earlier than one already applied would rewrite history the platform has seen."""
    latest = wh.scalar("cases.latest night", CASE_SQL["latest_night"])
    if latest is not None and as_of < latest:
        raise UsageError(
            f"案件已更新到 {latest.isoformat()}，不能再按更早的日期 {as_of.isoformat()} 更新案件",
            hint="使用不早于该日期的 --as-of，或为历史重算使用一个新的数据库文件（--db）",
        )


def _sql_map(mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """A Python mapping as a DuckDB MAP parameter (bound, never formatted into SQL)."""
    return {"key": list(mapping), "value": list(mapping.values())}


def _counts(wh: Warehouse) -> CaseCounts:
    row = wh.rows("cases.counts", CASE_SQL["counts"])[0]
    return CaseCounts(*(int(v) for v in row))
