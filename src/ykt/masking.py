"""Masking of personal identifiers in everything a person reads.

ID numbers keep the 6-digit area code and the last 4 characters
(510723********123X); card numbers keep the first and last 4 digits
(6217 **** **** 1234). Full values appear only in discrepancies.csv, which is
for the bureau's own systems.
"""

from __future__ import annotations

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


def mask_value_expr(expr: pl.Expr) -> pl.Expr:
    """For a cell of unknown meaning (rejects.csv `value`): hide any long digit run."""
    return expr.str.replace_all(r"(\d{4})\d{6,}(\d{3}[\dXx]?)", "${1}******${2}")


def mask_id(value: str | None) -> str | None:
    if value is None:
        return None
    return value[:6] + "*" * 8 + value[-4:] if len(value) >= 15 else "****"


def mask_card(value: str | None) -> str | None:
    if value is None:
        return None
    return f"{value[:4]} **** **** {value[-4:]}" if len(value) >= 10 else "****"
