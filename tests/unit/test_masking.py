"""What a person reads is safe: IDs and cards masked however they were typed, and no cell runs as a formula.

Each row below is text as it reaches a report (a rejected cell, a name with an ID typed into it, a detail)
and what a person must see instead.
"""

from __future__ import annotations

import polars as pl
import pytest

from ykt.masking import mask_value_expr, neutralise_formula_expr


def _apply(expr_of, text: str) -> str:
    return str(pl.select(expr_of(pl.lit(text))).item())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("510723199001010015", "5107******015"),  # a clean ID
        ("510723197O01010011", "5107**********"),  # a letter O among the digits
        (
            "51072319700101001l",
            "5107******001l",
        ),  # a letter l for the last 1: the digits before it are masked
        ("510723-19700101-0038-1", "5107**********"),  # dashes between the parts
        ("6217 0000 1234 5678", "6217**********"),  # a card in groups of four
        ("6217 0O00 1234 5678 9", "6217**********"),
        ("张三510723199001010015", "张三5107******015"),  # typed into 姓名
    ],
)
def test_ids_and_cards_are_masked_however_they_were_typed(text, shown):
    assert _apply(mask_value_expr, text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "应于 2024-08-10 前发放，截至 2024-09-12",
        "2024-08-10 2024-09-12",
        "1,350.00元",
        "共 8,635 笔",
        "第3列",
    ],
)
def test_dates_amounts_and_counts_are_left_as_they_are(text):
    assert _apply(mask_value_expr, text) == text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x","点此")', '\'=HYPERLINK("http://x","点此")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("张三", "张三"),
        ("村=1", "村=1"),
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text, written):
    assert _apply(neutralise_formula_expr, text) == written
