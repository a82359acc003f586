"""Rendering the night's outputs: golden snapshots of the machine-read files, the inspectors'
workbook read back with openpyxl, atomic writes.

Golden files live in tests/golden/; after an intended change regenerate them with
`YKT_REGENERATE_GOLDEN=1 pytest tests/integration/test_rendering.py` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from tests.support.report_fixture import FULL_ID, RULE_TITLES, fixture_report, fixture_warehouse, text_cells
from ykt.cases import CASE_FIELDS
from ykt.errors import ConfigError
from ykt.report.layout import default_layout, default_layout_path, load_layout
from ykt.report.model import DISCREPANCIES_CSV_COLUMNS
from ykt.report.render_xlsx import _sheet_name
from ykt.report.write import OUTPUT_NAMES, write_atomically, write_outputs

GOLDEN = Path(__file__).parents[1] / "golden"
REGENERATE = os.environ.get("YKT_REGENERATE_GOLDEN") == "1"
BOM = "\ufeff".encode()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """The fixture night rendered once, with real clock times (normalised before comparing)."""
    report = fixture_report(started_at=dt.datetime.now(), finished_at=dt.datetime.now())
    return write_outputs(report, tmp_path_factory.mktemp("out"))


def normalised_run_json(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["started"] = data["finished"] = "<normalised>"
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def compare_golden(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if REGENERATE:
        golden.write_text(actual, encoding="utf-8", newline="")
    expected = golden.read_text(encoding="utf-8")
    if name.endswith(".csv"):  # datacompy-style: a column-wise diff first, then the bytes
        assert_frame_equal(_csv_frame(actual), _csv_frame(expected))
    elif name.endswith(".jsonl"):
        assert [json.loads(line) for line in actual.splitlines()] == [
            json.loads(line) for line in expected.splitlines()
        ]
    assert actual == expected


def _csv_frame(text: str) -> pl.DataFrame:
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


@pytest.mark.parametrize("name", ["discrepancies.csv", "cases.jsonl", "clues.jsonl", "rejects.csv"])
def test_machine_read_outputs_match_golden(outputs, name):
    """The fixture night's files are exactly the reviewed snapshots (other systems parse them)."""
    compare_golden(name, outputs[name].read_text(encoding="utf-8"))


def test_run_json_matches_golden(outputs):
    """run.json with clock times normalised is exactly the reviewed snapshot."""
    compare_golden("run.json", normalised_run_json(outputs["run.json"]))


def test_every_output_is_written_and_no_temporary_file_is_left(outputs):
    """All eight outputs exist in the folder and nothing else (temporary files were renamed away)."""
    folder = outputs["run.json"].parent
    assert sorted(outputs) == sorted(OUTPUT_NAMES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_NAMES)


def test_csv_files_open_in_excel(outputs):
    """UTF-8 with BOM and the contract's header, in order (group, not group_name)."""
    raw = outputs["discrepancies.csv"].read_bytes()
    assert raw.startswith(BOM)
    assert raw[len(BOM) :].decode("utf-8").splitlines()[0] == ",".join(DISCREPANCIES_CSV_COLUMNS)
    assert outputs["rejects.csv"].read_bytes().startswith(BOM)


def test_jsonl_objects_have_the_contract_keys_and_numeric_amounts(outputs):
    """Each line: the contract's keys in order, Chinese not escaped, amount a number with 2 decimals."""
    text = outputs["cases.jsonl"].read_text(encoding="utf-8")
    objects = [json.loads(line) for line in text.splitlines()]
    assert all(list(o) == list(CASE_FIELDS) for o in objects)
    assert "\\u" not in text and "凤灵街道" in text
    batch = next(o for o in objects if o["rule"] == "BATCH_STALLED")
    assert isinstance(batch["amount"], float) and '"amount":171520.00' in text


def test_rerunning_the_same_night_gives_byte_identical_case_files(tmp_path):
    """Two renders of the same warehouse at different clock times: cases.jsonl and clues.jsonl are identical."""
    wh = fixture_warehouse()
    first = write_outputs(fixture_report(wh, started_at=dt.datetime(2024, 4, 20, 1)), tmp_path / "a")
    second = write_outputs(fixture_report(wh, started_at=dt.datetime(2024, 4, 21, 2)), tmp_path / "b")
    for name in ("cases.jsonl", "clues.jsonl", "discrepancies.csv", "rejects.csv"):
        assert first[name].read_bytes() == second[name].read_bytes(), name


# -- exceptions.xlsx -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(outputs) -> openpyxl.Workbook:
    return openpyxl.load_workbook(outputs["exceptions.xlsx"])


@pytest.fixture(scope="module")
def clue_book(outputs) -> openpyxl.Workbook:
    return openpyxl.load_workbook(outputs["clues.xlsx"])


def test_workbook_has_overview_priorities_then_rule_sheets_then_cases(workbook, clue_book):
    """概览, 待办 and 数据覆盖 lead; then the complaint and record rules with findings in registry order
    (MISSING, FAILED_NOT_REISSUED, PAID_LATE, BATCH_STALLED), Chinese names; the batch's villagers; cases;
    the night's accounting and the trend. Clues (DUPLICATE) are in clues.xlsx only."""
    assert workbook.sheetnames == [
        "概览",
        "待办",
        "数据覆盖",
        "应发未发",
        "发放失败未重发",
        "发放不及时",
        "整批未发放",
        "整批未发放名单",
        "案件",
        "文件与质量",
        "趋势数据",
    ]
    assert clue_book.sheetnames == ["线索", "重复发放"]


def test_rule_sheets_have_headers_frozen_row_filters_and_all_findings(workbook):
    """Each rule sheet: Chinese header row frozen, a filter over every row, one row per finding."""
    expected_rows = {"应发未发": 2, "发放失败未重发": 1, "发放不及时": 1, "整批未发放": 1}
    for title, n in expected_rows.items():
        ws = workbook[title]
        header = [c.value for c in ws[1]]
        assert header[:4] == ["案件编号", "补贴项目", "期间", "身份证号码"]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{n + 1}"
        assert ws.max_row == n + 1


def test_rule_sheet_values_are_masked_and_typed(workbook):
    """张三's MISSING row: masked ID and card, amount a number with a money format, due date a real date."""
    ws = workbook["应发未发"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2]))
    assert row["身份证号码"].value == "510723********0015"
    assert row["卡号/账号"].value == "6217 **** **** 1234"
    assert row["应发金额"].value == 1350 and row["应发金额"].number_format == "#,##0.00"
    assert row["应发日期"].value == dt.datetime(2024, 4, 10) and row["应发日期"].number_format == "yyyy-mm-dd"
    assert row["实发金额"].value is None  # not paid: an empty cell, not 0


def test_no_full_identifier_anywhere_in_the_workbooks(workbook, clue_book, outputs):
    """Inspectors read masked values only: no cell of either workbook, nor report.html, holds the
    fixture's full IDs or cards."""
    secrets = set(text_cells(fixture_report().discrepancies.select("id_number", "card_number")))
    html = outputs["report.html"].read_text(encoding="utf-8")
    assert not FULL_ID.search(html) and not any(s in html for s in secrets)
    for ws in [*workbook.worksheets, *clue_book.worksheets]:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert not FULL_ID.search(value) and not any(s in value for s in secrets), (
                        ws.title,
                        value,
                    )


def test_case_sheets_show_status_in_chinese(workbook, clue_book):
    """案件 lists the four complaint cases with Chinese statuses; clues.xlsx's 线索 the one clue."""
    cases = workbook["案件"]
    header = [c.value for c in cases[1]]
    statuses = [r[header.index("状态")] for r in cases.iter_rows(min_row=2, values_only=True)]
    assert statuses == ["办理中", "已督办", "已办结", "办理中"]
    assert [r[0] for r in clue_book["线索"].iter_rows(min_row=2, values_only=True)] == [
        "YKT-00000000000000C5"
    ]


def test_summary_sheet_accounts_for_files_rules_cases_and_departments(workbook):
    """文件与质量: the as-of date, row totals (11 read = 10 loaded + 1 rejected), every rule title with its
    count, tonight's case events and a KPI line per department."""
    rows = [tuple(v for v in r if v is not None) for r in workbook["文件与质量"].iter_rows(values_only=True)]
    assert ("核对基准日", "2024-04-20") in rows
    assert ("合计（4 个文件）", 11, 10, 1) in rows
    for code, title in RULE_TITLES.items():
        assert any(r[:2] == (code, title) for r in rows), code
    assert ("本次新立案", 3) in rows and ("本次办结", 1) in rows
    assert any(r and r[0] == "江口街道办事处" for r in rows)


def test_text_is_escaped_and_control_characters_dropped(tmp_path):
    """A detail with XML specials and a control character still gives a valid workbook with the text intact."""
    wh = fixture_warehouse()
    wh.execute(
        "odd detail", "update findings set detail = 'A<B & C>D' || chr(7) || '尾' where rule = 'PAID_LATE'"
    )
    path = write_outputs(fixture_report(wh), tmp_path)["exceptions.xlsx"]
    ws = openpyxl.load_workbook(path)["发放不及时"]
    assert ws.cell(2, 15).value == "A<B & C>D尾"


def test_large_sheets_keep_every_row(tmp_path):
    """3,000 generated findings over two rules: every one is a row of its sheet, in order, filter covering all."""
    wh = fixture_warehouse()
    wh.execute(
        "many",
        """
        insert into findings (as_of, rule, route, case_id, program_code, period, id_number, name, card_number,
                              amount_due, amount_paid, due_date, days_overdue, detail)
        select date '2024-04-20', case when i % 3 = 0 then 'UNDERPAID' else 'OVERPAID' end, 'complaint',
               'YKT-X' || lpad(i::varchar, 15, '0'), 'DIBAO', '2024-04', '510723' || lpad(i::varchar, 12, '0'),
               '对象' || i, '6217' || lpad(i::varchar, 12, '0'), 1350.00, 1000.00 + i, date '2024-04-10', i, '第' || i || '条'
        from range(3000) t(i)""",
    )
    workbook = openpyxl.load_workbook(write_outputs(fixture_report(wh), tmp_path)["exceptions.xlsx"])
    for title, n in (("不足额发放", 1000), ("超标准发放", 2000)):
        ws = workbook[title]
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert len(rows) == n
        assert ws.auto_filter.ref == f"A1:O{n + 1}"
        assert len({r[3] for r in rows}) == n and all(r[3].count("*") == 8 for r in rows)


def test_sheet_names_are_valid_and_unique():
    """Excel forbids []:*?/\\ and more than 31 characters; two long titles that share a prefix stay distinct."""
    used = {"汇总", "案件", "线索"}
    long = "超长的规则标题" * 6
    names = [
        _sheet_name("金额/异常[统计]?", used, "规则"),
        _sheet_name(long, used, "规则"),
        _sheet_name(long, used, "规则"),
        _sheet_name("案件", used, "规则"),
    ]
    assert names[0] == "金额_异常_统计__"
    assert all(len(n) <= 31 for n in names) and len(set(names)) == 4


def test_a_failed_write_leaves_the_previous_file_untouched(tmp_path):
    """If rendering fails half-way, the reader still sees last night's complete file and no temporary file."""
    target = tmp_path / "run.json"
    target.write_text("last night", encoding="utf-8")

    def half_then_fail(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "last night"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_quality_summary_reaches_run_json_and_the_summary_sheet(tmp_path):
    """A night whose payments suite failed one check: run.json carries it and 文件与质量 quotes the Chinese text."""
    from ykt.quality.suite import KindValidation, QualityFailure, QualitySummary

    failure = QualityFailure(
        kind="payments",
        expectation="expect_column_values_to_be_in_set",
        column="status",
        unexpected=2,
        description="代发明细：发放失败的笔数不应超过 20%，2 行不符合，如 bank.csv 第4行",
    )
    quality = QualitySummary(
        validations=(KindValidation("payments", 1, 5, 10, 1, False),),
        failures=(failure,),
        docs=tmp_path / "data_docs" / "index.html",
        seconds={"import": 6.0},
    )
    outputs = write_outputs(fixture_report(quality=quality), tmp_path)
    run = json.loads(outputs["run.json"].read_text(encoding="utf-8"))
    assert run["quality"]["success"] is False and run["quality"]["docs"] == "data_docs/index.html"
    rows = [
        tuple(v for v in r if v is not None)
        for r in openpyxl.load_workbook(outputs["exceptions.xlsx"])["文件与质量"].iter_rows(values_only=True)
    ]
    assert ("代发明细", 1, 5, 10, 1, "未通过") in rows
    assert ("未通过：", failure.description) in rows
    assert ("详细报告", "data_docs/index.html") in rows


# -- the workbook's layout (reports/exceptions.yaml) -----------------------------------------------


def test_the_workbook_follows_its_layout_file(workbook):
    """Sheet order, the fixed sheets' names and the column headers come from reports/exceptions.yaml."""
    layout = default_layout()
    assert [s.content for s in layout.sheets] == [
        *("overview", "priorities", "coverage", "rules", "batch_members", "cases", "summary", "trend"),
    ]
    fixed = [s.name for s in layout.sheets if s.content != "rules"]
    assert [*workbook.sheetnames[:3], *workbook.sheetnames[-4:]] == fixed
    rules = next(s for s in layout.sheets if s.content == "rules")
    assert [c.value for c in workbook["应发未发"][1]] == [c.header for c in rules.columns]


def test_a_broken_layout_reports_every_problem_with_file_and_key(tmp_path):
    """Every mistake at once, each with the file and the key where it is (not just the first one)."""
    raw = yaml.safe_load(default_layout_path().read_text(encoding="utf-8"))
    raw["kinds"]["amount"]["width"] = -3
    raw["sheets"][3]["columns"][4]["kind"] = "money"
    raw["sheets"][5]["columns"][0]["field"] = "case_number"
    raw["sheets"][4]["name"] = "案件"
    raw["sheets"][0]["widths"][2] = "wide"
    raw["sheets"][1]["columns"][12]["wrap"] = True
    del raw["sheets"][1]["columns"][12]["width"]
    raw["styles"]["header"]["fill"] = "blue"
    raw["print"]["paper"] = "B5"
    path = tmp_path / "exceptions.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_layout(path)
    problems = {p.key: p for p in caught.value.problems}
    assert set(problems) == {
        "kinds.amount.width",
        "sheets[3].columns[4].kind",
        "sheets[5].columns[0].field",
        "sheets[5].name",
        "sheets[0].widths[2]",
        "sheets[1].columns[12].wrap",
        "styles.header.fill",
        "print.paper",
    }
    assert all(p.file == str(path) for p in problems.values())
    assert "money" in problems["sheets[3].columns[4].kind"].message
    assert "case_number" in problems["sheets[5].columns[0].field"].message
    assert "sheets[4]" in problems["sheets[5].name"].message


def test_data_coverage_sheet_lists_why_the_night_needs_attention(workbook):
    """The fixture night rejected 未知表格.xlsx as a whole and 1 of its 11 rows (over the 5% allowed): the
    数据覆盖 sheet says both, in Chinese, with the file named; 汇总 says the night needs attention."""
    rows = [[c.value for c in row] for row in workbook["数据覆盖"].iter_rows()]
    assert rows[0] == ["事项", "说明", "文件", "补贴项目", "期间", "代码"]
    assert [(r[0], r[2], r[5]) for r in rows[1:]] == [
        ("文件整份拒收", "未知表格.xlsx", "FILE_REJECTED"),
        ("拒收行比例过高", None, "REJECTS_ABOVE_SHARE"),
    ]
    summary = [[c.value for c in row] for row in workbook["文件与质量"].iter_rows(max_row=6)]
    assert ["运行状态", "需关注", "需关注的事项见“数据覆盖”工作表"] in [r[:3] for r in summary]
    overview = [[c.value for c in row] for row in workbook["概览"].iter_rows(max_row=3)]
    assert overview[1][2:5] == ["运行状态", "需关注", "需关注的事项见“数据覆盖”工作表"]


# -- golden text snapshots of every sheet, the overview's charts, report.html ---------------------


def sheet_text(ws) -> str:
    """A sheet as its reader sees it: how it prints and freezes, then every row, cells as displayed
    (amounts with separators, dates as dates), tab-separated; clock times normalised."""
    setup = ws.page_setup
    lines = [
        f"## {ws.title}",
        f"# freeze={ws.freeze_panes} filter={ws.auto_filter.ref} print={setup.orientation}/A4={str(setup.paperSize) == '9'}"
        f" fit={setup.fitToWidth}x{setup.fitToHeight} titles={ws.print_title_rows}",
    ]
    for row in ws.iter_rows():
        cells = [_displayed(c) for c in row]
        if cells and cells[0] in ("运行开始", "运行结束"):
            cells[1] = "<normalised>"
        lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines) + "\n"


def _displayed(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, float | int) and not isinstance(value, bool):
        if cell.number_format == "#,##0.00":
            return f"{value:,.2f}"
        if cell.number_format == "0.0%":
            return f"{value:.1%}"
        if cell.number_format == "0.0":
            return f"{value:.1f}"
    return str(value)


@pytest.mark.parametrize("name", ["exceptions.xlsx", "clues.xlsx"])
def test_every_sheet_matches_its_golden_text(outputs, name):
    """Every sheet of both workbooks, as displayed and with its print setup, is exactly the reviewed snapshot."""
    book = openpyxl.load_workbook(outputs[name])
    compare_golden(f"{name}.txt", "".join(sheet_text(ws) for ws in book.worksheets))


def test_overview_prints_on_one_page_with_three_native_charts(outputs, workbook):
    """概览 is fitted to one A4 landscape page; it holds three charts: findings by rule and money by township
    read its own tables, the trend reads the 30 rows of 趋势数据."""
    ws = workbook["概览"]
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight, ws.page_setup.orientation) == (
        1,
        1,
        "landscape",
    )
    with zipfile.ZipFile(outputs["exceptions.xlsx"]) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode("utf-8") for n in charts]
    assert len(charts) == 3
    assert "<barChart>" in xml[0] and "'概览'!$B$" in xml[0] and "发现问题（按规则，条）" in xml[0]
    assert "<barChart>" in xml[1] and "'概览'!$F$" in xml[1]
    assert "<lineChart>" in xml[2] and "'趋势数据'!$B$2:$B$31" in xml[2] and "'趋势数据'!$C$2:$C$31" in xml[2]
    table = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["应发未发", 4, None, "江口街道", 1, 171520] in [r[:6] for r in table]


def test_priorities_sheet_lists_open_cases_in_order_with_new_or_carried(workbook):
    """待办: escalated C2 first (延续), then the batch C6 (waited 50 days) and C1 (10 days), both 新增."""
    rows = list(workbook["待办"].iter_rows(values_only=True))
    assert rows[0][:4] == ("新增/延续", "状态", "逾期天数", "涉及金额")
    assert [(r[0], r[1], r[2], r[11]) for r in rows[1:]] == [
        ("延续", "已督办", 10, "YKT-00000000000000C2"),
        ("新增", "办理中", 50, "YKT-00000000000000C6"),
        ("新增", "办理中", 10, "YKT-00000000000000C1"),
    ]


def test_report_html_is_self_contained_and_escapes_everything(tmp_path):
    """report.html loads nothing from the network, and text a clerk typed (a name with markup, a detail
    with a script) is shown as text, never run or parsed as HTML."""
    wh = fixture_warehouse()
    wh.execute(
        "hostile text",
        """
        update cases set summary = '<script>alert(1)</script>张三 & "李四"', township = '<b>凤灵</b>街道'
        where case_id = 'YKT-00000000000000C1'""",
    )
    html = write_outputs(fixture_report(wh), tmp_path)["report.html"].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "<b>凤灵</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;张三 &amp; &#34;李四&#34;" in html
    assert "&lt;b&gt;凤灵&lt;/b&gt;街道" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no network
    assert "<svg" in html and "@media print" in html and html.count("<script>") == 1  # our own, inline
