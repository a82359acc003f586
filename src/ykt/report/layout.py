"""The exceptions workbook's layout (reports/exceptions.yaml) loaded into frozen, validated dataclasses.

The renderer reads everything a person sees of the workbook's form from here: sheet order and names,
columns with their Chinese headers, kinds and widths, styles, print setup and the summary's texts.
Every mistake in the file is reported at once, each with its file and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ykt.cases import CASE_FIELDS
from ykt.config import ConfigProblems, read_yaml
from ykt.errors import ConfigError, ConfigProblem
from ykt.labels import KPI_LABELS
from ykt.report.model import COVERAGE_COLUMNS, FINDING_DISPLAY_COLUMNS, PRIORITY_COLUMNS

# The kinds the xlsx writer can write: text as text, date as an Excel date, the others as numbers.
CELL_KINDS = ("text", "general", "int", "amount", "date", "percent", "days")
# What each sheet content offers its columns: the report's frames (a rule sheet's findings without
# their rule; cases and clues with their rule's title and status in Chinese).
_CASE_SHEET_FIELDS = (*CASE_FIELDS, "rule_title", "status_label")
_RULE_SHEET_FIELDS = tuple(f for f in FINDING_DISPLAY_COLUMNS if f != "rule")
CONTENT_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "rules": _RULE_SHEET_FIELDS,
        "batch_members": (*_RULE_SHEET_FIELDS, "batch"),
        "priorities": tuple(dict.fromkeys((*PRIORITY_COLUMNS, *_CASE_SHEET_FIELDS))),
        "cases": _CASE_SHEET_FIELDS,
        "clues": _CASE_SHEET_FIELDS,
        "coverage": COVERAGE_COLUMNS,
        "trend": ("on_date", "opened", "resolved"),
    }
)
SHEET_CONTENTS = (
    *("overview", "summary", "priorities", "coverage", "rules", "batch_members", "cases", "clues", "trend"),
)
ROUTES = ("complaint", "clue", "record")
# What each packaged workbook must hold (a layout file may order them, not drop them).
EXCEPTIONS_CONTENTS = (
    "overview",
    "summary",
    "priorities",
    "coverage",
    "rules",
    "batch_members",
    "cases",
    "trend",
)
CLUES_CONTENTS = ("clues", "rules")
OVERVIEW_TEXTS = (
    *("title", "as_of", "health", "health_see", "covered", "covered_text"),
    *("figures", "new", "open", "escalated", "resolved", "at_stake", "in_question"),
    *("kpis", "kpis_missing", "department", "total", "rules", "rule", "count"),
    *("townships", "township", "cases", "amount", "none"),
    *("chart_rules", "chart_townships", "chart_trend", "trend_opened", "trend_resolved"),
)
STYLE_NAMES = ("title", "section", "header", "column_header")
SUMMARY_TEXTS = (
    *("title", "as_of", "started", "finished", "health", "health_see"),
    *("files", "files_total", "rules", "total", "cases"),
    *("kpis", "kpis_missing", "quality", "quality_missing", "quality_passed", "quality_failed"),
    *("quality_failure", "quality_docs"),
)
# The summary's tables and how many columns each shows.
SUMMARY_TABLES: Mapping[str, int] = MappingProxyType(
    {"files": 7, "rules": 3, "cases": 2, "kpis": 1, "quality": 6}
)
PAPER_SIZES: Mapping[str, str] = MappingProxyType({"A4": "9", "A3": "8"})  # Excel's paperSize codes
ALIGNMENTS = ("left", "center", "right", "top", "bottom")
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FILL = re.compile(r"[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class CellKind:
    name: str
    number_format: str | None  # None: Excel's General
    width: float | None  # None: as wide as the longest value


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the frame's field, its Chinese header, how its cells are written."""

    field: str
    header: str
    kind: CellKind
    wrap: bool = False  # long text wraps within the column's width (so a printed page stays legible)


@dataclass(frozen=True)
class CellStyle:
    bold: bool = False
    size: float | None = None
    fill: str | None = None  # RGB hex of a solid fill
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool = False  # long headers wrap instead of running into the next column


@dataclass(frozen=True)
class PrintSetup:
    orientation: str
    paper_size: str
    fit_to_width: int
    fit_to_height: int


@dataclass(frozen=True)
class ColumnWidth:
    padding: float
    max: float


@dataclass(frozen=True)
class SummaryLayout:
    name: str
    repeat_header: bool
    widths: tuple[float, ...]
    texts: Mapping[str, str]
    headers: Mapping[str, tuple[str, ...]]
    kpi_columns: tuple[Column, ...]  # headed by ykt.labels.KPI_LABELS

    @property
    def content(self) -> str:
        return "summary"


@dataclass(frozen=True)
class ChartSize:
    width: float  # cm
    height: float  # cm


@dataclass(frozen=True)
class OverviewLayout:
    """概览: the night on one page: headline figures, KPIs per department, findings by rule and money by
    township as small tables, and three native charts under them (the trend from the trend sheet)."""

    name: str
    widths: tuple[float, ...]
    texts: Mapping[str, str]
    kpi_columns: tuple[Column, ...]  # headed by ykt.labels.KPI_LABELS
    top_townships: int
    chart: ChartSize

    @property
    def content(self) -> str:
        return "overview"

    @property
    def repeat_header(self) -> bool:
        return False


@dataclass(frozen=True)
class DataSheetLayout:
    content: str  # priorities | coverage | rules | batch_members | cases | clues | trend
    name: str  # rule sheets are named by their rule's title, and this only when a title leaves nothing
    repeat_header: bool
    columns: tuple[Column, ...]
    routes: tuple[str, ...] = ROUTES  # rule sheets: the routes of the rules this workbook shows
    one_page: bool = False  # a short sheet printed on one page (fitted down as well as across)


SheetLayout = OverviewLayout | SummaryLayout | DataSheetLayout


@dataclass(frozen=True)
class WorkbookLayout:
    source: str
    sheets: tuple[SheetLayout, ...]
    kinds: Mapping[str, CellKind]
    styles: Mapping[str, CellStyle]
    print_setup: PrintSetup
    column_width: ColumnWidth

    @property
    def fixed_names(self) -> frozenset[str]:
        """The names of the sheets that are not named by a rule (a rule sheet may not take one)."""
        return frozenset(s.name for s in self.sheets if not _is_rule_sheets(s))

    def sheet_named(self, content: str) -> str | None:
        """The name of the sheet showing `content`, if this workbook has one."""
        return next((s.name for s in self.sheets if s.content == content), None)


def _is_rule_sheets(sheet: SheetLayout) -> bool:
    return isinstance(sheet, DataSheetLayout) and sheet.content == "rules"


def default_layout_path(name: str = "exceptions.yaml") -> Path:
    return Path(str(resources.files("ykt.reports").joinpath(name)))


@cache
def default_layout() -> WorkbookLayout:
    """The packaged exceptions workbook's layout, read once per process."""
    return load_layout(default_layout_path())


@cache
def clues_layout() -> WorkbookLayout:
    """The packaged clues workbook's layout (reports/clues.yaml), read once per process."""
    return load_layout(default_layout_path("clues.yaml"), required=CLUES_CONTENTS)


def load_layout(
    path: Path | None = None, *, required: tuple[str, ...] = EXCEPTIONS_CONTENTS
) -> WorkbookLayout:
    """Load and validate a workbook layout (default: the packaged reports/exceptions.yaml), which must
    hold a sheet of each `required` content."""
    path = Path(path) if path else default_layout_path()
    p = ConfigProblems(str(path))
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(
            [ConfigProblem(str(path), "-", "应为包含 kinds、styles、print、sheets 等部分的映射")]
        )
    _unknown_keys(p, raw, "", ("kinds", "column_width", "styles", "print", "sheets"))
    kinds = _kinds(p, raw.get("kinds"))
    layout = WorkbookLayout(
        source=str(path),
        sheets=_sheets(p, raw.get("sheets"), kinds, required),
        kinds=MappingProxyType(kinds),
        styles=_styles(p, raw.get("styles")),
        print_setup=_print_setup(p, _mapping(p, raw.get("print"), "print")),
        column_width=_column_width(p, _mapping(p, raw.get("column_width"), "column_width")),
    )
    p.raise_if_any()
    return layout


# -- sections --------------------------------------------------------------------------------------


def _kinds(p: ConfigProblems, raw: Any) -> dict[str, CellKind]:
    kinds: dict[str, CellKind] = {}
    for name, body in _mapping(p, raw, "kinds").items():
        key = f"kinds.{name}"
        if name not in CELL_KINDS:
            p.add(key, f"未知类型；可用：{', '.join(CELL_KINDS)}")
            continue
        body = _mapping(p, body, key)
        _unknown_keys(p, body, key, ("format", "width"))
        number_format = _str(p, body, "format", key, required=False)
        kinds[name] = CellKind(name, number_format, _width(p, body, "width", key, required=False))
    return kinds


def _styles(p: ConfigProblems, raw: Any) -> Mapping[str, CellStyle]:
    styles: dict[str, CellStyle] = {}
    raw = _mapping(p, raw, "styles")
    _unknown_keys(p, raw, "styles", STYLE_NAMES)
    for name in STYLE_NAMES:
        key = f"styles.{name}"
        if name not in raw:
            p.add(key, "缺少必填项 (required)")
        body = _mapping(p, raw.get(name, {}), key)
        _unknown_keys(p, body, key, ("bold", "size", "fill", "horizontal", "vertical", "wrap"))
        fill = _str(p, body, "fill", key, required=False)
        if fill is not None and not _FILL.fullmatch(fill):
            p.add(f"{key}.fill", f"应为六位十六进制颜色，如 DDEBF7，实际为 {fill!r}")
        styles[name] = CellStyle(
            bold=_bool(p, body, "bold", key, required=False),
            size=_width(p, body, "size", key, required=False),
            fill=fill,
            horizontal=_choice(p, body, "horizontal", key, ALIGNMENTS, required=False),
            vertical=_choice(p, body, "vertical", key, ALIGNMENTS, required=False),
            wrap=_bool(p, body, "wrap", key, required=False),
        )
    return MappingProxyType(styles)


def _print_setup(p: ConfigProblems, raw: dict[str, Any]) -> PrintSetup:
    _unknown_keys(p, raw, "print", ("orientation", "paper", "fit_to_width", "fit_to_height"))
    paper = _choice(p, raw, "paper", "print", tuple(PAPER_SIZES), required=True)
    return PrintSetup(
        orientation=_choice(p, raw, "orientation", "print", ("landscape", "portrait"), required=True) or "",
        paper_size=PAPER_SIZES.get(paper or "", ""),
        fit_to_width=_count(p, raw, "fit_to_width", "print"),
        fit_to_height=_count(p, raw, "fit_to_height", "print"),
    )


def _column_width(p: ConfigProblems, raw: dict[str, Any]) -> ColumnWidth:
    _unknown_keys(p, raw, "column_width", ("padding", "max"))
    padding = _float(p, raw, "padding", "column_width", required=True) or 0.0
    if padding < 0:
        p.add("column_width.padding", f"不能为负数，实际为 {padding!r}")
    return ColumnWidth(float(padding), _width(p, raw, "max", "column_width", required=True) or 0.0)


# -- sheets ----------------------------------------------------------------------------------------


def _sheets(
    p: ConfigProblems, raw: Any, kinds: Mapping[str, CellKind], required: tuple[str, ...]
) -> tuple[SheetLayout, ...]:
    if not isinstance(raw, list) or not raw:
        p.add("sheets", "应为非空的工作表列表")
        return ()
    sheets: dict[int, SheetLayout] = {}
    for i, body in enumerate(raw):
        key = f"sheets[{i}]"
        body = _mapping(p, body, key)
        content = _choice(p, body, "content", key, SHEET_CONTENTS, required=True)
        if content == "summary":
            sheets[i] = _summary(p, body, key, kinds)
        elif content == "overview":
            sheets[i] = _overview(p, body, key, kinds)
        elif content is not None:
            sheets[i] = _data_sheet(p, body, key, content, kinds)
    _check_unique(p, "content", {i: s.content for i, s in sheets.items()})
    _check_unique(p, "name", {i: s.name for i, s in sheets.items() if not _is_rule_sheets(s)})
    for content in sorted(set(required) - {s.content for s in sheets.values()}):
        p.add("sheets", f"缺少 content: {content} 的工作表")
    return tuple(sheets.values())


def _check_unique(p: ConfigProblems, what: str, values: Mapping[int, str]) -> None:
    seen: dict[str, int] = {}
    for i, value in values.items():
        if value in seen:
            p.add(f"sheets[{i}].{what}", f"与 sheets[{seen[value]}] 重复：{value}")
        seen.setdefault(value, i)


def _data_sheet(
    p: ConfigProblems, raw: dict[str, Any], key: str, content: str, kinds: Mapping[str, CellKind]
) -> DataSheetLayout:
    name_key = "name_if_blank" if content == "rules" else "name"
    extra = ("routes",) if content == "rules" else ()
    _unknown_keys(p, raw, key, ("content", name_key, "repeat_header", "columns", "one_page", *extra))
    columns_raw = raw.get("columns")
    if not isinstance(columns_raw, list) or not columns_raw:
        p.add(f"{key}.columns", "应为非空的列列表")
        columns_raw = []
    columns = tuple(
        _column(p, column, f"{key}.columns[{j}]", CONTENT_FIELDS[content], kinds)
        for j, column in enumerate(columns_raw)
    )
    fields = [c.field for c in columns]
    for j, field in enumerate(fields):
        if field in fields[:j]:
            p.add(f"{key}.columns[{j}].field", f"字段重复：{field}")
    return DataSheetLayout(
        content=content,
        name=_sheet_name(p, raw, name_key, key),
        repeat_header=_bool(p, raw, "repeat_header", key, required=True),
        columns=columns,
        routes=_routes(p, raw.get("routes", list(ROUTES)), f"{key}.routes"),
        one_page=_bool(p, raw, "one_page", key, required=False),
    )


def _routes(p: ConfigProblems, raw: Any, key: str) -> tuple[str, ...]:
    routes = p.strings(raw, key)
    for route in routes:
        if route not in ROUTES:
            p.add(key, f"未知路由 {route}；可用：{', '.join(ROUTES)}")
    return routes


def _overview(
    p: ConfigProblems, raw: dict[str, Any], key: str, kinds: Mapping[str, CellKind]
) -> OverviewLayout:
    known = ("content", "name", "widths", "texts", "kpi_columns", "top_townships", "chart")
    _unknown_keys(p, raw, key, known)
    widths = raw.get("widths")
    if not isinstance(widths, list) or not widths:
        p.add(f"{key}.widths", "应为非空的列宽列表")
        widths = []
    texts = _mapping(p, raw.get("texts"), f"{key}.texts")
    _unknown_keys(p, texts, f"{key}.texts", OVERVIEW_TEXTS)
    chart = _mapping(p, raw.get("chart"), f"{key}.chart")
    _unknown_keys(p, chart, f"{key}.chart", ("width", "height"))
    kpis = raw.get("kpi_columns")
    if not isinstance(kpis, list) or not kpis:
        p.add(f"{key}.kpi_columns", "应为非空的指标列表")
        kpis = []
    return OverviewLayout(
        name=_sheet_name(p, raw, "name", key),
        widths=tuple(_positive(p, w, f"{key}.widths[{j}]") for j, w in enumerate(widths)),
        texts=MappingProxyType(
            {t: _str(p, texts, t, f"{key}.texts", required=True) or "" for t in OVERVIEW_TEXTS}
        ),
        kpi_columns=tuple(
            _column(p, c, f"{key}.kpi_columns[{j}]", tuple(KPI_LABELS), kinds, headers=KPI_LABELS)
            for j, c in enumerate(kpis)
        ),
        top_townships=_count(p, raw, "top_townships", key) or 10,
        chart=ChartSize(
            _width(p, chart, "width", f"{key}.chart", required=True) or 9.0,
            _width(p, chart, "height", f"{key}.chart", required=True) or 7.0,
        ),
    )


def _column(
    p: ConfigProblems,
    raw: Any,
    key: str,
    fields: tuple[str, ...],
    kinds: Mapping[str, CellKind],
    *,
    headers: Mapping[str, str] | None = None,
) -> Column:
    """A column; headed by its `header`, or by `headers` (labels kept in ykt.labels) when given."""
    raw = _mapping(p, raw, key)
    _unknown_keys(
        p, raw, key, ("field", "kind", "width") if headers else ("field", "header", "kind", "width", "wrap")
    )
    field = _str(p, raw, "field", key, required=True) or ""
    if field and field not in fields:
        p.add(f"{key}.field", f"未知字段 {field}；可用：{', '.join(fields)}")
    kind = _kind(p, raw, key, kinds)
    width = _width(p, raw, "width", key, required=False)
    if width is not None:
        kind = CellKind(kind.name, kind.number_format, width)
    header = headers.get(field, "") if headers else _str(p, raw, "header", key, required=True) or ""
    wrap = _bool(p, raw, "wrap", key, required=False)
    if wrap and width is None:
        p.add(f"{key}.wrap", "换行的列须同时给出 width（列宽）")
    return Column(field, header, kind, wrap)


def _summary(
    p: ConfigProblems, raw: dict[str, Any], key: str, kinds: Mapping[str, CellKind]
) -> SummaryLayout:
    _unknown_keys(
        p, raw, key, ("content", "name", "repeat_header", "widths", "texts", "headers", "kpi_columns")
    )
    widths = raw.get("widths")
    if not isinstance(widths, list) or not widths:
        p.add(f"{key}.widths", "应为非空的列宽列表")
        widths = []
    kpis = raw.get("kpi_columns")
    if not isinstance(kpis, list) or not kpis:
        p.add(f"{key}.kpi_columns", "应为非空的指标列表")
        kpis = []
    return SummaryLayout(
        name=_sheet_name(p, raw, "name", key),
        repeat_header=_bool(p, raw, "repeat_header", key, required=True),
        widths=tuple(_positive(p, w, f"{key}.widths[{j}]") for j, w in enumerate(widths)),
        texts=_summary_texts(p, _mapping(p, raw.get("texts"), f"{key}.texts"), f"{key}.texts"),
        headers=_summary_headers(p, _mapping(p, raw.get("headers"), f"{key}.headers"), f"{key}.headers"),
        kpi_columns=tuple(
            _column(p, c, f"{key}.kpi_columns[{j}]", tuple(KPI_LABELS), kinds, headers=KPI_LABELS)
            for j, c in enumerate(kpis)
        ),
    )


def _summary_texts(p: ConfigProblems, raw: dict[str, Any], key: str) -> Mapping[str, str]:
    _unknown_keys(p, raw, key, SUMMARY_TEXTS)
    texts = {name: _str(p, raw, name, key, required=True) or "" for name in SUMMARY_TEXTS}
    try:
        texts["files_total"].format(files=0)
    except (KeyError, IndexError, ValueError):
        p.add(f"{key}.files_total", "只能使用占位符 {files}（文件个数）")
    return MappingProxyType(texts)


def _summary_headers(p: ConfigProblems, raw: dict[str, Any], key: str) -> Mapping[str, tuple[str, ...]]:
    _unknown_keys(p, raw, key, tuple(SUMMARY_TABLES))
    headers: dict[str, tuple[str, ...]] = {}
    for table, count in SUMMARY_TABLES.items():
        headers[table] = p.strings(raw.get(table), f"{key}.{table}")
        if headers[table] and len(headers[table]) != count:
            p.add(f"{key}.{table}", f"应有 {count} 个列标题，实际 {len(headers[table])} 个")
    return MappingProxyType(headers)


# -- values ----------------------------------------------------------------------------------------


def _mapping(p: ConfigProblems, raw: Any, key: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    p.add(key or "-", f"应为映射（键: 值），实际为 {raw!r}")
    return {}


def _unknown_keys(p: ConfigProblems, raw: dict[str, Any], key: str, known: tuple[str, ...]) -> None:
    for unknown in sorted(set(raw) - set(known), key=str):
        p.add(f"{key}.{unknown}" if key else str(unknown), f"未知字段；可用字段：{', '.join(known)}")


def _kind(p: ConfigProblems, raw: dict[str, Any], key: str, kinds: Mapping[str, CellKind]) -> CellKind:
    name = _str(p, raw, "kind", key, required=True) or "text"
    if name not in kinds:
        p.add(f"{key}.kind", f"未知类型 {name}；可用：{', '.join(kinds)}")
        return CellKind(name, None, None)
    return kinds[name]


def _width(p: ConfigProblems, raw: dict[str, Any], name: str, key: str, *, required: bool) -> float | None:
    value = _float(p, raw, name, key, required=required)
    return None if value is None else _positive(p, value, f"{key}.{name}")


def _positive(p: ConfigProblems, value: Any, key: str) -> float:
    """A column width (or font size): a number above 0 and at most 255, Excel's widest column."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 255:
        p.add(key, f"应为 0 到 255 之间的正数，实际为 {value!r}")
        return 0.0
    return float(value)


def _count(p: ConfigProblems, raw: dict[str, Any], name: str, key: str) -> int:
    value = p.get(raw, name, key, int, default=0)
    if not isinstance(value, int) or value < 0:
        p.add(f"{key}.{name}", f"不能为负数，实际为 {value!r}")
        return 0
    return value


# ConfigProblems.get checks a value's type and records a problem; these give mypy the type it checked.


def _str(p: ConfigProblems, raw: dict[str, Any], name: str, key: str, *, required: bool) -> str | None:
    value = p.get(raw, name, key, str, required=required)
    return value if isinstance(value, str) else None


def _bool(p: ConfigProblems, raw: dict[str, Any], name: str, key: str, *, required: bool) -> bool:
    return p.get(raw, name, key, bool, required=required) is True


def _float(p: ConfigProblems, raw: dict[str, Any], name: str, key: str, *, required: bool) -> float | None:
    value = p.get(raw, name, key, float, required=required)
    return float(value) if isinstance(value, (int, float)) else None


def _choice(
    p: ConfigProblems, raw: dict[str, Any], name: str, key: str, choices: tuple[str, ...], *, required: bool
) -> str | None:
    value = _str(p, raw, name, key, required=required)
    if value is not None and value not in choices:
        p.add(f"{key}.{name}", f"应为 {' / '.join(choices)} 之一，实际为 {value!r}")
        return None
    return value


def _sheet_name(p: ConfigProblems, raw: dict[str, Any], name: str, key: str) -> str:
    """Excel's rule for a sheet name: 1 to 31 characters, none of []:*?/\\."""
    value = _str(p, raw, name, key, required=True) or ""
    if value and (len(value) > 31 or SHEET_NAME_FORBIDDEN.search(value)):
        p.add(f"{key}.{name}", f"工作表名称最多 31 个字符，且不能含 []:*?/\\：{value!r}")
    return str(value)
