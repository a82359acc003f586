"""`ykt check`: clerks' files validated without loading; annotated copies read back with openpyxl."""

from __future__ import annotations

import zipfile

import openpyxl

from tests.support.checking_fixture import (
    HEADER,
    TITLE,
    broken,
    person_id,
    roster_rows,
    write_roster_xlsx,
)
from ykt.check.annotate import SUMMARY_SHEET, check_files, result_path


def cell_by_header(ws, header: str, row: int):
    col = [c.value for c in ws[2]].index(header) + 1
    return ws.cell(row=row, column=col)


def test_bad_cells_are_red_with_a_comment_naming_row_column_and_reason(bad_xlsx, config):
    """Row 4's ID and row 6's amount are marked; the clean rows are not."""
    [result] = check_files([bad_xlsx], *config)
    assert result.annotated == result_path(bad_xlsx) == bad_xlsx.with_name("低保花名册.检查结果.xlsx")
    ws = openpyxl.load_workbook(result.annotated)["花名册"]
    id_cell, amount_cell = cell_by_header(ws, "身份证号码", 4), cell_by_header(ws, "应发金额", 6)
    assert id_cell.comment.text == "第4行 身份证号码：身份证号码校验位错误"
    assert amount_cell.comment.text.startswith("第6行 应发金额：金额无法识别")
    assert id_cell.fill.fgColor.rgb.endswith("FFC7CE") and amount_cell.fill.fgColor.rgb.endswith("FFC7CE")
    marked = [(c.row, c.column) for r in ws.iter_rows() for c in r if c.comment]
    assert sorted(marked) == sorted([(4, id_cell.column), (6, amount_cell.column)])


def test_the_copy_keeps_the_clerks_workbook(bad_xlsx, config):
    """The annotated copy is the clerk's own workbook: same values, same formatting; the original is untouched."""
    before = bad_xlsx.read_bytes()
    [result] = check_files([bad_xlsx], *config)
    original, copy = (
        openpyxl.load_workbook(bad_xlsx)["花名册"],
        openpyxl.load_workbook(result.annotated)["花名册"],
    )
    assert [[c.value for c in r] for r in copy.iter_rows()] == [
        [c.value for c in r] for r in original.iter_rows()
    ]
    assert copy["A1"].font.bold and copy["A1"].font.size == 16
    assert bad_xlsx.read_bytes() == before


def test_summary_sheet_comes_first_with_row_accounting_and_reasons(bad_xlsx, config):
    """检查汇总: 5 read, 3 ok, 2 with problems, one line per reason with its row count."""
    [result] = check_files([bad_xlsx], *config)
    wb = openpyxl.load_workbook(result.annotated)
    assert wb.sheetnames[0] == SUMMARY_SHEET
    rows = {r[0]: r[1:] for r in wb[SUMMARY_SHEET].iter_rows(values_only=True) if r and r[0]}
    assert rows["读取行数"][0] == 5 and rows["通过行数"][0] == 3 and rows["有问题的行数"][0] == 2
    assert rows["ID_CHECKSUM"][:2] == ("身份证号码校验位错误", 1)
    assert rows["AMOUNT_INVALID"][1] == 1
    assert (result.rows_read, result.rows_ok, result.rows_rejected) == (5, 3, 2)


def test_comments_are_stored_the_way_libreoffice_and_excel_read_them(bad_xlsx, config):
    """A comments part and its legacy VML drawing (what LibreOffice and Excel both read) are in the package."""
    [result] = check_files([bad_xlsx], *config)
    names = zipfile.ZipFile(result.annotated).namelist()
    assert any(n.startswith("xl/comments") and n.endswith(".xml") for n in names)
    assert any(n.endswith(".vml") for n in names)


def test_gbk_csv_is_converted_to_an_annotated_xlsx(tmp_path, config):
    """A GB18030 CSV (header on line 2 under a title) with a bad ID on line 4: the copy is .xlsx, cell marked."""
    lines = [TITLE, ",".join(HEADER)] + [",".join(r) for r in roster_rows(3)]
    lines[3] = lines[3].replace(person_id(2), broken(person_id(2)))
    path = tmp_path / "低保花名册.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    [result] = check_files([path], *config)
    ws = openpyxl.load_workbook(result.annotated).worksheets[1]
    assert ws.cell(row=4, column=2).comment.text == "第4行 身份证号码：身份证号码校验位错误"
    assert ws.cell(row=2, column=1).value == "姓名" and ws.cell(row=4, column=1).value == "村民2"


def test_a_clean_file_gets_no_copy_and_a_stale_copy_is_removed(tmp_path, config):
    """After the clerk fixed the file, checking it again removes the old annotated copy."""
    path = write_roster_xlsx(tmp_path / "低保花名册.xlsx", roster_rows())
    result_path(path).write_bytes(b"old")
    [result] = check_files([path], *config)
    assert result.ok and result.annotated is None and not result_path(path).exists()
    assert "全部通过" in result.describe()


def test_a_file_with_unknown_headers_gets_a_summary_saying_why(tmp_path, config):
    """No recognisable header: the copy's summary says the whole file cannot be used and why."""
    wb = openpyxl.Workbook()
    wb.active.append(["甲", "乙", "丙"])
    wb.active.append(["1", "2", "3"])
    path = tmp_path / "随便.xlsx"
    wb.save(path)
    [result] = check_files([path], *config)
    assert result.file_error and not result.ok
    rows = {
        r[0]: r[1]
        for r in openpyxl.load_workbook(result.annotated)[SUMMARY_SHEET].iter_rows(values_only=True)
        if r and r[0]
    }
    assert "表头" in rows["整个文件无法使用"]


def test_every_bad_cell_of_a_long_file_is_marked(tmp_path, config):
    """3,100 rows (a progress bar is shown) with every 100th ID broken: exactly those 31 cells carry comments."""
    rows = roster_rows(3100)
    for i in range(0, 3100, 100):
        rows[i][1] = broken(rows[i][1])
    path = write_roster_xlsx(tmp_path / "大花名册.xlsx", rows)
    [result] = check_files([path], *config)
    ws = openpyxl.load_workbook(result.annotated)["花名册"]
    commented = sorted(c.row for c in ws["B"] if c.comment)
    assert commented == [3 + i for i in range(0, 3100, 100)]
    assert result.rows_rejected == 31


def test_legacy_xls_is_converted_with_its_sheet_name(tmp_path, config):
    """A BIFF .xls whose sheet 花名册 has a bad ID on row 4: the .xlsx copy has that sheet, cell marked."""
    import xlwt

    rows = roster_rows(3)
    rows[1][1] = broken(rows[1][1])
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("花名册")
    for r, values in enumerate([[TITLE], HEADER, *rows]):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    path = tmp_path / "低保花名册.xls"
    book.save(str(path))
    [result] = check_files([path], *config)
    ws = openpyxl.load_workbook(result.annotated)["花名册"]
    assert ws.cell(row=4, column=2).comment.text == "第4行 身份证号码：身份证号码校验位错误"


def test_the_command_prints_one_line_per_file(bad_xlsx, tmp_path, config, capsys):
    """`ykt check A B` tells the clerk, per file, what is wrong and where the marked copy is; it exits 3
    because one file is ✗ (a script running it must see that), and 0 for clean files only."""
    from ykt.cli import main

    clean = write_roster_xlsx(tmp_path / "干净.xlsx", roster_rows())
    assert main(["check", str(clean)]) == 0
    capsys.readouterr()
    assert main(["check", str(bad_xlsx), str(clean)]) == 3
    out = capsys.readouterr().out
    assert "✗ 低保花名册.xlsx：读取 5 行，通过 3 行，有问题 2 行" in out and str(result_path(bad_xlsx)) in out
    assert "✓ 干净.xlsx：5 行全部通过检查" in out
