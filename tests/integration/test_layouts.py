"""Reading by meaning (issue 13, items 1–3): person columns whatever their role's header, roles by content,
marked IDs, bank statuses in long texts, programs by a part of their name, and the layout alarm that
rejects a file misread as a whole — on real files, in the night (a real DuckDB) and in `ykt check`."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.support.layouts import (
    ROWS,
    bank_detail_csv,
    person_id,
    person_layout_corpus,
    roster_with_columns,
    township_roster,
)
from ykt.check import check_files
from ykt.config import load_programs
from ykt.errors import InputFileError
from ykt.ingest import ingest_inbox
from ykt.ingest.normalise import normalise
from ykt.ingest.read.tables import load_aliases, read_tables
from ykt.warehouse.connection import Warehouse

PROGRAMS = load_programs()
ALIASES = load_aliases()
MAPPED = ("name", "id_number", "head_name", "head_id", "payee_name")

# {(name header, ID header): the header each person role is read from}; a payee column, when present,
# is always payee_name and changes nothing else. One person named per row: that person is the
# beneficiary, whatever the role of its header; a header saying 户主 keeps its household role too.
EXPECTED = {
    ("享受人", "身份证号码"): {"name": "享受人", "id_number": "身份证号码"},
    ("享受人", "户主身份证号"): {"name": "享受人", "id_number": "户主身份证号", "head_id": "户主身份证号"},
    ("享受人", "享受人身份证号"): {"name": "享受人", "id_number": "享受人身份证号"},
    ("姓名", "身份证号码"): {"name": "姓名", "id_number": "身份证号码"},
    ("姓名", "户主身份证号"): {"name": "姓名", "id_number": "户主身份证号", "head_id": "户主身份证号"},
    ("姓名", "享受人身份证号"): {"name": "姓名", "id_number": "享受人身份证号"},
    ("户主姓名", "身份证号码"): {"name": "户主姓名", "id_number": "身份证号码", "head_name": "户主姓名"},
    ("户主姓名", "户主身份证号"): {
        "name": "户主姓名",
        "id_number": "户主身份证号",
        "head_name": "户主姓名",
        "head_id": "户主身份证号",
    },
    ("户主姓名", "享受人身份证号"): {
        "name": "户主姓名",
        "id_number": "享受人身份证号",
        "head_name": "户主姓名",
    },
    ("申请人", "身份证号码"): {"name": "申请人", "id_number": "身份证号码"},
    ("申请人", "户主身份证号"): {"name": "申请人", "id_number": "户主身份证号", "head_id": "户主身份证号"},
    ("申请人", "享受人身份证号"): {"name": "申请人", "id_number": "享受人身份证号"},
}


def only_table(path: Path, kind: str = "roster"):
    [table] = read_tables(path, kind, ALIASES, PROGRAMS)
    return table


def rejection(path: Path, kind: str = "roster") -> InputFileError:
    """The error reading a file that must be rejected as a whole raises."""
    with pytest.raises(InputFileError) as raised:
        read_tables(path, kind, ALIASES, PROGRAMS)
    return raised.value


@pytest.fixture()
def wh():
    with Warehouse(":memory:") as warehouse:
        yield warehouse


# -- 1. person columns by meaning ------------------------------------------------------------------------


def test_every_person_layout_names_the_beneficiary_and_loads_every_row(tmp_path):
    """Fixture: 24 township rosters (every name header × ID header × payee or not), 25 valid rows each.
    Each maps its person headers as EXPECTED says, loads all rows, and tells the clerk what it inferred."""
    corpus = person_layout_corpus(tmp_path)
    assert len(corpus) == 24
    for layout in corpus:
        table = only_table(layout.path)
        expected = EXPECTED[(layout.name_header, layout.id_header)] | (
            {"payee_name": "收款人姓名"} if layout.payee else {}
        )
        assert {r: table.headers.get(r) for r in MAPPED} == {r: expected.get(r) for r in MAPPED}, layout
        result = normalise(table, PROGRAMS)
        assert (result.loaded.height, result.rejects.height) == (ROWS, 0), layout
        inferred = layout.name_header in ("户主姓名", "申请人")
        assert any("作为享受人姓名" in i for i in table.inferences) == inferred, layout
        assert any("作为享受人身份证号" in i for i in table.inferences) == (
            layout.id_header == "户主身份证号"
        )


def test_the_township_dibao_roster_of_the_issue_loads_and_says_why(tmp_path):
    """Fixture: the 城乡低保 roster of the issue (户主姓名 and a generic 身份证号码, no beneficiary column):
    the head is the beneficiary, said in the clerk's words with the column's place."""
    path = township_roster(tmp_path / "低保.xlsx", ["户主姓名", "身份证号码"])
    table = only_table(path)
    assert table.inferences == ("第5列“户主姓名”作为享受人姓名（表中只有一个人名列）",)
    assert normalise(table, PROGRAMS).loaded.height == ROWS


def test_a_roster_naming_head_and_member_keeps_the_member_as_beneficiary(tmp_path):
    """Fixture: a household roster naming the head (户主姓名/户主身份证号) and a member under a header no
    alias knows (成员姓名, with 成员身份证号 holding IDs): the member is the beneficiary, the head the household."""
    headers = ["户主姓名", "户主身份证号", "成员姓名", "成员身份证号"]
    path = roster_with_columns(
        tmp_path / "低保.xlsx",
        [*headers, "保障金额"],
        lambda i: ["户主", person_id(1000 + i), f"成员{i}", person_id(i), "650"],
    )
    table = only_table(path)
    assert {r: table.headers.get(r) for r in MAPPED} == {
        "name": "成员姓名",
        "id_number": "成员身份证号",
        "head_name": "户主姓名",
        "head_id": "户主身份证号",
        "payee_name": None,
    }
    assert "第4列“成员身份证号”按内容判断为身份证号" in table.inferences


def test_two_unroled_person_columns_and_no_beneficiary_are_rejected_with_both_named(tmp_path):
    """Fixture: 申请人 and 救助人员姓名 beside an ID column: either could be the beneficiary."""
    path = roster_with_columns(
        tmp_path / "低保.xlsx",
        ["申请人", "救助人员姓名", "身份证号码", "保障金额"],
        lambda i: [f"甲{i}", f"乙{i}", person_id(i), "650"],
    )
    error = rejection(path)
    assert error.reason_code == "FILE_COLUMNS_AMBIGUOUS"
    assert "第1列“申请人”、第2列“救助人员姓名”都可能是享受人姓名列" in error.message


# -- 2. roles and values by meaning and content -----------------------------------------------------------


def test_an_id_column_under_an_unknown_header_is_found_by_its_content(tmp_path):
    """Fixture: the ID column's header is 公民号 (no alias); its cells are valid IDs."""
    path = roster_with_columns(
        tmp_path / "低保.xlsx", ["姓名", "公民号", "保障金额"], lambda i: [f"村民{i}", person_id(i), "650"]
    )
    table = only_table(path)
    assert table.headers["id_number"] == "公民号"
    assert table.inferences == ("第2列“公民号”按内容判断为身份证号",)
    assert normalise(table, PROGRAMS).loaded.height == ROWS


def test_two_id_like_columns_without_a_header_to_decide_are_rejected_naming_both(tmp_path):
    """Fixture: two unknown headers (编号甲, 编号乙) over valid IDs and no ID header: never guessed between."""
    path = roster_with_columns(
        tmp_path / "低保.xlsx",
        ["姓名", "编号甲", "编号乙", "保障金额"],
        lambda i: [f"村民{i}", person_id(i), person_id(500 + i), "650"],
    )
    error = rejection(path)
    assert error.reason_code == "FILE_COLUMNS_AMBIGUOUS"
    assert "第2列“编号甲”、第3列“编号乙”都可能是身份证号列" in error.message


def test_an_id_header_decides_between_id_like_columns(tmp_path):
    """Fixture: 身份证号码 and an unknown header (编号) both over valid IDs: the header decides, nothing inferred."""
    path = roster_with_columns(
        tmp_path / "低保.xlsx",
        ["姓名", "编号", "身份证号码", "保障金额"],
        lambda i: [f"村民{i}", person_id(500 + i), person_id(i), "650"],
    )
    table = only_table(path)
    assert (table.headers["id_number"], table.inferences) == ("身份证号码", ())


def test_headers_with_bracketed_notes_are_matched_without_them(tmp_path):
    """Fixture: 姓名【必填】, 身份证号码（18位）, 金额（保留两位小数）: notes a template adds to its headers."""
    path = roster_with_columns(
        tmp_path / "低保.xlsx",
        ["姓名【必填】", "身份证号码（18位）", "金额（保留两位小数）"],
        lambda i: [f"村民{i}", person_id(i), "650"],
    )
    table = only_table(path)
    assert (table.headers["name"], table.headers["amount"]) == ("姓名【必填】", "金额（保留两位小数）")
    assert normalise(table, PROGRAMS).loaded.height == ROWS


def test_ids_carrying_the_marks_that_keep_them_text_are_read_as_ids(tmp_path):
    """Fixture: a CSV whose IDs carry a leading apostrophe, an Excel text formula (="…") or tabs."""
    marks = ("'{}", '"=""{}"""', "\t{}", "{}\t", "\t{}\t")
    rows = [[f"村民{i}", marks[i % len(marks)].format(person_id(i)), "650"] for i in range(1, 11)]
    path = bank_detail_csv(
        tmp_path / "城乡低保_2024年3月_花名册.csv", ["姓名", "身份证号码", "保障金额"], rows
    )
    result = normalise(only_table(path), PROGRAMS)
    assert result.rejects.height == 0
    assert result.loaded["id_number"].to_list() == [person_id(i) for i in range(1, 11)]


def test_a_bank_status_is_read_by_its_words_and_a_date_column_by_its_content(tmp_path):
    """Fixture: a bank file whose status texts are not in the vocabulary (交易成功（已入账）, 退款成功 — the
    money came back: returned —, 账户冻结交易失败) and whose date column's header is 记账日 (no alias)."""
    statuses = ("交易成功（已入账）", "退款成功", "账户冻结交易失败")
    rows = [[f"村民{i}", person_id(i), "650.00", statuses[i % 3], f"2024-03-{i:02d}"] for i in range(1, 10)]
    path = bank_detail_csv(
        tmp_path / "城乡低保_2024年3月_代发明细.csv",
        ["户名", "身份证号码", "交易金额", "交易状态", "记账日"],
        rows,
    )
    table = only_table(path, "payments")
    result = normalise(table, PROGRAMS)
    assert result.rejects.height == 0
    assert result.loaded["status"].to_list() == [
        ["success", "returned", "failure"][i % 3] for i in range(1, 10)
    ]
    assert "第5列“记账日”按内容判断为发放日期" in table.inferences
    assert "交易状态“交易成功(已入账)”按含义判断为成功" in result.inferences
    assert "交易状态“退款成功”按含义判断为退回（已退款）" in result.inferences


def test_a_program_is_recognised_by_a_distinctive_part_of_its_name(tmp_path):
    """Fixture: a title naming 无人抚养儿童生活费 (no spelling of the CHILD program, but a part only it has)."""
    path = township_roster(
        tmp_path / "花名册.xlsx", ["姓名", "身份证号码"], title="安和县2024年3月无人抚养儿童生活费发放花名册"
    )
    table = only_table(path)
    assert table.program_hint == "CHILD"
    assert any("按此判断补贴项目为事实无人抚养儿童基本生活补贴" in i for i in table.inferences)


def test_a_title_carrying_parts_of_two_programs_is_rejected_naming_both(tmp_path):
    """Fixture: a title naming 农机 and 耕地 (parts of two programs' names, no full spelling)."""
    path = township_roster(
        tmp_path / "花名册.xlsx", ["姓名", "身份证号码"], title="安和县2024年农机耕地补助花名册"
    )
    error = rejection(path)
    assert error.reason_code == "FILE_PROGRAM_AMBIGUOUS"
    assert "农机购置补贴" in error.message and "耕地地力保护补贴" in error.message


# -- 3. the layout alarm -------------------------------------------------------------------------------


def misread_roster(directory: Path, rows: int = ROWS) -> Path:
    """A roster whose person column's header (低保对象) says nothing of a person: no beneficiary column."""
    return roster_with_columns(
        directory / "roster" / "城乡低保_2024年3月.xlsx",
        ["低保对象", "身份证号码", "保障金额"],
        lambda i: [f"村民{i}", person_id(i), "650"],
        rows,
    )


def test_a_file_misread_as_a_whole_is_rejected_as_a_whole_in_the_night(wh, tmp_path):
    """Fixture: the misread roster, 25 rows, every row 姓名为空: one FILE_LAYOUT_SUSPECT reject row,
    the file's reason code in run_files, and a message naming the header row, roles and the failure."""
    misread_roster(tmp_path / "inbox")
    [result] = ingest_inbox(wh, tmp_path / "inbox", PROGRAMS, ALIASES, "r1", tmp_path / "archive")
    assert (result.status, result.reason_code, result.rows_rejected) == (
        "rejected",
        "FILE_LAYOUT_SUSPECT",
        ROWS,
    )
    assert "第2行表头：身份证号码→身份证号、保障金额→金额；缺少享受人姓名列" in (result.reason or "")
    assert f"{ROWS}行中{ROWS}行“姓名为空”" in (result.reason or "")
    assert wh.rows("t", 'select reason_code, "row" from rejects') == [("FILE_LAYOUT_SUSPECT", None)]
    assert wh.rows("t", "select count(*) from entitlements") == [(0,)]
    assert wh.rows("t", "select reason_code from run_files") == [("FILE_LAYOUT_SUSPECT",)]


def test_ykt_check_says_the_same_and_exits_3(tmp_path, capsys):
    """Fixture: the misread roster checked by a clerk: the printed line and the copy's summary sheet
    carry the alarm; the command exits 3."""
    import openpyxl

    from ykt.check.annotate import result_path
    from ykt.cli import main

    path = misread_roster(tmp_path)
    assert main(["check", str(path)]) == 3
    out = capsys.readouterr().out
    assert "✗ 城乡低保_2024年3月.xlsx：整个文件无法使用" in out and "缺少享受人姓名列" in out
    summary = openpyxl.load_workbook(result_path(path))["检查汇总"]
    texts = [str(c.value) for row in summary.iter_rows() for c in row if c.value]
    assert any("第2行表头" in t and "25行中25行" in t for t in texts)


def test_the_alarm_thresholds_share_and_rows(tmp_path):
    """Fixtures: a 25-row roster with 12 bad amounts (under half), the misread roster cut to 19 rows (under
    layout_alarm_min_rows): both checked row by row; the misread roster at exactly 20 rows: rejected whole."""
    good = roster_with_columns(
        tmp_path / "a" / "城乡低保_2024年3月.xlsx",
        ["姓名", "身份证号码", "保障金额"],
        lambda i: [f"村民{i}", person_id(i), "650" if i > 12 else "见附表"],
    )
    small, enough = misread_roster(tmp_path / "b", rows=19), misread_roster(tmp_path / "c", rows=20)
    mostly_good, few, alarmed = check_files([good, small, enough], PROGRAMS, ALIASES, kind="roster")
    assert (mostly_good.file_error, mostly_good.rows_rejected) == (None, 12)
    assert (few.file_error, few.rows_rejected) == (None, 19)
    assert "20行中20行“姓名为空”" in (alarmed.file_error or "")


def test_run_json_files_carry_reason_code_and_inferences(wh, tmp_path):
    """Fixture: one roster loaded with an inference (户主姓名 as beneficiary) and the misread roster:
    run.json's file lines carry `reason_code` (null when loaded) and `inferences`."""
    import datetime as dt

    from ykt.report.model import build_report
    from ykt.report.render_json import render_run_json

    inbox = tmp_path / "inbox"
    misread_roster(inbox)
    township_roster(inbox / "roster" / "城乡低保_2024年4月.xlsx", ["户主姓名", "身份证号码"])
    ingest_inbox(wh, inbox, PROGRAMS, ALIASES, "r1", tmp_path / "archive")
    now = dt.datetime(2024, 4, 20, 1)
    report = build_report(
        wh,
        "r1",
        now.date(),
        PROGRAMS,
        rule_titles={},
        rule_counts={},
        case_counts=None,
        started_at=now,
        finished_at=now,
    )
    files = {f["name"]: f for f in json.loads(render_run_json(report))["files"]}
    loaded, rejected = files["城乡低保_2024年4月.xlsx"], files["城乡低保_2024年3月.xlsx"]
    assert (loaded["reason_code"], loaded["inferences"]) == (
        None,
        ["第5列“户主姓名”作为享受人姓名（表中只有一个人名列）"],
    )
    assert (rejected["reason_code"], rejected["inferences"]) == ("FILE_LAYOUT_SUSPECT", [])
    assert pl.DataFrame(report.rejects).filter(pl.col("reason_code") == "FILE_LAYOUT_SUSPECT").height == 1
