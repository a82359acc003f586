"""report.html's rows built by polars: amounts shown as the workbook shows them, text escaped once."""

from __future__ import annotations

import polars as pl

from ykt.report.html_rows import HtmlCell, escape_expr, money_expr, table_rows


def test_money_has_thousands_separators_and_two_decimals():
    """Every size of amount, a negative one and an empty one, as #,##0.00 prints them."""
    values = [0.0, 5.5, 999.999, 1000.0, 184.8, 171520.0, 1234567.891, 12345678901.0, -2500.0, None]
    shown = pl.DataFrame({"a": values}).select(money_expr(pl.col("a"))).to_series().to_list()
    assert shown == [
        "0.00",
        "5.50",
        "1,000.00",
        "1,000.00",
        "184.80",
        "171,520.00",
        "1,234,567.89",
        "12,345,678,901.00",
        "-2,500.00",
        "",
    ]


def test_text_is_escaped_for_html_and_attributes():
    frame = pl.DataFrame({"t": ["<b>\"张三\"</b> & '李四'", None]})
    assert frame.select(escape_expr(pl.col("t"))).to_series().to_list() == [
        "&lt;b&gt;&#34;张三&#34;&lt;/b&gt; &amp; &#39;李四&#39;",
        "",
    ]


def test_rows_have_one_cell_per_column_and_a_sort_value_for_amounts():
    frame = pl.DataFrame({"id": ["A<1>"], "amount": [1350.0], "html": ["<li>x</li>"]})
    row = table_rows(
        frame, [HtmlCell("id"), HtmlCell("amount", "money", sort_value=True), HtmlCell("html", "html")]
    )
    assert (
        row
        == '<tr><td>A&lt;1&gt;</td><td class="num" data-value="1350.0">1,350.00</td><td><li>x</li></td></tr>'
    )
