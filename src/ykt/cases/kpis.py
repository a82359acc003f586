"""The complaint-case KPIs the counties publish: 受理, 办结, 办结率, days to resolve, 督办, amounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ykt.cases.statements import CASE_SQL
from ykt.warehouse import Warehouse


@dataclass(frozen=True)
class KpiFigures:
    """Complaint-case figures up to a date. `opened` counts every (re)opening (受理), `resolved`
    every resolution (办结), so the rate stays within 0..1 when a case is reopened."""

    opened: int
    resolved: int
    resolution_rate: float | None  # resolved / opened, all-time; None before the first case
    median_days_to_resolve: float | None
    escalated: int  # escalations (督办) so far
    open_now: int
    escalated_now: int
    amount_at_stake: Decimal  # amount of cases open or escalated at the date
    amount_recovered: Decimal  # amount of cases resolved at the date

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (run.json): amounts as numbers with 2 decimals."""
        out = dict(vars(self))
        out["amount_at_stake"] = float(self.amount_at_stake)
        out["amount_recovered"] = float(self.amount_recovered)
        return out


@dataclass(frozen=True)
class DepartmentKpis:
    department: str
    figures: KpiFigures


@dataclass(frozen=True)
class Kpis:
    as_of: dt.date
    overall: KpiFigures
    departments: tuple[DepartmentKpis, ...]  # sorted by department

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "overall": self.overall.as_dict(),
            "departments": [{"department": d.department, **d.figures.as_dict()} for d in self.departments],
        }


# The figures of a date before any complaint case.
_NO_CASES: dict[str, Any] = {
    "opened": 0,
    "resolved": 0,
    "median_days_to_resolve": None,
    "escalated": 0,
    "open_now": 0,
    "escalated_now": 0,
    "amount_at_stake": 0,
    "amount_recovered": 0,
}


def _figures(row: dict[str, Any]) -> KpiFigures:
    opened, resolved = int(row["opened"]), int(row["resolved"])
    median = row["median_days_to_resolve"]
    return KpiFigures(
        opened=opened,
        resolved=resolved,
        resolution_rate=round(resolved / opened, 4) if opened else None,
        median_days_to_resolve=None if median is None else float(median),
        escalated=int(row["escalated"]),
        open_now=int(row["open_now"]),
        escalated_now=int(row["escalated_now"]),
        amount_at_stake=Decimal(row["amount_at_stake"]),
        amount_recovered=Decimal(row["amount_recovered"]),
    )


def case_kpis(wh: Warehouse, as_of: dt.date) -> Kpis:
    """Complaint-case KPIs up to `as_of`, overall and per department (承办部门): 受理, 办结, 办结率,
    median days to resolve, 督办, amount at stake (open + escalated) and amount recovered (resolved).
    Counts come from case_events on or before `as_of`; amounts are the cases' latest amounts."""
    rows = wh.frame("cases.kpis", CASE_SQL["kpis"], {"as_of": as_of}).to_dicts()
    totals = [r for r in rows if r["is_total"]]
    overall = _figures(totals[0] if totals else _NO_CASES)
    departments = tuple(DepartmentKpis(r["department"], _figures(r)) for r in rows if not r["is_total"])
    return Kpis(as_of=as_of, overall=overall, departments=departments)
