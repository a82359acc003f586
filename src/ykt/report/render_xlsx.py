"""exceptions.xlsx and clues.xlsx: the inspectors' workbooks, laid out as reports/exceptions.yaml and
reports/clues.yaml say (ykt.report.layout). Complaint cases and records go to exceptions.xlsx, clues to
clues.xlsx: their readers differ (the departments that pay vs the discipline inspectors).

openpyxl (write-only) renders everything a person sees as layout: the summary sheet, the headers, styles,
number formats, widths, frozen header rows and filters, and one template data row per sheet. The data
rows themselves are generated as sheet XML by vectorised polars expressions and spliced in place of the
template row, reusing the style ids openpyxl gave it (`ykt.report.xlsx_rows`): openpyxl's per-cell
writer is far too slow for a night's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ykt.labels import CASE_STATUS_LABELS
from ykt.report.layout import (
    SHEET_NAME_FORBIDDEN,
    Column,
    ColumnWidth,
    DataSheetLayout,
    OverviewLayout,
    SummaryLayout,
    WorkbookLayout,
    clues_layout,
    default_layout,
)
from ykt.report.model import Report
from ykt.report.xlsx_cells import XlsxStyle, number_cell, printable, styled_cell, text_width, xlsx_styles
from ykt.report.xlsx_overview import write_overview_sheet
from ykt.report.xlsx_rows import DataSheet, splice_rows
from ykt.report.xlsx_summary import write_summary_sheet

WRAPPED = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def write_exceptions_xlsx(report: Report, path: Path, layout: WorkbookLayout | None = None) -> None:
    """The workbook of complaint cases and records (概览 first)."""
    write_workbook(report, path, layout or default_layout())


def write_clues_xlsx(report: Report, path: Path, layout: WorkbookLayout | None = None) -> None:
    """The discipline inspectors' workbook of clues."""
    write_workbook(report, path, layout or clues_layout())


def write_workbook(report: Report, path: Path, layout: WorkbookLayout) -> None:
    """A workbook: its sheets in the layout's order, data rows spliced in after saving."""
    styles = xlsx_styles(layout)
    wb = openpyxl.Workbook(write_only=True)
    members: dict[str, DataSheet] = {}
    for sheet_layout in layout.sheets:
        if isinstance(sheet_layout, OverviewLayout):
            write_overview_sheet(wb, report, layout, sheet_layout, styles)
            continue
        if isinstance(sheet_layout, SummaryLayout):
            write_summary_sheet(wb, report, layout, sheet_layout, styles)
            continue
        for sheet in data_sheets(report, sheet_layout, layout.fixed_names):
            _data_sheet_layout(wb, sheet, layout, sheet_layout, styles["column_header"])
            members[f"xl/worksheets/sheet{len(wb.worksheets)}.xml"] = sheet
    wb.save(path)
    splice_rows(path, members)


def data_sheets(report: Report, sheet: DataSheetLayout, fixed_names: frozenset[str]) -> list[DataSheet]:
    """The sheets one layout entry gives: one per rule of the entry's routes with findings (registry order,
    Chinese title), or the night's priorities, data coverage, batch members, cases, clues or trend (batch
    members only when a batch stalled)."""
    frames: dict[str, Callable[[], pl.DataFrame]] = {
        "cases": lambda: case_display(report.cases, report.rule_titles),
        "clues": lambda: case_display(report.clues, report.rule_titles),
        "priorities": lambda: case_display(report.priorities, report.rule_titles),
        "coverage": lambda: report.coverage,
        "batch_members": lambda: report.batch_members,
        "trend": lambda: report.trend,
    }
    if sheet.content in frames:
        frame = frames[sheet.content]()
        keep = frame.height or sheet.content != "batch_members"
        return [DataSheet(sheet.name, sheet.columns, frame)] if keep else []
    used = set(fixed_names)
    by_rule = report.findings.partition_by("rule", as_dict=True, include_key=False)
    sheets = []
    for rule in report.rules:
        if rule.route not in sheet.routes:
            continue
        found = by_rule.get((rule.code,))
        if found is not None and found.height:
            sheets.append(DataSheet(_sheet_name(rule.title, used, sheet.name), sheet.columns, found))
    return sheets


def _sheet_name(title: str, used: set[str], if_blank: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_NAME_FORBIDDEN.sub("_", title).strip("'")[:31] or if_blank
    name, n = base, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def case_display(cases: pl.DataFrame, rule_titles: Mapping[str, str]) -> pl.DataFrame:
    """Cases with their rule's title and status in Chinese; a clue flagged by several rules names them all."""
    titles = pl.col("reasons") if "reasons" in cases.columns else pl.concat_list(pl.col("rule"))
    title_of = pl.element().replace_strict(dict(rule_titles), default=pl.element(), return_dtype=pl.Utf8)
    return cases.with_columns(
        rule_title=titles.list.eval(title_of).list.join("、"),
        status_label=pl.col("status").replace_strict(
            dict(CASE_STATUS_LABELS), default=pl.col("status"), return_dtype=pl.Utf8
        ),
    )


def _data_sheet_layout(
    wb: openpyxl.Workbook, sheet: DataSheet, layout: WorkbookLayout, entry: DataSheetLayout, header: XlsxStyle
) -> None:
    ws = wb.create_sheet(sheet.name)
    last = get_column_letter(len(sheet.columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{sheet.frame.height + 1}"
    for i, width in enumerate(column_widths(sheet.frame, sheet.columns, layout.column_width), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    printable(ws, layout.print_setup, repeat_header=entry.repeat_header)
    if entry.one_page:
        ws.page_setup.fitToHeight = 1
    ws.append([styled_cell(ws, c.header, header) for c in sheet.columns])
    ws.append([_template_cell(ws, c) for c in sheet.columns])


def _template_cell(ws: WriteOnlyWorksheet, column: Column) -> WriteOnlyCell:
    """A placeholder whose only purpose is to carry the column's style id into the saved XML; every data
    cell is top-aligned, so a row whose text wraps still reads as one line across."""
    if column.kind.number_format is None:
        cell = WriteOnlyCell(ws, value=0)
    else:
        cell = number_cell(ws, 0, column.kind.number_format)
    cell.alignment = WRAPPED if column.wrap else TOP
    return cell


def column_widths(frame: pl.DataFrame, columns: Sequence[Column], rule: ColumnWidth) -> list[float]:
    """Wide enough for the header and the kind's width or the longest text (CJK characters count double),
    plus the layout's padding; a width measured from the data is at most the layout's maximum."""
    text_fields = [c.field for c in columns if c.kind.name == "text" and c.kind.width is None]
    longest = (
        frame.select([_display_width(pl.col(f).cast(pl.Utf8)).max().alias(f) for f in text_fields]).row(
            0, named=True
        )
        if frame.height and text_fields
        else {}
    )
    widths = []
    for c in columns:
        data = c.kind.width or float(longest.get(c.field) or 0)
        width = max(text_width(c.header), data) + rule.padding
        # a width the layout sets is kept; only widths measured from the data are capped
        widths.append(width if c.kind.width is not None else min(width, rule.max))
    return widths


def _display_width(expr: pl.Expr) -> pl.Expr:
    # UTF-8: ASCII is 1 byte (width 1), CJK is 3 bytes (width 2): (bytes + chars) / 2.
    return (expr.str.len_bytes() + expr.str.len_chars()) / 2
