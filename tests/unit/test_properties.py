"""Properties over random small counties (issue 4 "Tests"):

1. every finding points at something that is in the input (its person/program/period, its card,
   or its village group) — the rules never invent a villager;
2. re-running the same night changes nothing: same findings, same cases, no new case events.

Each example is a handful of people with random entitlements, payments (success / failure /
stopped, random amounts and dates, sometimes a shared card), deaths and public employees.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.rule_fixtures import Scenario, card
from ykt.cases import update_cases
from ykt.config import load_programs
from ykt.detect import load_registry, run_rules
from ykt.warehouse.connection import Warehouse

AS_OF = dt.date(2024, 5, 20)
PROGRAMS = ("DIBAO", "CHILD", "GENGDI")
PERIODS = {"DIBAO": ("2024-03", "2024-04"), "CHILD": ("2024-03", "2024-04"), "GENGDI": ("2024",)}


@pytest.fixture(scope="module")
def config():
    return load_programs(), load_registry()


payment = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["success", "success", "failure", "stopped"]),
        "amount": st.sampled_from(
            [Decimal("0.01"), Decimal("600.00"), Decimal("1350.00"), Decimal("2700.00"), Decimal("99999.00")]
        ),
        "day": st.integers(min_value=-20, max_value=80),
        "shared_card": st.booleans(),
    }
)
person = st.fixed_dictionaries(
    {
        "program": st.sampled_from(PROGRAMS),
        "period_index": st.integers(min_value=0, max_value=1),
        "entitled": st.booleans(),
        "amount": st.sampled_from([Decimal("600.00"), Decimal("1350.00")]),
        "payments": st.lists(payment, max_size=3),
        "died_days_before": st.none() | st.integers(min_value=-60, max_value=60),
        "public_employee": st.booleans(),
        "group": st.sampled_from(["1组", "2组"]),
    }
)


def _scenario(people: list[dict]) -> Scenario:
    s = Scenario()
    for n, p in enumerate(people, start=1):
        periods = PERIODS[p["program"]]
        period = periods[p["period_index"] % len(periods)]
        due = dt.date(2024, 3, 10) if period != "2024-04" else dt.date(2024, 4, 10)
        common = {"program_code": p["program"], "period": period, "group_name": p["group"]}
        if p["entitled"]:
            s.entitle(n, amount_due=p["amount"], due_date=due, **common)
        for pay in p["payments"]:
            extra = {"card_number": card(0)} if pay["shared_card"] else {}
            when = due + dt.timedelta(days=pay["day"])
            if pay["status"] == "failure":
                s.fail(n, when, "账户未激活", amount=pay["amount"], **common, **extra)
            else:
                s.pay(n, status=pay["status"], amount=pay["amount"], pay_date=when, **common, **extra)
        if p["died_days_before"] is not None:
            s.die(n, due - dt.timedelta(days=p["died_days_before"]))
        if p["public_employee"]:
            s.employ(n, "县水务局")
    return s


def _snapshot(wh: Warehouse) -> tuple:
    findings = wh.rows("prop findings", "select * exclude (as_of) from findings order by all")
    cases = wh.rows("prop cases", "select * from cases order by case_id")
    events = wh.scalar("prop events", "select count(*) from case_events")
    return findings, cases, events


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(person, min_size=1, max_size=12))
def test_findings_point_at_input_and_rerun_changes_nothing(config, people):
    programs, registry = config
    wh = _scenario(people).load(Warehouse(":memory:"))
    run_rules(wh, programs, registry, AS_OF)
    update_cases(wh, programs, registry, AS_OF, "night-1")

    orphans = wh.rows(
        "prop orphans",
        """
        select f.rule, f.id_number, f.program_code, f.period
        from findings f
        where case
            when f.rule = 'BATCH_STALLED' then not exists (
                select 1 from entitlements e where e.township = f.township and e.village = f.village
                  and e.group_name = f.group_name and e.program_code = f.program_code and e.period = f.period)
            when f.rule = 'COVERAGE' then not exists (
                select 1 from payments p where p.program_code = f.program_code and p.period = f.period)
            when f.rule = 'PROGRAM_STALLED' then not exists (
                select 1 from entitlements e where e.program_code = f.program_code and e.period = f.period)
            when f.rule = 'SHARED_ACCOUNT' then not exists (
                select 1 from payments p where p.card_number = f.card_number and p.id_number = f.id_number)
            else not exists (
                select 1 from entitlements e where e.id_number = f.id_number and e.program_code = f.program_code
                  and e.period = f.period
                union all
                select 1 from payments p where p.id_number = f.id_number and p.program_code = f.program_code
                  and p.period = f.period)
        end""",
    )
    assert orphans == []

    before = _snapshot(wh)
    run_rules(wh, programs, registry, AS_OF)
    update_cases(wh, programs, registry, AS_OF, "night-1-again")
    assert _snapshot(wh) == before
