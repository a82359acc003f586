"""The KPIs the counties publish (defined in docs/kpis.md): complaint cases' 受理, 办结, 办结率, days to
resolve, 督办, 逾期, 涉及金额 and 已到账; clues' count, 存疑金额 and 已追回; and the 30-night trend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ykt.cases.statements import CASE_SQL
from ykt.warehouse import Warehouse


@dataclass(frozen=True)
class KpiFigures:
    """Figures up to a date (docs/kpis.md). Complaint cases: `opened` counts every (re)opening (受理),
    `resolved` every resolution (办结), so the rate stays within 0..1 when a case is reopened; money
    still owed (涉及金额) and money that arrived after a case (已到账). Clue cases: open clues, the money
    they question (存疑金额) and what the bank returned of it (已追回) — never a late payment that arrived."""

    opened: int
    resolved: int
    resolution_rate: float | None  # resolved / opened, all-time; None before the first case
    median_days_to_resolve: float | None
    escalated: int  # escalations (督办) so far
    open_now: int
    escalated_now: int
    overdue_now: int  # complaint cases open or escalated past their deadline (逾期)
    amount_at_stake: Decimal  # complaint cases open or escalated: money still owed to villagers
    amount_paid: Decimal  # complaint cases resolved: money that arrived after the case (已到账)
    clues_open: int  # clue cases open or escalated
    amount_in_question: Decimal  # clue cases open or escalated: improper payments (存疑金额)
    amount_recovered: Decimal  # resolved clues' money the bank detail shows returned (已追回)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (run.json): amounts as numbers with 2 decimals."""
        return {k: float(v) if isinstance(v, Decimal) else v for k, v in vars(self).items()}


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
    "overdue_now": 0,
    "amount_at_stake": 0,
    "amount_paid": 0,
    "clues_open": 0,
    "amount_in_question": 0,
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
        overdue_now=int(row["overdue_now"]),
        clues_open=int(row["clues_open"]),
        amount_at_stake=Decimal(row["amount_at_stake"]),
        amount_paid=Decimal(row["amount_paid"]),
        amount_in_question=Decimal(row["amount_in_question"]),
        amount_recovered=Decimal(row["amount_recovered"]),
    )


def case_kpis(wh: Warehouse, as_of: dt.date) -> Kpis:
    """KPIs up to `as_of`, overall and per department (承办部门), as docs/kpis.md defines them. Counts come
    from case_events on or before `as_of`; amounts are the cases' latest amounts."""
    rows = wh.frame("cases.kpis", CASE_SQL["kpis"], {"as_of": as_of}).to_dicts()
    totals = [r for r in rows if r["is_total"]]
    overall = _figures(totals[0] if totals else _NO_CASES)
    departments = tuple(DepartmentKpis(r["department"], _figures(r)) for r in rows if not r["is_total"])
    return Kpis(as_of=as_of, overall=overall, departments=departments)


def case_trend(wh: Warehouse, as_of: dt.date, nights: int = 30) -> pl.DataFrame:
    """Complaint cases opened (incl. reopened) and resolved on each of the `nights` days up to `as_of`:
    columns on_date, opened, resolved; one row per day, zeros included."""
    return wh.frame("cases.trend", CASE_SQL["trend"], {"as_of": as_of, "nights": nights})
