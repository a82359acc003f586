"""Normalising cell text into typed values: polars expressions only.

Every parser here is a pure function `column name -> pl.Expr` returning a struct
`{value, error[, warning]}`: `value` is the typed value (null when the cell is
rejected), `error` a row reason code from `ykt.reasons` (null when fine),
`warning` a '; '-joined warning code string kept on the loaded row. No parser
touches a row in Python: they run vectorised over millions of rows.

`normalise()` applies them to one RawTable, resolves program, period, amount and
due date against a small programs frame (a join, not a loop), validates the
typed result with pandera (`ykt.validating`) and returns a `Normalised`.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import polars as pl

from ykt.config import Programs
from ykt.model import LOADED_COLUMNS, REJECT_COLUMNS, Normalised, RawTable

# -- shared text cleaning --------------------------------------------------------------

_INVISIBLE = r"[\u200b\u200c\u200d\u2060\ufeff]"


def clean_text_expr(col: str) -> pl.Expr:
    """NFKC (full-width → half-width, ideographic space → space), trimmed; empty → null."""
    text = pl.col(col).str.normalize("NFKC").str.replace_all(_INVISIBLE, "").str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def compact_text_expr(col: str) -> pl.Expr:
    """Like clean_text_expr, with every inner space removed (names, places, codes)."""
    return clean_text_expr(col).str.replace_all(r"\s+", "")


def text_expr(col: str) -> pl.Expr:
    """Free text (bank, employer, failure reason): cleaned, inner runs of spaces collapsed."""
    return clean_text_expr(col).str.replace_all(r"\s+", " ")


def _struct(value: pl.Expr, error: pl.Expr, warning: pl.Expr | None = None) -> pl.Expr:
    fields = [value.alias("value"), error.cast(pl.String).alias("error")]
    if warning is not None:
        fields.append(warning.cast(pl.String).alias("warning"))
    return pl.struct(fields)


def _join_codes(*codes: pl.Expr) -> pl.Expr:
    """'; '-join the non-null codes; null when there are none."""
    joined = pl.concat_str(list(codes), separator="; ", ignore_nulls=True)
    return pl.when(joined.str.len_chars() > 0).then(joined)


_SCIENTIFIC = r"^[+-]?\d+(\.\d*)?E[+-]?\d+$"


def _numeric_flag(flag_col: str | None) -> pl.Expr:
    """The reader marks cells that were stored as numbers in `<role>__numeric`."""
    return pl.col(flag_col).fill_null(False) if flag_col else pl.lit(False)


# -- identity numbers (GB 11643-1999) --------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)


@lru_cache(maxsize=1)
def known_area_codes() -> frozenset[str]:
    """Every 6-digit division code in python-stdnum's table (historic ones included:
    an ID keeps the code it was issued under). Built once per process."""
    from stdnum import numdb

    codes: set[str] = set()
    for _, low, high, _, counties in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _, c_low, c_high, _, _ in counties:
                codes.update(f"{province:02d}{c:04d}" for c in range(int(c_low), int(c_high) + 1))
    return frozenset(codes)


def id_check_char_expr(body17: pl.Expr) -> pl.Expr:
    """Check character of a 17-digit body: weighted digit sum mod 11 → '10X98765432'."""
    total = pl.sum_horizontal(
        body17.str.slice(i, 1).cast(pl.Int32, strict=False) * weight for i, weight in enumerate(ID_WEIGHTS)
    )
    return (total % 11).replace_strict(list(range(11)), list(ID_CHECK_CHARS), return_dtype=pl.String)


def id_number_expr(col: str, numeric_flag: str | None = None) -> pl.Expr:
    """Resident ID → struct{value, error, warning}.

    Trim/NFKC/upper-case x; 15-digit first-generation IDs become 18 (warning
    ID_FROM_15); scientific notation or an 18-digit number cell is unrecoverable
    (ID_SCIENTIFIC); format, birth date and check digit validated; an area code
    missing from the division table is only a warning.
    """
    text = compact_text_expr(col).str.to_uppercase()
    numeric = _numeric_flag(numeric_flag)
    is15 = text.str.contains(r"^\d{15}$")
    is18 = text.str.contains(r"^\d{17}[\dX]$")
    body = pl.when(is15).then(text.str.slice(0, 6) + "19" + text.str.slice(6, 9)).otherwise(text.str.slice(0, 17))
    full = body + id_check_char_expr(body)
    birth = body.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    birth_ok = birth.is_between(pl.lit(EARLIEST_BIRTH), pl.lit(dt.date.today()))
    error = (
        pl.when(text.is_null()).then(pl.lit("ID_MISSING"))
        .when(text.str.contains(_SCIENTIFIC) | (numeric & ~is15)).then(pl.lit("ID_SCIENTIFIC"))
        .when(~(is15 | is18)).then(pl.lit("ID_FORMAT"))
        .when(~birth_ok.fill_null(False)).then(pl.lit("ID_BIRTHDATE"))
        .when(is18 & (full != text)).then(pl.lit("ID_CHECKSUM"))
    )
    warning = _join_codes(
        pl.when(is15).then(pl.lit("ID_FROM_15")),
        # 15 significant digits then '000' is what Excel leaves of an 18-digit number.
        pl.when(numeric | text.str.ends_with("000")).then(pl.lit("ID_NUMERIC_SUSPECT")),
        pl.when(~full.str.slice(0, 6).is_in(list(known_area_codes()))).then(pl.lit("ID_AREA_UNKNOWN")),
    )
    ok = error.is_null()
    return _struct(pl.when(ok).then(full), error, pl.when(ok).then(warning))


# -- names and cards -------------------------------------------------------------------


def name_expr(col: str) -> pl.Expr:
    """Person name → struct{value, error NAME_MISSING, warning NAME_RARE_CHAR}.

    NFKC, all inner spaces removed ('张 三' = '张三'); '?', '*' or private-use
    characters are what a bank system leaves of a rare character (生僻字).
    """
    name = compact_text_expr(col)
    rare = name.str.contains(r"[?*\p{Co}]")
    return _struct(name, pl.when(name.is_null()).then(pl.lit("NAME_MISSING")), pl.when(rare).then(pl.lit("NAME_RARE_CHAR")))


def luhn_ok_expr(digits: pl.Expr, max_len: int = 32) -> pl.Expr:
    """Luhn check over a digit string of up to max_len digits (vectorised by position)."""
    rev = digits.str.reverse()
    terms = []
    for i in range(max_len):
        d = rev.str.slice(i, 1).cast(pl.Int32, strict=False).fill_null(0)
        terms.append(pl.when(d * 2 > 9).then(d * 2 - 9).otherwise(d * 2) if i % 2 else d)
    return pl.sum_horizontal(terms) % 10 == 0


def card_expr(col: str, numeric_flag: str | None = None) -> pl.Expr:
    """Card/account number → struct{value, error CARD_INVALID, warning CARD_LUHN}.

    Digits only (spaces and dashes stripped). A number cell longer than 15 digits
    or scientific notation has lost digits: rejected like an ID. Luhn failure is
    only a warning (passbook and rural-credit accounts often fail it).
    """
    digits = compact_text_expr(col).str.replace_all(r"[-‐–—_]", "").str.to_uppercase()
    lost = digits.str.contains(_SCIENTIFIC) | (_numeric_flag(numeric_flag) & (digits.str.len_chars() > 15))
    valid = digits.str.contains(r"^\d{8,32}$")
    error = pl.when(digits.is_null()).then(None).when(lost | ~valid).then(pl.lit("CARD_INVALID"))
    ok = digits.is_not_null() & error.is_null()
    return _struct(pl.when(ok).then(digits), error, pl.when(ok & ~luhn_ok_expr(digits)).then(pl.lit("CARD_LUHN")))


# -- amounts ----------------------------------------------------------------------------

# Excel formulas leave binary-float noise (1350.3000000000002); anything further
# from a whole fen than this is a real third decimal and is not guessed at.
_FLOAT_NOISE = 0.000001


def amount_expr(col: str) -> pl.Expr:
    """Money text → struct{value: Decimal(18,2), error}: exact, never through float.

    Accepts '1,350.00元', '￥1350', 'RMB 1350', full-width digits. Errors:
    AMOUNT_MISSING (empty), AMOUNT_INVALID (not a number, more than 2 decimals),
    AMOUNT_NEGATIVE.
    """
    text = clean_text_expr(col)
    bare = text.str.replace_all(r"(?i)[\s,¥$元圆]|人民币|RMB|CNY", "")
    is_number = bare.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
    wide = pl.when(is_number).then(bare).cast(pl.Decimal(38, 10), strict=False)
    cents = wide.round(2)
    exact = (wide - cents).abs().cast(pl.Float64) <= _FLOAT_NOISE
    value = cents.cast(pl.Decimal(18, 2), strict=False)
    error = (
        pl.when(text.is_null()).then(pl.lit("AMOUNT_MISSING"))
        .when(~is_number | ~exact.fill_null(False) | value.is_null()).then(pl.lit("AMOUNT_INVALID"))
        .when(value < 0).then(pl.lit("AMOUNT_NEGATIVE"))
    )
    return _struct(pl.when(error.is_null()).then(value), error)


# -- dates and periods -------------------------------------------------------------------

_DATE_SEPARATED = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
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
    text = clean_text_expr(col)
    sep = text.str.extract_groups(_DATE_SEPARATED)
    compact = text.str.extract_groups(_DATE_COMPACT)
    serial = text.str.extract(_EXCEL_SERIAL, 1).cast(pl.Int64, strict=False)
    value = pl.coalesce(
        _ymd_date(sep.struct.field("1"), sep.struct.field("2"), sep.struct.field("3")),
        _ymd_date(compact.struct.field("1"), compact.struct.field("2"), compact.struct.field("3")),
        excel_serial_expr(serial, date1904=date1904),
    )
    error = pl.when(text.is_not_null() & value.is_null()).then(pl.lit("DATE_INVALID"))
    return _struct(value, error)


_CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}
_PERIOD_MONTH = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月份?|[-/.]\d{1,2}日?(?: 00:00:00)?)?$"
_PERIOD_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_PERIOD_QUARTER = r"^(\d{4})\s*(?:年度?|[-/.])?\s*(?:第?([1-4])季度?|Q([1-4]))$"
_PERIOD_YEAR = r"^(\d{4})(?:年度?)?$"


def period_expr(col: str) -> pl.Expr:
    """Period text → struct{value: 'YYYY-MM' | 'YYYY-Qn' | 'YYYY', error PERIOD_INVALID}.

    Accepts 2024-03, 2024/3, 2024年3月(份), 202403, a date (its month), 2024年第一季度,
    2024Q1, 2024-Q1, 2024, 2024年(度). Month 13 or quarter 5 is rejected.
    """
    text = compact_text_expr(col).str.to_uppercase().str.replace(r"\.0$", "")
    text = text.str.replace_many(list(_CN_QUARTER), list(_CN_QUARTER.values()))
    month = text.str.extract_groups(_PERIOD_MONTH)
    compact = text.str.extract_groups(_PERIOD_MONTH_COMPACT)
    quarter = text.str.extract_groups(_PERIOD_QUARTER)
    year_only = text.str.extract(_PERIOD_YEAR, 1)
    month_year = pl.coalesce(month.struct.field("1"), compact.struct.field("1"))
    month_no = pl.coalesce(month.struct.field("2"), compact.struct.field("2")).cast(pl.Int32, strict=False)
    quarter_no = pl.coalesce(quarter.struct.field("2"), quarter.struct.field("3"))
    value = (
        pl.when(month_no.is_between(1, 12)).then(month_year + "-" + month_no.cast(pl.String).str.zfill(2))
        .when(quarter_no.is_not_null()).then(quarter.struct.field("1") + "-Q" + quarter_no)
        .when(year_only.is_not_null()).then(year_only)
    )
    year = value.str.slice(0, 4).cast(pl.Int32, strict=False)
    value = pl.when(year.is_between(1900, 2100)).then(value)
    return _struct(value, pl.when(text.is_not_null() & value.is_null()).then(pl.lit("PERIOD_INVALID")))


# -- payment status --------------------------------------------------------------------

STATUS_VOCABULARY: dict[str, str] = {
    **dict.fromkeys(("成功", "已支付", "已发放", "支付成功", "交易成功", "发放成功"), "success"),
    **dict.fromkeys(("失败", "退回", "已退回", "已退款", "退票", "支付失败", "交易失败", "发放失败"), "failure"),
    **dict.fromkeys(("已停发", "停发", "暂停发放"), "stopped"),
}
STATUSES = ("success", "failure", "stopped")


def status_expr(col: str) -> pl.Expr:
    """Bank status text → struct{value: success|failure|stopped, error STATUS_MISSING|STATUS_UNKNOWN}."""
    text = compact_text_expr(col)
    value = text.replace_strict(STATUS_VOCABULARY, default=None, return_dtype=pl.String)
    error = pl.when(text.is_null()).then(pl.lit("STATUS_MISSING")).when(value.is_null()).then(pl.lit("STATUS_UNKNOWN"))
    return _struct(value, error)


# -- programs ------------------------------------------------------------------------------


def _program_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKC").str.replace_all(r"\s+", "")


def program_expr(col: str, programs: Programs) -> pl.Expr:
    """Program column text → struct{value: program code, error PROGRAM_UNKNOWN}; empty → null."""
    index = {"".join(unicodedata.normalize("NFKC", k).split()): v for k, v in programs.name_index().items()}
    text = compact_text_expr(col)
    value = _program_key(text).replace_strict(index, default=None, return_dtype=pl.String)
    return _struct(value, pl.when(text.is_not_null() & value.is_null()).then(pl.lit("PROGRAM_UNKNOWN")))


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
        schema={"program_code": pl.String, "_cadence": pl.String, "_pay_day": pl.Int32, "_due_days": pl.Int32,
                "_standard": pl.Decimal(18, 2)},
    )


def period_first_month_expr(period: pl.Expr) -> pl.Expr:
    """First month number of a canonical period: 2024-03 → 3, 2024-Q2 → 4, 2024 → 1."""
    return (
        pl.when(period.str.contains("-Q")).then(period.str.slice(6, 1).cast(pl.Int32) * 3 - 2)
        .when(period.str.len_chars() == 7).then(period.str.slice(5, 2).cast(pl.Int32, strict=False))
        .otherwise(pl.lit(1, pl.Int32))
    )


def derived_due_date_expr(period: pl.Expr, approval_date: pl.Expr) -> pl.Expr:
    """Due date from the program settings (issue 2): monthly/quarterly → pay_day of the
    period's first month; annual/once → approval date + due_days_after_approval."""
    cadence = pl.col("_cadence")
    by_period = pl.date(period.str.slice(0, 4).cast(pl.Int32, strict=False), period_first_month_expr(period), pl.col("_pay_day"))
    by_approval = approval_date + pl.duration(days=pl.col("_due_days"))
    return pl.when(cadence.is_in(["monthly", "quarterly"])).then(by_period).when(cadence.is_in(["annual", "once"])).then(by_approval)


# -- one table ------------------------------------------------------------------------------

RAW = "_raw_"


@dataclass(frozen=True)
class FieldSpec:
    """How one loaded column is made: from which role, with which parser, required or not."""

    target: str
    role: str
    parser: str            # key of _PARSERS
    required: bool = False


def _id(col: str, flag: str | None, _: Programs, __: bool) -> pl.Expr:
    return id_number_expr(col, flag)


def _card(col: str, flag: str | None, _: Programs, __: bool) -> pl.Expr:
    return card_expr(col, flag)


def _date(col: str, _: str | None, __: Programs, date1904: bool) -> pl.Expr:
    return date_expr(col, date1904=date1904)


def _program(col: str, _: str | None, programs: Programs, __: bool) -> pl.Expr:
    return program_expr(col, programs)


def _plain(make):
    return lambda col, flag, programs, date1904: make(col)


def _bare(make):
    return lambda col, flag, programs, date1904: _struct(make(col), pl.lit(None, pl.String))


_PARSERS = {
    "id": _id, "card": _card, "date": _date, "program": _program,
    "name": _plain(name_expr), "amount": _plain(amount_expr), "period": _plain(period_expr),
    "status": _plain(status_expr), "place": _bare(compact_text_expr), "text": _bare(text_expr),
}

_PLACES = (FieldSpec("township", "township", "place"), FieldSpec("village", "village", "place"),
           FieldSpec("group_name", "group_name", "place"))

FIELD_SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "roster": (
        FieldSpec("id_number", "id_number", "id", True), FieldSpec("name", "name", "name", True),
        FieldSpec("head_name", "head_name", "name"), FieldSpec("head_id", "head_id", "id"),
        FieldSpec("payee_name", "payee_name", "name"), FieldSpec("payee_id", "payee_id", "id"),
        FieldSpec("card_number", "card_number", "card"), FieldSpec("bank", "bank", "text"),
        FieldSpec("program_code", "program", "program"), FieldSpec("period", "period", "period"),
        FieldSpec("amount_due", "amount", "amount", True), FieldSpec("approval_date", "approval_date", "date"),
        FieldSpec("due_date", "due_date", "date"), *_PLACES,
    ),
    "payments": (
        FieldSpec("id_number", "id_number", "id", True), FieldSpec("name", "name", "name"),
        FieldSpec("payee_name", "payee_name", "name"), FieldSpec("card_number", "card_number", "card"),
        FieldSpec("bank", "bank", "text"), FieldSpec("program_code", "program", "program"),
        FieldSpec("period", "period", "period"), FieldSpec("amount", "amount", "amount", True),
        FieldSpec("pay_date", "pay_date", "date"), FieldSpec("status", "status", "status", True),
        FieldSpec("failure_reason", "failure_reason", "text"), *_PLACES,
    ),
    "deaths": (
        FieldSpec("id_number", "id_number", "id", True), FieldSpec("name", "name", "name"),
        FieldSpec("death_date", "death_date", "date", True),
    ),
    "public_employees": (
        FieldSpec("id_number", "id_number", "id", True), FieldSpec("name", "name", "name"),
        FieldSpec("employer", "employer", "text"),
    ),
}

# Warnings kept on the loaded row come from these columns.
_WARNING_SOURCES = ("id_number", "name", "head_name", "payee_name", "card_number")


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
            pl.when(nobody).then(pl.col(RAW + "head_id")).otherwise(pl.col(RAW + "id_number")).alias(RAW + "id_number"),
            pl.when(nobody).then(pl.col(RAW + "head_name")).otherwise(pl.col(RAW + "name")).alias(RAW + "name"),
        )
    return frame.with_columns(pl.col("source_row").cast(pl.Int32))


def _parse_fields(frame: pl.LazyFrame, specs, table: RawTable, programs: Programs, date1904: bool) -> pl.LazyFrame:
    """Apply each field's parser; split its struct into `<target>`, `_err_<target>`, `_warn_<target>`."""
    columns = set(table.frame.columns)
    structs = []
    for s in specs:
        flag = RAW + f"{s.role}__numeric" if f"{s.role}__numeric" in columns else None
        structs.append(_PARSERS[s.parser](RAW + s.role, flag, programs, date1904).alias("_s_" + s.target))
    frame = frame.with_columns(structs)
    out = []
    for s in specs:
        st = pl.col("_s_" + s.target)
        error = st.struct.field("error")
        if not s.required:  # an empty optional cell is fine
            error = pl.when(~error.str.ends_with("_MISSING")).then(error)
        out += [st.struct.field("value").alias(s.target), error.alias("_err_" + s.target)]
        if s.parser in ("id", "name", "card"):
            out.append(st.struct.field("warning").alias("_warn_" + s.target))
    return frame.with_columns(out).drop("_s_" + s.target for s in specs)


def _resolve_program_and_period(frame: pl.LazyFrame, table: RawTable, programs: Programs) -> pl.LazyFrame:
    """Program and period: the row's own value, else the file's hint (title / file name);
    a `once` program without either takes the approval month."""
    frame = frame.with_columns(
        pl.coalesce(pl.col("program_code"), pl.lit(table.program_hint, pl.String)).alias("program_code"),
    ).join(programs_frame(programs).lazy(), on="program_code", how="left", maintain_order="left")
    approval_month = pl.col("approval_date").dt.strftime("%Y-%m") if "approval_date" in frame.collect_schema() else None
    period = pl.coalesce(pl.col("period"), pl.lit(table.period_hint, pl.String))
    if approval_month is not None:
        period = pl.coalesce(period, pl.when(pl.col("_cadence") == "once").then(approval_month))
    return frame.with_columns(
        period.alias("period"),
        pl.coalesce(pl.col("_err_program_code"), pl.when(pl.col("program_code").is_null()).then(pl.lit("PROGRAM_MISSING"))).alias("_err_program_code"),
    ).with_columns(
        pl.coalesce(pl.col("_err_period"), pl.when(pl.col("period").is_null()).then(pl.lit("PERIOD_MISSING"))).alias("_err_period"),
    )


def _roster_amount_and_due_date(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A roster row without an amount is owed the program's standard amount; its due
    date is its own 应发日期, else derived from the program settings."""
    missing = pl.col("_err_amount_due") == "AMOUNT_MISSING"
    use_standard = missing & pl.col("_standard").is_not_null()
    due = pl.coalesce(pl.col("due_date"), derived_due_date_expr(pl.col("period"), pl.col("approval_date")))
    # Only say "no due date" when it is not just the echo of a bad program, period or date.
    inputs_ok = pl.all_horizontal(pl.col(f"_err_{c}").is_null() for c in ("program_code", "period", "approval_date"))
    return frame.with_columns(
        pl.when(use_standard).then(pl.col("_standard")).otherwise(pl.col("amount_due")).alias("amount_due"),
        pl.when(use_standard).then(None).otherwise(pl.col("_err_amount_due")).alias("_err_amount_due"),
        due.alias("due_date"),
        pl.coalesce(pl.col("_err_due_date"), pl.when(due.is_null() & inputs_ok).then(pl.lit("DUE_DATE_UNKNOWN"))).alias("_err_due_date"),
    )


def _payment_date_rule(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A paid or failed row needs its date: re-issue deadlines and lateness run from it.
    A stopped row (已停发) has no payment and needs none."""
    needs = pl.col("status").is_in(["success", "failure"]) & pl.col("pay_date").is_null()
    return frame.with_columns(
        pl.coalesce(pl.col("_err_pay_date"), pl.when(needs).then(pl.lit("PAY_DATE_MISSING"))).alias("_err_pay_date"),
    )


def _death_date_rule(frame: pl.LazyFrame) -> pl.LazyFrame:
    missing = pl.col("death_date").is_null() & pl.col("_err_death_date").is_null()
    return frame.with_columns(
        pl.coalesce(pl.col("_err_death_date"), pl.when(missing).then(pl.lit("DEATH_DATE_MISSING"))).alias("_err_death_date"),
    )


def _warnings(frame: pl.LazyFrame) -> pl.LazyFrame:
    """One '; '-joined string of distinct warning codes per row (null when none)."""
    sources = [c for c in frame.collect_schema() if c.startswith("_warn_")]
    if not sources:
        return frame.with_columns(pl.lit(None, pl.String).alias("warnings"))
    joined = pl.concat_str([pl.col(c) for c in sources], separator="; ", ignore_nulls=True)
    distinct = joined.str.split("; ").list.unique(maintain_order=True).list.join("; ")
    return frame.with_columns(pl.when(joined.str.len_chars() > 0).then(distinct).alias("warnings"))


def parse_table(table: RawTable, programs: Programs, *, date1904: bool = False) -> pl.DataFrame:
    """Every row of the table with its typed values, `_err_<column>` reason codes and
    `warnings`; the raw text stays alongside as `_raw_<role>` for the rejects."""
    specs = FIELD_SPECS[table.kind]
    frame = _parse_fields(_raw_frame(table, specs), specs, table, programs, date1904)
    if table.kind in ("roster", "payments"):
        frame = _resolve_program_and_period(frame, table, programs)
    if table.kind == "roster":
        frame = _roster_amount_and_due_date(frame)
    elif table.kind == "payments":
        frame = _payment_date_rule(frame)
    elif table.kind == "deaths":
        frame = _death_date_rule(frame)
    return _warnings(frame).sort("source_row").collect()


def error_sources(table: RawTable) -> dict[str, tuple[str, str | None]]:
    """For each `_err_<target>`: the raw column whose text a clerk sees, and its header."""
    headers = table.headers
    sources = {s.target: (s.role, headers.get(s.role)) for s in FIELD_SPECS[table.kind]}
    if table.kind == "roster":
        if "id_number" not in table.headers and "head_id" in table.headers:
            sources["id_number"] = ("id_number", table.headers["head_id"])
            sources["name"] = ("name", table.headers.get("head_name"))
        due_role = "due_date" if "due_date" in headers else "approval_date"
        sources["due_date"] = (due_role, headers.get(due_role))
    return sources


def expression_rejects(parsed: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """One rejects row per (row, failing column): header text, masked raw value, code, reason."""
    from ykt.validating import make_rejects

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


def normalise(table: RawTable, programs: Programs, *, date1904: bool = False) -> Normalised:
    """RawTable → typed rows ready for the warehouse plus rejects (issue 3).

    Value parsing happens in expressions (parse_table); pandera then checks the
    typed frame (nullability, ranges, vocabularies, in-file key uniqueness) and its
    failure cases become rejects too. Every row read is loaded or rejected.
    """
    from ykt.validating import validate_loaded, validate_normalised, validate_raw

    validate_raw(table)
    parsed = parse_table(table, programs, date1904=date1904)
    rejects = expression_rejects(parsed, table)
    error_cols = [c for c in parsed.columns if c.startswith("_err_")]
    clean = parsed.filter(pl.all_horizontal(pl.col(c).is_null() for c in error_cols))
    typed = clean.select("source_row", *[c for c in LOADED_COLUMNS[table.kind] if c not in ("sheet", "source_row")])
    valid, pandera_rejects = validate_normalised(typed, table)
    loaded = valid.with_columns(pl.lit(table.sheet, pl.String).alias("sheet")).select(LOADED_COLUMNS[table.kind])
    validate_loaded(loaded, table.kind)
    all_rejects = pl.concat([rejects, pandera_rejects]).sort("row", "reason_code")
    return Normalised(kind=table.kind, loaded=loaded, rejects=all_rejects.select(REJECT_COLUMNS), rows_read=table.frame.height)


def detail_total(table: RawTable) -> Decimal | None:
    """Sum of the amounts written on the data rows (parseable ones), compared with the
    file's 合计 row. Rows later rejected for other reasons still count: the 合计 row
    adds up what is written, not what we load."""
    if "amount" not in table.frame.columns:
        return None
    return table.frame.select(amount_expr("amount").struct.field("value").sum()).item()
