"""The demo county's data, as canonical frames, with every anomaly the rules detect.

安和县 (area code 510723, fictional) has four townships. Its rosters (entitlements)
and the bank's disbursement details (payments) are built here as plain polars
frames in canonical form (amounts in integer fen, dates as Date, periods
canonical); `generate.py` then writes them as the files clerks really upload.

Every anomaly is injected by one small method that also records the finding(s)
it must produce in the ground truth (`Story.truth`); everything not recorded
reconciles cleanly (paid on time, the right amount, to the registered card and
account holder). The three seed cases of the project are written in as they
happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ykt.sample_data.identity import break_luhn_expr, check_digit_expr, people

AREA = "510723"
COUNTY = "安和县"
PLACES: dict[str, tuple[str, ...]] = {
    "凤灵街道": ("万安社区", "玉龙社区", "青龙村"),
    "唐昌镇": ("永安村", "战旗村", "金星村"),
    "江口街道": ("武阳社区", "江渔村", "双龙村"),
    "黄甸镇": ("龙泉村", "石牛村", "黄甸社区"),
}
MONTHS = ("2024-07", "2024-08", "2024-09")
NIGHTS = (dt.date(2024, 9, 12), dt.date(2024, 9, 13))
PAY_DAY = {"DIBAO": 8, "TEKUN": 9, "CHILD": 8, "DISABLED": 15}  # the bank pays before the due day

ENTITLEMENT_SCHEMA = {
    "program_code": pl.Utf8,
    "period": pl.Utf8,
    "id_number": pl.Utf8,
    "name": pl.Utf8,
    "head_name": pl.Utf8,
    "head_id": pl.Utf8,
    "payee_name": pl.Utf8,
    "payee_id": pl.Utf8,
    "card_number": pl.Utf8,
    "bank": pl.Utf8,
    "township": pl.Utf8,
    "village": pl.Utf8,
    "group_name": pl.Utf8,
    "amount_fen": pl.Int64,
    "approval_date": pl.Date,
    "pay_date": pl.Date,
    "extra": pl.Utf8,
}
PAYMENT_SCHEMA = {
    "program_code": pl.Utf8,
    "period": pl.Utf8,
    "id_number": pl.Utf8,
    "name": pl.Utf8,
    "payee_name": pl.Utf8,
    "card_number": pl.Utf8,
    "bank": pl.Utf8,
    "township": pl.Utf8,
    "village": pl.Utf8,
    "group_name": pl.Utf8,
    "amount_fen": pl.Int64,
    "pay_date": pl.Date,
    "status": pl.Utf8,
    "failure_reason": pl.Utf8,
    "batch": pl.Utf8,
}
KEY = ["id_number", "program_code", "period"]


@dataclass(frozen=True)
class Expected:
    """One finding the rules must produce (the ground truth written to the manifest)."""

    rule: str
    id_number: str | None
    program_code: str
    period: str
    nights: tuple[int, ...] = (1, 2)
    card_number: str | None = None
    note: str = ""


class PeoplePool:
    """Hands out distinct people, each at most once, with a home place."""

    def __init__(self, rng: np.random.Generator, n: int, born_from: dt.date, born_to: dt.date):
        self.rng = rng
        self.frame = people(rng, n, AREA, born_from, born_to)
        self.next = 0

    def take(
        self, n: int, township: str | None = None, village: str | None = None, group: str | None = None
    ) -> pl.DataFrame:
        """The next n people; the place is drawn at random unless given."""
        chunk = self.frame.slice(self.next, n)
        if chunk.height < n:
            raise ValueError(f"people pool exhausted: asked {n}, {chunk.height} left")
        self.next += n
        return self._place(chunk, township, village, group)

    def take_one(self, where: pl.Expr, township: str, village: str, group: str) -> pl.DataFrame:
        """The first unused person matching `where` (e.g. a man born before 1965), placed as given."""
        rest = self.frame.slice(self.next).filter(where).head(1)
        if rest.height == 0:
            raise ValueError("no unused person matches")
        self.frame = pl.concat(
            [
                self.frame.slice(0, self.next),
                rest,
                self.frame.slice(self.next).filter(pl.col("id_number") != rest.item(0, "id_number")),
            ]
        )
        self.next += 1
        return self._place(rest, township, village, group)

    def _place(
        self, chunk: pl.DataFrame, township: str | None, village: str | None, group: str | None
    ) -> pl.DataFrame:
        n = chunk.height
        pairs = [(t, v) for t, villages in PLACES.items() for v in villages]
        drawn = self.rng.integers(0, len(pairs), n)
        groups = self.rng.integers(1, 9, n)
        return chunk.with_columns(
            township=pl.lit(township) if township else pl.Series([pairs[i][0] for i in drawn]),
            village=pl.lit(village) if village else pl.Series([pairs[i][1] for i in drawn]),
            group_name=pl.lit(group) if group else pl.Series([f"{g}组" for g in groups]),
        )


def _entitlements(
    persons: pl.DataFrame, program: str, periods: tuple[str, ...], amount_fen: np.ndarray, **cols
) -> pl.DataFrame:
    """One entitlement per person and period (amount constant across periods)."""
    base = persons.with_columns(
        program_code=pl.lit(program), amount_fen=pl.Series(amount_fen, dtype=pl.Int64)
    )
    for name, value in cols.items():
        base = base.with_columns(
            value.alias(name) if isinstance(value, pl.Expr) else pl.lit(value).alias(name)
        )
    frame = base.join(pl.DataFrame({"period": list(periods)}), how="cross")
    return frame.select(
        [
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
            for c, t in ENTITLEMENT_SCHEMA.items()
        ]
    )


def _monthly_pay_date(program: str) -> pl.Expr:
    return (pl.col("period") + pl.lit(f"-{PAY_DAY[program]:02d}")).str.to_date("%Y-%m-%d")


class Story:
    """Builds the county's rosters, payments, reference lists and the ground truth."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.adults = PeoplePool(self.rng, 2200, dt.date(1935, 1, 1), dt.date(1996, 12, 31))
        self.children = PeoplePool(self.rng, 40, dt.date(2009, 1, 1), dt.date(2018, 12, 31))
        self.ent = pl.DataFrame(schema=ENTITLEMENT_SCHEMA)
        self.pay = pl.DataFrame(schema=PAYMENT_SCHEMA)
        self.deaths = pl.DataFrame(schema={"name": pl.Utf8, "id_number": pl.Utf8, "death_date": pl.Date})
        self.employees = pl.DataFrame(schema={"name": pl.Utf8, "id_number": pl.Utf8, "employer": pl.Utf8})
        self.truth: list[Expected] = []
        self.negatives: list[dict] = []
        self.seed_cases: dict[str, dict] = {}
        self.used: set[str] = set()  # ids already given an anomaly (or a household): picked once only

    # -- small helpers --------------------------------------------------------------------------------------
    def add_entitlements(self, frame: pl.DataFrame) -> None:
        self.ent = pl.concat([self.ent, frame])

    def add_payments(self, frame: pl.DataFrame) -> None:
        self.pay = pl.concat([self.pay, frame.select([pl.col(c).cast(t) for c, t in PAYMENT_SCHEMA.items()])])

    def expect(
        self,
        rule: str,
        rows: pl.DataFrame,
        nights: tuple[int, ...] = (1, 2),
        note: str = "",
        card: str | None = None,
    ) -> None:
        for id_number, program, period in rows.select(KEY).iter_rows():
            self.truth.append(Expected(rule, id_number, program, period, nights, card, note))

    def pick(
        self, program: str, n: int, period: str | None = None, where: pl.Expr | None = None
    ) -> pl.DataFrame:
        """n entitlement rows of distinct, not yet used people of `program` (deterministic draw)."""
        cand = self.ent.filter(pl.col("program_code") == program, ~pl.col("id_number").is_in(list(self.used)))
        if period:
            cand = cand.filter(pl.col("period") == period)
        if where is not None:
            cand = cand.filter(where)
        ids = cand.get_column("id_number").unique(maintain_order=True)
        chosen = ids.gather(np.sort(self.rng.choice(ids.len(), n, replace=False)))
        self.used.update(chosen.to_list())
        return cand.filter(pl.col("id_number").is_in(chosen.to_list()))

    def payments_of(self, keys: pl.DataFrame) -> pl.DataFrame:
        return self.pay.join(keys.select(KEY), on=KEY, how="semi")

    def update_payments(self, keys: pl.DataFrame, **values: pl.Expr) -> None:
        """Change the payments of the given entitlement keys (vectorised, via a join flag)."""
        hit = keys.select(KEY).unique().with_columns(_hit=pl.lit(True))
        joined = self.pay.join(hit, on=KEY, how="left")
        changes = [
            pl.when(pl.col("_hit")).then(v).otherwise(pl.col(c)).cast(PAYMENT_SCHEMA[c]).alias(c)
            for c, v in values.items()
        ]
        self.pay = joined.with_columns(changes).drop("_hit")

    def update_entitlements(self, keys: pl.DataFrame, **values: pl.Expr) -> None:
        hit = keys.select(KEY).unique().with_columns(_hit=pl.lit(True))
        joined = self.ent.join(hit, on=KEY, how="left")
        changes = [
            pl.when(pl.col("_hit")).then(v).otherwise(pl.col(c)).cast(ENTITLEMENT_SCHEMA[c]).alias(c)
            for c, v in values.items()
        ]
        self.ent = joined.with_columns(changes).drop("_hit")

    def drop_payments(self, keys: pl.DataFrame) -> None:
        self.pay = self.pay.join(keys.select(KEY), on=KEY, how="anti")


# -- the programs, everyone paid correctly ---------------------------------------------------------------------


def _steps(rng: np.random.Generator, n: int, low: int, high: int, step: int) -> np.ndarray:
    """n amounts in fen, uniform over low..high yuan in `step`-yuan steps (no outliers by construction)."""
    return rng.integers(0, (high - low) // step + 1, n) * step * 100 + low * 100


def build_dibao(s: Story) -> None:
    """城乡低保: 200 households, most of one person; 8 households of three share the head's card
    (a household legitimately sharing a card: the negative for SHARED_ACCOUNT)."""
    heads = s.adults.take(200)
    members = s.adults.take(16).drop("township", "village", "group_name", "card_number", "bank")
    households = heads.head(8).with_row_index("h")
    members = (
        members.with_columns(h=pl.Series(np.repeat(np.arange(8), 2), dtype=pl.UInt32))
        .join(
            households.select(
                "h",
                "township",
                "village",
                "group_name",
                "card_number",
                "bank",
                head_name=pl.col("name"),
                head_id=pl.col("id_number"),
            ),
            on="h",
        )
        .drop("h")
    )
    heads = heads.with_columns(head_name=pl.col("name"), head_id=pl.col("id_number"))
    persons = pl.concat([heads, members], how="diagonal_relaxed")
    frame = _entitlements(
        persons,
        "DIBAO",
        MONTHS,
        _steps(s.rng, persons.height, 200, 800, 10),
        payee_name=pl.col("head_name"),
        payee_id=pl.col("head_id"),
    )
    s.add_entitlements(frame.with_columns(pay_date=_monthly_pay_date("DIBAO")))
    shared = households.get_column("id_number").to_list() + members.get_column("id_number").to_list()
    s.used.update(shared)
    s.negatives.append(
        {
            "what": "SHARED_ACCOUNT 的反例：同户（户主+2名家庭成员）共用户主的社保卡",
            "card_numbers": households.get_column("card_number").to_list(),
            "persons": len(shared),
        }
    )


def build_monthly(s: Story, program: str, n: int, low: int, high: int, step: int) -> pl.DataFrame:
    """A monthly program of n people, paid on its pay day of each month."""
    persons = s.adults.take(n)
    frame = _entitlements(persons, program, MONTHS, _steps(s.rng, n, low, high, step))
    s.add_entitlements(frame.with_columns(pay_date=_monthly_pay_date(program)))
    return persons


def build_child(s: Story) -> None:
    """事实无人抚养儿童: 1350 元 a month to the guardian's card (the guardian is the registered payee)."""
    kids = s.children.take(19)
    guardians = s.adults.take(19).select(
        payee_name=pl.col("name"), payee_id=pl.col("id_number"), g_card="card_number", g_bank="bank"
    )
    kids = pl.concat([kids, guardians], how="horizontal").with_columns(card_number="g_card", bank="g_bank")
    frame = _entitlements(kids.drop("g_card", "g_bank"), "CHILD", MONTHS, np.full(kids.height, 135000))
    s.add_entitlements(frame.with_columns(pay_date=_monthly_pay_date("CHILD")))


def build_gengdi(s: Story) -> None:
    """耕地地力保护补贴 2024: 105.60 元/亩; 260 farmers plus 40 single-person 低保 heads (same card)."""
    farmers = s.adults.take(260)
    dibao_heads = s.ent.filter(
        pl.col("program_code") == "DIBAO",
        pl.col("period") == MONTHS[0],
        ~pl.col("id_number").is_in(list(s.used)),
    ).head(40)
    s.used.update(
        dibao_heads.get_column("id_number").to_list()
    )  # kept clean: one person, two programs, one card
    cols = ["id_number", "name", "card_number", "bank", "township", "village", "group_name"]
    persons = pl.concat([farmers.select(cols), dibao_heads.select(cols)])
    tenths = s.rng.integers(10, 81, persons.height)  # 1.0–8.0 亩
    frame = _entitlements(
        persons,
        "GENGDI",
        ("2024",),
        tenths * 1056,
        approval_date=pl.lit(dt.date(2024, 5, 20)),
        pay_date=pl.lit(dt.date(2024, 6, 18)),
        extra=pl.Series((tenths / 10).round(1)).cast(pl.Utf8),
    )
    s.add_entitlements(frame)


def build_nongji(s: Story) -> None:
    """农机购置补贴 (once): approved June–August, paid 5–25 days after approval (due: +30 days)."""
    persons = s.adults.take(30)
    approval = np.datetime64("2024-06-01") + s.rng.integers(0, 71, 30)
    paid = approval + s.rng.integers(5, 26, 30)
    frame = _entitlements(
        persons,
        "NONGJI",
        ("",),
        _steps(s.rng, 30, 200, 1600, 50),
        approval_date=pl.Series(approval).cast(pl.Date),
        pay_date=pl.Series(paid).cast(pl.Date),
        extra=pl.Series(s.rng.choice(["微耕机", "打米机", "饲料粉碎机", "喷雾机", "抽水机"], 30)),
    )
    s.add_entitlements(frame.with_columns(period=pl.col("approval_date").dt.strftime("%Y-%m")))


def build_land_comp_paid(s: Story) -> None:
    """征地补偿款 for 江渔村3组: 25 people, approved 2024-06-05, paid on 2024-07-20 (on time)."""
    persons = s.adults.take(25, "江口街道", "江渔村", "3组")
    frame = _entitlements(
        persons,
        "LAND_COMP",
        ("2024-06",),
        _steps(s.rng, 25, 800, 1200, 10),
        approval_date=pl.lit(dt.date(2024, 6, 5)),
        pay_date=pl.lit(dt.date(2024, 7, 20)),
    )
    s.add_entitlements(frame)


def pay_everyone(s: Story) -> None:
    """The bank pays every entitlement with a planned pay date: right amount, registered card and holder."""
    paid = s.ent.filter(pl.col("pay_date").is_not_null()).with_columns(
        payee_name=pl.coalesce("payee_name", "name"),
        status=pl.lit("success"),
        failure_reason=pl.lit(None, pl.Utf8),
        batch=pl.col("pay_date").dt.strftime("%Y-%m"),
    )
    s.add_payments(paid)


def stall_disabled_june(s: Story) -> None:
    """残疾人两项补贴 for June: the roster came (the same 150 people as July), the bank's June batch never
    went out: not one bank row for DISABLED 2024-06, 150 MISSING (due 06-15 + 5) spread over many village
    groups, which make ONE PROGRAM_STALLED case for 县残疾人联合会 instead of 150 complaints."""
    june = s.ent.filter(pl.col("program_code") == "DISABLED", pl.col("period") == "2024-07").with_columns(
        period=pl.lit("2024-06"), pay_date=pl.lit(None, pl.Date)
    )
    s.add_entitlements(june)
    s.expect("MISSING", june, note="整期未发：6月残疾人两项补贴银行未发出（归入 PROGRAM_STALLED 案件）")
    s.truth.append(
        Expected("PROGRAM_STALLED", None, "DISABLED", "2024-06", (1, 2), None, f"{june.height}人 整期未发")
    )


def pay_tekun_june_without_roster(s: Story) -> None:
    """特困 for June was paid (in the bank's June detail, on 06-09) but no June 特困 roster reached the inbox:
    ONE COVERAGE record for TEKUN 2024-06 (60 payments not checked), not 60 UNENTITLED clues."""
    july = s.pay.filter(pl.col("program_code") == "TEKUN", pl.col("period") == "2024-07")
    s.add_payments(
        july.with_columns(
            period=pl.lit("2024-06"), pay_date=pl.lit(dt.date(2024, 6, 9)), batch=pl.lit("2024-06")
        )
    )
    s.truth.append(
        Expected("COVERAGE", None, "TEKUN", "2024-06", (1, 2), None, f"{july.height}笔发放无花名册")
    )


# -- the three seed cases, as they happened -------------------------------------------------------------------


def seed_li_ancheng(s: Story) -> None:
    """凤灵街道万安社区 李安成: 农机购置补贴 200 元 for a rice mill, approved 2024-08-01 (due 08-31),
    the batch still in approval at night 1 (MISSING, 县农业农村局); paid 2024-09-13, the day after
    night 1, so the case resolves at night 2 (where the late payment is a PAID_LATE record)."""
    person = s.adults.take_one(
        pl.col("male") & (pl.col("birth") < dt.date(1965, 1, 1)), "凤灵街道", "万安社区", "3组"
    )
    person = person.with_columns(name=pl.lit("李安成"))
    frame = _entitlements(
        person,
        "NONGJI",
        ("2024-08",),
        np.array([20000]),
        approval_date=pl.lit(dt.date(2024, 8, 1)),
        extra=pl.lit("打米机"),
    )
    s.add_entitlements(frame)
    s.used.add(person.item(0, "id_number"))
    s.add_payments(
        frame.with_columns(
            pay_date=pl.lit(dt.date(2024, 9, 13)),
            payee_name="name",
            status=pl.lit("success"),
            failure_reason=pl.lit(None, pl.Utf8),
            batch=pl.lit("night2"),
        )
    )
    s.expect("MISSING", frame, nights=(1,), note="种子案例一：批次仍在审批，逾期未发")
    s.expect("PAID_LATE", frame, nights=(2,), note="种子案例一：第二晚前一天（2024-09-13）补发到账")
    s.seed_cases["li_ancheng"] = {
        "rule": "MISSING",
        "program_code": "NONGJI",
        "period": "2024-08",
        "id_number": person.item(0, "id_number"),
        "name": "李安成",
        "township": "凤灵街道",
        "village": "万安社区",
        "amount": "200.00",
        "department": "县农业农村局",
        "supervisor": "驻县农业农村局纪检监察组",
        "night1": "open",
        "night2": "resolved",
        "resolved_on": NIGHTS[1].isoformat(),
    }


def seed_child(s: Story) -> None:
    """唐昌镇永安村: a 事实无人抚养儿童 whose card could not be activated (no guardian): every month's
    1350 元 failed with 账户未激活 and was never re-issued (FAILED_NOT_REISSUED, 县民政局). September's
    failure (09-08) is still inside its 15-day re-issue window at both nights: no finding for it yet."""
    child = s.children.take_one(pl.col("male"), "唐昌镇", "永安村", "2组").with_columns(
        name=pl.lit("黄俊杰"), bank=pl.lit("成都农商银行")
    )
    frame = _entitlements(child, "CHILD", MONTHS, np.array([135000]))
    s.add_entitlements(frame)
    s.used.add(child.item(0, "id_number"))
    s.add_payments(
        frame.with_columns(
            pay_date=_monthly_pay_date("CHILD"),
            payee_name="name",
            status=pl.lit("failure"),
            failure_reason=pl.lit("账户未激活"),
            batch=pl.col("period"),
        )
    )
    due = frame.filter(pl.col("period") < "2024-09")
    s.expect("FAILED_NOT_REISSUED", due, note="种子案例二：账户未激活，每月发放失败，未重新发放")
    s.negatives.append(
        {
            "what": "FAILED_NOT_REISSUED 的反例：9月失败（09-08）尚在15天重发期内",
            "id_number": child.item(0, "id_number"),
            "program_code": "CHILD",
            "period": "2024-09",
        }
    )
    s.seed_cases["child"] = {
        "rule": "FAILED_NOT_REISSUED",
        "program_code": "CHILD",
        "periods": ["2024-07", "2024-08"],
        "id_number": child.item(0, "id_number"),
        "name": "黄俊杰",
        "township": "唐昌镇",
        "village": "永安村",
        "amount_per_month": "1350.00",
        "failure_reason": "账户未激活",
        "department": "县民政局",
        "supervisor": "驻县民政局纪检监察组",
    }


def seed_wuyang(s: Story) -> None:
    """江口街道武阳社区7组: 提灌站拆迁补偿 for 268 people, 171,520.00 元 in total, approved 2024-05-10
    (due 07-09), never paid: 268 MISSING findings that make ONE BATCH_STALLED case."""
    persons = s.adults.take(268, "江口街道", "武阳社区", "7组")
    offsets = s.rng.integers(0, 9, 134) * 1000  # ±0–80 元 around 640 元, mirrored
    amounts = np.concatenate([64000 + offsets, 64000 - offsets])  # so the total is exactly 268 × 640 元
    frame = _entitlements(
        persons, "LAND_COMP", ("2024-05",), amounts, approval_date=pl.lit(dt.date(2024, 5, 10))
    )
    s.add_entitlements(frame)
    s.used.update(persons.get_column("id_number").to_list())
    s.expect(
        "MISSING", frame, note="种子案例三：武阳社区7组提灌站拆迁补偿款，整组未发（归入 BATCH_STALLED 案件）"
    )
    total = int(amounts.sum())
    s.truth.append(
        Expected(
            "BATCH_STALLED",
            None,
            "LAND_COMP",
            "2024-05",
            (1, 2),
            None,
            f"江口街道/武阳社区/7组 268人 合计{total // 100}.{total % 100:02d}元",
        )
    )
    s.seed_cases["wuyang"] = {
        "rule": "BATCH_STALLED",
        "program_code": "LAND_COMP",
        "period": "2024-05",
        "township": "江口街道",
        "village": "武阳社区",
        "group": "7组",
        "persons": 268,
        "amount": f"{total // 100}.{total % 100:02d}",
        "department": "江口街道办事处",
        "supervisor": "江口街道纪工委",
    }


# -- anomalies, a handful each ---------------------------------------------------------------------------------


def inject_missing(s: Story) -> None:
    """Never paid, no attempt: three 低保 for August, one 特困 for September (due 09-10)."""
    for program, period, n in (("DIBAO", "2024-08", 3), ("TEKUN", "2024-09", 1)):
        rows = s.pick(program, n, period)
        s.drop_payments(rows)
        s.expect("MISSING", rows, note="应发未发")


def inject_failed(s: Story) -> None:
    """Two August 低保 payments failed (卡号已注销, 账户冻结) and were never re-issued; one July payment
    failed on 07-05 but was re-issued on 07-09, before its due date (the negative: nothing to find)."""
    rows = s.pick("DIBAO", 2, "2024-08")
    reasons = rows.select(KEY).with_columns(failure_reason=pl.Series(["卡号已注销", "账户冻结"]))
    s.update_payments(rows, status=pl.lit("failure"))
    s.pay = (
        s.pay.join(reasons, on=KEY, how="left", suffix="_new")
        .with_columns(failure_reason=pl.coalesce("failure_reason_new", "failure_reason"))
        .drop("failure_reason_new")
    )
    s.expect("FAILED_NOT_REISSUED", rows, note="发放失败未重发")
    again = s.pick("DIBAO", 1, "2024-07")
    reissue = s.payments_of(again).with_columns(pay_date=pl.lit(dt.date(2024, 7, 9)), batch=pl.lit("reissue"))
    s.update_payments(
        again,
        status=pl.lit("failure"),
        failure_reason=pl.lit("卡号与户名不一致"),
        pay_date=pl.lit(dt.date(2024, 7, 5)),
    )
    s.add_payments(reissue)
    s.negatives.append(
        {
            "what": "FAILED_NOT_REISSUED 的反例：07-05 失败，07-09 更正发放成功（在应发日前）",
            "id_number": again.item(0, "id_number"),
            "program_code": "DIBAO",
            "period": "2024-07",
        }
    )


def inject_returned(s: Story) -> None:
    """Paid, then returned: one August 低保 paid on 08-08 came back on 08-20 (账户冻结, in the 补发 file) and
    was never paid again: unpaid from the return, FAILED_NOT_REISSUED once its 15 days have passed."""
    rows = s.pick("DIBAO", 1, "2024-08")
    s.add_payments(
        s.payments_of(rows).with_columns(
            status=pl.lit("returned"),
            pay_date=pl.lit(dt.date(2024, 8, 20)),
            failure_reason=pl.lit("账户冻结"),
            batch=pl.lit("reissue"),
        )
    )
    s.expect("FAILED_NOT_REISSUED", rows, note="发放成功后被银行退回（账户冻结），未重新发放")


def inject_id_mismatch(s: Story) -> None:
    """The bank's August 低保 detail carries one villager's ID with one digit of the birth sequence mistyped
    (the check character computed for the wrong body, so the ID stays valid; the first unused 低保 recipient
    in ID order, no random draw): one ID_MISMATCH clue for the finance bureau, not a MISSING case plus an
    UNENTITLED clue."""
    rows = (
        s.ent.filter(
            pl.col("program_code") == "DIBAO",
            pl.col("period") == "2024-08",
            ~pl.col("id_number").is_in(list(s.used)),
        )
        .sort("id_number")
        .head(1)
    )
    s.used.add(rows.item(0, "id_number"))
    digit = (pl.col("id_number").str.slice(15, 1).cast(pl.Int32) + 1) % 10
    body = pl.col("id_number").str.slice(0, 15) + digit.cast(pl.Utf8) + pl.col("id_number").str.slice(16, 1)
    mistyped = rows.select(wrong=body + check_digit_expr(body)).item()
    s.update_payments(rows, id_number=pl.lit(mistyped))
    s.expect(
        "ID_MISMATCH",
        rows,
        note="银行代发明细身份证号顺序码错一位（校验位按错号算出，号码仍有效），花名册号码正确",
    )


def inject_paid_late(s: Story) -> None:
    """Paid after due + grace: three July 低保 paid on 07-25 (due 07-10); one 耕地 paid 07-15 (due 06-19 + 10)."""
    for program, period, n, day in (
        ("DIBAO", "2024-07", 3, dt.date(2024, 7, 25)),
        ("GENGDI", "2024", 1, dt.date(2024, 7, 15)),
    ):
        rows = s.pick(program, n, period)
        s.update_payments(rows, pay_date=pl.lit(day), batch=pl.lit(day.strftime("%Y-%m")))
        s.expect("PAID_LATE", rows, note="发放不及时")


def inject_amounts(s: Story) -> None:
    """UNDERPAID: two August child allowances paid 1000 of 1350 元, one 耕地 paid half.
    OVERPAID: one July child allowance paid twice the standard (2700 元) in one payment."""
    short = s.pick("CHILD", 2, "2024-08")
    s.update_payments(short, amount_fen=pl.lit(100000))
    half = s.pick("GENGDI", 1, where=pl.col("amount_fen").is_between(30000, 60000))
    s.update_payments(half, amount_fen=pl.col("amount_fen") // 2)
    s.expect("UNDERPAID", pl.concat([short, half]), note="不足额发放")
    over = s.pick("CHILD", 1, "2024-07")
    s.update_payments(over, amount_fen=pl.lit(270000))
    s.expect("OVERPAID", over, note="超标准发放")


def inject_outliers(s: Story) -> None:
    """AMOUNT_OUTLIER in 耕地地力保护补贴 (a free-amount program): two rosters with the area typed
    100× too large (paid as listed), and one payment with the decimal point slipped (×100, also OVERPAID)."""
    typo = s.pick("GENGDI", 2)
    s.update_entitlements(
        typo,
        amount_fen=pl.col("amount_fen") * 100,
        extra=(pl.col("extra").cast(pl.Float64) * 100).round(1).cast(pl.Utf8),
    )
    s.update_payments(typo, amount_fen=pl.col("amount_fen") * 100)
    s.expect("AMOUNT_OUTLIER", typo, note="面积录入错误（放大100倍），按花名册发放")
    slip = s.pick("GENGDI", 1, where=pl.col("amount_fen") > 50000)
    s.update_payments(slip, amount_fen=pl.col("amount_fen") * 100)
    s.expect("AMOUNT_OUTLIER", slip, note="银行发放金额小数点错位")
    s.expect("OVERPAID", slip, note="银行发放金额小数点错位")


def inject_duplicate(s: Story) -> None:
    """Paid twice: two August 低保 again on 08-28, one July 特困 again on 07-26 (in the 补发 file)."""
    for program, period, n, day in (
        ("DIBAO", "2024-08", 2, dt.date(2024, 8, 28)),
        ("TEKUN", "2024-07", 1, dt.date(2024, 7, 26)),
    ):
        rows = s.pick(program, n, period)
        s.add_payments(s.payments_of(rows).with_columns(pay_date=pl.lit(day), batch=pl.lit("reissue")))
        s.expect("DUPLICATE", rows, note="重复发放")


def inject_unentitled(s: Story) -> None:
    """Paid with no roster entry: two strangers paid August 低保; one 低保 recipient also paid August 特困."""
    strangers = s.adults.take(2)
    paid = _entitlements(strangers, "DIBAO", ("2024-08",), np.array([50000, 62000]))
    extra = s.pick("DIBAO", 1, "2024-08").with_columns(
        program_code=pl.lit("TEKUN"), amount_fen=pl.lit(100000, pl.Int64)
    )
    paid = pl.concat([paid, extra]).with_columns(
        pay_date=pl.lit(dt.date(2024, 8, 8)),
        payee_name=pl.coalesce("payee_name", "name"),
        status=pl.lit("success"),
        failure_reason=pl.lit(None, pl.Utf8),
        batch=pl.lit("2024-08"),
    )
    s.add_payments(paid)
    s.expect("UNENTITLED", paid, note="无依据发放")


def inject_payee_mismatch(s: Story) -> None:
    """Two August disability payments went to a relative's card and account (户名 not the beneficiary)."""
    rows = s.pick("DISABLED", 2, "2024-08")
    relatives = (
        s.adults.take(2)
        .select(KEY[:1] + ["name", "card_number", "bank"])
        .rename({"id_number": "rel_id", "name": "rel_name", "card_number": "rel_card", "bank": "rel_bank"})
    )
    swap = pl.concat([rows.select(KEY), relatives], how="horizontal")
    s.pay = (
        s.pay.join(swap, on=KEY, how="left")
        .with_columns(
            payee_name=pl.coalesce("rel_name", "payee_name"),
            card_number=pl.coalesce("rel_card", "card_number"),
            bank=pl.coalesce("rel_bank", "bank"),
        )
        .drop("rel_id", "rel_name", "rel_card", "rel_bank")
    )
    s.expect("PAYEE_MISMATCH", rows, note="户名与享受人不符（代领）")


def inject_shared_account(s: Story) -> None:
    """A village cadre's card collected the August 低保 of three unrelated villagers of 唐昌镇:
    one SHARED_ACCOUNT clue for the card, and each payment is also a PAYEE_MISMATCH."""
    cadre = s.adults.take(1, "唐昌镇", "战旗村", "1组")
    card, bank, holder = cadre.item(0, "card_number"), cadre.item(0, "bank"), cadre.item(0, "name")
    rows = s.pick("DIBAO", 3, "2024-08", where=pl.col("township") == "唐昌镇")
    s.update_payments(rows, card_number=pl.lit(card), bank=pl.lit(bank), payee_name=pl.lit(holder))
    s.expect("SHARED_ACCOUNT", rows, card=card, note="一卡多人：村干部银行卡代收3名村民低保金")
    s.expect("PAYEE_MISMATCH", rows, note="一卡多人：户名为村干部")


def inject_deceased(s: Story) -> None:
    """Dead but still paid: a 低保 recipient died 2024-07-20 (August and September flagged, July is the
    same month: not flagged); a 特困 recipient died 2024-08-03 (September flagged, August not)."""
    for program, died in (("DIBAO", dt.date(2024, 7, 20)), ("TEKUN", dt.date(2024, 8, 3))):
        rows = s.pick(program, 1)
        s.deaths = pl.concat([s.deaths, rows.head(1).select("name", "id_number", death_date=pl.lit(died))])
        after = rows.filter(pl.col("period") > died.strftime("%Y-%m"))
        s.expect("DECEASED_PAYEE", after, note=f"死亡（{died.isoformat()}）后仍发放")
        s.negatives.append(
            {
                "what": "DECEASED_PAYEE 的反例：死亡当月的补贴不算",
                "id_number": rows.item(0, "id_number"),
                "program_code": program,
                "period": died.strftime("%Y-%m"),
            }
        )
    others = s.adults.take(15)
    days = np.datetime64("2024-01-01") + s.rng.integers(0, 240, 15)
    s.deaths = pl.concat(
        [s.deaths, others.select("name", "id_number", death_date=pl.Series(days).cast(pl.Date))]
    )


EMPLOYERS = (
    "安和县凤灵小学",
    "安和县人民医院",
    "唐昌镇人民政府",
    "安和县财政局",
    "江口街道办事处",
    "安和县自然资源局",
)


def inject_public_employees(s: Story) -> None:
    """Two 低保 recipients are on the public-employee list (every month flagged); one 耕地 recipient
    is too, but 耕地地力保护补贴 is not means-tested (the negative)."""
    rows = s.pick("DIBAO", 2)
    s.expect("PUBLIC_EMPLOYEE", rows, note="财政供养人员领取低保")
    farmer = s.pick("GENGDI", 1)
    s.negatives.append(
        {
            "what": "PUBLIC_EMPLOYEE 的反例：财政供养人员领取非低保类（耕地）补贴",
            "id_number": farmer.item(0, "id_number"),
            "program_code": "GENGDI",
            "period": "2024",
        }
    )
    listed = pl.concat(
        [
            rows.unique("id_number", maintain_order=True).select("name", "id_number"),
            farmer.select("name", "id_number"),
            s.adults.take(40).select("name", "id_number"),
        ]
    )
    employers = pl.Series(np.array(EMPLOYERS)[s.rng.integers(0, len(EMPLOYERS), listed.height)])
    s.employees = pl.concat([s.employees, listed.with_columns(employer=employers)])


def inject_passbooks(s: Story) -> pl.DataFrame:
    """Four 耕地 recipients paid into rural-credit passbook accounts whose numbers fail Luhn:
    a warning (CARD_LUHN) on the loaded rows, never a rejection."""
    rows = s.pick("GENGDI", 4)
    s.update_entitlements(
        rows, card_number=break_luhn_expr(pl.col("card_number")), bank=pl.lit("四川农村信用社")
    )
    s.update_payments(rows, card_number=break_luhn_expr(pl.col("card_number")), bank=pl.lit("四川农村信用社"))
    return rows.select(KEY)


def bad_people(s: Story) -> pl.DataFrame:
    """Four people whose ID the files will damage (the readers must reject those rows)."""
    return s.adults.take(4)


def build_story(seed: int) -> Story:
    """The whole county, seeded: programs, seed cases, anomalies, reference lists."""
    s = Story(seed)
    build_dibao(s)
    build_monthly(s, "TEKUN", 60, 900, 1300, 10)
    build_child(s)
    build_monthly(s, "DISABLED", 150, 60, 200, 5)
    build_gengdi(s)
    build_nongji(s)
    build_land_comp_paid(s)
    seed_li_ancheng(s)
    seed_child(s)
    seed_wuyang(s)
    s.ent = (
        s.ent.with_columns(  # disability allowances for September are due 09-20: not paid yet at either night
            pay_date=pl.when((pl.col("program_code") == "DISABLED") & (pl.col("period") == "2024-09"))
            .then(None)
            .otherwise("pay_date")
        )
    )
    pay_everyone(s)
    stall_disabled_june(s)
    pay_tekun_june_without_roster(s)
    for inject in (
        inject_missing,
        inject_failed,
        inject_paid_late,
        inject_amounts,
        inject_outliers,
        inject_duplicate,
        inject_unentitled,
        inject_payee_mismatch,
        inject_shared_account,
        inject_deceased,
        inject_public_employees,
        inject_returned,  # last: the draws of the earlier anomalies stay as they were
        inject_id_mismatch,
    ):
        inject(s)
    s.passbooks = inject_passbooks(s)
    s.bad = bad_people(s)
    return s
