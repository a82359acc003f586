"""exceptions.xlsx: the summary sheet (run date, file and row accounting, findings per rule, cases, KPIs
per department, data quality), its texts and KPI columns from the layout, its labels from ykt.labels."""

from __future__ import annotations

from collections.abc import Mapping

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ykt.labels import (
    BATCH_LABELS,
    CASE_TOTAL_LABELS,
    FILE_STATUS_LABELS,
    HEALTH_STATUS_LABELS,
    NIGHT_EVENT_LABELS,
)
from ykt.report.layout import SummaryLayout, WorkbookLayout
from ykt.report.model import Report
from ykt.report.xlsx_cells import XlsxStyle, number_cell, printable, styled_cell, text_safe_cell

PLAIN = "plain"  # a bare value: no font, fill or number format
CellValue = str | int | float | None
Cell = tuple[CellValue, str]  # (value, PLAIN | a layout style name | a layout kind name)


def write_summary_sheet(
    wb: openpyxl.Workbook,
    report: Report,
    layout: WorkbookLayout,
    summary: SummaryLayout,
    styles: Mapping[str, XlsxStyle],
) -> None:
    ws = wb.create_sheet(summary.name)
    for i, width in enumerate(summary.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    printable(ws, layout.print_setup, repeat_header=summary.repeat_header)
    for row in summary_rows(report, summary):
        ws.append([summary_cell(ws, value, style, layout, styles) for value, style in row])


def summary_cell(
    ws: WriteOnlyWorksheet,
    value: CellValue,
    style: str,
    layout: WorkbookLayout,
    styles: Mapping[str, XlsxStyle],
) -> CellValue | WriteOnlyCell:
    if value is None:
        return value
    if style == PLAIN:
        return text_safe_cell(ws, value) if isinstance(value, str) else value
    if style in styles:
        return styled_cell(ws, value, styles[style])
    number_format = layout.kinds[style].number_format
    return value if number_format is None else number_cell(ws, value, number_format)


def summary_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    """The summary sheet as rows of (value, style); pure so it can be tested and reused."""
    texts = summary.texts
    return [
        [(texts["title"], "title")],
        [(texts["as_of"], "header"), (report.as_of.isoformat(), PLAIN)],
        [(texts["started"], "header"), (report.started_at.isoformat(sep=" ", timespec="seconds"), PLAIN)],
        [(texts["finished"], "header"), (report.finished_at.isoformat(sep=" ", timespec="seconds"), PLAIN)],
        [
            (texts["health"], "header"),
            (HEALTH_STATUS_LABELS[report.health.status], PLAIN),
            (texts["health_see"] if report.health.reasons else None, PLAIN),
        ],
        [],
        *_file_rows(report, summary),
        [],
        *_rule_rows(report, summary),
        [],
        *_case_rows(report, summary),
        [],
        *_kpi_rows(report, summary),
        [],
        *_quality_rows(report, summary),
    ]


def _table_head(summary: SummaryLayout, table: str) -> list[list[Cell]]:
    """A section's title and its table's header row."""
    return [[(summary.texts[table], "section")], [(h, "header") for h in summary.headers[table]]]


def _file_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    rows = _table_head(summary, "files")
    for f in report.files:
        rows.append(
            [
                (f.name, PLAIN),
                (BATCH_LABELS.get(f.kind, f.kind), PLAIN),
                (FILE_STATUS_LABELS.get(f.status, f.status), PLAIN),
                (f.rows_read, PLAIN),
                (f.rows_loaded, PLAIN),
                (f.rows_rejected, PLAIN),
                (f.reason, PLAIN),
            ]
        )
    totals = [sum(getattr(f, k) for f in report.files) for k in ("rows_read", "rows_loaded", "rows_rejected")]
    total = summary.texts["files_total"].format(files=len(report.files))
    rows.append([(total, "header"), (None, PLAIN), (None, PLAIN), *[(t, "header") for t in totals]])
    return rows


def _rule_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    rows = _table_head(summary, "rules")
    rows += [[(r.code, PLAIN), (r.title, PLAIN), (r.findings, PLAIN)] for r in report.rules]
    total = sum(r.findings for r in report.rules)
    rows.append([(summary.texts["total"], "header"), (None, PLAIN), (total, "header")])
    return rows


def _case_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    activity = report.case_activity
    rows = _table_head(summary, "cases")
    rows += [
        [(label, PLAIN), (activity.events.get(key, 0), PLAIN)] for key, label in NIGHT_EVENT_LABELS.items()
    ]
    rows += [
        [(label, PLAIN), (activity.totals.get(key, 0), PLAIN)] for key, label in CASE_TOTAL_LABELS.items()
    ]
    return rows


def _kpi_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    """Complaint cases per 承办部门 (one row per department) and the county total."""
    rows: list[list[Cell]] = [[(summary.texts["kpis"], "section")]]
    if report.kpis is None:
        return rows + [[(summary.texts["kpis_missing"], PLAIN)]]
    columns = summary.kpi_columns
    rows.append([(summary.headers["kpis"][0], "header"), *[(c.header, "header") for c in columns]])
    for figures in report.kpis["departments"]:
        rows.append([(figures["department"], PLAIN), *[(figures[c.field], c.kind.name) for c in columns]])
    overall = report.kpis["overall"]
    rows.append([(summary.texts["total"], "header"), *[(overall[c.field], c.kind.name) for c in columns]])
    return rows


def _quality_rows(report: Report, summary: SummaryLayout) -> list[list[Cell]]:
    texts, quality = summary.texts, report.quality
    if not quality:
        return [[(texts["quality"], "section")], [(texts["quality_missing"], PLAIN)]]
    rows = _table_head(summary, "quality")
    for v in quality.get("validations", ()):
        outcome = texts["quality_passed"] if v["success"] else texts["quality_failed"]
        rows.append(
            [
                (BATCH_LABELS.get(v["kind"], v["kind"]), PLAIN),
                *[(v[key], PLAIN) for key in ("batches", "rows", "expectations", "failed")],
                (outcome, PLAIN),
            ]
        )
    for failure in quality.get("failures", ()):
        rows.append([(texts["quality_failure"], PLAIN), (failure["description"], PLAIN)])
    if quality.get("docs"):
        rows.append([(texts["quality_docs"], PLAIN), (str(quality["docs"]), PLAIN)])
    return rows
