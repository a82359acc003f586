"""exceptions.xlsx: the inspectors' workbook (the 汇总 sheet, one sheet per rule with findings, 案件, 线索)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ykt.labels import (
    BATCH_LABELS,
    CASE_STATUS_LABELS,
    CASE_TOTAL_LABELS,
    FILE_STATUS_LABELS,
    KPI_LABELS,
    NIGHT_EVENT_LABELS,
)
from ykt.report.model import Report
from ykt.report.xlsx_rows import splice_rows

AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


# -- column specs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a data sheet: frame column, Chinese header, how its cells are typed."""

    key: str
    header: str
    kind: str = "text"  # text | amount | int | date | percent | days


NUMBER_FORMATS = {"amount": AMOUNT_FORMAT, "int": "0", "date": DATE_FORMAT, "percent": "0.0%", "days": "0.0"}
FIXED_WIDTHS = {"amount": 14.0, "int": 10.0, "date": 12.0, "percent": 10.0, "days": 12.0}

FINDING_SHEET_COLUMNS = (
    Column("case_id", "案件编号"),
    Column("program_name", "补贴项目"),
    Column("period", "期间"),
    Column("id_masked", "身份证号码"),
    Column("name", "姓名"),
    Column("card_masked", "卡号/账号"),
    Column("township", "乡镇(街道)"),
    Column("village", "村(社区)"),
    Column("group", "村民小组"),
    Column("amount_due", "应发金额", "amount"),
    Column("amount_paid", "实发金额", "amount"),
    Column("due_date", "应发日期", "date"),
    Column("paid_date", "发放日期", "date"),
    Column("days_overdue", "逾期天数", "int"),
    Column("detail", "说明"),
)
CASE_SHEET_COLUMNS = (
    Column("case_id", "案件编号"),
    Column("rule_title", "问题类型"),
    Column("program_name", "补贴项目"),
    Column("period", "期间"),
    Column("township", "乡镇(街道)"),
    Column("village", "村(社区)"),
    Column("group", "村民小组"),
    Column("persons", "涉及人数", "int"),
    Column("amount", "涉及金额", "amount"),
    Column("department", "承办部门"),
    Column("supervisor", "监督主体"),
    Column("opened_on", "立案日期", "date"),
    Column("deadline", "办理期限", "date"),
    Column("status_label", "状态"),
    Column("resolved_on", "办结日期", "date"),
    Column("summary", "摘要"),
)
# The KPI columns of the 汇总 sheet (labels from ykt.cases.lifecycle) and their cell styles. Days to resolve is the
# median, as issue 4 and ykt.cases.lifecycle define it.
KPI_SHEET_COLUMNS = (
    ("opened", "plain"),
    ("resolved", "plain"),
    ("resolution_rate", "percent"),
    ("median_days_to_resolve", "days"),
    ("escalated", "plain"),
    ("amount_at_stake", "amount"),
    ("amount_recovered", "amount"),
)

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class DataSheet:
    name: str
    columns: tuple[Column, ...]
    frame: pl.DataFrame


def data_sheets(report: Report) -> list[DataSheet]:
    """The data sheets after 汇总: one per rule with findings (Chinese title), then 案件 and 线索."""
    used = {"汇总", "案件", "线索"}
    by_rule = report.findings.partition_by("rule", as_dict=True, include_key=False)
    sheets = []
    for rule in report.rules:
        frame = by_rule.get((rule.code,))
        if frame is not None and frame.height:
            sheets.append(DataSheet(_sheet_name(rule.title, used), FINDING_SHEET_COLUMNS, frame))
    for name, frame in (("案件", report.cases), ("线索", report.clues)):
        sheets.append(DataSheet(name, CASE_SHEET_COLUMNS, _case_display(frame, report.rule_titles)))
    return sheets


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_NAME_FORBIDDEN.sub("_", title).strip("'")[:31] or "规则"
    name, n = base, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _case_display(cases: pl.DataFrame, rule_titles: Mapping[str, str]) -> pl.DataFrame:
    return cases.with_columns(
        rule_title=pl.col("rule").replace_strict(
            dict(rule_titles), default=pl.col("rule"), return_dtype=pl.Utf8
        ),
        status_label=pl.col("status").replace_strict(
            CASE_STATUS_LABELS, default=pl.col("status"), return_dtype=pl.Utf8
        ),
    )


# -- the workbook ----------------------------------------------------------------------------------


def write_exceptions_xlsx(report: Report, path: Path) -> None:
    """The inspectors' workbook.

    openpyxl (write-only) renders everything a person sees as layout: the 汇总 sheet, the headers, styles,
    number formats, widths, frozen header rows and filters, and one template data row per sheet. The data
    rows themselves are generated as sheet XML by vectorised polars expressions and spliced in place of the
    template row, reusing the style ids openpyxl gave it: openpyxl's per-cell writer needs ~15 s for 50k
    findings on this machine, the splice well under a second.
    """
    sheets = data_sheets(report)
    wb = openpyxl.Workbook(write_only=True)
    _summary_sheet(wb, report)
    for sheet in sheets:
        _data_sheet_layout(wb, sheet)
    wb.save(path)
    members = {f"xl/worksheets/sheet{i}.xml": sheet for i, sheet in enumerate(sheets, start=2)}
    splice_rows(path, members)


def _data_sheet_layout(wb: openpyxl.Workbook, sheet: DataSheet) -> None:
    ws = wb.create_sheet(sheet.name)
    last = get_column_letter(len(sheet.columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{sheet.frame.height + 1}"
    for i, width in enumerate(_column_widths(sheet.frame, sheet.columns), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _printable(ws, repeat_header=True)
    ws.append([_header_cell(ws, c.header) for c in sheet.columns])
    ws.append([_template_cell(ws, c.kind) for c in sheet.columns])


def _printable(ws, *, repeat_header: bool) -> None:
    """Inspectors print these: landscape, all columns on one page width, the header on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        ws.print_title_rows = "1:1"


def _header_cell(ws, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center")
    return cell


def _template_cell(ws, kind: str) -> WriteOnlyCell:
    """A placeholder whose only purpose is to carry the column's style id into the saved XML."""
    cell = WriteOnlyCell(ws, value=0)
    if kind in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[kind]
    return cell


def _column_widths(frame: pl.DataFrame, columns: Sequence[Column]) -> list[float]:
    """Wide enough for the header and the longest value (CJK characters count double), at most 60."""
    text_keys = [c.key for c in columns if c.kind == "text"]
    longest = (
        frame.select([_display_width(pl.col(k).cast(pl.Utf8)).max().alias(k) for k in text_keys]).row(
            0, named=True
        )
        if frame.height
        else {}
    )
    widths = []
    for c in columns:
        header = _text_width(c.header)
        data = FIXED_WIDTHS.get(c.kind) or float(longest.get(c.key) or 0)
        widths.append(min(max(header, data) + 2.0, 60.0))
    return widths


def _display_width(expr: pl.Expr) -> pl.Expr:
    # UTF-8: ASCII is 1 byte (width 1), CJK is 3 bytes (width 2): (bytes + chars) / 2.
    return (expr.str.len_bytes() + expr.str.len_chars()) / 2


def _text_width(text: str) -> float:
    return (len(text.encode("utf-8")) + len(text)) / 2


# -- the 汇总 sheet ---------------------------------------------------------------------------------


def _summary_sheet(wb: openpyxl.Workbook, report: Report) -> None:
    """Run date, file and row accounting, findings per rule, cases, KPIs per department, data quality."""
    ws = wb.create_sheet("汇总")
    for letter, width in zip("ABCDEFGH", (34, 22, 22, 12, 14, 12, 16, 16)):
        ws.column_dimensions[letter].width = width
    _printable(ws, repeat_header=False)
    for row in summary_rows(report):
        ws.append([_summary_cell(ws, value, style) for value, style in row])


Cell = tuple[Any, str]  # (value, style: plain | title | section | header | amount | percent | days | date)


def summary_rows(report: Report) -> list[list[Cell]]:
    """The 汇总 sheet as rows of (value, style); pure so it can be tested and reused."""
    return [
        [("一卡通惠民惠农补贴发放核对 稽查报告", "title")],
        [("核对基准日", "header"), (report.as_of.isoformat(), "plain")],
        [("运行开始", "header"), (report.started_at.isoformat(sep=" ", timespec="seconds"), "plain")],
        [("运行结束", "header"), (report.finished_at.isoformat(sep=" ", timespec="seconds"), "plain")],
        [],
        *_file_rows(report),
        [],
        *_rule_rows(report),
        [],
        *_case_rows(report),
        [],
        *_kpi_rows(report),
        [],
        *_quality_rows(report),
    ]


def _file_rows(report: Report) -> list[list[Cell]]:
    headers = ("文件名", "类别", "状态", "读取行数", "入库行数", "拒收行数", "原因")
    rows: list[list[Cell]] = [
        [("一、文件与行数核对（读取行数 = 入库行数 + 拒收行数）", "section")],
        [(h, "header") for h in headers],
    ]
    for f in report.files:
        rows.append(
            [
                (f.name, "plain"),
                (BATCH_LABELS.get(f.kind, f.kind), "plain"),
                (FILE_STATUS_LABELS.get(f.status, f.status), "plain"),
                (f.rows_read, "plain"),
                (f.rows_loaded, "plain"),
                (f.rows_rejected, "plain"),
                (f.reason, "plain"),
            ]
        )
    totals = [sum(getattr(f, k) for f in report.files) for k in ("rows_read", "rows_loaded", "rows_rejected")]
    rows.append(
        [
            (f"合计（{len(report.files)} 个文件）", "header"),
            (None, "plain"),
            (None, "plain"),
            *[(t, "header") for t in totals],
        ]
    )
    return rows


def _rule_rows(report: Report) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [("二、发现问题（按规则）", "section")],
        [("规则代码", "header"), ("问题类型", "header"), ("条数", "header")],
    ]
    rows += [[(r.code, "plain"), (r.title, "plain"), (r.findings, "plain")] for r in report.rules]
    rows.append([("合计", "header"), (None, "plain"), (sum(r.findings for r in report.rules), "header")])
    return rows


def _case_rows(report: Report) -> list[list[Cell]]:
    counts = report.case_activity
    rows: list[list[Cell]] = [[("三、案件情况", "section")], [("项目", "header"), ("件数", "header")]]
    rows += [
        [(label, "plain"), (counts.events.get(key, 0), "plain")] for key, label in NIGHT_EVENT_LABELS.items()
    ]
    rows += [
        [(label, "plain"), (counts.totals.get(key, 0), "plain")] for key, label in CASE_TOTAL_LABELS.items()
    ]
    return rows


def _kpi_rows(report: Report) -> list[list[Cell]]:
    """Complaint cases per 承办部门 (one row per department) and the county total."""
    rows: list[list[Cell]] = [[("四、各承办部门办理情况（投诉类案件）", "section")]]
    if report.kpis is None:
        return rows + [[("（本次运行未提供案件办理指标）", "plain")]]
    rows.append([("承办部门", "header"), *[(KPI_LABELS[key], "header") for key, _ in KPI_SHEET_COLUMNS]])
    for figures in report.kpis["departments"]:
        rows.append(
            [(figures["department"], "plain"), *[(figures[key], style) for key, style in KPI_SHEET_COLUMNS]]
        )
    overall = report.kpis["overall"]
    rows.append([("合计", "header"), *[(overall[key], style) for key, style in KPI_SHEET_COLUMNS]])
    return rows


def _quality_rows(report: Report) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[("五、数据质量（Great Expectations）", "section")]]
    quality = report.quality
    if not quality:
        return rows + [[("（本次运行未做数据质量检查）", "plain")]]
    rows.append(
        [
            ("类别", "header"),
            ("批次数", "header"),
            ("行数", "header"),
            ("检查项", "header"),
            ("未通过", "header"),
            ("结论", "header"),
        ]
    )
    for v in quality.get("validations", ()):
        rows.append(
            [
                (BATCH_LABELS.get(v["kind"], v["kind"]), "plain"),
                (v["batches"], "plain"),
                (v["rows"], "plain"),
                (v["expectations"], "plain"),
                (v["failed"], "plain"),
                ("通过" if v["success"] else "未通过", "plain"),
            ]
        )
    for failure in quality.get("failures", ()):
        rows.append([("未通过：", "plain"), (failure["description"], "plain")])
    if quality.get("docs"):
        rows.append([("详细报告", "plain"), (str(quality["docs"]), "plain")])
    return rows


def _summary_cell(ws, value: Any, style: str) -> Any:
    if style == "plain" or value is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    if style == "title":
        cell.font = TITLE_FONT
    elif style == "section":
        cell.font = SECTION_FONT
    elif style == "header":
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    else:
        cell.number_format = NUMBER_FORMATS[style]
    return cell
