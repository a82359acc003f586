"""Normalising cell text into typed values: polars expressions only.

Every parser is a pure function `column name -> pl.Expr` evaluating to a struct
with `value` (the typed value, null when the cell is rejected), `error` (a row
reason code from `ykt.reasons`, null when fine) and, for IDs, names and cards,
`warning` ('; '-joined warning codes kept on the loaded row). Working fields
whose names start with '_' may also be present: a parser is a chain of struct
steps (`struct.with_fields`) so each intermediate value is computed once per
row instead of being re-evaluated inside every later expression. Read the
public fields with `.struct.field(...)`. No parser touches a row in Python.

`normalise()` applies them to one RawTable, resolves program, period, amount and
due date against a small programs frame (a join, not a loop), validates the
typed result with pandera (`ykt.ingest.validate.contract`) and returns a `Normalised`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final, TypeAlias, cast

import polars as pl

from ykt.config import Programs
from ykt.ingest.columns import FIELD_SPECS, error_sources
from ykt.ingest.types import CLEANED, REJECT_COLUMNS, Normalised, RawTable
from ykt.ingest.validate import make_rejects, validate_loaded, validate_normalised, validate_raw
from ykt.kinds import FieldSpec, kind_spec
from ykt.labels import PAYMENT_STATUS_LABELS
from ykt.masking import mask_value_expr

F = pl.field
# The in-memory engine runs these wide, join-heavy plans with less overhead than polars 2's
# default streaming engine (bench/README.md); a table is in memory anyway.
ENGINE: Final = "in-memory"

# -- shared text cleaning --------------------------------------------------------------

_INVISIBLE = r"[\u200b\u200c\u200d\u2060\ufeff]"
# Full-width ASCII (Ｕ+FF01–FF5E) and the ideographic space: what NFKC does to the
# characters that matter in IDs, numbers, dates and cards, at a third of its cost.
_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]


def _non_empty(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_INVISIBLE, "").str.strip_chars().replace("", None)


def clean_text_expr(col: str) -> pl.Expr:
    """NFKC (full-width → half-width, compatibility forms), trimmed; empty → null."""
    return _non_empty(pl.col(col).str.normalize("NFKC"))


# Every character polars' `\s` (Unicode White_Space) matches and `strip_chars()` strips.
WHITESPACE = (
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    " ",
    "\x85",
    "\xa0",
    "\u1680",
    *(chr(c) for c in range(0x2000, 0x200B)),
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
)
_INVISIBLE_CHARS = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# One table for machine-readable cells: full-width → half-width, whitespace and invisible
# characters → nothing (the ideographic space is whitespace: it goes, not to ' ').
_MACHINE_FROM = [*_FULL_WIDTH[:-1], *WHITESPACE, *_INVISIBLE_CHARS]
_MACHINE_TO = [*_HALF_WIDTH[:-1], *[""] * (len(WHITESPACE) + len(_INVISIBLE_CHARS))]


def halfwidth_expr(col: str) -> pl.Expr:
    """Machine-readable cells (IDs, numbers, dates, cards): full-width → half-width,
    trimmed, every space removed; empty → null.

    One Aho-Corasick pass over the cell (every pattern is one character, so the result
    is the same as mapping full-width characters, then deleting spaces and invisible
    characters) instead of three regex passes."""
    return pl.col(col).str.replace_many(_MACHINE_FROM, _MACHINE_TO).replace("", None)


# What spreadsheet users add to keep a long number as text: a leading apostrophe ('510723…) or an Excel
# text formula (="510723…"); tabs and spaces are already gone in halfwidth_expr.
_TEXT_MARKS = r"^=?[\"']+|[\"']+$"


def unmarked_expr(col: str) -> pl.Expr:
    """halfwidth_expr without the marks that keep a number as text: how IDs and cards are read."""
    return halfwidth_expr(col).str.replace_all(_TEXT_MARKS, "").replace("", None)


def compact_text_expr(col: str) -> pl.Expr:
    """Like clean_text_expr, with every inner space removed (names, places, status)."""
    return clean_text_expr(col).str.replace_all(r"\s+", "")


def text_expr(col: str) -> pl.Expr:
    """Free text (bank, employer, failure reason): cleaned, inner runs of spaces collapsed."""
    return clean_text_expr(col).str.replace_all(r"\s+", " ")


def _steps(*stages: dict[str, pl.Expr]) -> pl.Expr:
    """A struct built step by step: each stage's expressions can read the fields of
    the earlier stages as `F(name)`, which are computed once."""
    expr: pl.Expr = pl.struct(*(e.alias(name) for name, e in stages[0].items()))
    for stage in stages[1:]:
        expr = expr.struct.with_fields(**stage)
    return expr


def _join_codes(*codes: pl.Expr) -> pl.Expr:
    """'; '-join the non-null codes; null when there are none."""
    joined = pl.concat_str(list(codes), separator="; ", ignore_nulls=True)
    return pl.when(joined.str.len_chars() > 0).then(joined)


_SCIENTIFIC = r"(?i)^[+-]?\d+(\.\d*)?E[+-]?\d+$"


def _numeric_flag(flag_col: str | None) -> pl.Expr:
    """The reader marks cells that were stored as numbers in `<role>__numeric`."""
    return pl.col(flag_col).fill_null(False) if flag_col else pl.lit(False)


def _code(condition: pl.Expr, code: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(code, pl.String))


# -- identity numbers (GB 11643-1999) --------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)


@lru_cache(maxsize=1)
def known_area_codes() -> pl.Series:
    """Every 6-digit division code in python-stdnum's table (historic ones included:
    an ID keeps the code it was issued under). Built once per process."""
    from stdnum import numdb

    codes: set[str] = set()
    for _, low, high, _, counties in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _, c_low, c_high, _, _ in counties:
                codes.update(f"{province:02d}{c:04d}" for c in range(int(c_low), int(c_high) + 1))
    return pl.Series("area", sorted(codes), dtype=pl.String)


def id_check_char_expr(body17: pl.Expr) -> pl.Expr:
    """Check character of a 17-digit body: Σ digit·weight (weights ID_WEIGHTS) mod 11 →
    '10X98765432'.

    Computed with one integer parse instead of 17 digit slices: the weights are
    2^(17-i) mod 11, and 13 ≡ 2 (mod 11), so the body read as a base-13 number N
    gives Σ = 2·N (mod 11) and the check value is (1 − 2·N) mod 11 ('X' for 10) —
    the same arithmetic python-stdnum uses. 13^17 < 2^63, so N fits in an Int64.
    """
    n = body17.str.to_integer(base=13, strict=False) % 11
    check = (23 - 2 * n) % 11
    return pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.String))


def id_number_expr(col: str, numeric_flag: str | None = None) -> pl.Expr:
    """Resident ID → struct{value, error, warning}.

    Trim, full-width → half-width, upper-case x; 15-digit first-generation IDs
    become 18 (insert '19', new check digit; warning ID_FROM_15). Scientific
    notation, or an 18-digit number cell, has lost its last digits for good:
    ID_SCIENTIFIC (never repaired). Then format (ID_FORMAT), birth date
    (ID_BIRTHDATE) and check digit (ID_CHECKSUM); an area code missing from the
    division table is only a warning (the table lags reality).
    """
    return _steps(
        {"_text": unmarked_expr(col).str.to_uppercase(), "_numeric": _numeric_flag(numeric_flag)},
        {"_is15": F("_text").str.contains(r"^\d{15}$"), "_is18": F("_text").str.contains(r"^\d{17}[\dX]$")},
        {
            "_body": pl.when(F("_is15"))
            .then(F("_text").str.slice(0, 6) + "19" + F("_text").str.slice(6, 9))
            .when(F("_is18"))
            .then(F("_text").str.slice(0, 17))
        },
        {
            "_full": F("_body") + id_check_char_expr(F("_body")),
            "_birth": F("_body").str.slice(6, 8).str.to_date("%Y%m%d", strict=False),
        },
        {
            "error": pl.when(F("_text").is_null())
            .then(pl.lit("ID_MISSING"))
            .when(F("_text").str.contains(_SCIENTIFIC) | (F("_numeric") & ~F("_is15")))
            .then(pl.lit("ID_SCIENTIFIC"))
            .when(~(F("_is15") | F("_is18")))
            .then(pl.lit("ID_FORMAT"))
            .when(~F("_birth").is_between(pl.lit(EARLIEST_BIRTH), pl.lit(dt.date.today())).fill_null(False))
            .then(pl.lit("ID_BIRTHDATE"))
            .when(F("_is18") & (F("_full") != F("_text")))
            .then(pl.lit("ID_CHECKSUM"))
        },
        {
            "value": pl.when(F("error").is_null()).then(F("_full")),
            "warning": pl.when(F("error").is_null()).then(
                _join_codes(
                    _code(F("_is15"), "ID_FROM_15"),
                    # A 15-digit number cell is exact (Excel keeps 15 digits), but say it was a number.
                    _code(F("_numeric"), "ID_NUMERIC_SUSPECT"),
                    _code(~F("_full").str.slice(0, 6).is_in(known_area_codes().implode()), "ID_AREA_UNKNOWN"),
                )
            ),
        },
    )


# -- names and cards -------------------------------------------------------------------


def name_expr(col: str) -> pl.Expr:
    """Person name → struct{value, error NAME_MISSING, warning NAME_RARE_CHAR}.

    NFKC, all inner spaces removed ('张 三' = '张三'); '?', '*' or private-use
    characters are what a bank system leaves of a rare character (生僻字).
    """
    return _steps(
        {"value": mask_value_expr(compact_text_expr(col))},
        {
            "error": _code(F("value").is_null(), "NAME_MISSING"),
            "warning": _code(F("value").str.contains(r"[?*\p{Co}]"), "NAME_RARE_CHAR"),
        },
    )


# Luhn contribution of every 4-digit group (positions counted from the right, the
# second and fourth digit doubled): groups start at an even position, so one table serves all.
_LUHN_GROUP = 4
_LUHN_CHUNK = 16  # digits per Int64 (a 4-group multiple below 19 digits)


@lru_cache(maxsize=1)
def _luhn_table() -> pl.Series:
    def doubled(d: int) -> int:
        return d * 2 - 9 if d > 4 else d * 2

    return pl.Series(
        "luhn",
        [
            sum(doubled(v // 10**i % 10) if i % 2 else v // 10**i % 10 for i in range(_LUHN_GROUP))
            for v in range(10**_LUHN_GROUP)
        ],
        dtype=pl.Int32,
    )


def luhn_ok_expr(digits: pl.Expr, max_digits: int = 32) -> pl.Expr:
    """Luhn check of a digit string of up to `max_digits` digits, in integer arithmetic:
    the string is cut from the right into 16-digit integers, each integer into 4-digit
    groups by division, and each group's contribution is looked up in a 10,000-entry
    table (a quarter of the arithmetic of taking digit by digit, and no text slicing)."""
    length = digits.str.len_chars()
    chunks = [digits.str.slice(-_LUHN_CHUNK)] + [
        pl.when(length > k * _LUHN_CHUNK)
        .then(digits.str.head(-k * _LUHN_CHUNK).str.slice(-_LUHN_CHUNK))
        .otherwise(pl.lit("0"))
        for k in range(1, -(-max_digits // _LUHN_CHUNK))
    ]
    fields = {f"_chunk{k}": chunk.cast(pl.Int64, strict=False) for k, chunk in enumerate(chunks)}
    groups = [
        pl.lit(_luhn_table()).gather(F(name) // 10 ** (_LUHN_GROUP * g) % 10**_LUHN_GROUP)
        for name in fields
        for g in range(_LUHN_CHUNK // _LUHN_GROUP)
    ]
    return _steps(fields, {"ok": pl.sum_horizontal(groups) % 10 == 0}).struct.field("ok")


def card_expr(col: str, numeric_flag: str | None = None) -> pl.Expr:
    """Card/account number → struct{value, error CARD_INVALID, warning CARD_LUHN}.

    Digits only (spaces and dashes stripped). A number cell longer than 15 digits
    or scientific notation has lost digits: rejected like an ID. A Luhn failure is
    only a warning (passbook and rural-credit accounts often fail it).
    """
    return _steps(
        {
            "_digits": unmarked_expr(col).str.replace_all(r"[-‐–—_]", ""),
            "_numeric": _numeric_flag(numeric_flag),
        },
        {
            "error": pl.when(F("_digits").is_null())
            .then(pl.lit(None, pl.String))
            .when(
                F("_digits").str.contains(_SCIENTIFIC)
                | (F("_numeric") & (F("_digits").str.len_chars() > 15))
                | ~F("_digits").str.contains(r"^\d{8,32}$")
            )
            .then(pl.lit("CARD_INVALID"))
        },
        {"value": pl.when(F("error").is_null()).then(F("_digits"))},
        {"warning": _code(F("value").is_not_null() & ~luhn_ok_expr(F("value")), "CARD_LUHN")},
    )


# -- amounts ----------------------------------------------------------------------------

# Excel formulas leave binary-float noise (1350.3000000000002); anything further
# from a whole fen than this is a real third decimal and is not guessed at.
_FLOAT_NOISE = 0.000001


def amount_expr(col: str) -> pl.Expr:
    """Money text → struct{value: Decimal(18,2), error}: exact, never through float.

    Accepts '1,350.00元', '￥1350', 'RMB 1350', full-width digits. Errors:
    AMOUNT_MISSING (empty), AMOUNT_INVALID (not a number, a real third decimal),
    AMOUNT_NEGATIVE.
    """
    return _steps(
        {"_text": halfwidth_expr(col)},
        {"_bare": F("_text").str.replace_all(r"(?i)[,¥￥$元圆]|人民币|RMB|CNY", "")},
        {"_is_number": F("_bare").str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")},
        {"_wide": pl.when(F("_is_number")).then(F("_bare")).cast(pl.Decimal(38, 10), strict=False)},
        {"_cents": F("_wide").round(2)},
        {
            "_exact": (F("_wide") - F("_cents")).abs().cast(pl.Float64) <= _FLOAT_NOISE,
            "_value": F("_cents").cast(pl.Decimal(18, 2), strict=False),
        },
        {
            "error": pl.when(F("_text").is_null())
            .then(pl.lit("AMOUNT_MISSING"))
            .when(~F("_exact").fill_null(False) | F("_value").is_null())
            .then(pl.lit("AMOUNT_INVALID"))
            .when(F("_value") < 0)
            .then(pl.lit("AMOUNT_NEGATIVE"))
        },
        {"value": pl.when(F("error").is_null()).then(F("_value"))},
    )


# -- dates and periods -------------------------------------------------------------------

_DATE_SEPARATED = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_EXCEL_SERIAL = r"^(\d{1,5})(?:\.\d+)?$"


def _ymd_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Build a date from text parts; impossible dates (2024-02-30) become null."""
    text = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    return text.str.to_date("%Y-%m-%d", strict=False)


def excel_serial_expr(serial: pl.Expr, *, date1904: bool = False) -> pl.Expr:
    """Excel day number → date. 1900 system: day 1 = 1900-01-01 and the fictitious
    1900-02-29 (day 60) does not exist; 1904 system: day 0 = 1904-01-01."""
    if date1904:
        return pl.lit(dt.date(1904, 1, 1)) + pl.duration(days=serial)
    base = pl.when(serial < 60).then(pl.lit(dt.date(1899, 12, 31))).otherwise(pl.lit(dt.date(1899, 12, 30)))
    return pl.when((serial >= 1) & (serial != 60)).then(base + pl.duration(days=serial))


def date_expr(col: str, *, date1904: bool = False) -> pl.Expr:
    """Date text → struct{value: Date, error DATE_INVALID}.

    ISO, '2024/3/10', '2024.3.10', '20240310', '2024年3月10日', '2024-03-10 00:00:00'
    and Excel serial numbers ('45361', 1900 or 1904 system). Empty → null, no error
    (whether a date is required is decided per kind in normalise()).
    """
    return _steps(
        {"_text": halfwidth_expr(col)},
        {
            "_sep": F("_text").str.extract_groups(_DATE_SEPARATED),
            "_compact": F("_text").str.extract_groups(_DATE_COMPACT),
            "_serial": F("_text").str.extract(_EXCEL_SERIAL, 1).cast(pl.Int64, strict=False),
        },
        {
            "value": pl.coalesce(
                _ymd_date(
                    F("_sep").struct.field("1"), F("_sep").struct.field("2"), F("_sep").struct.field("3")
                ),
                _ymd_date(
                    F("_compact").struct.field("1"),
                    F("_compact").struct.field("2"),
                    F("_compact").struct.field("3"),
                ),
                excel_serial_expr(F("_serial"), date1904=date1904),
            )
        },
        {"error": _code(F("_text").is_not_null() & F("value").is_null(), "DATE_INVALID")},
    )


_CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}
_PERIOD_MONTH = r"^(\d{4})[-/.年](\d{1,2})(?:月份?|[-/.]\d{1,2}日?(?:0{1,2}:00:00)?)?$"
_PERIOD_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_PERIOD_QUARTER = r"^(\d{4})(?:年度?|[-/.])?(?:第?([1-4])季度?|Q([1-4]))$"
_PERIOD_YEAR = r"^(\d{4})(?:年度?)?$"


def period_expr(col: str) -> pl.Expr:
    """Period text → struct{value: 'YYYY-MM' | 'YYYY-Qn' | 'YYYY', error PERIOD_INVALID}.

    Accepts 2024-03, 2024/3, 2024年3月(份), 202403, a date (its month), 2024年第一季度,
    2024Q1, 2024-Q1, 2024, 2024年(度). Month 13 or quarter 5 is rejected.
    """
    return _steps(
        {
            "_text": pl.col(col)
            .str.normalize("NFKC")
            .pipe(_non_empty)
            .str.replace_all(r"\s+", "")
            .str.to_uppercase()
            .str.replace(r"\.0$", "")
            .str.replace_many(list(_CN_QUARTER), list(_CN_QUARTER.values()))
        },
        {
            "_month": F("_text").str.extract_groups(_PERIOD_MONTH),
            "_compact": F("_text").str.extract_groups(_PERIOD_MONTH_COMPACT),
            "_quarter": F("_text").str.extract_groups(_PERIOD_QUARTER),
            "_year": F("_text").str.extract(_PERIOD_YEAR, 1),
        },
        {
            "_month_year": pl.coalesce(F("_month").struct.field("1"), F("_compact").struct.field("1")),
            "_month_no": pl.coalesce(F("_month").struct.field("2"), F("_compact").struct.field("2")).cast(
                pl.Int32, strict=False
            ),
            "_quarter_no": pl.coalesce(F("_quarter").struct.field("2"), F("_quarter").struct.field("3")),
        },
        {
            "_canonical": pl.when(F("_month_no").is_between(1, 12))
            .then(F("_month_year") + "-" + F("_month_no").cast(pl.String).str.zfill(2))
            .when(F("_quarter_no").is_not_null())
            .then(F("_quarter").struct.field("1") + "-Q" + F("_quarter_no"))
            .when(F("_year").is_not_null())
            .then(F("_year"))
        },
        {
            "value": pl.when(
                F("_canonical").str.slice(0, 4).cast(pl.Int32, strict=False).is_between(1900, 2100)
            ).then(F("_canonical"))
        },
        {"error": _code(F("_text").is_not_null() & F("value").is_null(), "PERIOD_INVALID")},
    )


# -- payment status --------------------------------------------------------------------

STATUS_VOCABULARY: dict[str, str] = {
    **dict.fromkeys(("成功", "已支付", "已发放", "支付成功", "交易成功", "发放成功"), "success"),
    **dict.fromkeys(("失败", "支付失败", "交易失败", "发放失败"), "failure"),
    # the money went out and came back (frozen account, closed card): a return cancels an earlier
    # success of the same key; with no success before it, it is a failed attempt (rules/_reconciliation.sql)
    **dict.fromkeys(("退回", "已退回", "已退款", "退款", "退票"), "returned"),
    **dict.fromkeys(("已停发", "停发", "暂停发放"), "stopped"),
}


# A status text the vocabulary does not hold is read by the words inside it ("交易成功（已入账）"), the first
# meaning that matches deciding: a return or a stop overrides an earlier success ("退款成功" is a return),
# and a negated success is a failure. Texts that match none stay STATUS_UNKNOWN (未发放 may be pending).
STATUS_MEANINGS: tuple[tuple[str, str], ...] = (
    (r"退回|退款|退票|退汇|被退", "returned"),
    (r"停发|暂停发放", "stopped"),
    (r"失败|未成功|不成功", "failure"),
    (r"成功|已支付|已发放|已入账|已到账", "success"),
)


def status_meaning_expr(text: pl.Expr) -> pl.Expr:
    """The meaning of a compact status text by the words inside it (STATUS_MEANINGS); null when none."""
    return pl.coalesce(
        [pl.when(text.str.contains(words)).then(pl.lit(value)) for words, value in STATUS_MEANINGS]
    )


def status_expr(col: str) -> pl.Expr:
    """Bank status text → struct{value: success|failure|returned|stopped, error STATUS_MISSING|STATUS_UNKNOWN}:
    the vocabulary first, else the words inside the text (status_inferences tells the clerk which)."""
    return _steps(
        {"_text": compact_text_expr(col)},
        {"_exact": F("_text").replace_strict(STATUS_VOCABULARY, default=None, return_dtype=pl.String)},
        {"value": pl.coalesce(F("_exact"), status_meaning_expr(F("_text")))},
        {
            "error": pl.when(F("_text").is_null())
            .then(pl.lit("STATUS_MISSING"))
            .when(F("value").is_null())
            .then(pl.lit("STATUS_UNKNOWN"))
        },
    )


def status_inferences(table: RawTable) -> tuple[str, ...]:
    """The status texts read by their words rather than the vocabulary (the same sentence for every part
    of a file read in parts)."""
    if "status" not in table.frame.columns:
        return ()
    texts = table.frame.select(compact_text_expr("status").alias("text")).unique()
    read = texts.filter(
        pl.col("text").is_not_null()
        & pl.col("text").replace_strict(STATUS_VOCABULARY, default=None, return_dtype=pl.String).is_null()
    ).with_columns(status_meaning_expr(pl.col("text")).alias("value"))
    header = table.headers.get("status", "发放状态")
    return tuple(
        f"{header}“{text}”按含义判断为{PAYMENT_STATUS_LABELS[value]}"
        for text, value in read.filter(pl.col("value").is_not_null()).sort("text").iter_rows()
    )


# -- programs ------------------------------------------------------------------------------


def program_expr(col: str, programs: Programs) -> pl.Expr:
    """Program column text → struct{value: program code, error PROGRAM_UNKNOWN}; empty → null.
    Matched against every code, name and alias, compared after NFKC and space removal."""
    index = {"".join(unicodedata.normalize("NFKC", k).split()): v for k, v in programs.name_index().items()}
    return _steps(
        {"_text": compact_text_expr(col)},
        {"value": F("_text").replace_strict(index, default=None, return_dtype=pl.String)},
        {"error": _code(F("_text").is_not_null() & F("value").is_null(), "PROGRAM_UNKNOWN")},
    )


def programs_frame(programs: Programs) -> pl.DataFrame:
    """The per-program settings normalise() joins against (one row per program)."""
    return pl.DataFrame(
        {
            "program_code": [p.code for p in programs.programs],
            "_cadence": [p.cadence for p in programs.programs],
            "_pay_day": [p.pay_day for p in programs.programs],
            "_due_days": [p.due_days_after_approval for p in programs.programs],
            "_standard": [p.standard_amount for p in programs.programs],
        },
        schema={
            "program_code": pl.String,
            "_cadence": pl.String,
            "_pay_day": pl.Int32,
            "_due_days": pl.Int32,
            "_standard": pl.Decimal(18, 2),
        },
    )


def _program_settings(programs: Programs) -> list[pl.Expr]:
    """The program's settings per row (`_cadence`, `_pay_day`, `_due_days`, `_standard`),
    looked up by program code: a handful of keys, so a mapping beats a join."""
    settings = programs_frame(programs)
    codes = settings.get_column("program_code")
    return [
        pl.col("program_code")
        .replace_strict(codes, settings.get_column(c), default=None, return_dtype=settings.schema[c])
        .alias(c)
        for c in settings.columns
        if c != "program_code"
    ]


def period_first_month_expr(period: pl.Expr) -> pl.Expr:
    """First month number of a canonical period: 2024-03 → 3, 2024-Q2 → 4, 2024 → 1."""
    return (
        pl.when(period.str.contains("-Q"))
        .then(period.str.slice(6, 1).cast(pl.Int32, strict=False) * 3 - 2)
        .when(period.str.len_chars() == 7)
        .then(period.str.slice(5, 2).cast(pl.Int32, strict=False))
        .otherwise(pl.lit(1, pl.Int32))
    )


def derived_due_date_expr(period: pl.Expr, approval_date: pl.Expr) -> pl.Expr:
    """Due date from the program settings (issue 2): monthly/quarterly → pay_day of the
    period's first month; annual/once → approval date + due_days_after_approval."""
    cadence = pl.col("_cadence")
    by_period = pl.date(
        period.str.slice(0, 4).cast(pl.Int32, strict=False),
        period_first_month_expr(period),
        pl.col("_pay_day"),
    )
    by_approval = approval_date + pl.duration(days=pl.col("_due_days"))
    return (
        pl.when(cadence.is_in(["monthly", "quarterly"]))
        .then(by_period)
        .when(cadence.is_in(["annual", "once"]))
        .then(by_approval)
    )


# -- one table ------------------------------------------------------------------------------

RAW = "_raw_"
WRITTEN_AMOUNT = "_written_amount"


def _id(col: str, flag: str | None, _: Programs, __: bool) -> pl.Expr:
    return id_number_expr(col, flag)


def _card(col: str, flag: str | None, _: Programs, __: bool) -> pl.Expr:
    return card_expr(col, flag)


def _date(col: str, _: str | None, __: Programs, date1904: bool) -> pl.Expr:
    return date_expr(col, date1904=date1904)


def _program(col: str, _: str | None, programs: Programs, __: bool) -> pl.Expr:
    return program_expr(col, programs)


# (raw column, its number flag column or None, programs, date1904) -> the parser's struct expression
Parser: TypeAlias = Callable[[str, str | None, Programs, bool], pl.Expr]


def _plain(make: Callable[[str], pl.Expr]) -> Parser:
    return lambda col, flag, programs, date1904: make(col)


def _bare(make: Callable[[str], pl.Expr]) -> Parser:
    return lambda col, flag, programs, date1904: pl.struct(
        make(col).alias("value"), pl.lit(None, pl.String).alias("error")
    )


_PARSERS: dict[str, Parser] = {
    "id": _id,
    "card": _card,
    "date": _date,
    "program": _program,
    "name": _plain(name_expr),
    "amount": _plain(amount_expr),
    "period": _plain(period_expr),
    "status": _plain(status_expr),
    # An ID or card number typed into a name, place or free-text cell is masked as it is read: those
    # texts reach cases, clues and the platform, and nothing there may carry a full identifier.
    "place": _bare(lambda col: mask_value_expr(compact_text_expr(col))),
    "text": _bare(lambda col: mask_value_expr(text_expr(col))),
}

# Warnings kept on the loaded row come from these columns.


def _raw_frame(table: RawTable, specs: tuple[FieldSpec, ...]) -> pl.LazyFrame:
    """The table's text columns renamed `_raw_<role>`, absent roles as null columns.

    A household roster naming only the head (no beneficiary in the row) makes the
    head the beneficiary (architecture.md).
    """
    frame = table.frame.lazy().rename({c: RAW + c for c in table.frame.columns if c != "source_row"})
    present = set(table.frame.columns)
    roles = {s.role for s in specs} | ({"head_id", "head_name"} if table.kind == "roster" else set())
    frame = frame.with_columns(pl.lit(None, pl.String).alias(RAW + r) for r in sorted(roles - present))
    if table.kind == "roster":
        nobody = pl.col(RAW + "id_number").is_null() & pl.col(RAW + "name").is_null()
        frame = frame.with_columns(
            pl.when(nobody)
            .then(pl.col(RAW + "head_id"))
            .otherwise(pl.col(RAW + "id_number"))
            .alias(RAW + "id_number"),
            pl.when(nobody)
            .then(pl.col(RAW + "head_name"))
            .otherwise(pl.col(RAW + "name"))
            .alias(RAW + "name"),
        )
    return frame.with_columns(pl.col("source_row").cast(pl.Int32))


# A column whose distinct texts are at most this share of its rows is parsed once per
# distinct text and the results gathered back by position: periods, amounts, dates,
# places, and IDs, names and cards that repeat over the months of one file.
DISTINCT_SHARE = 0.5


@dataclass(frozen=True)
class _Column:
    """One field to parse: its raw column, the reader's number flag column (if any), its parser."""

    col: str
    flag: str | None
    parser: Parser
    programs: Programs
    date1904: bool

    def parse(self, flag: str | None) -> pl.Expr:
        return self.parser(self.col, flag, self.programs, self.date1904)


def _public_fields(parsed: pl.Series) -> pl.Series:
    """The parser's struct without its `_` working fields (they are not carried further)."""
    dtype = cast(pl.Struct, parsed.dtype)  # every parser returns a struct
    fields = [f.name for f in dtype.fields if not f.name.startswith("_")]
    return parsed.struct.unnest().select(fields).to_struct(parsed.name)


def _distinct_positions(text: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """(distinct texts, each row's position among them) when the column repeats itself
    enough to be worth parsing once per distinct text; None otherwise.

    Grouping works on 64-bit hashes of the texts (several times cheaper than grouping
    strings); every row's text is then compared with its group's text, so a hash collision
    can never merge two different texts (the column is parsed row by row instead).
    """
    if text.len() == 0:
        return None
    if text.null_count() == text.len():  # an absent column: one empty cell
        return text.head(1), pl.zeros(text.len(), pl.UInt32, eager=True)
    hashes = text.hash()
    first = hashes.is_first_distinct()
    count = int(first.sum())
    if count > DISTINCT_SHARE * text.len():
        return None
    positions = hashes.replace_strict(hashes.filter(first), pl.int_range(count, eager=True, dtype=pl.UInt32))
    texts = text.filter(first)
    return (texts, positions) if texts.gather(positions).eq_missing(text).all() else None


def _parse_column(raw: pl.DataFrame, column: _Column) -> pl.Series:
    """One column's parsed struct (public fields), one row per row of `raw`.

    A cell's result depends on its text alone, unless the reader flagged number cells in the
    column (then the flag decides too): such columns, and columns that hardly repeat, are
    parsed row by row; the others once per distinct text (a null text parses as the empty
    cell), gathered back by position.
    """
    found = (
        None
        if column.flag is not None and raw.get_column(column.flag).any()
        else _distinct_positions(raw.get_column(column.col))
    )
    if found is None:
        return _public_fields(raw.lazy().select(column.parse(column.flag)).collect(engine=ENGINE).to_series())
    texts, positions = found
    parsed = texts.to_frame(column.col).lazy().select(column.parse(None)).collect(engine=ENGINE).to_series()
    return _public_fields(parsed).gather(positions)


def _parse_columns(raw: pl.DataFrame, columns: dict[str, _Column]) -> list[pl.Series]:
    """Every column's parsed struct, named by its key. Columns are independent, and polars'
    column-at-a-time work is mostly single-threaded, so they are parsed in parallel threads
    (polars releases the GIL)."""
    with ThreadPoolExecutor(
        max_workers=max(pl.thread_pool_size(), 1), thread_name_prefix="ykt-parse"
    ) as pool:
        parsed = pool.map(lambda column: _parse_column(raw, column), columns.values())
        return [series.alias(name) for name, series in zip(columns, parsed)]


def _parse_fields(
    raw: pl.DataFrame, specs: tuple[FieldSpec, ...], table: RawTable, programs: Programs, date1904: bool
) -> pl.LazyFrame:
    """Apply each field's parser; split its struct into `<target>`, `_err_<target>`, `_warn_<target>`."""
    flags = {s.role: RAW + f"{s.role}__numeric" for s in specs if f"{s.role}__numeric" in table.frame.columns}
    columns = {
        "_s_" + s.target: _Column(RAW + s.role, flags.get(s.role), _PARSERS[s.parser], programs, date1904)
        for s in specs
    }
    out = []
    for s in specs:
        st = pl.col("_s_" + s.target)
        error = st.struct.field("error")
        if not s.required:  # an empty optional cell is fine
            error = pl.when(~error.str.ends_with("_MISSING")).then(error)
        out += [st.struct.field("value").alias(s.target), error.alias("_err_" + s.target)]
        if s.parser == "amount":  # as written, before a roster's standard amount fills a gap
            out.append(st.struct.field("value").alias(WRITTEN_AMOUNT))
        if s.parser in ("id", "name", "card"):
            out.append(st.struct.field("warning").alias("_warn_" + s.target))
    return raw.hstack(_parse_columns(raw, columns)).lazy().with_columns(out).drop(columns)


def _resolve_program_and_period(frame: pl.LazyFrame, table: RawTable, programs: Programs) -> pl.LazyFrame:
    """Program and period: the row's own value, else the file's hint (title / file name);
    a `once` program without either takes the approval month."""
    frame = frame.with_columns(
        pl.coalesce(pl.col("program_code"), pl.lit(table.program_hint, pl.String)).alias("program_code"),
    )
    frame = frame.with_columns(_program_settings(programs))
    approval_month = (
        pl.col("approval_date").dt.strftime("%Y-%m") if "approval_date" in frame.collect_schema() else None
    )
    period = pl.coalesce(pl.col("period"), pl.lit(table.period_hint, pl.String))
    if approval_month is not None:
        period = pl.coalesce(period, pl.when(pl.col("_cadence") == "once").then(approval_month))
    # A once-program row without period and approval date is told the root cause
    # (DUE_DATE_UNKNOWN: no approval date) rather than "no period".
    once_without_approval = (pl.col("_cadence") == "once") & (
        pl.col("approval_date").is_null() if approval_month is not None else True
    )
    period_missing = pl.col("period").is_null() & ~once_without_approval.fill_null(False)
    return frame.with_columns(
        period.alias("period"),
        pl.coalesce(
            pl.col("_err_program_code"), _code(pl.col("program_code").is_null(), "PROGRAM_MISSING")
        ).alias("_err_program_code"),
    ).with_columns(
        pl.coalesce(pl.col("_err_period"), _code(period_missing, "PERIOD_MISSING")).alias("_err_period"),
    )


def _roster_amount_and_due_date(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A roster row without an amount is owed the program's standard amount; its due
    date is its own 应发日期, else derived from the program settings."""
    missing = pl.col("_err_amount_due") == "AMOUNT_MISSING"
    use_standard = missing & pl.col("_standard").is_not_null()
    due = pl.coalesce(pl.col("due_date"), derived_due_date_expr(pl.col("period"), pl.col("approval_date")))
    # Only say "no due date" when it is not just the echo of a bad program, period or date.
    inputs_ok = pl.all_horizontal(
        pl.col(f"_err_{c}").is_null() for c in ("program_code", "period", "approval_date")
    )
    return frame.with_columns(
        pl.when(use_standard).then(pl.col("_standard")).otherwise(pl.col("amount_due")).alias("amount_due"),
        pl.when(use_standard).then(None).otherwise(pl.col("_err_amount_due")).alias("_err_amount_due"),
        due.alias("due_date"),
        pl.coalesce(
            pl.col("_err_due_date"), pl.when(due.is_null() & inputs_ok).then(pl.lit("DUE_DATE_UNKNOWN"))
        ).alias("_err_due_date"),
    )


def _payment_date_rule(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A paid, failed or returned row needs its date: re-issue deadlines and lateness run from it.
    A stopped row (已停发) has no payment and needs none."""
    needs = pl.col("status").is_in(["success", "failure", "returned"]) & pl.col("pay_date").is_null()
    return frame.with_columns(
        pl.coalesce(pl.col("_err_pay_date"), pl.when(needs).then(pl.lit("PAY_DATE_MISSING"))).alias(
            "_err_pay_date"
        ),
    )


def _death_date_rule(frame: pl.LazyFrame) -> pl.LazyFrame:
    missing = pl.col("death_date").is_null() & pl.col("_err_death_date").is_null()
    return frame.with_columns(
        pl.coalesce(pl.col("_err_death_date"), pl.when(missing).then(pl.lit("DEATH_DATE_MISSING"))).alias(
            "_err_death_date"
        ),
    )


def _warnings(frame: pl.LazyFrame, kind: str) -> pl.LazyFrame:
    """One '; '-joined string of warning codes per row (null when none): the
    beneficiary's ID, any rare character in a name on the row, the card, control characters removed."""
    schema = frame.collect_schema()
    names = [
        pl.col(f"_warn_{c}").is_not_null()
        for c in ("name", "head_name", "payee_name")
        if f"_warn_{c}" in schema
    ]
    codes = [pl.col("_warn_id_number")]
    if names:
        codes.append(_code(pl.any_horizontal(names), "NAME_RARE_CHAR"))
    if "_warn_card_number" in schema:
        codes.append(pl.col("_warn_card_number"))
    if RAW + CLEANED in schema:  # the reader removed control characters from the row's cells
        codes.append(_code(pl.col(RAW + CLEANED).fill_null(False), "TEXT_CONTROL_CHARS"))
    return frame.with_columns(_join_codes(*codes).alias("warnings"))


def parse_table(table: RawTable, programs: Programs, *, date1904: bool = False) -> pl.DataFrame:
    """Every row of the table with its typed values, `_err_<column>` reason codes and
    `warnings`; the raw text stays alongside as `_raw_<role>` for the rejects."""
    specs = FIELD_SPECS[table.kind]
    frame = _parse_fields(_raw_frame(table, specs).collect(engine=ENGINE), specs, table, programs, date1904)
    if table.kind in ("roster", "payments"):
        frame = _resolve_program_and_period(frame, table, programs)
    if table.kind == "roster":
        frame = _roster_amount_and_due_date(frame)
    elif table.kind == "payments":
        frame = _payment_date_rule(frame)
    elif table.kind == "deaths":
        frame = _death_date_rule(frame)
    # Row order is the table's own: every join above keeps the left order.
    parsed: pl.DataFrame = _warnings(frame, table.kind).collect(engine=ENGINE)
    return parsed


def expression_rejects(parsed: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """One rejects row per (row, failing column): header text, masked raw value, code, reason."""
    parts = [
        parsed.select(
            "source_row",
            pl.lit(header, pl.String).alias("column"),
            pl.col(RAW + role).alias("value"),
            pl.col("_err_" + target).alias("reason_code"),
        ).filter(pl.col("reason_code").is_not_null())
        for target, (role, header) in error_sources(table).items()
    ]
    return make_rejects(pl.concat(parts), table.sheet)


def normalise(
    table: RawTable, programs: Programs, *, date1904: bool = False, key_check: bool = True
) -> Normalised:
    """RawTable → typed rows ready for the warehouse plus rejects (issue 3).

    Value parsing happens in expressions (parse_table); pandera then checks the
    typed frame (nullability, ranges, vocabularies, in-file key uniqueness) and its
    failure cases become rejects too. Every row read is loaded or rejected.
    `key_check=False` (one part of a table read in parts): the in-file key uniqueness is
    left to the loader, which gets the keys of the typed rows pandera rejected (typed_keys).
    """
    validate_raw(table)
    parsed = parse_table(table, programs, date1904=date1904)
    rejects = expression_rejects(parsed, table)
    error_cols = [c for c in parsed.columns if c.startswith("_err_")]
    clean = parsed.select(pl.all_horizontal(pl.col(c).is_null() for c in error_cols)).to_series()
    typed = parsed.select(
        "source_row", *[c for c in kind_spec(table.kind).loaded_columns if c not in ("sheet", "source_row")]
    )
    typed = typed if clean.all() else typed.filter(clean)
    valid, pandera_rejects = validate_normalised(typed, table, key_check)
    loaded = valid.with_columns(pl.lit(table.sheet, pl.String).alias("sheet")).select(
        kind_spec(table.kind).loaded_columns
    )
    validate_loaded(loaded, table.kind)
    all_rejects = pl.concat([rejects, pandera_rejects]).sort("row", "reason_code")
    return Normalised(
        kind=table.kind,
        loaded=loaded,
        rejects=all_rejects.select(REJECT_COLUMNS),
        rows_read=table.frame.height,
        detail_total=_written_total(parsed, table),
        typed_keys=None if key_check else _rejected_typed_keys(typed, valid, table),
        inferences=status_inferences(table),
    )


def _rejected_typed_keys(typed: pl.DataFrame, valid: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """(sheet, source_row, key columns) of the typed rows pandera rejected."""
    columns = [
        pl.lit(table.sheet, pl.String).alias("sheet"),
        "source_row",
        *kind_spec(table.kind).key_columns,
    ]
    if valid.height == typed.height:
        return typed.head(0).select(columns)
    return typed.filter(~pl.col("source_row").is_in(valid["source_row"].implode())).select(columns)


def _written_total(parsed: pl.DataFrame, table: RawTable) -> Decimal | None:
    """Sum of the amounts written on the data rows (parseable ones), compared with the
    file's 合计 row. Rows later rejected for other reasons still count: the 合计 row
    adds up what is written, not what we load."""
    if "amount" not in table.frame.columns:
        return None
    total: Decimal | None = parsed.select(pl.col(WRITTEN_AMOUNT).sum()).item()
    return total


def detail_total(table: RawTable) -> Decimal | None:
    """The written total of a table on its own (normalise() computes it on the way: Normalised.detail_total)."""
    if "amount" not in table.frame.columns:
        return None
    total: Decimal | None = table.frame.select(amount_expr("amount").struct.field("value").sum()).item()
    return total
