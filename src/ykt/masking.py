"""What a person reads is safe to read: personal identifiers masked, and no cell a spreadsheet runs.

ID numbers keep the 6-digit area code and the last 4 characters
(510723********123X); card numbers keep the first and last 4 digits
(6217 **** **** 1234). Full values appear only in discrepancies.csv, which is
for the bureau's own systems. Text a clerk typed never comes out as a live formula.
"""

from __future__ import annotations

import re

import polars as pl


def mask_id_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised: mask an ID column. Short or empty values are fully starred."""
    length = expr.str.len_chars()
    masked = expr.str.slice(0, 6) + pl.lit("*" * 8) + expr.str.slice(-4, 4)
    return pl.when(length >= 15).then(masked).when(expr.is_not_null()).then(pl.lit("****"))


def mask_card_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised: mask a card/account column."""
    length = expr.str.len_chars()
    masked = expr.str.slice(0, 4) + pl.lit(" **** **** ") + expr.str.slice(-4, 4)
    return pl.when(length >= 10).then(masked).when(expr.is_not_null()).then(pl.lit("****"))


# ID and card numbers as people mistype them, after clean digit runs are masked: a letter O/o, I or l among
# the digits (510723197O01010011), or digit groups of 3 or more split by single spaces or dashes
# (510723-19700101-0038-1, 6217 0000 1234 5678). Groups of 2 are left alone: ISO dates (2024-08-10) are not IDs.
_LETTERED_RUN = r"(\d{4})[0-9OoIl]{10,14}[0-9OoIlXx]"
_GROUPED_RUN = r"(\d{4})\d{0,4}(?:[ \-][0-9OoIl]{3,8}){2,4}(?:[ \-]?[0-9OoIlXx])?"


def mask_value_expr(expr: pl.Expr) -> pl.Expr:
    """For text of unknown meaning (a rejected cell, a name, a village, a detail): hide any ID or card number in
    it, clean (the first 4 and last 3-4 characters kept) or as people mistype them (only the first 4 kept)."""
    clean = expr.str.replace_all(r"(\d{4})\d{6,}(\d{3}[\dXx]?)", "${1}******${2}")
    return clean.str.replace_all(_LETTERED_RUN, "${1}**********").str.replace_all(
        _GROUPED_RUN, "${1}**********"
    )


# What makes a spreadsheet treat a cell as a formula (=, +, -, @) or break it (tab, carriage return).
_FORMULA_START = r"^([=+\-@\t\r])"


def neutralise_formula_expr(expr: pl.Expr) -> pl.Expr:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe: shown, never executed."""
    return expr.str.replace(_FORMULA_START, "'${1}")


def neutralise_formula(text: str) -> str:
    """neutralise_formula_expr for one text (a file name, a message written into a workbook or CSV)."""
    return re.sub(_FORMULA_START, r"'\1", text)


def mask_id(value: str | None) -> str | None:
    if value is None:
        return None
    return value[:6] + "*" * 8 + value[-4:] if len(value) >= 15 else "****"


def mask_card(value: str | None) -> str | None:
    if value is None:
        return None
    return f"{value[:4]} **** **** {value[-4:]}" if len(value) >= 10 else "****"


# Control characters no person can read and no workbook may hold (openpyxl raises IllegalCharacterError):
# C0 except tab and newline, DEL and C1. Surrogates escaped from undecodable file names as well.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """A file name (or any text from outside) as a person may see it and a workbook may hold it: each
    control character written as its code, e.g. ESC -> \\x1b, so nothing is hidden and nothing raises."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
