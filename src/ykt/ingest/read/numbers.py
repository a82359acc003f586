"""How the text of a cell that was a NUMBER cell looks, for the formats that cannot (always) say so.

An 18-digit ID typed as a number has lost its last digits (Excel keeps 15 significant ones); the
normaliser rejects such cells, so the reader flags them in `<role>__numeric`.
"""

from __future__ import annotations

import polars as pl

_LONG_DIGITS = r"^\d{15,}$"
_SCIENTIFIC = r"^\d(?:\.\d+)?[Ee]\+?\d+$"


def number_cell_text(col: str) -> pl.Expr:
    """Digits only, 15+ long, and exactly how calamine prints a NUMBER cell holding ≤15 significant digits.

    Excel keeps 15 significant digits, so an 18-digit ID typed as a number is stored as
    5.10723198001011E+17 and calamine prints that double in full: '510723198001011008'.
    A genuine text ID looks like that about once in a thousand, which is why the cell type
    is confirmed from the file itself wherever the file can tell.
    """
    text = pl.col(col)
    value = (
        text.cast(pl.Float64, strict=False).round_sig_figs(15).cast(pl.UInt64, strict=False).cast(pl.String)
    )
    return (text.str.contains(_LONG_DIGITS) & (value == text)).fill_null(False)


def excel_zeros_text(col: str) -> pl.Expr:
    """In CSV, Excel writes a number cell's 15 significant digits padded with zeros: '510723198001011000'."""
    return pl.col(col).str.contains(r"^\d{15}0*$").fill_null(False)


def in_rows(rows: pl.Series) -> pl.Expr:
    return pl.col("source_row").is_in(rows.cast(pl.Int32).implode())


def numeric_stats(frame: pl.DataFrame, col: str, cheap: bool = False) -> tuple[int, int, bool]:
    """(zero-padded suspects, values of 15+ characters, any scientific notation) of a CSV identity
    column: what excel_made decides from; the parts of a file read in parts add up.
    `cheap`: stop at no suspect (most columns have none), the other two are then not counted."""
    text = pl.col(col)
    maybe = frame.select(
        text.filter((text.str.len_bytes() == 15) | text.str.ends_with("000"))
    )  # this column only
    suspects = int(maybe.select(excel_zeros_text(col).sum()).item()) if maybe.height else 0
    if cheap and not suspects:
        return 0, 0, False
    long_values = int(frame.select((text.str.len_bytes() >= 15).sum()).item())
    maybe_scientific = frame.select(
        text.filter(text.str.contains("E", literal=True) | text.str.contains("e", literal=True))
    )
    return (
        suspects,
        long_values,
        bool(maybe_scientific.select(text.str.contains(_SCIENTIFIC).any()).item() or False),
    )


def excel_made(stats: tuple[int, int, bool]) -> bool:
    """A column exported from number cells is all (or mostly) zero-padded values, or shows
    scientific notation somewhere; a column of text IDs has the occasional genuine …000
    ending that must not be rejected as damaged. The threshold is half of the long values."""
    suspects, long_values, scientific = stats
    return bool(suspects) and (suspects * 2 >= long_values or scientific)


def add_stats(a: tuple[int, int, bool] | None, b: tuple[int, int, bool]) -> tuple[int, int, bool]:
    return b if a is None else (a[0] + b[0], a[1] + b[1], a[2] or b[2])
