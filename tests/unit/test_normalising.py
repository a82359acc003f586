"""Normalisation of cell text (issue 3 'Classic damage') and of whole RawTables (issue 2 due dates)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from stdnum.cn import ric

from ykt.config import load_programs
from ykt.ingest.normalise.fields import (
    WHITESPACE,
    amount_expr,
    card_expr,
    date_expr,
    id_number_expr,
    name_expr,
    normalise,
    parse_table,
    period_expr,
    status_expr,
)
from ykt.ingest.types import RawTable
from ykt.kinds import kind_spec

VALID_ID = "11010519491231002X"  # from GB 11643 examples
VALID_ID_2 = "360426199101010071"
PROGRAMS = load_programs()


def parse(expr_of, values, **flags) -> list[dict]:
    """Run one parser over a column of cell texts; return its public struct fields per row."""
    frame = pl.DataFrame({"c": values, **flags}, schema_overrides={"c": pl.String})
    out = frame.select(expr_of("c").alias("s")).unnest("s")
    return out.select([c for c in out.columns if not c.startswith("_")]).to_dicts()


def id_15_to_18(old: str) -> str:
    body = old[:6] + "19" + old[6:]
    return body + ric.calc_check_digit(body + "0")


def test_ids_damaged_the_classic_ways():
    """Each cell is one classic damage from domain.md; the expectation follows from the ID rules."""
    old = "360426910101007"  # 15-digit first-generation ID (born 1991-01-01)
    cells = [
        VALID_ID.lower(),
        "１１０１０５１９４９１２３１００２Ｘ",
        f"  {VALID_ID_2} ",
        old,
        "5.10723E+17",
        "360426199101010072",
        "360426199102300071"[:17] + "X",
        "3604261991",
        None,
    ]
    got = parse(id_number_expr, cells)
    assert [g["value"] for g in got[:4]] == [VALID_ID, VALID_ID, VALID_ID_2, id_15_to_18(old)]
    assert got[3]["warning"] == "ID_FROM_15"
    assert [g["error"] for g in got[4:]] == [
        "ID_SCIENTIFIC",
        "ID_CHECKSUM",
        "ID_BIRTHDATE",
        "ID_FORMAT",
        "ID_MISSING",
    ]
    assert all(g["value"] is None for g in got[4:])


def test_numeric_cells_flagged_by_reader():
    """An 18-digit number cell lost digits (rejected); a 15-digit one is exact (kept, with warnings)."""
    old = "360426910101007"
    got = parse(lambda c: id_number_expr(c, "flag"), [VALID_ID_2[:15] + "000", old], flag=[True, True])
    assert got[0]["error"] == "ID_SCIENTIFIC"
    assert got[1]["value"] == id_15_to_18(old)
    assert set(got[1]["warning"].split("; ")) == {"ID_FROM_15", "ID_NUMERIC_SUSPECT"}


def test_unknown_area_code_is_only_a_warning():
    """Area 990000 is in no division table; the ID is otherwise valid, so it loads with a warning."""
    body = "99000019800101001"
    unknown = body + ric.calc_check_digit(body + "0")
    [got] = parse(id_number_expr, [unknown])
    assert (got["value"], got["error"], got["warning"]) == (unknown, None, "ID_AREA_UNKNOWN")


def test_amounts_exact_and_rejected():
    """Typed-in money in every shape people use; 3 decimals and negatives are not guessed at."""
    got = parse(
        amount_expr,
        ["1,350.00元", "￥1350", "１３５０．５", "RMB 90", "1350.3000000000002", "-5", "1350.005", "abc", ""],
    )
    values = [g["value"] for g in got]
    assert values[:5] == [
        Decimal("1350.00"),
        Decimal("1350.00"),
        Decimal("1350.50"),
        Decimal("90.00"),
        Decimal("1350.30"),
    ]
    assert [g["error"] for g in got[5:]] == [
        "AMOUNT_NEGATIVE",
        "AMOUNT_INVALID",
        "AMOUNT_INVALID",
        "AMOUNT_MISSING",
    ]


def test_dates_in_every_format_and_excel_serials():
    """All spell 2024-03-10 (45361 is its 1900-system serial); 2024-02-30 does not exist."""
    got = parse(
        date_expr,
        [
            "2024-03-10",
            "2024/3/10",
            "20240310",
            "2024年3月10日",
            "2024-03-10 00:00:00",
            "45361",
            "45361.0",
            "2024-02-30",
            "明天",
            None,
        ],
    )
    assert [g["value"] for g in got[:7]] == [dt.date(2024, 3, 10)] * 7
    assert [g["error"] for g in got[7:]] == ["DATE_INVALID", "DATE_INVALID", None]


def test_excel_serial_1904_system():
    """A Mac workbook counts from 1904-01-01: the same serial is 1462 days later than in 1900."""
    frame = pl.DataFrame({"c": ["43899"]})
    value = frame.select(date_expr("c", date1904=True).struct.field("value")).item()
    assert value == dt.date(2024, 3, 10)


def test_periods_canonical():
    """Month, quarter and year periods as written in titles and columns."""
    got = parse(
        period_expr,
        [
            "2024-03",
            "2024年3月",
            "202403",
            "2024/3",
            "2024年第一季度",
            "2024Q2",
            "2024",
            "2024年度",
            "2024-13",
            "2024年第五季度",
        ],
    )
    assert [g["value"] for g in got[:8]] == [
        "2024-03",
        "2024-03",
        "2024-03",
        "2024-03",
        "2024-Q1",
        "2024-Q2",
        "2024",
        "2024",
    ]
    assert [g["error"] for g in got[8:]] == ["PERIOD_INVALID", "PERIOD_INVALID"]


def test_status_vocabulary():
    """The bank's words map to four outcomes (a return of money paid is not a plain failure: the rules
    cancel the success it follows); anything else is not guessed."""
    got = parse(status_expr, ["支付成功", "交易失败", "退票", "已退款", "已停发", "处理中", None])
    assert [g["value"] for g in got] == ["success", "failure", "returned", "returned", "stopped", None, None]
    assert [g["error"] for g in got] == [None] * 5 + ["STATUS_UNKNOWN", "STATUS_MISSING"]


def test_cards_and_names():
    """Spaces/dashes stripped; a Luhn failure warns (passbooks); scientific notation is lost digits."""
    cards = parse(card_expr, ["6228 4800 0000 0000 018", "6228-4800-0000-0000-019", "6.22848E+18"])
    assert cards[0]["value"] == "6228480000000000018" and cards[0]["warning"] is None
    assert cards[1]["warning"] == "CARD_LUHN"
    assert cards[2]["error"] == "CARD_INVALID"
    names = parse(name_expr, [" 张 三 ", "王?", "李\ue000", ""])
    assert [n["value"] for n in names[:2]] == ["张三", "王?"]
    assert [n["warning"] for n in names[:3]] == [None, "NAME_RARE_CHAR", "NAME_RARE_CHAR"]
    assert names[3]["error"] == "NAME_MISSING"


def table(kind: str, rows: dict[str, list], headers: dict[str, str], **hints) -> RawTable:
    frame = pl.DataFrame(
        {"source_row": list(range(3, 3 + len(next(iter(rows.values()))))), **rows},
        schema_overrides={"source_row": pl.Int32, **dict.fromkeys(rows, pl.String)},
    )
    return RawTable(path=Path("t.xlsx"), sheet="Sheet1", kind=kind, frame=frame, headers=headers, **hints)


def test_roster_due_dates_standard_amount_and_rejects():
    """Row 3: monthly DIBAO → due on pay_day 10 of March. Row 4: CHILD without amount → its 1350
    standard. Row 5: once NONGJI, due approval + 30 days, period = approval month. Row 6: once
    program without approval date → DUE_DATE_UNKNOWN. Row 7: unknown program. Row 8: own 应发日期 wins."""
    t = table(
        "roster",
        {
            "name": ["甲", "乙", "丙", "丁", "戊", "己"],
            "id_number": [VALID_ID, VALID_ID_2, VALID_ID, VALID_ID_2, VALID_ID, VALID_ID_2],
            "program": ["低保", "事实无人抚养儿童补贴", "农机补贴", "农机补贴", "不存在的补贴", "低保"],
            "period": ["2024年3月", "2024年3月", None, None, "2024年3月", "2024年4月"],
            "amount": ["1350", None, "200", "200", "1", "1350"],
            "approval_date": [None, None, "2024-03-20", None, None, None],
            "due_date": [None, None, None, None, None, "2024-04-05"],
        },
        {
            "name": "姓名",
            "id_number": "身份证号码",
            "program": "补贴项目",
            "period": "发放期间",
            "amount": "应发金额",
            "approval_date": "批准日期",
            "due_date": "应发日期",
        },
    )
    n = normalise(t, PROGRAMS)
    assert n.loaded.columns == list(kind_spec("roster").loaded_columns)
    loaded = {r["source_row"]: r for r in n.loaded.to_dicts()}
    assert set(loaded) == {3, 4, 5, 8}
    assert loaded[3]["due_date"] == dt.date(2024, 3, 10) and loaded[3]["program_code"] == "DIBAO"
    assert loaded[4]["amount_due"] == Decimal("1350.00") and loaded[4]["program_code"] == "CHILD"
    assert (loaded[5]["period"], loaded[5]["due_date"]) == ("2024-03", dt.date(2024, 4, 19))
    assert loaded[8]["due_date"] == dt.date(2024, 4, 5)
    rejects = {(r["row"], r["reason_code"]): r for r in n.rejects.to_dicts()}
    assert set(rejects) == {(6, "DUE_DATE_UNKNOWN"), (7, "PROGRAM_UNKNOWN")}
    assert rejects[(7, "PROGRAM_UNKNOWN")]["column"] == "补贴项目"
    assert rejects[(7, "PROGRAM_UNKNOWN")]["reason"] == "补贴项目名称不在项目清单（programs.yaml）中"
    assert n.rows_read == 6


def test_payments_status_and_dates():
    """A failed row needs its date (re-issue deadline); a stopped one does not; an unknown status is rejected."""
    t = table(
        "payments",
        {
            "id_number": [VALID_ID] * 4,
            "amount": ["1350"] * 4,
            "status": ["成功", "失败", "已停发", "处理中"],
            "pay_date": ["2024-03-10", None, None, "2024-03-10"],
        },
        {"id_number": "身份证号码", "amount": "实发金额", "status": "发放状态", "pay_date": "发放日期"},
        program_hint="DIBAO",
        period_hint="2024-03",
    )
    n = normalise(t, PROGRAMS)
    assert n.loaded["source_row"].to_list() == [3, 5]
    assert n.loaded["status"].to_list() == ["success", "stopped"]
    assert sorted(zip(n.rejects["row"], n.rejects["reason_code"])) == [
        (4, "PAY_DATE_MISSING"),
        (6, "STATUS_UNKNOWN"),
    ]


def test_payments_without_status_column_are_rejected():
    """No status column: a row is never assumed paid."""
    t = table(
        "payments",
        {"id_number": [VALID_ID], "amount": ["1350"], "pay_date": ["2024-03-10"]},
        {"id_number": "身份证号码", "amount": "实发金额", "pay_date": "发放日期"},
        program_hint="DIBAO",
        period_hint="2024-03",
    )
    n = normalise(t, PROGRAMS)
    assert n.loaded.height == 0 and n.rejects["reason_code"].to_list() == ["STATUS_MISSING"]


def test_warnings_stay_on_loaded_row_and_values_are_masked_in_rejects():
    """A rare-character name and a Luhn-failing card load with warnings; a bad ID is shown masked."""
    t = table(
        "roster",
        {
            "name": ["王?", "李四"],
            "id_number": [VALID_ID, "360426199101010072"],
            "card_number": ["6228480000000000019", None],
            "amount": ["1350", "1350"],
        },
        {"name": "姓名", "id_number": "身份证号码", "card_number": "银行卡号", "amount": "应发金额"},
        program_hint="DIBAO",
        period_hint="2024-03",
    )
    n = normalise(t, PROGRAMS)
    assert set(n.loaded["warnings"].item().split("; ")) == {"NAME_RARE_CHAR", "CARD_LUHN"}
    [reject] = n.rejects.to_dicts()
    assert reject["reason_code"] == "ID_CHECKSUM" and "360426199101010072" not in reject["value_masked"]


@pytest.mark.parametrize("kind", ["deaths", "public_employees"])
def test_reference_lists(kind):
    """Reference lists need only a valid ID (and a death date for deaths); a missing death date is rejected."""
    rows = {"name": ["甲", "乙"], "id_number": [VALID_ID, VALID_ID_2]}
    headers = {"name": "姓名", "id_number": "身份证号码"}
    if kind == "deaths":
        rows["death_date"] = ["2024-01-15", None]
        headers["death_date"] = "死亡日期"
    n = normalise(table(kind, rows, headers), PROGRAMS)
    assert n.loaded.columns == list(kind_spec(kind).loaded_columns)
    assert n.loaded.height == (1 if kind == "deaths" else 2)
    if kind == "deaths":
        assert n.rejects["reason_code"].to_list() == ["DEATH_DATE_MISSING"]


# -- parsing once per distinct text ------------------------------------------------------------------

DAMAGED_CELLS = {
    "id_number": [
        VALID_ID,
        " 11010519491231002x",
        "１１０１０５１９４９１２３１００２Ｘ",
        "360426199101010072",
        "5.10723E+17",
        "110105491231002",
        None,
        "",
        "abc",
    ],
    "name": ["甲", " 乙 丙", "张?", None, "\u200b", "王五", "赵六", "钱七", "孙八"],
    "death_date": [
        "2024-01-15",
        "2024/1/5",
        "45361",
        "2024-02-30",
        None,
        "2024年3月1日",
        "20240301",
        "x",
        " ",
    ],
}


def test_repeated_cells_parse_exactly_as_each_cell_on_its_own():
    """The same nine damaged cells per column, first each once (parsed row by row) and then each
    four times over (parsed once per distinct text and gathered back): every row gets the same
    value, reason code and warning as its cell parsed on its own."""
    headers = {"id_number": "身份证号码", "name": "姓名", "death_date": "死亡日期"}
    once = parse_table(table("deaths", DAMAGED_CELLS, headers), PROGRAMS)
    repeated = parse_table(table("deaths", {c: v * 4 for c, v in DAMAGED_CELLS.items()}, headers), PROGRAMS)
    columns = [
        "id_number",
        "_err_id_number",
        "_warn_id_number",
        "name",
        "_err_name",
        "_warn_name",
        "death_date",
        "_err_death_date",
    ]
    assert repeated.select(columns).to_dicts() == once.select(columns).to_dicts() * 4
    expected_ids = [r["value"] for r in parse(lambda c: id_number_expr(c), DAMAGED_CELLS["id_number"])]
    assert once["id_number"].to_list() == expected_ids


def test_whitespace_table_is_what_polars_calls_whitespace():
    """halfwidth_expr deletes spaces with a fixed character table; it must be exactly the set
    polars' `\\s` matches (and strip_chars strips), or a cell would keep a stray space."""
    every_char = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000], dtype=pl.String)
    assert set(every_char.filter(every_char.str.contains(r"^\s$")).to_list()) == set(WHITESPACE)
    assert set(every_char.filter(every_char.str.strip_chars() == "").to_list()) == set(WHITESPACE)


def test_written_total_counts_rows_rejected_for_other_reasons():
    """Three written amounts (100.10, 200.20 and 'abc'); the 200.20 row has a bad ID and is rejected,
    but the 合计 row adds up what is written: the detail total is 300.30."""
    t = table(
        "roster",
        {
            "name": ["甲", "乙", "丙"],
            "id_number": [VALID_ID, "360426199101010072", VALID_ID_2],
            "amount": ["100.10", "200.20", "abc"],
        },
        {"name": "姓名", "id_number": "身份证号码", "amount": "应发金额"},
        program_hint="DIBAO",
        period_hint="2024-03",
    )
    n = normalise(t, PROGRAMS)
    assert n.detail_total == Decimal("300.30")
    assert n.loaded.height == 1
