"""Detection rules: one tiny documented fixture per rule, positive and the nearest negative.

Every fixture is built with tests/support/rule_fixtures.py straight into a real in-memory DuckDB
warehouse and run through the real registry (rules/rules.yaml + rules/*.sql) and runner.
Defaults of the fixtures: program DIBAO (monthly, due the 10th, grace 0, re-issue 15 days,
tolerance 0.01, means-tested, outlier check on), period 2024-03, due 2024-03-10, 1350.00.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import statistics
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.support.rule_fixtures import Scenario, card, case_id, findings, name, resident_id
from ykt.config import load_programs
from ykt.detect import default_ruleset_dir, install_programs, load_registry, run_rules
from ykt.errors import ConfigError, RuleExecutionError
from ykt.warehouse.connection import Warehouse

D = dt.date
MARCH_DUE = D(2024, 3, 10)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643-1999
# The closed set of rules and the route each must take, pinned here against rules.yaml: a clue
# routed to `complaint` would send an accusation to the villagers' platform.
ROUTES = {
    "MISSING": "complaint",
    "FAILED_NOT_REISSUED": "complaint",
    "PAID_LATE": "record",
    "UNDERPAID": "complaint",
    "OVERPAID": "clue",
    "DUPLICATE": "clue",
    "UNENTITLED": "clue",
    "PAYEE_MISMATCH": "clue",
    "SHARED_ACCOUNT": "clue",
    "DECEASED_PAYEE": "clue",
    "PUBLIC_EMPLOYEE": "clue",
    "BATCH_STALLED": "complaint",
    "AMOUNT_OUTLIER": "clue",
    "ID_MISMATCH": "clue",
    "COVERAGE": "record",
    "PROGRAM_STALLED": "complaint",
}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def programs():
    return load_programs()


def run(scenario: Scenario, registry, programs, as_of: dt.date) -> Warehouse:
    wh = scenario.load(Warehouse(":memory:"))
    run_rules(wh, programs, registry, as_of)
    return wh


def ids(rows: list[dict]) -> list[str]:
    return sorted(r["id_number"] for r in rows)


# --------------------------------------------------------------------------------------------
# MISSING
# --------------------------------------------------------------------------------------------


def test_missing_only_after_due_plus_grace(registry, programs):
    """DISABLED is due on the 15th with 5 days' grace: person 1, never paid, is MISSING from
    2024-03-21 on, not on 2024-03-20 (the last day of grace); days overdue count from the due date."""
    s = Scenario(program_code="DISABLED", due_date=D(2024, 3, 15))
    s.entitle(1)
    assert findings(run(s, registry, programs, D(2024, 3, 20)), "MISSING") == []
    [row] = findings(run(s, registry, programs, D(2024, 3, 21)), "MISSING")
    assert row["id_number"] == resident_id(1)
    assert row["route"] == "complaint"
    assert row["days_overdue"] == 6
    assert row["amount_due"] == Decimal("1350.00") and row["amount_paid"] == Decimal("0")
    assert row["case_id"] == case_id("MISSING", "DISABLED", resident_id(1), "2024-03")
    assert "2024-03-15" in row["detail"] and "逾期 6 天" in row["detail"]


def test_stopped_failed_or_paid_is_not_missing(registry, programs):
    """Four people past due: 1 has nothing (MISSING), 2 was stopped on purpose (已停发), 3 had a failed
    attempt (that is FAILED_NOT_REISSUED's business) and 4 was paid: only person 1 is MISSING."""
    s = Scenario()
    for person in (1, 2, 3, 4):
        s.entitle(person)
    s.pay(2, status="stopped")
    s.fail(3, MARCH_DUE, "账户冻结")
    s.pay(4)
    assert ids(findings(run(s, registry, programs, D(2024, 4, 1)), "MISSING")) == [resident_id(1)]


def test_payment_after_as_of_does_not_count(registry, programs):
    """Person 1 is paid on 2024-04-05: as of 2024-04-01 the money has not arrived (MISSING);
    as of 2024-04-05 it has, and the payment 26 days after due is PAID_LATE instead."""
    s = Scenario()
    s.entitle(1)
    s.pay(1, pay_date=D(2024, 4, 5))
    early = run(s, registry, programs, D(2024, 4, 1))
    assert ids(findings(early, "MISSING")) == [resident_id(1)]
    later = run(s, registry, programs, D(2024, 4, 5))
    assert findings(later, "MISSING") == []
    assert [r["days_overdue"] for r in findings(later, "PAID_LATE")] == [(D(2024, 4, 5) - MARCH_DUE).days]


# --------------------------------------------------------------------------------------------
# FAILED_NOT_REISSUED
# --------------------------------------------------------------------------------------------


def test_failed_not_reissued_after_the_reissue_window(registry, programs):
    """Person 1's payment failed on 03-10 (账户未激活) and DIBAO allows 15 days to re-issue: not yet a
    finding on 03-25 (10 + 15), a finding on 03-26 naming the bank's reason. Person 2 failed then was
    re-paid on 03-20: nothing. Person 3 failed twice: the detail names the latest reason (账户冻结)."""
    s = Scenario()
    for person in (1, 2, 3):
        s.entitle(person)
    s.fail(1, MARCH_DUE, "账户未激活")
    s.fail(2, MARCH_DUE, "卡号已注销")
    s.pay(2, pay_date=D(2024, 3, 20))
    s.fail(3, MARCH_DUE, "卡号已注销")
    s.fail(3, D(2024, 3, 12), "账户冻结")
    assert findings(run(s, registry, programs, D(2024, 3, 25)), "FAILED_NOT_REISSUED") == []
    rows = findings(run(s, registry, programs, D(2024, 3, 26)), "FAILED_NOT_REISSUED")
    by_person = {r["id_number"]: r for r in rows}
    assert sorted(by_person) == sorted([resident_id(1), resident_id(3)])
    assert "账户未激活" in by_person[resident_id(1)]["detail"]
    assert (
        "账户冻结" in by_person[resident_id(3)]["detail"]
        and "共失败 2 次" in by_person[resident_id(3)]["detail"]
    )
    assert by_person[resident_id(1)]["route"] == "complaint"


def test_a_returned_payment_leaves_the_entitlement_unpaid_until_paid_again(registry, programs):
    """The bank returns money it paid (退回/退款: frozen account, closed card). Person 1 was paid on time
    (03-10) and the money came back on 03-20 (账户冻结): unpaid from the return, so FAILED_NOT_REISSUED once
    15 days have passed since the RETURN (not on 04-04, on 04-05), naming the return and its reason, and
    no amount, duplicate or late finding. Person 2's return was followed by a re-payment on 03-25: settled,
    one payment stands (no DUPLICATE), judged late from the re-payment. Person 3's only row is a return
    (the attempt bounced, nothing was paid before it): a failed attempt like any other."""
    s = Scenario()
    for person in (1, 2, 3):
        s.entitle(person)
    s.pay(1)
    s.pay(1, status="returned", pay_date=D(2024, 3, 20), failure_reason="账户冻结")
    s.pay(2)
    s.pay(2, status="returned", pay_date=D(2024, 3, 20), failure_reason="卡号已注销")
    s.pay(2, pay_date=D(2024, 3, 25))
    s.pay(3, status="returned", failure_reason="户名不符")
    assert ids(findings(run(s, registry, programs, D(2024, 4, 4)), "FAILED_NOT_REISSUED")) == [resident_id(3)]
    wh = run(s, registry, programs, D(2024, 4, 5))
    by_person = {r["id_number"]: r for r in findings(wh, "FAILED_NOT_REISSUED")}
    assert sorted(by_person) == sorted([resident_id(1), resident_id(3)])
    returned = by_person[resident_id(1)]
    assert "2024-03-10 发放成功后于 2024-03-20 被银行退回（原因：账户冻结）" in returned["detail"]
    assert (returned["amount_paid"], returned["paid_date"]) == (Decimal("0"), None)
    assert "户名不符" in by_person[resident_id(3)]["detail"]
    assert {r["rule"] for r in findings(wh)} == {"FAILED_NOT_REISSUED", "PAID_LATE"}
    [late] = findings(wh, "PAID_LATE")
    assert (late["id_number"], late["paid_date"], late["amount_paid"]) == (
        resident_id(2),
        D(2024, 3, 25),
        Decimal("1350.00"),
    )


# --------------------------------------------------------------------------------------------
# PAID_LATE
# --------------------------------------------------------------------------------------------


def test_paid_late_is_recorded_without_a_case(registry, programs):
    """Due 03-10, grace 0: person 1 paid 03-11 is late by one day (a record, never a case); person 2
    paid 03-10 is on time; person 3 paid on time and again on 04-02 (a duplicate) is not late."""
    s = Scenario()
    for person in (1, 2, 3):
        s.entitle(person)
    s.pay(1, pay_date=D(2024, 3, 11))
    s.pay(2, pay_date=MARCH_DUE)
    s.pay(3, pay_date=MARCH_DUE)
    s.pay(3, pay_date=D(2024, 4, 2))
    wh = run(s, registry, programs, D(2024, 4, 10))
    [row] = findings(wh, "PAID_LATE")
    assert row["id_number"] == resident_id(1)
    assert (row["route"], row["case_id"]) == ("record", None)
    assert (row["paid_date"], row["days_overdue"]) == (D(2024, 3, 11), 1)
    assert ids(findings(wh, "DUPLICATE")) == [resident_id(3)]


# --------------------------------------------------------------------------------------------
# UNDERPAID / OVERPAID / DUPLICATE / UNENTITLED
# --------------------------------------------------------------------------------------------


def test_underpaid_below_due_minus_tolerance(registry, programs):
    """Due 1350.00, tolerance 0.01: person 1 got 1000.00 (short by 350.00), person 2 got 1349.99 (within
    tolerance: fine), person 3 got 600 + 700 = 1300 (still short), person 4 got nothing (MISSING, not
    UNDERPAID: only a positive amount can be short)."""
    s = Scenario()
    for person in (1, 2, 3, 4):
        s.entitle(person)
    s.pay(1, amount=Decimal("1000.00"))
    s.pay(2, amount=Decimal("1349.99"))
    s.pay(3, amount=Decimal("600.00"))
    s.pay(3, amount=Decimal("700.00"), pay_date=D(2024, 3, 11))
    wh = run(s, registry, programs, D(2024, 4, 1))
    rows = {r["id_number"]: r for r in findings(wh, "UNDERPAID")}
    assert sorted(rows) == sorted([resident_id(1), resident_id(3)])
    assert rows[resident_id(1)]["amount_paid"] == Decimal("1000.00")
    assert "少发 350.00 元" in rows[resident_id(1)]["detail"]
    assert rows[resident_id(3)]["amount_paid"] == Decimal("1300.00")
    assert ids(findings(wh, "MISSING")) == [resident_id(4)]


def test_underpaid_boundary_is_exact_in_fen(registry, programs):
    """The bench's 10 disputed keys: due 170.27, paid in two halves rounded down (85.13 + 85.13 = 170.26),
    exactly due − tolerance: not below it, so not UNDERPAID (binary floats say 170.27 − 0.01 =
    170.26000000000002 and wrongly call it short). Person 2 got 85.13 + 85.12 = 170.25, two fen short:
    UNDERPAID."""
    assert 170.27 - 0.01 > 170.26  # the floating-point trap this fixture is about
    s = Scenario(amount=Decimal("170.27"))
    s.entitle(1)
    s.entitle(2)
    for person, second_half in ((1, "85.13"), (2, "85.12")):
        s.pay(person, amount=Decimal("85.13"))
        s.pay(person, amount=Decimal(second_half), pay_date=D(2024, 3, 11))
    [row] = findings(run(s, registry, programs, D(2024, 4, 1)), "UNDERPAID")
    assert (row["id_number"], row["amount_paid"]) == (resident_id(2), Decimal("170.25"))
    assert "少发 0.02 元" in row["detail"]


def test_overpaid_needs_exactly_one_payment_above_due_plus_tolerance(registry, programs):
    """Person 1 got one payment of 1500.00 (overpaid, a clue); person 2 got 1350.01 (within tolerance);
    person 3 got 1350.00 twice: that is DUPLICATE, not OVERPAID."""
    s = Scenario()
    for person in (1, 2, 3):
        s.entitle(person)
    s.pay(1, amount=Decimal("1500.00"))
    s.pay(2, amount=Decimal("1350.01"))
    s.pay(3)
    s.pay(3, pay_date=D(2024, 3, 12))
    wh = run(s, registry, programs, D(2024, 4, 1))
    [row] = findings(wh, "OVERPAID")
    assert (row["id_number"], row["route"], row["amount_paid"]) == (
        resident_id(1),
        "clue",
        Decimal("1500.00"),
    )
    assert "多发 150.00 元" in row["detail"]
    assert ids(findings(wh, "DUPLICATE")) == [resident_id(3)]


def test_duplicate_one_finding_per_key(registry, programs):
    """Person 1 was paid three times for 2024-03 (one DUPLICATE finding, 3 × 1350); person 2 once plus a
    failed attempt (no duplicate); person 3 twice with no roster row at all (DUPLICATE and UNENTITLED)."""
    s = Scenario()
    s.entitle(1)
    s.entitle(2)
    for day in (10, 11, 12):
        s.pay(1, pay_date=D(2024, 3, day))
    s.fail(2, MARCH_DUE, "账户冻结")
    s.pay(2, pay_date=D(2024, 3, 15))
    s.pay(3)
    s.pay(3, pay_date=D(2024, 3, 11))
    wh = run(s, registry, programs, D(2024, 4, 1))
    rows = {r["id_number"]: r for r in findings(wh, "DUPLICATE")}
    assert sorted(rows) == sorted([resident_id(1), resident_id(3)])
    assert rows[resident_id(1)]["amount_paid"] == 3 * Decimal("1350.00")
    assert "成功发放 3 次" in rows[resident_id(1)]["detail"]
    assert rows[resident_id(1)]["route"] == "clue"
    assert ids(findings(wh, "UNENTITLED")) == [resident_id(3)]


def test_unentitled_needs_a_current_roster_row(registry, programs):
    """Person 1 is on the 2024-03 roster but was paid for 2024-04 (unentitled for 04); person 2's only
    roster row was superseded by a corrected roster (unentitled); person 3 is entitled and paid (fine);
    person 4 has only a failed payment and no roster row (nothing was taken: fine). Person 5 is on the
    2024-04 roster and paid (so 2024-04 has a roster: a period with none is COVERAGE's)."""
    s = Scenario()
    s.entitle(5, period="2024-04", due_date=D(2024, 4, 10))
    s.pay(5, period="2024-04", pay_date=D(2024, 4, 10))
    s.entitle(1)
    s.entitle(2, superseded_by="corrected-roster")
    s.entitle(3)
    s.pay(1)
    s.pay(1, period="2024-04", pay_date=D(2024, 4, 10))
    s.pay(2)
    s.pay(3)
    s.fail(4, MARCH_DUE, "卡号已注销")
    rows = findings(run(s, registry, programs, D(2024, 4, 20)), "UNENTITLED")
    assert sorted((r["id_number"], r["period"]) for r in rows) == sorted(
        [(resident_id(1), "2024-04"), (resident_id(2), "2024-03")]
    )
    assert all(r["amount_due"] is None and r["route"] == "clue" for r in rows)


# --------------------------------------------------------------------------------------------
# PAYEE_MISMATCH
# --------------------------------------------------------------------------------------------


def test_payee_mismatch_per_payment(registry, programs):
    """Account holder checks, one payment each unless said otherwise:
    1 paid to a stranger 王五 (finding); 2 paid to the registered guardian (fine); 3 paid to the household
    head named on the roster (fine); 4 paid to the right name but another card (finding); 5 paid three
    times to 丁一 (the beneficiary), 张三 (stranger) and 龙二 (the registered payee) — the stranger sorts
    between the two legitimate names and is still found, alone; 6 has no account holder from the bank
    (cannot tell: fine)."""
    s = Scenario()
    s.entitle(1)
    s.entitle(2, payee_name="李监护")
    s.entitle(3, head_name="赵户主", head_id=resident_id(30))
    s.entitle(4)
    s.entitle(5, name="丁一", payee_name="龙二")
    s.entitle(6)
    s.pay(1, payee_name="王五")
    s.pay(2, payee_name="李监护")
    s.pay(3, payee_name="赵户主")
    s.pay(4, card_number="6228480000000099")
    for day, holder in ((10, "丁一"), (11, "张三"), (12, "龙二")):
        s.pay(5, name="丁一", payee_name=holder, pay_date=D(2024, 3, day))
    s.pay(6, payee_name=None)
    rows = findings(run(s, registry, programs, D(2024, 4, 1)), "PAYEE_MISMATCH")
    assert sorted((r["id_number"], r["paid_date"]) for r in rows) == sorted(
        [(resident_id(1), MARCH_DUE), (resident_id(4), MARCH_DUE), (resident_id(5), D(2024, 3, 11))]
    )
    by_person = {r["id_number"]: r for r in rows}
    assert "王五" in by_person[resident_id(1)]["detail"]
    assert (
        "尾号0099" in by_person[resident_id(4)]["detail"]
        and card(4)[-4:] in by_person[resident_id(4)]["detail"]
    )
    assert "张三" in by_person[resident_id(5)]["detail"]
    assert all(r["id_number"] not in r["detail"] and r["card_number"] not in r["detail"] for r in rows)


def test_every_accepted_way_of_paying_on_time_raises_nothing(registry, programs):
    """The reconciliation decides the common case by one fingerprint (amount, expected holder, card);
    every other accepted shape must still come out clean: 1 paid to the beneficiary although a guardian
    is registered; 2 paid to the guardian; 3 paid to the household head; 4 no card on the roster; 5 no
    card from the bank; 6 no account holder from the bank; 7 the ordinary case. No rule fires at all."""
    s = Scenario()
    s.entitle(1, payee_name="李监护")
    s.entitle(2, payee_name="钱监护")
    s.entitle(3, head_name="赵户主", head_id=resident_id(30))
    s.entitle(4, card_number=None)
    s.entitle(5)
    s.entitle(6)
    s.entitle(7)
    s.pay(1)
    s.pay(2, payee_name="钱监护")
    s.pay(3, payee_name="赵户主")
    s.pay(4)
    s.pay(5, card_number=None)
    s.pay(6, payee_name=None)
    s.pay(7)
    assert findings(run(s, registry, programs, D(2024, 4, 1))) == []


def test_payee_mismatch_one_clue_per_beneficiary_and_program(registry, programs):
    """Person 1's March and April payments both went to 王五: two findings, one clue."""
    s = Scenario()
    s.entitle(1)
    s.entitle(1, period="2024-04", due_date=D(2024, 4, 10))
    s.pay(1, payee_name="王五")
    s.pay(1, payee_name="王五", period="2024-04", pay_date=D(2024, 4, 10))
    rows = findings(run(s, registry, programs, D(2024, 4, 20)), "PAYEE_MISMATCH")
    assert len(rows) == 2
    assert {r["case_id"] for r in rows} == {case_id("PAYEE_MISMATCH", "DIBAO", resident_id(1), "")}


# --------------------------------------------------------------------------------------------
# SHARED_ACCOUNT
# --------------------------------------------------------------------------------------------


def test_shared_account_unrelated_people_one_clue_per_card(registry, programs):
    """Card A collects for persons 1 and 2, unrelated, in March and April (4 findings, one clue for the
    card). Card B collects for household head 3 and member 4 (the roster names 3 as 4's head): fine.
    Card C collects for person 5 (rostered) and person 6 (on no roster: a household alone): flagged.
    Person 7 receives twice on one card: one person, fine."""
    s = Scenario()
    card_a, card_b, card_c = "6217001111111111", "6217002222222222", "6217003333333333"
    for period, due in (("2024-03", MARCH_DUE), ("2024-04", D(2024, 4, 10))):
        for person in (1, 2):
            s.entitle(person, period=period, due_date=due, card_number=card_a)
            s.pay(person, period=period, pay_date=due, card_number=card_a)
    s.entitle(3, card_number=card_b)
    s.entitle(4, head_id=resident_id(3), head_name=name(3), card_number=card_b)
    s.pay(3, card_number=card_b)
    s.pay(4, card_number=card_b)
    s.entitle(5, card_number=card_c)
    s.pay(5, card_number=card_c)
    s.pay(6, card_number=card_c)
    s.entitle(7)
    s.pay(7)
    s.pay(7, period="2024-02", pay_date=D(2024, 2, 10))
    rows = findings(run(s, registry, programs, D(2024, 4, 20)), "SHARED_ACCOUNT")
    per_card = {}
    for r in rows:
        per_card.setdefault(r["card_number"], []).append(r)
    assert sorted(per_card) == sorted([card_a, card_c])
    assert len(per_card[card_a]) == 4 and len(per_card[card_c]) == 2
    assert {r["case_id"] for r in per_card[card_a]} == {case_id("SHARED_ACCOUNT", "", card_a, "")}
    assert all(r["program_code"] == "" and r["route"] == "clue" for r in rows)
    assert all("尾号1111" in r["detail"] and card_a not in r["detail"] for r in per_card[card_a])


# --------------------------------------------------------------------------------------------
# DECEASED_PAYEE / PUBLIC_EMPLOYEE
# --------------------------------------------------------------------------------------------


def test_deceased_payee_only_for_periods_starting_after_death(registry, programs):
    """Person 1 died on 2024-02-15. Paid for 2024-02 (the month of death: fine), 2024-03 and 2024-04 (two
    findings, one clue); a failed attempt for 2024-05 took no money (fine). Person 2 is alive (fine)."""
    s = Scenario()
    s.die(1, D(2024, 2, 15))
    for period, day in (("2024-02", D(2024, 2, 10)), ("2024-03", MARCH_DUE), ("2024-04", D(2024, 4, 10))):
        s.entitle(1, period=period, due_date=day)
        s.pay(1, period=period, pay_date=day)
        s.entitle(2, period=period, due_date=day)
        s.pay(2, period=period, pay_date=day)
    s.fail(1, D(2024, 5, 10), "账户冻结", period="2024-05")
    rows = findings(run(s, registry, programs, D(2024, 5, 20)), "DECEASED_PAYEE")
    assert sorted((r["id_number"], r["period"]) for r in rows) == [
        (resident_id(1), "2024-03"),
        (resident_id(1), "2024-04"),
    ]
    assert {r["case_id"] for r in rows} == {case_id("DECEASED_PAYEE", "DIBAO", resident_id(1), "")}
    assert all("2024-02-15" in r["detail"] for r in rows)


def test_deceased_payee_quarterly_period_starts_on_its_first_month(registry, programs):
    """A quarterly period 2024-Q2 starts on 2024-04-01: a death on 2024-03-31 makes its payment a finding,
    a death on 2024-04-01 (inside the quarter) does not."""
    s = Scenario(period="2024-Q2", due_date=D(2024, 4, 10))
    s.die(1, D(2024, 3, 31))
    s.die(2, D(2024, 4, 1))
    s.pay(1)
    s.pay(2)
    rows = findings(run(s, registry, programs, D(2024, 4, 20)), "DECEASED_PAYEE")
    assert ids(rows) == [resident_id(1)]


def test_one_payment_flagged_by_two_payment_rules_is_two_findings(registry, programs):
    """Person 1 died on 2024-02-15 and is on the public-employee list; DIBAO paid them for 2024-03.
    The runner describes the flagged payments of all payment rules together: that one payment must
    still come out once per rule, each with its own detail and case, both named from the roster row."""
    s = Scenario()
    s.die(1, D(2024, 2, 15))
    s.employ(1, "某镇人民政府")
    s.entitle(1)
    s.pay(1)
    wh = run(s, registry, programs, D(2024, 3, 20))
    dead, employed = findings(wh, "DECEASED_PAYEE"), findings(wh, "PUBLIC_EMPLOYEE")
    assert [(r["id_number"], r["period"], r["name"], r["amount_due"]) for r in dead + employed] == [
        (resident_id(1), "2024-03", name(1), Decimal("1350.00"))
    ] * 2
    assert "死亡" in dead[0]["detail"] and "某镇人民政府" in employed[0]["detail"]
    assert dead[0]["case_id"] == case_id("DECEASED_PAYEE", "DIBAO", resident_id(1), "")
    assert employed[0]["case_id"] == case_id("PUBLIC_EMPLOYEE", "DIBAO", resident_id(1), "")


def test_public_employee_only_for_means_tested_programs(registry, programs):
    """Person 1 is on the public-employee list and receives DIBAO (means-tested: finding naming the
    employer) and DISABLED (not means-tested: fine). Person 2 receives DIBAO and is not on the list."""
    s = Scenario()
    s.employ(1, "某镇人民政府")
    s.entitle(1)
    s.pay(1)
    s.entitle(1, program_code="DISABLED", due_date=D(2024, 3, 15))
    s.pay(1, program_code="DISABLED", pay_date=D(2024, 3, 15))
    s.entitle(2)
    s.pay(2)
    [row] = findings(run(s, registry, programs, D(2024, 4, 1)), "PUBLIC_EMPLOYEE")
    assert (row["id_number"], row["program_code"], row["route"]) == (resident_id(1), "DIBAO", "clue")
    assert "某镇人民政府" in row["detail"]


# --------------------------------------------------------------------------------------------
# ID_MISMATCH
# --------------------------------------------------------------------------------------------


def _one_edit(id_number: str, at: int, transpose: bool = False) -> str:
    """id_number with the body digit at 0-based `at` changed (+1 mod 10), or swapped with the next one,
    and its check character recomputed (a valid ID, as every loaded ID is)."""
    chars = list(id_number[:17])
    if transpose:
        chars[at], chars[at + 1] = chars[at + 1], chars[at]
    else:
        chars[at] = str((int(chars[at]) + 1) % 10)
    body = "".join(chars)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def test_id_mismatch_one_finding_for_one_mistyped_id(registry, programs):
    """The bank paid person 1 under their ID with one digit substituted (position 8) and person 2 under
    theirs with two adjacent digits transposed (positions 13-14), the check character computed for the
    changed body (a valid ID: a whole-ID one-edit pair cannot pass the check), same program, period and name: one
    ID_MISMATCH clue each (the roster's person, the bank's amount, both IDs masked in the detail), and no
    MISSING for the roster ID nor UNENTITLED for the bank's; person 1's February, paid under the right ID
    onto the same card, does not make the card a SHARED_ACCOUNT of two people. The near misses stay what they were: person 3
    paid under a one-edit ID but another name, and person 4 under a two-edit ID (MISSING + UNENTITLED)."""
    s = Scenario()
    for person in (1, 2, 3, 4):
        s.entitle(person)
    wrong = {
        1: _one_edit(resident_id(1), 7),
        2: _one_edit(resident_id(2), 12, transpose=True),
        3: _one_edit(resident_id(3), 7),
        4: _one_edit(_one_edit(resident_id(4), 7), 9),
    }
    assert len({resident_id(2), wrong[2]}) == 2  # the transposed digits differ
    for person, bank_id in wrong.items():
        s.pay(person, id_number=bank_id, name=name(person) if person != 3 else "别人名")
    s.entitle(1, period="2024-02", due_date=D(2024, 2, 10))
    s.pay(1, period="2024-02", pay_date=D(2024, 2, 10))
    wh = run(s, registry, programs, D(2024, 4, 1))
    assert findings(wh, "SHARED_ACCOUNT") == []
    rows = {r["id_number"]: r for r in findings(wh, "ID_MISMATCH")}
    assert sorted(rows) == sorted([resident_id(1), resident_id(2)])
    first = rows[resident_id(1)]
    assert (first["route"], first["name"], first["amount_due"], first["amount_paid"]) == (
        "clue",
        name(1),
        Decimal("1350.00"),
        Decimal("1350.00"),
    )
    assert first["case_id"] == case_id("ID_MISMATCH", "DIBAO", resident_id(1), "2024-03")
    masked = (
        wrong[1][:6] + "********" + wrong[1][-4:],
        resident_id(1)[:6] + "********" + resident_id(1)[-4:],
    )
    assert all(m in first["detail"] for m in masked) and "第 8 位不同" in first["detail"]
    assert resident_id(1) not in first["detail"] and wrong[1] not in first["detail"]
    assert "第 13 位与第 14 位颠倒" in rows[resident_id(2)]["detail"]
    assert ids(findings(wh, "MISSING")) == sorted([resident_id(3), resident_id(4)])
    assert ids(findings(wh, "UNENTITLED")) == sorted([wrong[3], wrong[4]])


# --------------------------------------------------------------------------------------------
# BATCH_STALLED
# --------------------------------------------------------------------------------------------


def _stalled_groups(s: Scenario, sizes: dict[str, int]) -> dict[str, list[Decimal]]:
    """Unpaid LAND_COMP entitlements per village group; person amounts 1000, 1010, 1020…; due dates
    spread so the oldest is known: the first person of each group is due earliest (2024-01-05). One
    person of 9组 was paid: the program's batch went out (a period with no payment at all is
    PROGRAM_STALLED's)."""
    amounts: dict[str, list[Decimal]] = {}
    s.entitle(99, group_name="9组", village="武阳社区", township="江口街道", due_date=D(2024, 1, 5))
    s.pay(99, group_name="9组", village="武阳社区", township="江口街道", pay_date=D(2024, 1, 5))
    person = 100
    for group, size in sizes.items():
        amounts[group] = []
        for i in range(size):
            amount = Decimal(1000 + 10 * i)
            s.entitle(
                person,
                group_name=group,
                village="武阳社区",
                township="江口街道",
                amount_due=amount,
                due_date=D(2024, 1, 5 + i),
            )
            amounts[group].append(amount)
            person += 1
    return amounts


def test_batch_stalled_ten_missing_make_one_case(registry, programs):
    """武阳社区 7组 has ten unpaid people (one BATCH_STALLED case carrying persons, total and oldest due
    date; the ten MISSING findings carry its case id), 8组 has nine (no batch: nine cases of their own)."""
    s = Scenario(program_code="LAND_COMP", period="2024-01")
    amounts = _stalled_groups(s, {"7组": 10, "8组": 9})
    wh = run(s, registry, programs, D(2024, 3, 1))
    [batch] = findings(wh, "BATCH_STALLED")
    batch_case = case_id("BATCH_STALLED", "LAND_COMP", "江口街道/武阳社区/7组", "2024-01")
    assert batch["case_id"] == batch_case
    assert batch["route"] == "complaint"
    assert batch["amount_due"] == sum(amounts["7组"])
    assert batch["due_date"] == D(2024, 1, 5)
    assert "共 10 人" in batch["detail"]
    missing = findings(wh, "MISSING")
    in_7 = [r for r in missing if r["group_name"] == "7组"]
    in_8 = [r for r in missing if r["group_name"] == "8组"]
    assert len(in_7) == 10 and {r["case_id"] for r in in_7} == {batch_case}
    assert len(in_8) == 9 and {r["case_id"] for r in in_8} == {
        case_id("MISSING", "LAND_COMP", r["id_number"], "2024-01") for r in in_8
    }


def test_batch_stalled_threshold_is_a_bound_setting(registry, programs):
    """With settings.batch_stalled_min_persons = 9, the nine unpaid people of 8组 are a batch too."""
    s = Scenario(program_code="LAND_COMP", period="2024-01")
    _stalled_groups(s, {"7组": 10, "8组": 9})
    nine = dataclasses.replace(
        programs, settings=dataclasses.replace(programs.settings, batch_stalled_min_persons=9)
    )
    wh = s.load(Warehouse(":memory:"))
    counts = run_rules(wh, nine, registry, D(2024, 3, 1))
    assert counts["BATCH_STALLED"] == 2
    assert sorted(r["group_name"] for r in findings(wh, "BATCH_STALLED")) == ["7组", "8组"]


def test_program_stalled_one_case_absorbs_its_missing_and_its_groups(registry, programs):
    """DIBAO 2024-03: twelve people in 7组 and three in 8组 on the roster, and not one bank row for DIBAO
    2024-03: ONE PROGRAM_STALLED case (persons and total in its detail) whose case id the fifteen MISSING
    findings carry, and no BATCH_STALLED for 7组 (twelve would make one) — the program-wide stall absorbs it,
    nothing is counted twice. DIBAO 2024-02 has the same roster and one person paid (the batch went out):
    BATCH_STALLED for 7组 as before, 8组 person by person. LAND_COMP 2024-01 has unpaid people in one group
    only: that is the group's batch (BATCH_STALLED), not a program stall."""
    s = Scenario()
    for period, due in (("2024-03", MARCH_DUE), ("2024-02", D(2024, 2, 10))):
        for person in range(1, 16):
            s.entitle(person, period=period, due_date=due, group_name="7组" if person <= 12 else "8组")
    s.entitle(16, period="2024-02", due_date=D(2024, 2, 10), group_name="9组")
    s.pay(16, period="2024-02", pay_date=D(2024, 2, 10), group_name="9组")
    land = Scenario(program_code="LAND_COMP", period="2024-01")
    _stalled_groups(land, {"7组": 10})
    s.rows["entitlements"] += [r for r in land.rows["entitlements"] if r["group_name"] == "7组"]
    wh = run(s, registry, programs, D(2024, 4, 1))
    [stall] = findings(wh, "PROGRAM_STALLED")
    stall_case = case_id("PROGRAM_STALLED", "DIBAO", "", "2024-03")
    assert (stall["program_code"], stall["period"], stall["route"], stall["case_id"]) == (
        "DIBAO",
        "2024-03",
        "complaint",
        stall_case,
    )
    assert stall["amount_due"] == 15 * Decimal("1350.00") and "共 15 人" in stall["detail"]
    missing = findings(wh, "MISSING")
    assert {r["case_id"] for r in missing if r["period"] == "2024-03"} == {stall_case}
    assert len([r for r in missing if r["period"] == "2024-03"]) == 15
    batches = {(r["program_code"], r["period"], r["group_name"]) for r in findings(wh, "BATCH_STALLED")}
    assert batches == {("DIBAO", "2024-02", "7组"), ("LAND_COMP", "2024-01", "7组")}


def test_coverage_one_record_instead_of_a_clue_per_payment(registry, programs):
    """The bank paid DIBAO 2024-03 to 20 people (one of them 9000, far above the rest) and no DIBAO
    2024-03 roster was loaded: ONE COVERAGE record (no case) naming the 20 payments and their total, and
    no UNENTITLED, AMOUNT_OUTLIER or DUPLICATE for them (person 1 was paid twice). TEKUN 2024-03 has its
    roster: its unrostered payment is UNENTITLED as ever."""
    s = Scenario()
    for person in range(1, 21):
        s.pay(person, amount=Decimal(9000 if person == 20 else 600 + 10 * person))
    s.pay(1, pay_date=D(2024, 3, 12), amount=Decimal("610.00"))
    s.entitle(30, program_code="TEKUN")
    s.pay(30, program_code="TEKUN")
    s.pay(31, program_code="TEKUN")
    wh = run(s, registry, programs, D(2024, 4, 1))
    [gap] = findings(wh, "COVERAGE")
    total = sum(Decimal(600 + 10 * p) for p in range(1, 20)) + Decimal("9000.00") + Decimal("610.00")
    assert (gap["program_code"], gap["period"], gap["route"], gap["case_id"]) == (
        "DIBAO",
        "2024-03",
        "record",
        None,
    )
    assert gap["amount_paid"] == total
    assert f"无有效花名册，未核对 21 笔发放（合计 {total:,.2f} 元）" in gap["detail"]
    assert {(r["rule"], r["program_code"]) for r in findings(wh) if r["rule"] != "COVERAGE"} == {
        ("UNENTITLED", "TEKUN")
    }


def test_coverage_when_a_roster_collapses(registry, programs):
    """DISABLED: ten people on the 2024-02 roster, four on 2024-03's (fell by 60% > roster_collapse_share
    50%): COVERAGE for 2024-03 against the previous period, and person 11's unrostered March payment is
    not an UNENTITLED clue. TEKUN 2024-03 was corrected: the first file had ten rows, the corrected one
    replaced them with three (COVERAGE against the same period before the correction). DIBAO 2024-03 fell
    from ten to six (40%): no finding, person 21's unrostered payment is UNENTITLED."""
    s = Scenario()
    for person in range(1, 11):
        s.entitle(person, program_code="DISABLED", period="2024-02", due_date=D(2024, 2, 15))
        s.entitle(person, program_code="TEKUN", superseded_by="tekun-fix")
        s.entitle(person, program_code="DIBAO", period="2024-02", due_date=D(2024, 2, 10))
    for person in range(1, 5):
        s.entitle(person, program_code="DISABLED", due_date=D(2024, 3, 15))
        s.pay(person, program_code="DISABLED", pay_date=D(2024, 3, 15))
    s.pay(11, program_code="DISABLED", pay_date=D(2024, 3, 15))
    for person in range(1, 4):
        s.entitle(person, program_code="TEKUN", file_hash="tekun-fix")
        s.pay(person, program_code="TEKUN")
    for person in range(1, 7):
        s.entitle(person)
        s.pay(person)
    s.pay(21)
    wh = run(s, registry, programs, D(2024, 4, 1))
    gaps = {(r["program_code"], r["period"]): r["detail"] for r in findings(wh, "COVERAGE")}
    assert sorted(gaps) == [("DISABLED", "2024-03"), ("TEKUN", "2024-03")]
    assert "花名册仅 4 条，上期 10 条" in gaps[("DISABLED", "2024-03")]
    assert "花名册仅 3 条，更正前 10 条" in gaps[("TEKUN", "2024-03")]
    assert [(r["program_code"], r["id_number"]) for r in findings(wh, "UNENTITLED")] == [
        ("DIBAO", resident_id(21))
    ]


# --------------------------------------------------------------------------------------------
# AMOUNT_OUTLIER
# --------------------------------------------------------------------------------------------


def _robust_z(values: list[float]) -> list[float]:
    """The documented statistic, computed independently: 0.6745(x − median)/MAD, mean-AD fallback."""
    med = statistics.median(values)
    deviations = [abs(v - med) for v in values]
    mad, mean_ad = statistics.median(deviations), statistics.fmean(deviations)
    if mad > 0:
        return [0.6745 * (v - med) / mad for v in values]
    if mean_ad > 0:
        return [(v - med) / (1.2533 * mean_ad) for v in values]
    return [0.0 for _ in values]


def test_amount_outlier_robust_z_per_program_and_period(registry, programs):
    """DIBAO 2024-03 pays 20 people 600, 610 … 790 and person 21 9000 (flagged by robust z). In 2024-04
    all ten amounts are 1350 (MAD 0 and mean AD 0: nothing flagged, no division by zero). In 2024-05 ten
    get 1350 and one 2700 (MAD 0: the mean-AD fallback flags 2700). CHILD has a fixed standard, so its
    lone 9000 among 1350s is not checked."""
    s = Scenario()
    march = [600 + 10 * i for i in range(20)] + [9000]
    for person, amount in enumerate(march, start=1):
        s.pay(person, amount=Decimal(amount))
    for person in range(30, 40):
        s.pay(person, period="2024-04", pay_date=D(2024, 4, 10))
    may = [1350] * 10 + [2700]
    for person, amount in enumerate(may, start=40):
        s.pay(person, period="2024-05", pay_date=D(2024, 5, 10), amount=Decimal(amount))
    for person in range(60, 71):
        s.pay(person, program_code="CHILD", amount=Decimal(9000 if person == 70 else 1350))
    expected = [(resident_id(p), "2024-03") for p, z in enumerate(_robust_z(march), start=1) if abs(z) > 3.5]
    expected += [(resident_id(p), "2024-05") for p, z in enumerate(_robust_z(may), start=40) if abs(z) > 3.5]
    assert expected == [(resident_id(21), "2024-03"), (resident_id(50), "2024-05")]  # the fixture's design
    s.roster_the_payments()  # covered periods: an unrostered one is COVERAGE's, its outliers suppressed
    rows = findings(run(s, registry, programs, D(2024, 6, 1)), "AMOUNT_OUTLIER")
    assert sorted((r["id_number"], r["period"]) for r in rows) == sorted(expected)
    assert all(r["case_id"] == case_id("AMOUNT_OUTLIER", "DIBAO", r["id_number"], r["period"]) for r in rows)


def _benford_scenario(program_code: str = "NONGJI") -> Scenario:
    """NONGJI (free amounts: benford_check on in programs.yaml). 造假镇 pays 60 amounts 900…959 (all
    first digit 9, far from Benford) in 2024-06; 守法镇 pays 100 amounts whose first digits follow
    Benford's shares (30, 18, 12, 10, 8, 7, 6, 5, 4 of 100) in 2024-07."""
    s = Scenario(program_code=program_code, period="2024-06", due_date=D(2024, 6, 10))
    for i in range(60):
        s.pay(200 + i, amount=Decimal(900 + i), township="造假镇")
    person = 300
    for digit, count in zip(range(1, 10), (30, 18, 12, 10, 8, 7, 6, 5, 4)):
        for k in range(count):
            s.pay(
                person,
                amount=Decimal(digit * 100 + k),
                township="守法镇",
                period="2024-07",
                pay_date=D(2024, 7, 10),
            )
            person += 1
    s.roster_the_payments()  # covered periods: an unrostered one is COVERAGE's, its outliers suppressed
    return s


def _with_benford_min(programs, payments: int):
    return dataclasses.replace(
        programs, settings=dataclasses.replace(programs.settings, benford_min_payments=payments)
    )


def test_amount_outlier_benford_flags_a_township(registry, programs):
    """With benford_min_payments = 50, all 60 NONGJI payments of 造假镇 are findings under one clue for the
    township; 守法镇, whose digits follow Benford, is not flagged."""
    wh = _benford_scenario().load(Warehouse(":memory:"))
    run_rules(wh, _with_benford_min(programs, 50), registry, D(2024, 8, 1))
    rows = [r for r in findings(wh, "AMOUNT_OUTLIER") if "本福特" in r["detail"]]
    assert len(rows) == 60
    assert {r["township"] for r in rows} == {"造假镇"}
    assert {r["case_id"] for r in rows} == {case_id("AMOUNT_OUTLIER", "NONGJI", "造假镇", "")}


def test_amount_outlier_benford_only_where_benford_check(registry, programs):
    """The same skewed 造假镇 amounts paid as TEKUN, a monthly 特困 allowance whose amounts cluster by design
    (benford_check off, outlier_check on): no Benford finding, whatever the township's digits."""
    assert programs.by_code("TEKUN").outlier_check and not programs.by_code("TEKUN").benford_check
    wh = _benford_scenario("TEKUN").load(Warehouse(":memory:"))
    run_rules(wh, _with_benford_min(programs, 50), registry, D(2024, 8, 1))
    assert [r for r in findings(wh, "AMOUNT_OUTLIER") if "本福特" in r["detail"]] == []


def test_amount_outlier_benford_needs_enough_payments(registry, programs):
    """The same 60 payments are fewer than the default benford_min_payments (300): no Benford finding."""
    wh = run(_benford_scenario(), registry, programs, D(2024, 8, 1))
    assert [r for r in findings(wh, "AMOUNT_OUTLIER") if "本福特" in r["detail"]] == []


# --------------------------------------------------------------------------------------------
# the runner
# --------------------------------------------------------------------------------------------


def test_case_ids_are_stable_across_runs_and_dates(registry, programs):
    """Person 1 stays unpaid: the MISSING case id is the contract's hash of rule, program, id and period,
    the same on 04-01 and 05-01; re-running 05-01 rewrites the findings instead of adding to them."""
    s = Scenario()
    s.entitle(1)
    wh = run(s, registry, programs, D(2024, 4, 1))
    first = findings(wh, "MISSING")
    run_rules(wh, programs, registry, D(2024, 5, 1))
    second = findings(wh, "MISSING")
    run_rules(wh, programs, registry, D(2024, 5, 1))
    again = findings(wh)
    expected = case_id("MISSING", "DIBAO", resident_id(1), "2024-03")
    assert [r["case_id"] for r in first] == [r["case_id"] for r in second] == [expected]
    assert again == findings(wh) and len(again) == len(findings(wh)) == 1
    assert (
        second[0]["as_of"] == D(2024, 5, 1) and second[0]["days_overdue"] == (D(2024, 5, 1) - MARCH_DUE).days
    )


def test_counts_cover_every_rule(registry, programs):
    """An empty warehouse yields a count of 0 for every rule code of the closed registry."""
    counts = run_rules(Warehouse(":memory:"), programs, registry, D(2024, 4, 1))
    assert counts == dict.fromkeys(ROUTES, 0)


def test_failing_rule_names_itself_and_leaves_previous_findings(registry, programs):
    """A MISSING variant that only fails on real rows (an 18-digit ID cast to a 32-bit integer) passes
    validation on the empty warehouse, then raises RuleExecutionError naming MISSING; the transaction
    rolls back, so the previous night's findings are still there."""
    s = Scenario()
    s.entitle(1)
    wh = run(s, registry, programs, D(2024, 4, 1))
    before = findings(wh)
    missing = registry.get("MISSING")
    broken = dataclasses.replace(
        missing,
        sql=missing.sql.replace(
            "amount_due::varchar, due_date, $as_of", "id_number::integer, due_date, $as_of"
        ),
    )
    assert broken.sql != missing.sql
    broken_registry = dataclasses.replace(
        registry, rules=tuple(broken if r.code == "MISSING" else r for r in registry.rules)
    )
    with pytest.raises(RuleExecutionError) as error:
        run_rules(wh, programs, broken_registry, D(2024, 4, 2))
    assert error.value.name == "MISSING"
    assert findings(wh) == before


def test_rules_leave_the_row_order_setting_as_they_found_it(registry, programs):
    """The runner builds its intermediates in any row order (a DuckDB-wide setting): afterwards, and
    after a failing rule too, the warehouse keeps rows in insertion order again for whatever runs next."""
    s = Scenario()
    s.entitle(1)
    wh = run(s, registry, programs, D(2024, 4, 1))
    assert wh.scalar("test", "select current_setting('preserve_insertion_order')") is True
    broken = dataclasses.replace(
        registry,
        intermediates=registry.intermediates
        + (dataclasses.replace(registry.intermediates[0], name="broken", sql="select no_such_column"),),
    )
    with pytest.raises(RuleExecutionError):
        run_rules(wh, programs, broken, D(2024, 4, 1))
    assert wh.scalar("test", "select current_setting('preserve_insertion_order')") is True


def test_install_programs_binds_values_verbatim(programs):
    """A program name full of SQL punctuation is stored exactly as written: it is bound, not formatted."""
    hostile = "低保'); drop table payments; --"
    dibao = dataclasses.replace(programs.by_code("DIBAO"), name=hostile)
    tweaked = dataclasses.replace(
        programs, programs=tuple(dibao if p.code == "DIBAO" else p for p in programs.programs)
    )
    wh = Warehouse(":memory:")
    install_programs(wh, tweaked)
    assert wh.scalar("t", "select name from programs_cfg where code = 'DIBAO'") == hostile
    assert wh.scalar("t", "select count(*) from payments") == 0
    assert wh.scalar("t", "select count(*) from programs_cfg") == len(programs.programs)


# --------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------


def test_registry_matches_the_closed_rule_set(registry):
    """The shipped registry holds each rule of the closed set once, with its pinned route, a Chinese title
    and description; the one rule that absorbs others heads the group cases."""
    assert {r.code: r.route for r in registry.rules} == ROUTES
    assert all(r.title and r.description for r in registry.rules)
    assert registry.group_rules == ("PROGRAM_STALLED", "BATCH_STALLED")


def test_payment_rules_are_checked_against_the_flagged_payment_columns(tmp_path: Path):
    """A copy of the ruleset where DECEASED_PAYEE (returns: payments) forgets case_period in its own select
    and PUBLIC_EMPLOYEE declares an unknown `returns`: both are reported, the first naming the
    flagged-payment columns the shared description expects."""
    broken = tmp_path / "ruleset"
    shutil.copytree(default_ruleset_dir(), broken, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    meta = yaml.safe_load((broken / "rules.yaml").read_text(encoding="utf-8"))
    next(r for r in meta["rules"] if r["code"] == "PUBLIC_EMPLOYEE")["returns"] = "rows"
    (broken / "rules.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    deceased = (broken / "deceased_payee.sql").read_text(encoding="utf-8")
    cut = deceased.replace(
        "id_number as case_key,\n        '' as case_period",
        "id_number as case_key",
    )
    assert cut != deceased
    (broken / "deceased_payee.sql").write_text(cut, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_registry(broken)
    by_key = {(Path(p.file).name, p.key): p.message for p in error.value.problems}
    assert {("rules.yaml", "PUBLIC_EMPLOYEE"), ("deceased_payee.sql", "DECEASED_PAYEE")} <= set(by_key)
    assert (
        "payment_row, program_code, detail, case_key, case_period"
        in by_key[("deceased_payee.sql", "DECEASED_PAYEE")]
    )
    assert "rows" in by_key[("rules.yaml", "PUBLIC_EMPLOYEE")]


def test_registry_reports_every_problem_with_file_and_rule(tmp_path: Path):
    """A copy of the ruleset broken eight ways: a new code reusing another rule's SQL file, a duplicate code,
    a nonsense route, a rule pointing at a missing SQL file (leaving its real file without metadata), SQL
    that does not parse, SQL that returns the wrong columns, and a case sentence with an unknown field and
    one with an unbalanced brace. All are reported at once. (A clue routed to the platform is a valid
    registry: test_registry_matches_the_closed_rule_set pins each code's route.)"""
    broken = tmp_path / "ruleset"
    shutil.copytree(default_ruleset_dir(), broken, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    meta = yaml.safe_load((broken / "rules.yaml").read_text(encoding="utf-8"))
    by_code = {r["code"]: r for r in meta["rules"]}
    by_code["DUPLICATE"]["case_text"] = "{lead}{period}{program}应发{due}元，合计{total}元。"
    meta["fallback_case_text"]["clue"] = "{lead}{period}{program}数据比对异常{findings条。"
    by_code["OVERPAID"]["route"] = "somewhere"
    by_code["UNDERPAID"]["sql_file"] = "nope.sql"
    meta["rules"].append({**by_code["MISSING"], "order": 999})
    meta["rules"].append({**by_code["MISSING"], "code": "FOO", "order": 998})
    (broken / "rules.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    (broken / "paid_late.sql").write_text("selec nonsense from nowhere", encoding="utf-8")
    unentitled = (broken / "unentitled.sql").read_text(encoding="utf-8")
    renamed = unentitled.replace("exclude (facts)", "exclude (facts, case_period)").replace(
        "        )\n    from reconciliation", "        ), period as the_period\n    from reconciliation"
    )
    assert renamed.count("the_period") == 1 and "case_period" in renamed
    (broken / "unentitled.sql").write_text(renamed, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_registry(broken)
    found = {(Path(p.file).name, p.key) for p in error.value.problems}
    assert {
        ("rules.yaml", "FOO"),
        ("rules.yaml", "MISSING"),  # the duplicate entry
        ("rules.yaml", "DUPLICATE.case_text"),  # unknown field
        ("rules.yaml", "fallback_case_text.clue"),  # unbalanced brace
        ("rules.yaml", "OVERPAID"),  # not a route
        ("nope.sql", "UNDERPAID"),  # missing SQL file
        ("underpaid.sql", "underpaid"),  # SQL file nobody registers any more
        ("paid_late.sql", "PAID_LATE"),  # does not parse
        ("unentitled.sql", "UNENTITLED"),  # wrong output columns
    } <= found
    columns_problem = next(p for p in error.value.problems if p.key == "UNENTITLED")
    assert "case_period" in columns_problem.message and "the_period" in columns_problem.message
    text_problem = next(p for p in error.value.problems if p.key == "DUPLICATE.case_text")
    assert "{total}" in text_problem.message
    assert len(error.value.problems) == 9
