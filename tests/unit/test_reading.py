"""Reading files into RawTables: formats, layouts, totals, hints, numeric cells and errors.

The files come from tests/support/hostile.py; each case states what reading must make of it,
derived from the rows it wrote.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.support.hostile import (
    ALL_CASES,
    PEOPLE,
    Case,
    ExpectedTable,
    Sheet,
    case_deaths_register,
    case_gbk_csv,
    case_provincial_export_named,
    case_public_employees,
    case_signature_lines,
    case_utf8_csv_even_runs,
    write_csv,
    write_xlsx,
)
from ykt.config import Settings, load_programs
from ykt.errors import ConfigError, InputFileError
from ykt.ingest.read.formats.csv import csv_grids
from ykt.ingest.read.hints import periods_in, program_hint, programs_in
from ykt.ingest.read.tables import count_data_rows, detect_kind, load_aliases, normalise_header, read_tables
from ykt.reasons import FILE_REASONS


@pytest.fixture(scope="module")
def aliases():
    return load_aliases()


@pytest.fixture(scope="module")
def programs():
    return load_programs()


def _role_columns(frame: pl.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(c for c in frame.columns if c != "source_row" and not c.endswith("__numeric")))


def _assert_table(table, expected: ExpectedTable) -> None:
    frame = table.frame
    assert table.sheet == expected.sheet
    assert _role_columns(frame) == expected.roles
    assert frame.schema["source_row"] == pl.Int32
    assert all(frame.schema[r] == pl.String for r in expected.roles)
    assert tuple(frame["source_row"]) == expected.source_rows
    assert frame.select(expected.roles).rows(named=True) == list(expected.rows)
    assert table.control_total == expected.control_total
    assert table.program_hint == expected.program_hint
    assert table.period_hint == expected.period_hint
    for role in ("id_number", "head_id", "payee_id", "card_number"):
        if role in frame.columns:
            flagged = frame.filter(pl.col(f"{role}__numeric"))["source_row"].to_list()
            assert flagged == list(expected.numeric.get(role, ())), role
    for role, text in expected.headers.items():
        assert table.headers[role] == text
    assert table.positions == expected.positions


@pytest.mark.parametrize("make", ALL_CASES, ids=lambda f: f.__name__.removeprefix("case_"))
def test_hostile_file(make, tmp_path, aliases, programs):
    """Each hostile fixture (its docstring says what is hostile about it) is read into exactly the
    roles, rows, source rows, control total, hints and numeric flags it was written with, or is
    rejected as a whole with its FILE_* reason; count_data_rows agrees with the rows it holds."""
    case: Case = make(tmp_path)
    if case.error:
        with pytest.raises(InputFileError) as info:
            read_tables(case.path, case.kind, aliases, programs)
        assert info.value.reason_code == case.error
        assert case.error in FILE_REASONS
        for text in case.error_mentions:
            assert text in info.value.message
    else:
        tables = read_tables(case.path, case.kind, aliases, programs)
        assert len(tables) == len(case.tables)
        for table, expected in zip(tables, case.tables):
            _assert_table(table, expected)
            assert table.kind == case.kind
    assert count_data_rows(case.path) == case.data_rows


def test_totals_are_kept_for_comparison_not_checked_here(tmp_path, aliases, programs):
    """The wrong-合计 file still reads: its control total differs from the detail sum it was written with,
    which is what ingest reports as FILE_TOTAL_MISMATCH."""
    from tests.support.hostile import case_total_wrong

    case = case_total_wrong(tmp_path)
    (table,) = read_tables(case.path, case.kind, aliases, programs)
    detail = sum((Decimal(v.replace(",", "")) for v in table.frame["amount"]), Decimal(0))
    assert detail == case.tables[0].detail_sum
    assert table.control_total != detail


def test_utf8_is_tried_before_gb18030(tmp_path, aliases, programs):
    """The even-run UTF-8 file also decodes as GB18030 without error (to mojibake), so only trying
    UTF-8 first reads its names right."""
    case = case_utf8_csv_even_runs(tmp_path)
    raw = case.path.read_bytes()
    assert raw.decode("gb18030") != raw.decode("utf-8")  # the trap is real: GB18030 does not fail
    (table,) = read_tables(case.path, case.kind, aliases, programs)
    assert table.frame["name"].to_list() == ["王芳", "李娜", "张敏"]


def test_a_name_with_a_character_gb18030_2005_added_is_read_as_that_character(tmp_path, aliases, programs):
    """FE51 is 𠂇 (U+20087) since GB18030-2005; read as the 2000 edition's private-use code it would
    look like a rare character the bank lost (NAME_RARE_CHAR)."""
    path = tmp_path / "城乡低保_2024年3月_花名册.csv"
    rows = ["姓名,身份证号码,应发金额,乡镇（街道）\n王", ",510723195001010013,500,凤灵街道\n"]
    path.write_bytes(rows[0].encode("gb18030") + bytes.fromhex("fe51") + rows[1].encode("gb18030"))
    (table,) = read_tables(path, "roster", aliases, programs)
    assert table.frame["name"].to_list() == ["王\U00020087"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("金额（元）", "金额"),
        ("补贴金额(元/人/月)", "补贴金额"),
        ("身份证\n号码", "身份证号码"),
        ("＊姓　名", "姓名"),
        ("村（居）委会", "村(居)委会"),
        ("发放金额 单位：元", "发放金额"),
        ("ＩＤ", "ID"),
    ],
)
def test_normalise_header(text, expected):
    """Headers as people type them (full-width, units, line breaks, required-field stars) compare equal."""
    assert normalise_header(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XX县2024年3月城乡低保金发放花名册", {"2024-03"}),
        ("2024年03月", {"2024-03"}),
        ("低保_202403.xlsx", {"2024-03"}),
        ("低保 2024-3", {"2024-03"}),
        ("2024年度耕地地力保护补贴", {"2024"}),
        ("2024年耕地地力保护补贴", {"2024"}),
        ("2024年第一季度", {"2024-Q1"}),
        ("2024年3季度", {"2024-Q3"}),
        ("DIBAO_2024Q4", {"2024-Q4"}),
        ("制表日期：2024年3月15日", set()),
        ("导出_20240315", set()),
        ("导出 2024-03-15", set()),
        ("2024年1月至2024年3月", {"2024-01", "2024-03"}),
    ],
)
def test_periods_in_titles_and_file_names(text, expected):
    """Every period spelling of domain.md becomes canonical; full dates are not periods."""
    assert periods_in(text) == expected


def test_program_hint_longest_match_and_order(programs):
    """Overlapping spellings of one program count once (longest wins); the first source that names a
    program decides; two programs in that source are reported, not guessed."""
    index = programs.name_index()
    assert programs_in("2024年城乡低保金发放花名册", index) == {"DIBAO"}
    assert programs_in("农机购置补贴资金", index) == {"NONGJI"}
    assert programs_in("DIBAO_202403", index) == {"DIBAO"}
    assert programs_in("MYDIBAOX", index) == set()
    hint = program_hint(["", "Sheet1", "城乡低保_202403"], index)
    assert (hint.value, hint.source) == ("DIBAO", "城乡低保_202403")
    both = program_hint(["低保金及特困供养金", "种粮补贴"], index)
    assert both.value is None and both.found == ("DIBAO", "TEKUN")


def test_detect_kind(tmp_path, aliases):
    """`ykt check` has no folder: the kind comes from distinctive columns and title words."""
    assert detect_kind(case_gbk_csv(tmp_path).path, aliases) == "payments"
    assert detect_kind(case_provincial_export_named(tmp_path).path, aliases) == "roster"
    assert detect_kind(case_deaths_register(tmp_path).path, aliases) == "deaths"
    assert detect_kind(case_public_employees(tmp_path).path, aliases) == "public_employees"


def test_detect_kind_refuses_to_guess(tmp_path, aliases):
    """Name, ID and amount with no distinctive column or title word fit a roster and a payments
    file equally: the clerk is asked, not guessed for."""
    sheet = Sheet("Sheet1")
    sheet.line("姓名", "身份证号码", "金额")
    sheet.line(PEOPLE[0].name, PEOPLE[0].id_number, "100")
    path = write_xlsx(tmp_path / "data.xlsx", [sheet])
    with pytest.raises(InputFileError) as info:
        detect_kind(path, aliases)
    assert info.value.reason_code == "FILE_KIND_UNKNOWN"


def test_file_in_wrong_folder_says_where_it_belongs(tmp_path, aliases, programs):
    """A death register dropped into the payments folder is rejected with the folder it belongs in."""
    case = case_deaths_register(tmp_path)
    with pytest.raises(InputFileError) as info:
        read_tables(case.path, "payments", aliases, programs)
    assert info.value.reason_code == "FILE_HEADERS_UNKNOWN"
    assert "reference/deaths" in info.value.message


def test_signature_row_with_an_id_is_data(tmp_path, aliases, programs):
    """A data row whose 备注 starts like a signature label ('经办人代领') is kept: it has an ID."""
    case = case_signature_lines(tmp_path)
    (table,) = read_tables(case.path, case.kind, aliases, programs)
    assert "经办人代领" in table.frame["failure_reason"].to_list()


def test_undecodable_csv(tmp_path, aliases, programs):
    """A GBK file with a broken byte on line 2 is neither UTF-8 nor GB18030: FILE_ENCODING names the
    line, and its 3 non-blank lines are still counted."""
    path = tmp_path / "broken.csv"
    path.write_bytes("姓名,身份证号码\n".encode("gbk") + b"\xff\xfe\xff,1\n\n" + b"abc,2\n")
    with pytest.raises(InputFileError) as info:
        read_tables(path, "roster", aliases, programs)
    assert info.value.reason_code == "FILE_ENCODING"
    assert "第2行" in info.value.where
    assert count_data_rows(path) == 3


def test_a_csv_read_in_parts_keeps_quoted_newlines_and_names_a_later_parts_bad_line(tmp_path):
    """Read in blocks of 1 line after the first 2 (a block's bytes are reckoned from those lines' length,
    so a block ends inside line 4's quoted cell, which holds a newline: it must not be cut there), and
    line 9 has bytes that are no GB18030. The blocks give every line's
    cells once, in order, and the error names line 9 of the file, not of its block."""
    lines = [
        "姓名,乡镇",
        *(f"人员{i},凤灵街道" for i in range(1, 3)),
        '人员3,"凤灵\n街道"',
        *(f"人员{i},万安" for i in range(4, 7)),
    ]
    path = tmp_path / "parts.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030") + b"\xff\xfe\xff,1\n")
    seen, grids = [], csv_grids(path, batch_lines=1, first_lines=2, limits=Settings())
    with pytest.raises(InputFileError) as info:
        for grid in grids:
            seen += grid.frame.rows()
    assert seen == [
        ("姓名", "乡镇"),
        ("人员1", "凤灵街道"),
        ("人员2", "凤灵街道"),
        ("人员3", "凤灵\n街道"),
        ("人员4", "万安"),
        ("人员5", "万安"),
        ("人员6", "万安"),
    ]
    assert (info.value.reason_code, info.value.where) == ("FILE_ENCODING", "parts.csv 第9行")


def test_unreadable_files(tmp_path, aliases, programs):
    """A corrupt workbook and an unsupported file type are FILE_UNREADABLE, counted as 0 rows."""
    corrupt = tmp_path / "坏文件.xlsx"
    corrupt.write_bytes(b"this is not a zip file")
    odd = tmp_path / "data.pdf"
    odd.write_bytes(b"%PDF-1.4")
    for path in (corrupt, odd):
        with pytest.raises(InputFileError) as info:
            read_tables(path, "roster", aliases, programs)
        assert info.value.reason_code == "FILE_UNREADABLE"
        assert count_data_rows(path) == 0


def test_csv_line_wider_than_the_first_lines(tmp_path, aliases, programs):
    """A data line with more fields than the title and header lines loses nothing."""
    sheet = Sheet(None)
    sheet.line("2024年3月城乡低保金发放花名册")
    sheet.line("姓名", "身份证号码", "补贴金额")
    sheet.line(PEOPLE[0].name, PEOPLE[0].id_number, "1350", "多余的备注")
    path = write_csv(tmp_path / "wide.csv", sheet, "utf-8-sig")
    (table,) = read_tables(path, "roster", aliases, programs)
    assert table.frame.select("name", "id_number", "amount", "source_row").rows() == [
        (PEOPLE[0].name, PEOPLE[0].id_number, "1350", 3)
    ]


def _write_columns_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_yaml_errors_all_at_once(tmp_path):
    """A columns.yaml with four different mistakes reports all four, each with file and key."""
    path = _write_columns_yaml(
        tmp_path / "columns.yaml",
        """
roles:
  name: {kinds: [roster], aliases: [姓名]}
  id_number: {kinds: [roster, payments], aliases: [身份证号码]}
  beneficiary: {kinds: [roster], aliases: [享受人]}
  head_name: {kinds: [payments], aliases: [户主姓名]}
  payee_name: {kinds: [roster], aliases: [姓 名]}
kinds:
  roster: {required: [id_number]}
  payments: {required: [id_number, amount]}
  deaths: {required: [id_number]}
  public_employees: {required: [id_number]}
rows:
  totals: [[合计]]
  signatures: [制表人]
""",
    )
    with pytest.raises(ConfigError) as info:
        load_aliases(path)
    keys = {p.key for p in info.value.problems}
    assert {
        "roles.beneficiary",
        "roles.head_name.kinds",
        "roles.payee_name.aliases",
        "kinds.payments",
    } <= keys
    assert all(p.file == str(path) for p in info.value.problems)


def test_packaged_columns_yaml_lists_every_domain_header(aliases):
    """Every header variant domain.md lists resolves to its role for the kinds that use it."""
    roster, payments = aliases.lookup("roster"), aliases.lookup("payments")
    expected = {
        "name": ["姓名", "享受人", "补贴对象", "对象姓名", "被征地人姓名"],
        "head_name": ["户主姓名"],
        "payee_name": ["收款人姓名", "户名", "账户名称", "收款人", "监护人"],
        "id_number": ["身份证号码", "身份证号", "公民身份号码", "证件号码", "享受人身份证号"],
        "head_id": ["户主身份证号"],
        "payee_id": ["收款人身份证号", "监护人身份证号"],
        "card_number": ["社会保障卡号", "社保卡号", "银行卡号", "银行账号", "卡号", "账号", "收款账号"],
        "bank": ["开户行", "开户银行"],
        "program": ["补贴项目", "项目名称", "资金项目", "补贴类别", "补偿项目"],
        "period": [
            "发放期间",
            "所属期",
            "所属期间",
            "补贴期号",
            "发放年月",
            "补贴年度",
            "保障期间",
            "补偿期间",
        ],
        "amount": [
            "应发金额",
            "补贴金额",
            "发放金额",
            "实发金额",
            "保障金额",
            "补偿金额",
            "交易金额",
            "金额(元)",
        ],
        "approval_date": ["审批日期", "批准日期"],
        "township": ["乡镇(街道)", "所属乡镇"],
        "village": ["村(社区)", "村(居)委会", "行政村"],
        "group_name": ["组", "村民小组", "村(居)民小组"],
    }
    for role, headers in expected.items():
        for header in headers:
            assert roster[normalise_header(header)][0] == role, header
    for role, headers in {
        "pay_date": ["发放日期", "发放时间", "支付日期", "入账日期", "交易日期"],
        "status": ["发放状态", "支付状态", "处理结果", "交易状态"],
        "failure_reason": ["失败原因", "退回原因", "备注"],
    }.items():
        for header in headers:
            assert payments[normalise_header(header)][0] == role, header
    # a payments file with 应发金额 and 实发金额 takes what was actually paid
    assert payments["实发金额"][1] < payments["应发金额"][1]
    assert roster["应发金额"][1] < roster["实发金额"][1]
