"""Case lifecycle, summaries, outbox rows and KPIs, on a real DuckDB warehouse.

Each test writes a few `findings` rows by hand (the rules engineer's contract) and runs
`update_cases` night after night, exactly as the nightly pipeline does.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from ykt.cases import CASE_FIELDS, case_history, case_json_lines, case_kpis, case_records, update_cases
from ykt.config import load_programs
from ykt.detect import load_registry
from ykt.errors import UsageError
from ykt.warehouse.connection import Warehouse

D = dt.date
PROGRAMS = load_programs()
REGISTRY = load_registry()
FINDING_SCHEMA = {
    "as_of": pl.Date,
    "rule": pl.Utf8,
    "route": pl.Utf8,
    "case_id": pl.Utf8,
    "program_code": pl.Utf8,
    "period": pl.Utf8,
    "id_number": pl.Utf8,
    "name": pl.Utf8,
    "card_number": pl.Utf8,
    "township": pl.Utf8,
    "village": pl.Utf8,
    "group_name": pl.Utf8,
    "amount_due": pl.Decimal(18, 2),
    "amount_paid": pl.Decimal(18, 2),
    "due_date": pl.Date,
    "paid_date": pl.Date,
    "days_overdue": pl.Int32,
    "detail": pl.Utf8,
}
LI_ANCHENG = "51072319500101123X"  # seed case 1: 盐亭县凤灵街道万安社区, 农机购置补贴 200 元


def finding(**fields) -> dict:
    base = dict.fromkeys(FINDING_SCHEMA)
    base.update(route="complaint")
    base.update(fields)
    return base


def li_missing(days_overdue: int) -> dict:
    """The seed's unpaid 200 元 farm-machinery subsidy, due 2024-08-31."""
    return finding(
        rule="MISSING",
        case_id="YKT-LI",
        program_code="NONGJI",
        period="2024-08",
        id_number=LI_ANCHENG,
        name="李安成",
        township="凤灵街道",
        village="万安社区",
        amount_due=Decimal("200.00"),
        due_date=D(2024, 8, 31),
        days_overdue=days_overdue,
    )


def night(wh: Warehouse, as_of: dt.date, rows: list[dict]):
    """One night: the rules' findings for as_of (rewritten), then the case update."""
    wh.execute("test.clear", "delete from findings where as_of = $as_of", {"as_of": as_of})
    frame = pl.DataFrame([{**r, "as_of": as_of} for r in rows], schema=FINDING_SCHEMA) if rows else None
    if frame is not None:
        wh.insert_frame("findings", frame)
    return update_cases(wh, PROGRAMS, REGISTRY, as_of, f"run-{as_of.isoformat()}")


def snapshot(wh: Warehouse) -> tuple:
    return tuple(
        wh.frame("test.snapshot", f"select * exclude ({skip}) from {table} order by all")
        for table, skip in (("cases", "summary"), ("case_events", "detail"), ("outbox", "created_at"))
    ) + (wh.rows("test.summaries", "select case_id, summary from cases order by case_id"),)


def assert_rerun_changes_nothing(wh: Warehouse, as_of: dt.date, rows: list[dict]) -> None:
    before = snapshot(wh)
    counts = night(wh, as_of, rows)
    after = snapshot(wh)
    assert (counts.opened, counts.reopened, counts.escalated, counts.resolved) == (0, 0, 0, 0)
    for old, new in zip(before, after):
        if isinstance(old, pl.DataFrame):
            assert old.equals(new)
        else:
            assert old == new


def case_row(wh: Warehouse, case_id: str) -> dict:
    return wh.frame("test.case", "select * from cases where case_id = $id", {"id": case_id}).to_dicts()[0]


@pytest.fixture
def wh():
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def test_lifecycle_open_escalate_resolve_reopen(wh):
    """Seed case 1 across five nights: opened 09-12 (deadline = +resolve_days of NONGJI = 09-27);
    still open ON the deadline; escalated the day after; resolved the next day (paid); reopened on
    10-10 when it is unpaid again. Each night re-run changes nothing; one case row throughout."""
    resolve_days = PROGRAMS.by_code("NONGJI").resolve_days
    opened, deadline = D(2024, 9, 12), D(2024, 9, 12) + dt.timedelta(days=resolve_days)
    escalated_on, resolved_on, reopened_on = (
        deadline + dt.timedelta(days=1),
        deadline + dt.timedelta(days=2),
        D(2024, 10, 10),
    )
    story = [
        (opened, [li_missing(12)], "open"),
        (deadline, [li_missing(27)], "open"),
        (escalated_on, [li_missing(28)], "escalated"),
        (resolved_on, [], "resolved"),
        (reopened_on, [li_missing(40)], "open"),
    ]
    for as_of, rows, expected_status in story:
        night(wh, as_of, rows)
        assert case_row(wh, "YKT-LI")["status"] == expected_status, as_of
        assert_rerun_changes_nothing(wh, as_of, rows)

    events = wh.rows(
        "t", "select event, on_date, status_after, days_to_resolve from case_events order by on_date, rowid"
    )
    assert events == [
        ("opened", opened, "open", None),
        ("escalated", escalated_on, "escalated", None),
        ("resolved", resolved_on, "resolved", (resolved_on - opened).days),
        ("reopened", reopened_on, "open", None),
    ]
    row = case_row(wh, "YKT-LI")
    assert wh.scalar("t", "select count(*) from cases") == 1
    assert (row["opened_on"], row["reopened_on"], row["reopened_count"]) == (opened, reopened_on, 1)
    assert row["deadline"] == reopened_on + dt.timedelta(days=resolve_days)
    assert (row["escalated_on"], row["resolved_on"], row["days_to_resolve"]) == (None, None, None)
    keys = wh.rows("t", "select idempotency_key from outbox order by on_date")
    assert [k for (k,) in keys] == [
        f"YKT-LI:open:{opened}",
        f"YKT-LI:escalated:{escalated_on}",
        f"YKT-LI:resolved:{resolved_on}",
        f"YKT-LI:open:{reopened_on}",
    ]


def test_resolution_keeps_the_case_and_says_so(wh):
    """A resolved case keeps its row, persons and amount (what was recovered) and its summary
    ends with the resolution date, so cases.jsonl tells the villager it was handled."""
    night(wh, D(2024, 9, 12), [li_missing(12)])
    night(wh, D(2024, 9, 13), [])
    row = case_row(wh, "YKT-LI")
    assert (row["status"], row["resolved_on"], row["days_to_resolve"]) == ("resolved", D(2024, 9, 13), 1)
    assert (row["persons"], row["amount"]) == (1, Decimal("200.00"))
    assert row["summary"].endswith("2024-09-13复核：该问题已不存在，案件办结。")
    record = case_records(wh, D(2024, 9, 13)).to_dicts()
    assert [(r["case_id"], r["status"], r["resolved_on"]) for r in record] == [
        ("YKT-LI", "resolved", D(2024, 9, 13))
    ]
    assert case_records(wh, D(2024, 9, 14)).height == 0  # resolved on an earlier night: no longer listed


def test_missing_case_fields_and_summary(wh):
    """One MISSING finding: the case carries the program's department/supervisor, a deadline of
    opened + resolve_days, and the platform sentence with the ID masked."""
    night(wh, D(2024, 9, 12), [li_missing(12)])
    row = case_row(wh, "YKT-LI")
    program = PROGRAMS.by_code("NONGJI")
    assert (row["rule"], row["route"], row["program_code"], row["program_name"]) == (
        "MISSING",
        "complaint",
        "NONGJI",
        program.name,
    )
    assert (row["department"], row["supervisor"]) == (program.department, program.supervisor)
    assert (row["persons"], row["amount"], row["case_key"]) == (1, Decimal("200.00"), LI_ANCHENG)
    assert row["deadline"] == D(2024, 9, 12) + dt.timedelta(days=program.resolve_days)
    assert row["summary"] == (
        "凤灵街道万安社区 李安成（510723********123X）2024年8月应发农机购置补贴200.00元，"
        "截至2024-09-12尚未发放，已逾期12天。"
    )


def test_batch_stalled_is_one_case_for_the_group(wh):
    """武阳社区7组: a BATCH_STALLED header plus 12 MISSING members carrying its case_id (640 元 each)
    make ONE case: 12 persons, 12 × 640 = 7,680.00 元, oldest due date, the township's own
    办事处/纪工委 ({township} placeholder), no case of the members' own."""
    place = {"township": "江口街道", "village": "武阳社区", "group_name": "7组"}
    members = [
        finding(
            rule="MISSING",
            case_id="YKT-BATCH",
            program_code="LAND_COMP",
            period="2024-05",
            id_number=f"51142219600101{i:03d}X",
            name=f"村民{i}",
            amount_due=Decimal("640.00"),
            due_date=D(2024, 6, 30) + dt.timedelta(days=i % 2),
            days_overdue=15,
            **place,
        )
        for i in range(12)
    ]
    header = finding(
        rule="BATCH_STALLED",
        case_id="YKT-BATCH",
        program_code="LAND_COMP",
        period="2024-05",
        amount_due=Decimal("7680.00"),
        due_date=D(2024, 6, 30),
        days_overdue=15,
        **place,
    )
    night(wh, D(2024, 7, 15), [header, *members])
    assert wh.scalar("t", "select count(*) from cases") == 1
    row = case_row(wh, "YKT-BATCH")
    assert (row["rule"], row["persons"], row["amount"]) == ("BATCH_STALLED", 12, Decimal("7680.00"))
    assert (row["department"], row["supervisor"]) == ("江口街道办事处", "江口街道纪工委")
    assert row["case_key"] == "江口街道/武阳社区/7组"
    assert row["deadline"] == D(2024, 7, 15) + dt.timedelta(days=PROGRAMS.by_code("LAND_COMP").resolve_days)
    assert (
        row["summary"]
        == "江口街道武阳社区7组 12人 征地拆迁补偿款合计7,680.00元 应于2024-06-30前发放，截至2024-07-15均未发放。"
    )


def test_a_rule_may_name_its_own_authority(wh):
    """ID_MISMATCH names its own 承办部门 and 监督主体 in rules.yaml (县财政局, 驻县财政局纪检监察组): its clue
    on a 低保 payment goes there, while a 低保 clue of a rule that names none goes to the program's
    (县民政局, 驻县民政局纪检监察组)."""
    person = {"program_code": "DIBAO", "period": "2024-03", "id_number": LI_ANCHENG, "name": "李安成"}
    night(
        wh,
        D(2024, 4, 1),
        [
            finding(rule="ID_MISMATCH", route="clue", case_id="YKT-ID", amount_paid=Decimal("500"), **person),
            finding(rule="OVERPAID", route="clue", case_id="YKT-OVER", amount_paid=Decimal("900"), **person),
        ],
    )
    assert {
        c: (case_row(wh, c)["department"], case_row(wh, c)["supervisor"]) for c in ("YKT-ID", "YKT-OVER")
    } == {
        "YKT-ID": ("县财政局", "驻县财政局纪检监察组"),
        "YKT-OVER": ("县民政局", "驻县民政局纪检监察组"),
    }


def test_amount_at_stake_by_route_and_records_make_no_case(wh):
    """Complaint amount = what is still owed (due − paid, floored at 0); clue amount = what was
    paid; a route `record` finding (PAID_LATE) never becomes a case."""
    person = {"id_number": "360426199101010071", "name": "王芳", "township": "唐昌镇", "village": "永安村"}
    rows = [
        finding(
            rule="UNDERPAID",
            case_id="YKT-UNDER",
            program_code="DIBAO",
            period="2024-03",
            amount_due=Decimal("1350.00"),
            amount_paid=Decimal("1000.00"),
            **person,
        ),
        finding(
            rule="OVERPAID",
            route="clue",
            case_id="YKT-OVER",
            program_code="DIBAO",
            period="2024-04",
            amount_due=Decimal("100.00"),
            amount_paid=Decimal("300.00"),
            **person,
        ),
        finding(
            rule="PAID_LATE",
            route="record",
            case_id=None,
            program_code="DIBAO",
            period="2024-05",
            amount_due=Decimal("100.00"),
            amount_paid=Decimal("100.00"),
            **person,
        ),
    ]
    night(wh, D(2024, 6, 1), rows)
    amounts = dict(wh.rows("t", "select case_id, amount from cases"))
    assert amounts == {"YKT-UNDER": Decimal("350.00"), "YKT-OVER": Decimal("300.00")}
    assert case_row(wh, "YKT-UNDER")["summary"] == (
        "唐昌镇永安村 王芳（360426********0071）2024年3月城乡居民最低生活保障金"
        "应发1,350.00元，实发1,000.00元，少发350.00元。"
    )


def test_shared_account_takes_department_of_first_payment(wh):
    """SHARED_ACCOUNT findings carry program_code '' (one case per card), so the program comes from
    the payments behind them. Card A: three persons; its first payment (2024-01-10) is a 残疾人两项补贴
    → 县残疾人联合会 handles it although later payments are 低保. Card B: no payment row found →
    县纪委监委. Both are clues; the sentence names the masked card and states only the data fact."""
    card_a, card_b = "6217000011111234", "6228000022225678"
    paid_a = [(1, "DISABLED", 1), (2, "DIBAO", 2), (3, "DIBAO", 3)]  # (person, program, month)

    def shared(case, card, i, month):
        return finding(
            rule="SHARED_ACCOUNT",
            route="clue",
            case_id=case,
            program_code="",
            period=f"2024-{month:02d}",
            id_number=f"11010519491231{i:03d}X",
            name=f"对象{i}",
            card_number=card,
            amount_paid=Decimal("100.00"),
            paid_date=D(2024, month, 10),
        )

    payments = pl.DataFrame(
        [
            {
                "file_hash": "h",
                "source_row": i,
                "id_number": f"11010519491231{i:03d}X",
                "program_code": program,
                "period": f"2024-{month:02d}",
                "card_number": card_a,
                "amount": Decimal("100.00"),
                "pay_date": D(2024, month, 10),
                "status": "success",
            }
            for i, program, month in paid_a
        ],
        schema_overrides={"amount": pl.Decimal(18, 2), "source_row": pl.Int32},
    )
    wh.insert_frame("payments", payments)
    rows = [shared("YKT-CARD-A", card_a, i, month) for i, _, month in paid_a]
    rows += [shared("YKT-CARD-B", card_b, 4, 1), shared("YKT-CARD-B", card_b, 5, 2)]
    night(wh, D(2024, 4, 1), rows)
    a, b = case_row(wh, "YKT-CARD-A"), case_row(wh, "YKT-CARD-B")
    disabled = PROGRAMS.by_code("DISABLED")
    assert (a["department"], a["supervisor"], a["program_code"]) == (
        disabled.department,
        disabled.supervisor,
        None,
    )
    assert (a["persons"], a["amount"], a["case_key"], a["period"]) == (
        3,
        Decimal("300.00"),
        card_a,
        "2024-01/2024-03",
    )
    assert a["summary"] == "同一银行卡（6217 **** **** 1234）收到3名不同对象的补贴，共3笔，合计300.00元。"
    assert (b["department"], b["supervisor"]) == ("县纪委监委", "县纪委监委")
    assert wh.scalar("t", "select count(*) from outbox") == 0  # clues never queue for the platform


def test_clue_summaries_are_masked_data_facts(wh):
    """Every clue rule's sentence hides the full ID and card and uses no accusing word a
    villager could read as one (冒领, 违规, 套取, 贪污, 侵占)."""
    person = {
        "id_number": "360426199101010071",
        "name": "王芳",
        "card_number": "6217000011111234",
        "township": "唐昌镇",
        "village": "永安村",
        "program_code": "DIBAO",
        "period": "2024-03",
        "amount_due": Decimal("500.00"),
        "amount_paid": Decimal("900.00"),
    }
    rules = [
        "OVERPAID",
        "DUPLICATE",
        "UNENTITLED",
        "PAYEE_MISMATCH",
        "DECEASED_PAYEE",
        "PUBLIC_EMPLOYEE",
        "AMOUNT_OUTLIER",
        "SOME_FUTURE_CLUE",
    ]
    night(wh, D(2024, 4, 1), [finding(rule=r, route="clue", case_id=f"YKT-{r}", **person) for r in rules])
    summaries = dict(wh.rows("t", "select rule, summary from cases"))
    assert set(summaries) == set(rules)
    for rule, text in summaries.items():
        assert "360426199101010071" not in text and "6217000011111234" not in text, rule
        assert not any(word in text for word in ("冒领", "违规", "套取", "贪污", "侵占")), (rule, text)
        assert "900.00" in text, (rule, text)


def test_outbox_holds_complaint_changes_with_the_platform_object(wh):
    """The outbox row written with the change is the exact cases.jsonl object (same keys, same
    order, masked summary) and its key is case_id:status:date; clues queue nothing."""
    clue = finding(
        rule="DUPLICATE",
        route="clue",
        case_id="YKT-DUP",
        id_number=LI_ANCHENG,
        name="李安成",
        program_code="NONGJI",
        period="2024-08",
        amount_paid=Decimal("400.00"),
    )
    night(wh, D(2024, 9, 12), [li_missing(12), clue])
    outbox = wh.rows("t", "select idempotency_key, payload from outbox")
    assert [k for k, _ in outbox] == ["YKT-LI:open:2024-09-12"]
    payload = json.loads(outbox[0][1])
    assert list(payload) == list(CASE_FIELDS)
    assert outbox[0][1] == case_json_lines(wh, D(2024, 9, 12))[0]
    assert (payload["status"], payload["opened_on"], payload["amount"], payload["group"]) == (
        "open",
        "2024-09-12",
        200.0,
        None,
    )
    assert LI_ANCHENG not in outbox[0][1]
    assert [json.loads(line)["case_id"] for line in case_json_lines(wh, D(2024, 9, 12), "clue")] == [
        "YKT-DUP"
    ]


def test_kpis_overall_and_per_department(wh):
    """Three complaint cases opened 09-01 (民政局: A 500 元, B 300 元; 农业农村局: C 200 元) plus a 999 元
    clue that only the clue figures count. 09-06: A paid (5 days). 09-17: B past its 15-day deadline →
    escalated and overdue; C paid (16 days). Figures at 09-17 follow from that story; at 09-06 only A is
    resolved. Money that arrived late is 已到账, never 已追回 (nothing improper was returned)."""

    def owed(case, program, amount, i):
        return finding(
            rule="MISSING",
            case_id=case,
            program_code=program,
            period="2024-08",
            id_number=f"11010519491231{i:03d}X",
            name=f"对象{i}",
            amount_due=Decimal(amount),
        )

    a, b, c = owed("A", "DIBAO", "500", 1), owed("B", "DIBAO", "300", 2), owed("C", "NONGJI", "200", 3)
    clue = finding(
        rule="UNENTITLED", route="clue", case_id="Z", program_code="DIBAO", amount_paid=Decimal("999")
    )
    night(wh, D(2024, 9, 1), [a, b, c, clue])
    night(wh, D(2024, 9, 6), [b, c, clue])
    counts = night(wh, D(2024, 9, 17), [b, clue])
    assert (counts.escalated, counts.resolved, counts.escalated_total) == (2, 1, 2)  # B and the clue escalate

    kpis = case_kpis(wh, D(2024, 9, 17))
    o = kpis.overall
    assert (o.opened, o.resolved, o.resolution_rate, o.median_days_to_resolve) == (
        3,
        2,
        round(2 / 3, 4),
        10.5,
    )
    assert (o.escalated, o.open_now, o.escalated_now, o.overdue_now) == (1, 0, 1, 1)
    assert (o.amount_at_stake, o.amount_paid, o.amount_recovered) == (
        Decimal("300.00"),
        Decimal("700.00"),
        Decimal("0.00"),
    )
    assert (o.clues_open, o.amount_in_question) == (1, Decimal("999.00"))
    by_dept = {d.department: d.figures for d in kpis.departments}
    assert set(by_dept) == {"县民政局", "县农业农村局"}
    civil, agri = by_dept["县民政局"], by_dept["县农业农村局"]
    assert (
        civil.opened,
        civil.resolved,
        civil.resolution_rate,
        civil.median_days_to_resolve,
        civil.escalated,
    ) == (2, 1, 0.5, 5.0, 1)
    assert (civil.amount_at_stake, civil.amount_paid, civil.amount_recovered) == (
        Decimal("300.00"),
        Decimal("500.00"),
        Decimal("0.00"),
    )
    assert (agri.opened, agri.resolved, agri.resolution_rate, agri.median_days_to_resolve) == (
        1,
        1,
        1.0,
        16.0,
    )

    earlier = case_kpis(wh, D(2024, 9, 6)).overall
    assert (earlier.opened, earlier.resolved, earlier.escalated, earlier.open_now) == (3, 1, 0, 2)
    assert (earlier.amount_at_stake, earlier.amount_paid, earlier.overdue_now) == (
        Decimal("500.00"),
        Decimal("500.00"),
        0,
    )
    assert json.dumps(kpis.as_dict(), ensure_ascii=False)  # run.json-ready


def _returned_payment(wh: Warehouse, id_number: str, amount: str, pay_date: dt.date) -> None:
    """A bank detail row showing money sent back (status returned) for DIBAO 2024-08."""
    wh.execute(
        "test.returned",
        """insert into payments (file_hash, source_row, id_number, program_code, period, amount, pay_date, status)
           values ('f', 1, $id, 'DIBAO', '2024-08', $amount, $on, 'returned')""",
        {"id": id_number, "amount": Decimal(amount), "on": pay_date},
    )


def test_recovered_is_returned_improper_money_only(wh):
    """已追回 counts only money the bank returned for a resolved clue. Three clues opened 09-01 (DIBAO
    2024-08, 民政局): P (400 元 duplicate) returned 09-04 and resolved 09-06 → 400 recovered; Q (300 元)
    resolved 09-06 with nothing returned → 0; R (250 元) still open with a 100 元 return → in question,
    not recovered. The seed's late 200 元 (complaint, paid 09-06) is 已到账, never 已追回."""

    def clue(case, i, amount):
        return finding(
            rule="DUPLICATE",
            route="clue",
            case_id=case,
            program_code="DIBAO",
            period="2024-08",
            id_number=f"11010519491231{i:03d}X",
            amount_paid=Decimal(amount),
            paid_date=D(2024, 8, 10),
        )

    p, q, r = clue("P", 1, "400"), clue("Q", 2, "300"), clue("R", 3, "250")
    night(wh, D(2024, 9, 1), [p, q, r, li_missing(1)])
    _returned_payment(wh, "11010519491231001X", "400", D(2024, 9, 4))
    _returned_payment(wh, "11010519491231003X", "100", D(2024, 9, 4))
    night(wh, D(2024, 9, 6), [r])
    o = case_kpis(wh, D(2024, 9, 6)).overall
    assert o.amount_recovered == Decimal("400.00")
    assert (o.clues_open, o.amount_in_question) == (1, Decimal("250.00"))
    assert (o.amount_paid, o.amount_at_stake) == (Decimal("200.00"), Decimal("0.00"))
    by_dept = {d.department: d.figures for d in case_kpis(wh, D(2024, 9, 6)).departments}
    agri = by_dept["县农业农村局"]
    assert agri.amount_recovered == 0 and agri.amount_paid == Decimal("200.00")
    assert case_kpis(wh, D(2024, 9, 5)).overall.amount_recovered == 0  # nothing resolved yet


def test_trend_counts_each_night_with_zeros(wh):
    """The 30-night trend: one row per day up to as_of, zeros where nothing happened; the seed case
    opened 09-12 and resolved 09-13 shows on those two days only."""
    from ykt.cases import case_trend

    night(wh, D(2024, 9, 12), [li_missing(12)])
    night(wh, D(2024, 9, 13), [])
    trend = case_trend(wh, D(2024, 9, 13))
    assert (
        trend.height == 30
        and trend["on_date"][0] == D(2024, 8, 15)
        and trend["on_date"][-1] == D(2024, 9, 13)
    )
    assert trend.filter(pl.col("opened") > 0)["on_date"].to_list() == [D(2024, 9, 12)]
    assert trend.filter(pl.col("resolved") > 0)["on_date"].to_list() == [D(2024, 9, 13)]
    assert trend["opened"].sum() == 1 and trend["resolved"].sum() == 1


def test_kpis_before_any_case(wh):
    """A warehouse without cases reports zeros and no rate (not a division by zero)."""
    kpis = case_kpis(wh, D(2024, 9, 1))
    assert (kpis.overall.opened, kpis.overall.resolution_rate, kpis.departments) == (0, None, ())


def test_earlier_night_is_refused_and_history_is_readable(wh):
    """Applying a night older than one already applied would rewrite what the platform saw:
    refused with a UsageError; `ykt history` lists the events of a case in order."""
    night(wh, D(2024, 9, 12), [li_missing(12)])
    night(wh, D(2024, 9, 13), [])
    with pytest.raises(UsageError, match="2024-09-13"):
        night(wh, D(2024, 9, 1), [li_missing(1)])
    history = case_history(wh, "YKT-LI")
    assert "2024-09-12  立案" in history[1] and "2024-09-13  办结" in history[2]
    with pytest.raises(UsageError):
        case_history(wh, "YKT-NOPE")


def test_summaries_per_rule_equal_the_single_expression():
    """The nightly path builds summaries rule by rule (case_summaries); the fixture has one case for each
    rule with a case_text, one complaint and one clue of a rule without one (the fallbacks), and periods of
    every shape (month, quarter, year, a range, none): each must read exactly as summary_expr writes it."""
    from ykt.cases.summaries import case_summaries, summary_expr

    as_of = D(2024, 7, 20)
    rules = [*(r.code for r in REGISTRY.rules if r.case_text), "FUTURE_COMPLAINT", "FUTURE_CLUE"]
    periods = ["2024-03", "2024-Q1", "2024", "2024-01/2024-06", None]
    cases = pl.DataFrame(
        {
            "case_id": [f"YKT-{i:02d}" for i in range(len(rules))],
            "rule": rules,
            "route": ["complaint" if r == "FUTURE_COMPLAINT" else "clue" for r in rules],
            "persons": [1 + i % 3 for i in range(len(rules))],
            "findings": [1 + i % 4 for i in range(len(rules))],
            "name": "王芳",
            "id_number": "360426199101010071",
            "card_number": "6217000011111234",
            "township": "唐昌镇",
            "village": [None if i % 2 else "永安村" for i in range(len(rules))],
            "group_name": None,
            "program_name": "城乡居民最低生活保障金",
            "period": [periods[i % len(periods)] for i in range(len(rules))],
            "due_text": "2024-03-10",
            "days_overdue": 132,
            "amount_text": "1,500.00",
            "due_amount_text": "500.00",
            "paid_amount_text": "1,000.00",
        },
        schema_overrides={"group_name": pl.Utf8},
    )
    expected = cases.select("case_id", summary_expr(as_of, REGISTRY).alias("summary")).sort("case_id")
    assert case_summaries(cases, as_of, REGISTRY).sort("case_id").equals(expected)
    assert expected.get_column("summary").str.contains("2024年第1季度").any()
