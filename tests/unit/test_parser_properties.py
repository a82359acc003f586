"""Property tests (hypothesis) for the ID, amount, date and period parsers and the card Luhn check.

Each property generates a value, writes it the way people do, and checks that the
vectorised parser gives the original value back (or the right reason code).
Generated values are batched into one frame per example to keep the run short.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from ykt.ingest.normalise.fields import amount_expr, date_expr, id_number_expr, luhn_ok_expr, period_expr

FAST = settings(max_examples=60, deadline=None)
WIDE = str.maketrans("0123456789X.,", "０１２３４５６７８９Ｘ．，")
TODAY = dt.date.today()


def run(expr, cells: list[str], field: str = "value") -> list:
    return (
        pl.DataFrame({"c": cells}, schema={"c": pl.String})
        .select(expr("c").struct.field(field))
        .to_series()
        .to_list()
    )


births = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
areas = st.sampled_from(["110105", "360426", "510723", "440305", "650102"])


@st.composite
def resident_ids(draw) -> str:
    body = f"{draw(areas)}{draw(births):%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@FAST
@given(st.lists(resident_ids(), min_size=1, max_size=20))
def test_any_valid_id_round_trips_however_it_is_typed(ids):
    """Valid IDs come back unchanged from lower-case x, full-width digits and stray spaces."""
    typed = (
        [f" {i.lower()}" for i in ids[::3]]
        + [i.translate(WIDE) for i in ids[1::3]]
        + [f"{i}\u3000" for i in ids[2::3]]
    )
    expected = ids[::3] + ids[1::3] + ids[2::3]
    assert run(id_number_expr, typed) == expected


@FAST
@given(resident_ids(), st.integers(1, 9))
def test_a_changed_digit_is_never_accepted(valid, delta):
    """Changing one character of the 17-digit body changes the check character (GB 11643 detects
    every single-digit error), so the ID is rejected — never loaded under a wrong identity."""
    position = 14
    changed = valid[:position] + str((int(valid[position]) + delta) % 10) + valid[position + 1 :]
    assert run(id_number_expr, [changed], "error") == ["ID_CHECKSUM"]


@FAST
@given(st.lists(resident_ids(), min_size=1, max_size=10).filter(lambda ids: all(i[6:8] == "19" for i in ids)))
def test_fifteen_digit_ids_convert_to_the_eighteen_digit_id(ids):
    """A first-generation 15-digit ID (no century, no check char) converts to the 18-digit ID of the same person."""
    old = [i[:6] + i[8:17] for i in ids]
    assert run(id_number_expr, old) == ids


amounts = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)


@FAST
@given(st.lists(amounts, min_size=1, max_size=20))
def test_any_amount_formatted_as_people_do_parses_back_exactly(values):
    """Thousands separators, 元, ￥ and full-width digits never change a single fen."""
    styles = [
        lambda d: f"{d:,.2f}元",
        lambda d: f"￥{d}",
        lambda d: f"{d:.2f}".translate(WIDE),
        lambda d: f" {d:,}",
    ]
    cells = [styles[i % len(styles)](d) for i, d in enumerate(values)]
    assert run(amount_expr, cells) == [d.quantize(Decimal("0.01")) for d in values]


@FAST
@given(st.lists(amounts.filter(lambda d: d > 0), min_size=1, max_size=10))
def test_negative_amounts_are_rejected(values):
    """A minus sign in front of any amount is AMOUNT_NEGATIVE, never loaded."""
    assert run(amount_expr, [f"-{d}" for d in values], "error") == ["AMOUNT_NEGATIVE"] * len(values)


dates = st.dates(min_value=dt.date(1910, 1, 1), max_value=dt.date(2099, 12, 31))


@FAST
@given(st.lists(dates, min_size=1, max_size=20))
def test_any_valid_date_in_any_supported_format_parses_back(values):
    """ISO, slashes, compact, Chinese, with a time, and the Excel 1900-system serial."""
    styles = [
        lambda d: d.isoformat(),
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: d.strftime("%Y%m%d"),
        lambda d: f"{d.year}年{d.month}月{d.day}日",
        lambda d: f"{d.isoformat()} 00:00:00",
        lambda d: str((d - dt.date(1899, 12, 30)).days),
    ]
    cells = [styles[i % len(styles)](d) for i, d in enumerate(values)]
    assert run(date_expr, cells) == values


@FAST
@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 4))
def test_any_period_in_any_supported_format_is_canonical(year, month, quarter):
    """Month, quarter and year spellings map to YYYY-MM, YYYY-Qn and YYYY; month 13 is rejected."""
    quarter_cn = "一二三四"[quarter - 1]
    cells = [
        f"{year}-{month:02d}",
        f"{year}年{month}月",
        f"{year}{month:02d}",
        f"{year}年第{quarter_cn}季度",
        f"{year}Q{quarter}",
        f"{year}年度",
        f"{year}-13",
    ]
    assert run(period_expr, cells) == [f"{year}-{month:02d}"] * 3 + [f"{year}-Q{quarter}"] * 2 + [
        str(year),
        None,
    ]
    assert run(period_expr, [f"{year}-13"], "error") == ["PERIOD_INVALID"]


@FAST
@given(st.lists(st.text("0123456789", min_size=1, max_size=32), min_size=1, max_size=30))
def test_luhn_by_table_lookup_agrees_with_the_reference(numbers):
    """The 4-digit-group table Luhn of card_expr says what python-stdnum's Luhn says, for any digit
    string up to 32 digits (the longest account number a card cell may hold); a valid number
    made from each string (its Luhn digit appended) always passes."""
    valid = [n[:31] + luhn.calc_check_digit(n[:31]) for n in numbers]
    cells = numbers + valid
    got = pl.DataFrame({"c": cells}).select(luhn_ok_expr(pl.col("c"))).to_series().to_list()
    assert got == [luhn.is_valid(c) for c in cells]
    assert all(got[len(numbers) :])
