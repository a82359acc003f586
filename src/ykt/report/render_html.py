"""report.html: the night as one self-contained page (reports/report.html.j2, Jinja2, autoescaped).

No network and no JS library: CSS inline, the charts as inline SVG whose geometry is computed here, and a
few lines of inline JS to search and sort the case table. The page shows the same overview as the
workbook's 概览, tomorrow's priorities, the complaint cases with each one's history, and why the night
needs attention. Clues stay in clues.xlsx (their readers differ). Printable (@media print in the template).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from ykt.labels import HEALTH_STATUS_LABELS, KPI_LABELS
from ykt.report.html_rows import HtmlCell, escape_expr, history_html, table_rows
from ykt.report.layout import OverviewLayout, default_layout
from ykt.report.model import Report
from ykt.report.render_xlsx import case_display

TEMPLATE = "report.html.j2"
BAR_HEIGHT = 22
CHART_WIDTH = 560
LABEL_WIDTH = 170
TREND_HEIGHT = 200
# 待办 on the page: the first cases to handle (the workbook's 待办 lists them all; the case table below
# holds every case, searchable).
PRIORITIES_SHOWN = 100
# The tables' columns (their headers are in the template, in the same order).
PRIORITY_CELLS = (
    *(
        HtmlCell("novelty"),
        HtmlCell("status_label"),
        HtmlCell("days_overdue", "int"),
        HtmlCell("amount", "money"),
    ),
    *(HtmlCell("rule_title"), HtmlCell("township"), HtmlCell("village"), HtmlCell("department")),
    *(HtmlCell("deadline", "date"), HtmlCell("case_id")),
)
SUMMARY_AND_HISTORY = "summary_history"
CASE_CELLS = (
    *(HtmlCell("case_id"), HtmlCell("rule_title"), HtmlCell("program_name"), HtmlCell("township")),
    *(HtmlCell("village"), HtmlCell("amount", "money", sort_value=True), HtmlCell("department")),
    *(HtmlCell("opened_on", "date"), HtmlCell("deadline", "date"), HtmlCell("status_label")),
    HtmlCell(SUMMARY_AND_HISTORY, "html"),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    height: int


@dataclass(frozen=True)
class TrendChart:
    title: str
    opened: str  # SVG polyline points
    resolved: str
    labels: tuple[tuple[float, str], ...]  # x, date text (every 5th night)
    top: int  # the y axis maximum
    opened_label: str
    resolved_label: str


def write_report_html(report: Report, path: Path) -> None:
    html = _template().render(**report_context(report, _overview_layout()))
    path.write_text(html, encoding="utf-8")


def report_context(report: Report, overview: OverviewLayout) -> dict[str, Any]:
    """Everything the template shows, as plain values (the template only lays them out)."""
    texts = overview.texts
    rules = [r for r in report.rules if r.findings]
    cases = (
        case_display(report.cases, report.rule_titles)
        .join(history_html(report.case_events), on="case_id", how="left", maintain_order="left")
        .with_columns(
            pl.concat_str(
                pl.lit("<details open><summary>"),
                escape_expr(pl.col("summary")),
                pl.lit('</summary><ul class="history">'),
                pl.col("history").fill_null(""),
                pl.lit("</ul></details>"),
            ).alias(SUMMARY_AND_HISTORY)
        )
    )
    towns = report.townships.head(overview.top_townships)
    return {
        "report": report,
        "texts": texts,
        "overview": report.overview,
        "health": HEALTH_STATUS_LABELS[report.health.status],
        "kpi_columns": [(c.field, KPI_LABELS[c.field], c.kind.name) for c in overview.kpi_columns],
        "rules_chart": bar_chart(
            texts["chart_rules"], [(r.title, float(r.findings)) for r in rules], "{:,.0f}"
        ),
        "towns_chart": bar_chart(
            texts["chart_townships"],
            list(zip(towns["township"], towns["amount"].cast(pl.Float64))),
            "{:,.2f}",
        ),
        "trend_chart": trend_chart(report.trend, texts),
        "priority_count": report.priorities.height,
        "priority_shown": min(report.priorities.height, PRIORITIES_SHOWN),
        "priority_rows": Markup(
            table_rows(
                case_display(report.priorities.head(PRIORITIES_SHOWN), report.rule_titles), PRIORITY_CELLS
            )
        ),
        "case_count": cases.height,
        "case_rows": Markup(table_rows(cases, CASE_CELLS)),
        "generated": report.finished_at.isoformat(sep=" ", timespec="seconds"),
    }


def bar_chart(title: str, items: Sequence[tuple[str, float]], fmt: str) -> BarChart:
    """Horizontal bars scaled to the largest value."""
    top = max((v for _, v in items), default=0.0) or 1.0
    span = CHART_WIDTH - LABEL_WIDTH - 90
    bars = tuple(
        Bar(label, value, fmt.format(value), 10 + i * BAR_HEIGHT, max(span * value / top, 1.0))
        for i, (label, value) in enumerate(items)
    )
    return BarChart(title, bars, 20 + max(len(bars), 1) * BAR_HEIGHT)


def trend_chart(trend: pl.DataFrame, texts: Mapping[str, str]) -> TrendChart:
    """Two lines over the trend's nights, y from 0 to the largest count."""
    n = max(trend.height - 1, 1)
    top = max(max(trend["opened"].to_list(), default=0), max(trend["resolved"].to_list(), default=0), 1)
    plot = CHART_WIDTH - 60

    def points(column: str) -> str:
        return " ".join(
            f"{40 + plot * i / n:.1f},{10 + (TREND_HEIGHT - 40) * (1 - v / top):.1f}"
            for i, v in enumerate(trend[column].to_list())
        )

    days: list[dt.date] = trend["on_date"].to_list()
    labels = tuple((40 + plot * i / n, d.strftime("%m-%d")) for i, d in enumerate(days) if i % 5 == 0)
    return TrendChart(
        texts["chart_trend"],
        points("opened"),
        points("resolved"),
        labels,
        top,
        texts["trend_opened"],
        texts["trend_resolved"],
    )


def _overview_layout() -> OverviewLayout:
    return next(s for s in default_layout().sheets if isinstance(s, OverviewLayout))


@cache
def _template() -> jinja2.Template:
    folder = str(resources.files("ykt.reports"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # every value a clerk typed (names, file names, details) is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda v: "" if v is None else f"{float(v):,.2f}"
    env.filters["count"] = lambda v: "" if v is None else f"{int(v):,}"
    env.filters["percent"] = lambda v: "" if v is None else f"{float(v) * 100:.1f}%"
    env.filters["day"] = lambda v: "" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))
    return env.get_template(TEMPLATE)
