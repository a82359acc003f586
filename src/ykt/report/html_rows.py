"""report.html, the table rows: HTML generated column-wise by polars expressions (escaped, amounts with
thousands separators), so a night of 100,000 cases is not a Python loop in the template. The template
places the rows as they are (they are escaped here, once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;"))


@dataclass(frozen=True)
class HtmlCell:
    field: str
    kind: str = "text"  # text | money | int | date | html (already HTML, placed as is)
    sort_value: bool = False  # a data-value attribute for sorting by number


def escape_expr(expr: pl.Expr) -> pl.Expr:
    """Text as HTML character data and attribute values (what jinja2's autoescape does, vectorised)."""
    text = expr.cast(pl.Utf8).fill_null("")
    for char, entity in _ESCAPES:
        text = text.str.replace_all(char, entity, literal=True)
    return text


def money_expr(expr: pl.Expr) -> pl.Expr:
    """1234567.5 → "1,234,567.50" (empty when null), as the workbook's #,##0.00 shows it."""
    value = expr.cast(pl.Float64)
    cents = (value.abs() * 100).round(0).cast(pl.Int64)
    whole, frac = cents // 100, (cents % 100).cast(pl.Utf8).str.zfill(2)

    def group(k: int) -> pl.Expr:
        thousands: int = 1000**k
        return ((whole // thousands) % 1000).cast(pl.Utf8)

    def padded(k: int) -> pl.Expr:
        return group(k).str.zfill(3)

    grouped = (
        pl.when(whole >= 10**9)
        .then(pl.concat_str((whole // 10**9).cast(pl.Utf8), padded(2), padded(1), padded(0), separator=","))
        .when(whole >= 10**6)
        .then(pl.concat_str(group(2), padded(1), padded(0), separator=","))
        .when(whole >= 1000)
        .then(pl.concat_str(group(1), padded(0), separator=","))
        .otherwise(group(0))
    )
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, grouped, pl.lit("."), frac).fill_null("")


def _cell(cell: HtmlCell) -> list[pl.Expr]:
    column = pl.col(cell.field)
    if cell.kind == "money":
        value = money_expr(column)
    elif cell.kind == "html":
        value = column.fill_null("")
    elif cell.kind in ("int", "date"):
        value = column.cast(pl.Utf8).fill_null("")
    else:
        value = escape_expr(column)
    if cell.sort_value:
        number = column.cast(pl.Float64).fill_null(0).cast(pl.Utf8)
        return [pl.lit('<td class="num" data-value="'), number, pl.lit('">'), value, pl.lit("</td>")]
    opening = '<td class="num">' if cell.kind in ("money", "int") else "<td>"
    return [pl.lit(opening), value, pl.lit("</td>")]


def table_rows(frame: pl.DataFrame, cells: Sequence[HtmlCell]) -> str:
    """Every row of frame as <tr>…</tr>, one per line."""
    if frame.height == 0:
        return ""
    pieces = [pl.lit("<tr>"), *[p for c in cells for p in _cell(c)], pl.lit("</tr>")]
    return str(frame.select(pl.concat_str(pieces).str.join("\n")).item())


def history_html(events: pl.DataFrame) -> pl.DataFrame:
    """case_id, history: each case's events as <li> lines, in order (events come sorted by case and date)."""
    detail = pl.when(pl.col("detail").is_not_null()).then(
        pl.concat_str(pl.lit("："), escape_expr(pl.col("detail")))
    )
    line = pl.concat_str(
        pl.lit("<li>"),
        pl.col("on_date").cast(pl.Utf8),
        pl.lit(" "),
        escape_expr(pl.col("event_label")),
        pl.lit(" → "),
        escape_expr(pl.col("status_label")),
        detail.fill_null(""),
        pl.lit("</li>"),
    )
    return events.group_by("case_id", maintain_order=True).agg(history=line.str.join(""))
