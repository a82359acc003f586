"""Writers for the files people upload: .xlsx, legacy .xls and GBK/UTF-8 CSV.

A `Table` is what a township clerk's sheet looks like: title lines above the
header (the first one merged across), the header, data rows, then footer rows
(合计, 制表人/审核人). The xlsx writer builds the sheet XML with polars string
expressions (no per-row Python), so the benchmark can write a million rows in
seconds; it also writes deterministic zips, so the same data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from openpyxl.utils import get_column_letter

NUMBER_FLAG_PREFIX = "__number__"  # data column "__number__<header>": True → write that cell as a NUMBER cell
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class Table:
    """One sheet: `data` holds one Utf8 column per header (same names, same order).

    number_columns are written as number cells in xlsx/xls (amounts), date_columns
    ('YYYY-MM-DD' text) as real date cells. An optional Boolean column named
    NUMBER_FLAG_PREFIX + header marks single cells to write as numbers (an ID that
    Excel turned into 5.10723E+17).
    """

    data: pl.DataFrame
    title: tuple[str, ...] = ()
    footer: tuple[tuple[str, ...], ...] = ()
    sheet: str = "Sheet1"
    number_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()

    @property
    def header(self) -> list[str]:
        return [c for c in self.data.columns if not c.startswith(NUMBER_FLAG_PREFIX)]

    @property
    def width(self) -> int:
        return len(self.header)


def total_row(
    table_header: Sequence[str], amount_column: str, total: str, label: str = "合计"
) -> tuple[str, ...]:
    """A 合计 row: the label in the first cell, the grand total under the amount column."""
    cells = [""] * len(table_header)
    cells[0] = label
    cells[list(table_header).index(amount_column)] = total
    return tuple(cells)


# -- xlsx ------------------------------------------------------------------------------------------------


def _xml_escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _cell_expr(column: str, letter: str, row: pl.Expr, as_number: pl.Expr, as_date: bool) -> pl.Expr:
    """The <c> element of one column for every row (empty string for a null/blank cell)."""
    value = pl.col(column)
    ref = pl.lit(letter) + row.cast(pl.Utf8)
    text_cell = (
        pl.lit('<c r="')
        + ref
        + pl.lit('" t="inlineStr"><is><t>')
        + _xml_escape(value)
        + pl.lit("</t></is></c>")
    )
    number_cell = pl.lit('<c r="') + ref + pl.lit('"><v>') + value + pl.lit("</v></c>")
    cell = pl.when(as_number).then(number_cell).otherwise(text_cell)
    if as_date:
        serial = (
            (value.str.to_date("%Y-%m-%d", strict=False) - pl.lit(EXCEL_EPOCH)).dt.total_days().cast(pl.Utf8)
        )
        date_cell = pl.lit('<c r="') + ref + pl.lit('" s="1"><v>') + serial + pl.lit("</v></c>")
        cell = pl.when(serial.is_not_null()).then(date_cell).otherwise(cell)
    return pl.when(value.is_null() | (value == "")).then(pl.lit("")).otherwise(cell)


def _rows_xml(
    frame: pl.DataFrame, first_row: int, number_columns: Sequence[str] = (), date_columns: Sequence[str] = ()
) -> str:
    """Sheet XML <row> elements for `frame` (all Utf8), starting at spreadsheet row `first_row`."""
    if frame.height == 0:
        return ""
    row = pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64)
    cells = []
    for i, column in enumerate(c for c in frame.columns if not c.startswith(NUMBER_FLAG_PREFIX)):
        flag = NUMBER_FLAG_PREFIX + column
        as_number = pl.lit(column in number_columns)
        if flag in frame.columns:
            as_number = as_number | pl.col(flag).fill_null(False)
        cells.append(_cell_expr(column, get_column_letter(i + 1), row, as_number, column in date_columns))
    rows = pl.lit('<row r="') + row.cast(pl.Utf8) + pl.lit('">') + pl.concat_str(cells) + pl.lit("</row>")
    return frame.select(rows.str.join("")).item()


def _lines_frame(lines: Sequence[Sequence[str]], width: int) -> pl.DataFrame:
    """Title/header/footer lines as a small all-text frame of `width` columns."""
    padded = [list(line) + [""] * (width - len(line)) for line in lines]
    return pl.DataFrame(
        {f"c{j}": [r[j] for r in padded] for j in range(width)},
        schema={f"c{j}": pl.Utf8 for j in range(width)},
    )


def _sheet_xml(table: Table) -> str:
    width = table.width
    top = _lines_frame([[t] for t in table.title] + [table.header], width)
    data = table.data
    first_data_row = top.height + 1
    footer = _lines_frame(table.footer, width).rename(
        dict(zip([f"c{j}" for j in range(width)], table.header))
    )
    body = (
        _rows_xml(top, 1)
        + _rows_xml(data, first_data_row, table.number_columns, table.date_columns)
        + _rows_xml(
            footer, first_data_row + data.height, table.number_columns
        )  # the 合计 amount is a number cell
    )
    last = get_column_letter(width)
    merges = "".join(f'<mergeCell ref="A{i + 1}:{last}{i + 1}"/>' for i in range(len(table.title)))
    merge_xml = f'<mergeCells count="{len(table.title)}">{merges}</mergeCells>' if table.title else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheetData>{body}</sheetData>{merge_xml}</worksheet>"
    )


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _package_parts(tables: Sequence[Table]) -> dict[str, str]:
    n = len(tables)
    sheets = "".join(
        f'<sheet name="{t.sheet}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, t in enumerate(tables)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(n)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(n)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    return {
        "[Content_Types].xml": head
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + overrides
        + "</Types>",
        "_rels/.rels": head
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": head
        + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": head
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + rels
        + f'<Relationship Id="rId{n + 1}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": _STYLES,
    }


def write_xlsx(path: Path, tables: Sequence[Table]) -> Path:
    """A workbook with one sheet per table. Byte-identical for identical input (fixed zip timestamps)."""
    parts = _package_parts(tables)
    for i, table in enumerate(tables):
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = _sheet_xml(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return path


# -- xls (BIFF, via xlwt) ---------------------------------------------------------------------------------


def write_xls(path: Path, tables: Sequence[Table]) -> Path:
    """A legacy .xls workbook. xlwt has only a per-cell API, so this loops over cells:
    use it for small demo files only (the benchmark uses xlsx and CSV)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for table in tables:
        sheet = book.add_sheet(table.sheet)
        for r, line in enumerate(table.title):
            sheet.write_merge(r, r, 0, table.width - 1, line)
        top = len(table.title)
        for c, head in enumerate(table.header):
            sheet.write(top, c, head)
        flags = _number_flags(table)
        for r, (row, flag_row) in enumerate(
            zip(table.data.select(table.header).iter_rows(), flags.iter_rows()), start=top + 1
        ):
            for c, (head, value, flagged) in enumerate(zip(table.header, row, flag_row)):
                as_number = head in table.number_columns or bool(flagged)
                _write_xls_cell(sheet, r, c, value, as_number, head in table.date_columns, date_style)
        for r, line in enumerate(table.footer, start=top + 1 + table.data.height):
            for c, value in enumerate(line):
                if value:
                    sheet.write(r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


def _number_flags(table: Table) -> pl.DataFrame:
    """One Boolean per cell: the single cells to write as numbers (see NUMBER_FLAG_PREFIX)."""
    return table.data.select(
        [
            pl.col(NUMBER_FLAG_PREFIX + h).fill_null(False)
            if NUMBER_FLAG_PREFIX + h in table.data.columns
            else pl.repeat(False, pl.len()).alias(h)
            for h in table.header
        ]
    )


def _write_xls_cell(
    sheet, r: int, c: int, value: str | None, as_number: bool, as_date: bool, date_style
) -> None:
    """Dates and numbers as typed cells when they parse; anything else as the text it is."""
    if value is None or value == "":
        return
    try:
        if as_date:
            sheet.write(r, c, dt.date.fromisoformat(value), date_style)
            return
        if as_number:
            sheet.write(r, c, float(value))
            return
    except ValueError:
        pass
    sheet.write(r, c, value)


# -- csv -----------------------------------------------------------------------------------------------------


def csv_text(table: Table) -> str:
    """The table as CSV text (title lines padded with commas, the way Excel saves them)."""
    pad = "," * (table.width - 1)
    lines = [f"{t}{pad}" for t in table.title]
    body = table.data.select(table.header).write_csv(line_terminator="\r\n", quote_style="necessary")
    tail = [",".join(row) for row in table.footer]
    head = "\r\n".join(lines) + "\r\n" if lines else ""
    foot = "\r\n".join(tail) + "\r\n" if tail else ""
    return head + body + foot


def write_csv(path: Path, table: Table, encoding: str = "gbk") -> Path:
    """CSV in `encoding` ('gbk', 'gb18030' or 'utf-8-sig')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(table).encode(encoding))
    return path
