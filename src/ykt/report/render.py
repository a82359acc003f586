"""Rendering a `Report` into the night's output files. No queries and no masking here:
`ykt.report.model` already made every value what its reader may see.

Every file is written atomically (a temporary file in the same folder, then os.replace),
so a reader never sees half a report. Contracts (issue 2):

- discrepancies.csv / rejects.csv: UTF-8 with BOM (Excel opens them), ISO dates, amounts as 1350.00.
- cases.jsonl / clues.jsonl: one object per line, sorted by case_id, UTF-8 (not \\u-escaped), dates ISO,
  `amount` a JSON number written with exactly two decimals (171520.00). Each line is byte for byte the
  payload `ykt.cases.lifecycle` queues for the platform (one definition of a case object). No timestamps inside:
  re-running a night is byte-identical.
- run.json: the run's accounting (files, findings per rule, cases, KPIs, data quality).
- exceptions.xlsx: the inspectors' workbook (see `write_exceptions_xlsx`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
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
from ykt.report.model import DISCREPANCY_COLUMNS, REJECT_COLUMNS, Report

OUTPUT_NAMES = (
    "discrepancies.csv",
    "cases.jsonl",
    "clues.jsonl",
    "rejects.csv",
    "run.json",
    "exceptions.xlsx",
)


AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01 (polars Date counts days from it)
MAX_CELL_TEXT = 32767  # Excel's limit on one cell's text


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write every output of one night into out_dir; returns output name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Path], None]] = {
        "discrepancies.csv": lambda p: _write_csv(report.discrepancies.select(DISCREPANCY_COLUMNS), p),
        "cases.jsonl": lambda p: _write_lines(report.case_lines, p),
        "clues.jsonl": lambda p: _write_lines(report.clue_lines, p),
        "rejects.csv": lambda p: _write_csv(report.rejects.select(REJECT_COLUMNS), p),
        "run.json": lambda p: p.write_text(render_run_json(report), encoding="utf-8"),
        "exceptions.xlsx": lambda p: write_exceptions_xlsx(report, p),
    }
    return {name: _atomic(out_dir / name, write) for name, write in writers.items()}


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside the target, then rename over it (atomic on one filesystem)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, include_bom=True)


def _write_lines(lines: pl.Series, path: Path) -> None:
    """One text per line, UTF-8, straight from the column's Arrow buffer (no Python string per line)."""
    terminated = lines.to_frame("line").select(pl.concat_str(pl.col("line"), pl.lit("\n"))).to_series()
    path.write_bytes(_arrow_text(terminated.to_arrow()))


# -- run.json --------------------------------------------------------------------------------------


def run_summary(report: Report) -> dict[str, Any]:
    """The content of run.json, as plain data."""
    files = [asdict(f) for f in report.files]
    return {
        "run_id": report.run_id,
        "as_of": report.as_of.isoformat(),
        "started": report.started_at.isoformat(timespec="seconds"),
        "finished": report.finished_at.isoformat(timespec="seconds"),
        "files": files,
        "rows": {key: sum(f[f"rows_{key}"] for f in files) for key in ("read", "loaded", "rejected")},
        "findings": {r.code: r.findings for r in report.rules},
        "findings_total": sum(r.findings for r in report.rules),
        "cases": {**report.case_counts.events, "totals": dict(report.case_counts.totals)},
        "kpis": None if report.kpis is None else dict(report.kpis),
        "quality": None if report.quality is None else dict(report.quality),
    }


def render_run_json(report: Report) -> str:
    return json.dumps(run_summary(report), ensure_ascii=False, indent=2, default=_json_value) + "\n"


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"run.json cannot hold a {type(value).__name__}: {value!r}")


# -- exceptions.xlsx: column specs -----------------------------------------------------------------


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


# -- exceptions.xlsx: the workbook -----------------------------------------------------------------


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
    _splice_rows(path, members)


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


# -- exceptions.xlsx: vectorised rows --------------------------------------------------------------

_TEMPLATE_ROW = re.compile(r'<row r="2"[^>]*>.*?</row>', re.S)
_TEMPLATE_CELL = re.compile(r'<c r="([A-Z]+)2"(?: s="(\d+)")?')
_XML_FORBIDDEN = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"
_XML_SPECIAL = r"[&<>\x00-\x08\x0B\x0C\x0E-\x1F]"


def _splice_rows(path: Path, members: Mapping[str, DataSheet]) -> None:
    """Replace each data sheet's template row by its real rows; every other part is copied unchanged."""
    tmp = path.with_name(path.name + ".splice")
    try:
        with (
            zipfile.ZipFile(path) as src,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
        ):
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename not in members:
                    dst.writestr(item, data)
                    continue
                with dst.open(item.filename, "w") as sheet_xml:
                    for part in _sheet_parts(data.decode("utf-8"), members[item.filename]):
                        sheet_xml.write(part)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sheet_parts(sheet_xml: str, sheet: DataSheet) -> tuple[bytes, bytes, bytes]:
    """The sheet XML before the template row, the data rows, and the rest."""
    template = _TEMPLATE_ROW.search(sheet_xml)
    if template is None:  # openpyxl changed its output: fail loudly rather than write a wrong report
        raise RuntimeError(f"exceptions.xlsx: template row not found in sheet {sheet.name!r}")
    styles = dict(_TEMPLATE_CELL.findall(template.group(0)))
    letters = [get_column_letter(i) for i in range(1, len(sheet.columns) + 1)]
    rows = rows_xml(sheet.frame, sheet.columns, [styles.get(letter) or None for letter in letters])
    return sheet_xml[: template.start()].encode("utf-8"), rows, sheet_xml[template.end() :].encode("utf-8")


def rows_xml(frame: pl.DataFrame, columns: Sequence[Column], styles: Sequence[str | None]) -> memoryview:
    """SpreadsheetML <row> elements (UTF-8) for every row of frame (from sheet row 2), built column-wise.

    The cell values are computed once; each row is then ONE concat_str whose pieces inline the cells of
    columns without empty values (only a column with empty values needs a cell of its own, dropped when
    empty). The rows' Arrow buffer already holds them end to end, so the result is a view of it: no
    join into one giant string and no copy into Python bytes (together 2/3 of the time before).
    """
    if frame.height == 0:
        return memoryview(b"")
    passes = _text_passes(frame, columns)
    values = frame.select(
        (pl.int_range(2, pl.len() + 2)).cast(pl.Utf8).alias(_ROW_NUMBER),
        *[_cell_value(c, frame.schema[c.key], passes[i]).alias(f"_v{i}") for i, c in enumerate(columns)],
    )
    number = pl.col(_ROW_NUMBER)
    pieces: list[pl.Expr] = [pl.lit('<row r="'), number, pl.lit('">')]
    for i, (column, style) in enumerate(zip(columns, styles)):
        value = f"_v{i}"
        cell = _cell_pieces(pl.col(value), get_column_letter(i + 1), style, column.kind, number)
        pieces += [pl.concat_str(cell).fill_null("")] if values.get_column(value).null_count() else cell
    rows = values.select(pl.concat_str([*pieces, pl.lit("</row>")])).to_series().to_arrow()
    return _arrow_text(rows)


_ROW_NUMBER = "_row_number"


def _arrow_text(strings) -> memoryview:
    """The characters of a non-null Arrow large_string array laid end to end (its data buffer), uncopied."""
    if len(strings) == 0:
        return memoryview(b"")
    _, offsets, data = strings.buffers()
    offsets = memoryview(offsets).cast("B").cast("q")  # large_string: 64-bit offsets
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(data).cast("B")[first:last]


def _cell_pieces(
    value: pl.Expr, letter: str, style: str | None, kind: str, row_number: pl.Expr
) -> list[pl.Expr]:
    """The pieces of one cell's XML; concatenated, null when the value is (an empty cell is not written,
    as Excel does)."""
    style_attr = f' s="{style}"' if style else ""
    if kind == "text":
        head, tail = f'"{style_attr} t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>"
    else:
        head, tail = f'"{style_attr}><v>', "</v></c>"
    return [pl.lit(f'<c r="{letter}'), row_number, pl.lit(head), value, pl.lit(tail)]


def _text_passes(frame: pl.DataFrame, columns: Sequence[Column]) -> list[tuple[bool, bool]]:
    """Per column: does any text exceed Excel's cell limit, does any need XML escaping? One scan of the
    sheet decides, so the usual column of plain names and places skips both passes."""
    checks = []
    for i, c in enumerate(columns):
        text = pl.col(c.key).cast(pl.Utf8)
        long = (text.str.len_bytes().max() > MAX_CELL_TEXT) if c.kind == "text" else pl.lit(False)
        special = text.str.contains(_XML_SPECIAL).any() if c.kind == "text" else pl.lit(False)
        checks += [long.fill_null(False).alias(f"long{i}"), special.fill_null(False).alias(f"special{i}")]
    flags = frame.select(checks).row(0)
    return [(flags[2 * i], flags[2 * i + 1]) for i in range(len(columns))]


def _cell_value(column: Column, dtype: pl.DataType, text_passes: tuple[bool, bool]) -> pl.Expr:
    """The cell's XML text: escaped strings, plain numbers, dates as Excel serial days; null when empty."""
    expr = pl.col(column.key)
    if column.kind == "text":
        return _xml_text(expr.cast(pl.Utf8), *text_passes)
    if column.kind == "date":
        as_date = expr.str.to_date("%Y-%m-%d") if dtype == pl.Utf8 else expr.cast(pl.Date)
        return (as_date.cast(pl.Int32) + EXCEL_EPOCH_OFFSET).cast(pl.Utf8)
    if column.kind == "int":
        return expr.cast(pl.Int64).cast(pl.Utf8)
    return expr.cast(pl.Float64).cast(pl.Utf8)


def _xml_text(expr: pl.Expr, too_long: bool, needs_escaping: bool) -> pl.Expr:
    """Text as XML character data (cut to Excel's limit, control characters dropped, &<> escaped),
    null when empty; a pass runs only when the column needs it."""
    if too_long:
        expr = expr.str.slice(0, MAX_CELL_TEXT)
    if needs_escaping:
        expr = (
            expr.str.replace_all(_XML_FORBIDDEN, "")
            .str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True)
        )
    return pl.when(expr != "").then(expr)


# -- exceptions.xlsx: the 汇总 sheet ----------------------------------------------------------------


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
    counts = report.case_counts
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
