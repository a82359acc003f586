"""The demo's second county, 三台县 (510722), generated to share people with the seed county (510723).

A small county: one 低保 roster and the bank's detail for August 2024, and a death register. It shares
three people with the seed county, each the example of one province rule:

- CROSS_COUNTY_DUPLICATE: a 低保 beneficiary the seed county paid for 2024-08 is on this roster too and
  paid again here for the same month;
- CROSS_COUNTY_PUBLIC_EMPLOYEE: a person on the seed county's public-employee list is on this 低保 roster;
- CROSS_COUNTY_DECEASED: this county's death register lists a seed-county 低保 beneficiary who died in
  July; the seed county still paid August and September.

Each county's own night sees nothing wrong with them: only the province layer, over both counties' exports,
does. `expected_findings` lists the province findings the demo must produce.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from ykt.sample_data.identity import people
from ykt.sample_data.story import Story
from ykt.sample_data.writers import Table, total_row, write_csv, write_xlsx

CODE = "510722"
NAME = "三台县"
PERIOD = "2024-08"
PLACES = (("潼川镇", "北坝村"), ("潼川镇", "东街社区"), ("芦溪镇", "工农村"))
DIBAO_NAME = "城乡居民最低生活保障金"
DIED_ON = dt.date(2024, 7, 20)
UNIT_LINE = "填报单位：（盖章）    单位：元"


def shared_people(story: Story) -> dict[str, pl.DataFrame]:
    """The seed county's people this county shares, one per province rule: plain cases (no anomaly of the
    seed story on them) paid 低保 for August and September there, and a listed public employee."""
    paid = (
        story.pay.filter(
            pl.col("program_code") == "DIBAO",
            pl.col("status") == "success",
            pl.col("period").is_in([PERIOD, "2024-09"]),
            ~pl.col("id_number").is_in(list(story.used)),
        )
        .group_by("id_number")
        .agg(pl.col("name").first(), pl.col("period").n_unique().alias("months"))
        .filter(pl.col("months") == 2)
        .sort("id_number")
    )
    listed = story.employees.filter(~pl.col("id_number").is_in(story.ent.get_column("id_number").to_list()))
    return {
        "CROSS_COUNTY_DUPLICATE": paid.slice(0, 1).select("id_number", "name"),
        "CROSS_COUNTY_DECEASED": paid.slice(1, 1).select("id_number", "name"),
        "CROSS_COUNTY_PUBLIC_EMPLOYEE": listed.sort("id_number").slice(0, 1).select("id_number", "name"),
    }


def _roster(story: Story, seed: int) -> pl.DataFrame:
    """This county's 低保 roster for August: its own 40 people and the two shared ones on it."""
    rng = np.random.default_rng(seed + 722)
    drawn = people(rng, 42, CODE, dt.date(1940, 1, 1), dt.date(1990, 12, 31))
    shared = shared_people(story)
    on_roster = pl.concat([shared["CROSS_COUNTY_DUPLICATE"], shared["CROSS_COUNTY_PUBLIC_EMPLOYEE"]])
    cards = drawn.tail(2).select("card_number", "bank")
    rows = pl.concat(
        [
            drawn.head(40).select("id_number", "name", "card_number", "bank"),
            pl.concat([on_roster, cards], how="horizontal"),
        ]
    )
    place = pl.int_range(0, pl.len()) % len(PLACES)
    return rows.with_columns(
        township=place.replace_strict({i: t for i, (t, _) in enumerate(PLACES)}, return_dtype=pl.Utf8),
        village=place.replace_strict({i: v for i, (_, v) in enumerate(PLACES)}, return_dtype=pl.Utf8),
        amount=pl.Series(rng.integers(8, 17, rows.height) * 50).cast(pl.Utf8) + ".00",
    )


def _table(data: pl.DataFrame, title: str, amount_header: str) -> Table:
    total = f"{data.get_column(amount_header).cast(pl.Float64).sum():.2f}"
    footer = (total_row(data.columns, amount_header, total), ("制表人：赵敏    审核人：    制表日期：",))
    return Table(data, (title, UNIT_LINE), footer, "Sheet1", (amount_header,))


def generate_second_county(inbox: Path, story: Story, seed: int) -> dict[str, list[dict[str, str]]]:
    """Write the county's inbox (GBK CSVs and an xlsx death register); returns the province findings expected:
    rule → [{id_number, program_code, period}]."""
    roster = _roster(story, seed)
    seq = pl.int_range(1, pl.len() + 1).cast(pl.Utf8)
    title = f"{NAME}2024年8月城乡低保金发放花名册"
    data = roster.select(
        seq.alias("序号"),
        pl.col("township").alias("乡镇(街道)"),
        pl.col("village").alias("村(社区)"),
        pl.col("name").alias("姓名"),
        pl.col("id_number").alias("身份证号码"),
        pl.col("card_number").alias("社会保障卡号"),
        pl.col("amount").alias("保障金额"),
    )
    write_csv(inbox / "roster" / f"{title}.csv", _table(data, title, "保障金额"))
    title = f"{NAME}惠民惠农财政补贴资金“一卡通”代发明细（2024年8月）"
    data = roster.select(
        seq.alias("序号"),
        pl.col("name").alias("户名"),
        pl.col("id_number").alias("身份证号码"),
        pl.col("card_number").alias("卡号"),
        pl.lit(DIBAO_NAME).alias("补贴项目"),
        pl.lit("2024年8月").alias("所属期"),
        pl.col("amount").alias("交易金额"),
        pl.lit("2024-08-08").alias("交易日期"),
        pl.lit("成功").alias("交易状态"),
    )
    write_csv(inbox / "payments" / f"{title}.csv", _table(data, title, "交易金额"))
    deceased = shared_people(story)["CROSS_COUNTY_DECEASED"]
    title = f"{NAME}2024年1-8月死亡人员名单"
    data = deceased.select(
        pl.lit("1").alias("序号"),
        pl.col("name").alias("姓名"),
        pl.col("id_number").alias("身份证号码"),
        pl.lit(DIED_ON.isoformat()).alias("死亡日期"),
    )
    write_xlsx(inbox / "reference" / "deaths" / f"{title}.xlsx", [Table(data, (title,), sheet="名单")])
    (inbox / "reference" / "public_employees").mkdir(parents=True, exist_ok=True)
    return _expected(shared_people(story))


def _expected(shared: dict[str, pl.DataFrame]) -> dict[str, list[dict[str, str]]]:
    months = {"CROSS_COUNTY_DECEASED": (PERIOD, "2024-09")}
    return {
        rule: [
            {"id_number": id_number, "program_code": "DIBAO", "period": period}
            for id_number in frame.get_column("id_number").to_list()
            for period in months.get(rule, (PERIOD,))
        ]
        for rule, frame in shared.items()
    }
