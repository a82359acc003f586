"""exceptions.xlsx: the layout's styles and print setup as openpyxl objects (layout only, no data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ykt.report.layout import CellStyle, PrintSetup, WorkbookLayout


@dataclass(frozen=True)
class XlsxStyle:
    font: Font
    fill: PatternFill | None
    alignment: Alignment | None


def xlsx_styles(layout: WorkbookLayout) -> Mapping[str, XlsxStyle]:
    """Each named style of the layout, built once (openpyxl shares equal styles by id anyway)."""
    return {name: _xlsx_style(style) for name, style in layout.styles.items()}


def _xlsx_style(style: CellStyle) -> XlsxStyle:
    aligned = style.horizontal or style.vertical or style.wrap
    alignment = Alignment(horizontal=style.horizontal, vertical=style.vertical, wrap_text=style.wrap or None)
    return XlsxStyle(
        font=Font(bold=style.bold, size=style.size),
        fill=PatternFill("solid", fgColor=style.fill) if style.fill else None,
        alignment=alignment if aligned else None,
    )


def text_safe_cell(ws: WriteOnlyWorksheet, value: object) -> WriteOnlyCell:
    """A cell whose text is stored as text: openpyxl would store "=…" as a formula Excel runs on opening."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def styled_cell(ws: WriteOnlyWorksheet, value: object, style: XlsxStyle) -> WriteOnlyCell:
    cell = text_safe_cell(ws, value)
    cell.font = style.font
    if style.fill is not None:
        cell.fill = style.fill
    if style.alignment is not None:
        cell.alignment = style.alignment
    return cell


def number_cell(ws: WriteOnlyWorksheet, value: object, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def printable(ws: WriteOnlyWorksheet, setup: PrintSetup, *, repeat_header: bool) -> None:
    """Inspectors print these sheets; the layout says how (and whether the header repeats on every page)."""
    ws.page_setup.orientation = setup.orientation
    ws.page_setup.paperSize = setup.paper_size
    ws.page_setup.fitToWidth = setup.fit_to_width
    ws.page_setup.fitToHeight = setup.fit_to_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        ws.print_title_rows = "1:1"


def text_width(text: str) -> float:
    """Display width in Excel column units: CJK characters count double."""
    return (len(text.encode("utf-8")) + len(text)) / 2
