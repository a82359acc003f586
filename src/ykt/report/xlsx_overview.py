"""exceptions.xlsx, 概览: the night on one A4 page, its texts and KPI columns from the layout.

Headline figures, KPIs per department, findings by rule and money at stake by township as small tables,
then three native Excel charts under them: findings by rule and money by township read the tables above,
the 30-night trend reads the workbook's trend sheet. `overview_rows` is pure (rows of (value, style) plus
where each chart's data is), so tests read it without a workbook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.reference import quote_sheetname
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ykt.labels import HEALTH_STATUS_LABELS
from ykt.report.layout import OverviewLayout, WorkbookLayout
from ykt.report.model import Report
from ykt.report.xlsx_cells import XlsxStyle, printable, text_width
from ykt.report.xlsx_rows import LINE_HEIGHT
from ykt.report.xlsx_summary import PLAIN, Cell, summary_cell

CM_PER_WIDTH_UNIT = 0.2  # an Excel column width unit (one digit plus padding) is about 2 mm


@dataclass(frozen=True)
class ChartData:
    """Where a chart's categories and values are on the overview sheet (1-based rows and columns)."""

    first_row: int
    last_row: int  # < first_row: no data (the chart is still drawn, empty, with its title)
    label_column: int
    value_column: int


@dataclass(frozen=True)
class OverviewSheet:
    rows: list[list[Cell]]
    rules: ChartData
    townships: ChartData


def write_overview_sheet(
    wb: openpyxl.Workbook,
    report: Report,
    layout: WorkbookLayout,
    overview: OverviewLayout,
    styles: Mapping[str, XlsxStyle],
) -> None:
    ws = wb.create_sheet(overview.name)
    for i, width in enumerate(overview.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    printable(ws, layout.print_setup, repeat_header=False)
    ws.page_setup.fitToHeight = 1  # the whole overview on one page, charts included
    sheet = overview_rows(report, overview)
    for number, row in enumerate(sheet.rows, start=1):
        lines = _header_lines(row, overview.widths)
        if lines > 1:  # wrapped headers: neither Excel nor LibreOffice grows the row when opening the file
            ws.row_dimensions[number].height = lines * LINE_HEIGHT
        ws.append([summary_cell(ws, value, style, layout, styles) for value, style in row])
    _add_charts(ws, sheet, overview, layout.sheet_named("trend"), len(sheet.rows) + 2)


def overview_rows(report: Report, overview: OverviewLayout) -> OverviewSheet:
    texts, o = overview.texts, report.overview
    covered = texts["covered_text"].format(
        files=o.files, rows_read=o.rows_read, rows_loaded=o.rows_loaded, rows_rejected=o.rows_rejected
    )
    health = HEALTH_STATUS_LABELS[report.health.status]
    rows: list[list[Cell]] = [
        [(texts["title"], "title")],
        [
            (texts["as_of"], "header"),
            (report.as_of.isoformat(), PLAIN),
            (texts["health"], "header"),
            (health, PLAIN),
            (texts["health_see"] if report.health.reasons else None, PLAIN),
        ],
        [(texts["covered"], "header"), (covered, PLAIN)],
        [],
        [(texts["figures"], "section")],
        [(texts[k], "header") for k in ("new", "open", "escalated", "resolved", "at_stake", "in_question")],
        [
            *[(v, "general") for v in (o.new, o.open, o.escalated, o.resolved)],
            (o.amount_at_stake, "amount"),
            (o.amount_in_question, "amount"),
        ],
        [],
        *_kpi_rows(report, overview),
        [],
    ]
    rules_head = len(rows) + 1
    rules = [(r.title, r.findings) for r in report.rules if r.findings]
    towns = report.townships.head(overview.top_townships).select("township", "cases", "amount").rows()
    rows.append([(texts["rules"], "section"), (None, PLAIN), (None, PLAIN), (texts["townships"], "section")])
    head: list[Cell] = [(texts["rule"], "header"), (texts["count"], "header"), (None, PLAIN)]
    rows.append(head + [(texts[k], "header") for k in ("township", "cases", "amount")])
    for i in range(max(len(rules), len(towns), 1)):
        left: list[Cell] = (
            [(rules[i][0], PLAIN), (rules[i][1], "general")] if i < len(rules) else [(None, PLAIN)] * 2
        )
        right: list[Cell] = (
            [(towns[i][0], PLAIN), (towns[i][1], "general"), (towns[i][2], "amount")]
            if i < len(towns)
            else []
        )
        if not rules and i == 0:
            left = [(texts["none"], PLAIN), (None, PLAIN)]
        if not towns and i == 0:
            right = [(texts["none"], PLAIN)]
        rows.append([*left, (None, PLAIN), *right])
    first = rules_head + 2
    return OverviewSheet(
        rows=rows,
        rules=ChartData(first, first + len(rules) - 1, 1, 2),
        townships=ChartData(first, first + len(towns) - 1, 4, 6),
    )


def _header_lines(row: list[Cell], widths: tuple[float, ...]) -> int:
    """How many lines the row's longest wrapped header takes in its column."""
    lines = [
        math.ceil(text_width(value) / max(widths[i] - 1, 1))
        for i, (value, style) in enumerate(row)
        if style == "header" and isinstance(value, str) and i < len(widths)
    ]
    return max(lines, default=1)


def _kpi_rows(report: Report, overview: OverviewLayout) -> list[list[Cell]]:
    """KPIs per 承办部门 (docs/kpis.md) and the county total."""
    texts = overview.texts
    rows: list[list[Cell]] = [[(texts["kpis"], "section")]]
    if report.kpis is None:
        return rows + [[(texts["kpis_missing"], PLAIN)]]
    columns = overview.kpi_columns
    rows.append([(texts["department"], "header"), *[(c.header, "header") for c in columns]])
    for figures in report.kpis["departments"]:
        rows.append([(figures["department"], PLAIN), *[(figures[c.field], c.kind.name) for c in columns]])
    overall = report.kpis["overall"]
    rows.append([(texts["total"], "header"), *[(overall[c.field], c.kind.name) for c in columns]])
    return rows


def _add_charts(
    ws: WriteOnlyWorksheet, sheet: OverviewSheet, overview: OverviewLayout, trend_sheet: str | None, row: int
) -> None:
    """The three charts side by side under the tables, each anchored where the previous one ends."""
    texts, size = overview.texts, overview.chart
    charts = [
        _bar(ws.title, sheet.rules, texts["chart_rules"], horizontal=True),
        _bar(ws.title, sheet.townships, texts["chart_townships"], horizontal=False),
    ]
    if trend_sheet is not None:
        charts.append(_trend(trend_sheet, texts))
    column = 1
    for chart in charts:
        chart.width, chart.height = size.width, size.height
        ws.add_chart(chart, f"{get_column_letter(column)}{row}")
        column = _column_after(overview.widths, column, size.width)


def _bar(sheet: str, data: ChartData, title: str, *, horizontal: bool) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.legend = None
    chart.style = 10
    if data.last_row >= data.first_row:
        values = _reference(sheet, data.value_column, data.first_row, data.last_row)
        chart.add_data(values, titles_from_data=False)
        chart.set_categories(_reference(sheet, data.label_column, data.first_row, data.last_row))
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"  # the first rule on top, as in the table
        chart.x_axis.tickLblSkip = 1  # every rule named, in a smaller font
        chart.x_axis.txPr = _font(800)
        chart.y_axis.number_format = "#,##0"  # counts, not 0.5 steps
        chart.y_axis.majorGridlines = None
    else:
        chart.y_axis.number_format = "#,##0"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart


def _trend(sheet: str, texts: Mapping[str, str]) -> LineChart:
    """Opened and resolved per night over the trend sheet's 30 rows (header in row 1)."""
    chart = LineChart()
    chart.title = texts["chart_trend"]
    chart.style = 12
    for column in (2, 3):
        chart.add_data(_reference(sheet, column, 1, 31), titles_from_data=True)
    chart.set_categories(_reference(sheet, 1, 2, 31))
    for series in chart.series:
        series.smooth = False  # counts per night: straight segments, no invented curve
    chart.x_axis.number_format = "mm-dd"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    return chart


def _font(size: int) -> RichText:
    """Axis labels at `size` hundredths of a point."""
    props = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _reference(sheet: str, column: int, first: int, last: int) -> Reference:
    letter = get_column_letter(column)
    return Reference(range_string=f"{quote_sheetname(sheet)}!${letter}${first}:${letter}${last}")


def _column_after(widths: tuple[float, ...], column: int, chart_cm: float) -> int:
    """The first column that starts right of a chart of `chart_cm` anchored at `column` (with a small gap)."""
    covered = 0.0
    while covered < chart_cm + 0.3:
        covered += (widths[column - 1] if column <= len(widths) else 8.43) * CM_PER_WIDTH_UNIT
        column += 1
    return column
