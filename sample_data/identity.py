"""Vectorised fake identities: resident IDs, bank cards and Chinese names.

Everything is built with numpy draws and polars expressions (no per-row Python),
so the benchmark can make ten million people as cheaply as the demo makes two
thousand. The same seed always gives the same people.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

SURNAMES = tuple(
    "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林郑梁谢唐许冯宋韩邓彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏付方邹熊白孟秦邱侯江尹薛段雷龙黎史陶贺毛郝顾龚邵万武钱戴严莫孔向常"
)
GIVEN_MALE = tuple("伟强磊军勇杰涛明超刚平辉华建国文斌波宇浩鹏志德福贵成林海兵东荣才顺忠")
GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞秀英华慧巧美兰玉萍红琴云莲珍凤桂梅琳素淑翠琼")

# (bank name, BIN prefix). Cards are 19 digits: prefix + random digits + Luhn check digit.
BANKS = (
    ("中国农业银行", "622848"),
    ("中国邮政储蓄银行", "621799"),
    ("四川农村信用社", "621458"),
    ("中国建设银行", "621700"),
)


def check_digit_expr(body: pl.Expr) -> pl.Expr:
    """GB 11643-1999 check character of a 17-digit body (weights, mod 11, '10X98765432')."""
    total = pl.sum_horizontal([body.str.slice(i, 1).cast(pl.Int32) * w for i, w in enumerate(ID_WEIGHTS)])
    return (total % 11).replace_strict(dict(enumerate(ID_CHECK_CHARS)), return_dtype=pl.Utf8)


def luhn_digit_expr(body: pl.Expr, length: int) -> pl.Expr:
    """Luhn check digit for bodies of a fixed `length` (the digit appended on the right)."""
    terms = []
    for pos in range(length):
        digit = body.str.slice(length - 1 - pos, 1).cast(pl.Int32)
        if pos % 2 == 0:  # rightmost body digit is doubled once the check digit is appended
            doubled = digit * 2
            digit = pl.when(doubled > 9).then(doubled - 9).otherwise(doubled)
        terms.append(digit)
    return ((10 - pl.sum_horizontal(terms) % 10) % 10).cast(pl.Utf8)


def random_digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    """n strings of `width` random digits (leading zeros kept)."""
    parts = [rng.integers(0, 10 ** min(9, width - k), n) for k in range(0, width, 9)]
    widths = [min(9, width - k) for k in range(0, width, 9)]
    frame = pl.DataFrame({f"p{i}": p for i, p in enumerate(parts)})
    return frame.select(
        pl.concat_str([pl.col(f"p{i}").cast(pl.Utf8).str.zfill(w) for i, w in enumerate(widths)]).alias(
            "digits"
        )
    ).to_series()


def id_numbers(area: pl.Series, birth: pl.Series, seq: pl.Series) -> pl.Series:
    """Valid 18-digit IDs from area codes (text), birth dates (Date) and sequence numbers (0–999)."""
    frame = pl.DataFrame({"area": area, "birth": birth, "seq": seq})
    body = pl.col("area") + pl.col("birth").dt.strftime("%Y%m%d") + pl.col("seq").cast(pl.Utf8).str.zfill(3)
    return frame.select((body + check_digit_expr(body)).alias("id_number")).to_series()


def card_numbers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """n Luhn-valid 19-digit cards with their bank name (columns card_number, bank)."""
    bank_idx = rng.integers(0, len(BANKS), n)
    prefixes = pl.Series([b[1] for b in BANKS])[bank_idx]
    names = pl.Series([b[0] for b in BANKS])[bank_idx]
    frame = pl.DataFrame({"prefix": prefixes, "rest": random_digits(rng, n, 12), "bank": names})
    body = pl.col("prefix") + pl.col("rest")
    return frame.select((body + luhn_digit_expr(body, 18)).alias("card_number"), "bank")


def break_luhn_expr(card: pl.Expr) -> pl.Expr:
    """The same card with its last digit shifted by one: a passbook-style number failing Luhn."""
    last = card.str.slice(-1, 1).cast(pl.Int32)
    return card.str.slice(0, 18) + ((last + 1) % 10).cast(pl.Utf8)


def names(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    """Chinese names: a common surname and one or two given characters matching the sex."""
    n = len(male)
    pool_m, pool_f = np.array(GIVEN_MALE), np.array(GIVEN_FEMALE)

    def given() -> np.ndarray:
        return np.where(
            male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)]
        )

    frame = pl.DataFrame(
        {
            "s": np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)],
            "g1": given(),
            "g2": given(),
            "two": rng.random(n) < 0.7,
        }
    )
    return frame.select(
        (pl.col("s") + pl.col("g1") + pl.when(pl.col("two")).then(pl.col("g2")).otherwise(pl.lit(""))).alias(
            "name"
        )
    ).to_series()


def people(rng: np.random.Generator, n: int, area: str, born_from: dt.date, born_to: dt.date) -> pl.DataFrame:
    """n distinct people: id_number, name, male, birth, card_number, bank.

    Draws a few extra and drops ID collisions (same birth date and sequence), so the
    result has exactly n unique IDs.
    """
    draw = int(n * 1.05) + 16
    span = (born_to - born_from).days
    birth = pl.Series(rng.integers(0, span, draw)).cast(pl.Int32)
    birth_dates = pl.Series([born_from]).cast(pl.Date).repeat_by(draw).explode().cast(pl.Int32) + birth
    seq = pl.Series(rng.integers(0, 1000, draw))
    ids = id_numbers(pl.Series([area]).repeat_by(draw).explode(), birth_dates.cast(pl.Date), seq)
    male = (seq % 2 == 1).to_numpy()
    frame = pl.DataFrame(
        {"id_number": ids, "name": names(rng, male), "male": male, "birth": birth_dates.cast(pl.Date)}
    )
    frame = pl.concat([frame, card_numbers(rng, draw)], how="horizontal")
    frame = frame.unique(subset="id_number", keep="first", maintain_order=True).unique(
        subset="card_number", keep="first", maintain_order=True
    )
    if frame.height < n:
        raise ValueError(f"could not draw {n} distinct people; widen the birth range")
    return frame.head(n)
