"""Tiny counties and a tiny province lake for the province tests.

`write_county` writes one county's inbox as the clerks' CSVs (a 低保 roster and the bank's detail for August
2024, optionally a death register and a public-employee list); `write_counties_yaml` the province around
them; `write_lake` Parquet rows straight into the lake's Hive layout (for the rule tests, no night needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tests.support.hostile import make_card, make_id
from ykt.province.lake import LAKE_TABLES
from ykt.sample_data.writers import Table, write_csv

AS_OF = "2024-09-12"
UNIT_LINE = "填报单位：（盖章）    单位：元"


def person(area: str, n: int) -> str:
    return make_id(area, f"{1950 + n:04d}0101", n)


@dataclass
class TinyCounty:
    code: str
    name: str
    people: list[tuple[str, str]]  # (name, id) on the 低保 roster for 2024-08, 500 元 each
    unpaid: set[str] = field(default_factory=set)  # ids the bank did not pay (a MISSING case)
    deaths: list[tuple[str, str, str]] = field(default_factory=list)  # (name, id, YYYY-MM-DD)
    employees: list[tuple[str, str, str]] = field(default_factory=list)  # (name, id, employer)


def _table(rows: list[dict[str, str]], title: str, amount: str | None = None) -> Table:
    return Table(pl.DataFrame(rows), (title, UNIT_LINE) if amount else (title,), (), "Sheet1", ())


def write_county(root: Path, county: TinyCounty) -> Path:
    """The county's inbox under root/<code>/inbox; returns it."""
    inbox = root / county.code / "inbox"
    roster = [
        {
            "序号": str(i),
            "乡镇(街道)": "城关镇",
            "村(社区)": "东街社区",
            "姓名": name,
            "身份证号码": id_,
            "社会保障卡号": make_card(int(id_[-7:-1]) + i),
            "保障金额": "500.00",
        }
        for i, (name, id_) in enumerate(county.people, start=1)
    ]
    write_csv(
        inbox / "roster" / f"{county.name}2024年8月城乡低保金发放花名册.csv",
        _table(roster, f"{county.name}2024年8月城乡低保金发放花名册", "保障金额"),
        "utf-8-sig",
    )
    paid = [
        {
            "序号": r["序号"],
            "户名": r["姓名"],
            "身份证号码": r["身份证号码"],
            "卡号": r["社会保障卡号"],
            "补贴项目": "城乡居民最低生活保障金",
            "所属期": "2024年8月",
            "交易金额": "500.00",
            "交易日期": "2024-08-08",
            "交易状态": "成功",
        }
        for r in roster
        if r["身份证号码"] not in county.unpaid
    ]
    title = f"{county.name}一卡通代发明细（2024年8月）"
    write_csv(inbox / "payments" / f"{title}.csv", _table(paid, title, "交易金额"), "utf-8-sig")
    for folder, rows, header in (
        ("deaths", county.deaths, ("姓名", "身份证号码", "死亡日期")),
        ("public_employees", county.employees, ("姓名", "身份证号码", "工作单位")),
    ):
        (inbox / "reference" / folder).mkdir(parents=True, exist_ok=True)
        if rows:
            title = f"{county.name}{'死亡人员名单' if folder == 'deaths' else '财政供养人员名单'}"
            data = [dict(zip(header, r)) for r in rows]
            write_csv(inbox / "reference" / folder / f"{title}.csv", _table(data, title), "utf-8-sig")
    return inbox


def write_counties_yaml(root: Path, counties: Sequence[TinyCounty], missing: Sequence[str] = ()) -> Path:
    """counties.yaml for the given counties (and, for each code in `missing`, a county whose inbox does not
    exist)."""
    lines = [
        'province: {code: "510000", name: 四川省, department: 省财政厅, supervisor: 省纪委监委驻省财政厅纪检监察组, out: province_out}',
        "counties:",
    ]
    for code, name in [(c.code, c.name) for c in counties] + [(m, f"缺失县{m}") for m in missing]:
        lines.append(
            f'  - {{code: "{code}", name: {name}, inbox: {code}/inbox, db: {code}/ykt.duckdb, out: {code}/out}}'
        )
    path = root / "counties.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_lake(root: Path, table: str, rows: Sequence[dict[str, Any]], schema: dict[str, Any]) -> None:
    """Rows into root/<table>/county=…[/program=…/period=…]/part.parquet, partition columns in the path only."""
    keys = list(LAKE_TABLES[table])
    frame = pl.DataFrame(list(rows), schema=schema, orient="row")
    for values, part in frame.group_by(keys, maintain_order=True):
        folder = root / table / Path(*(f"{k}={v}" for k, v in zip(keys, values)))
        folder.mkdir(parents=True, exist_ok=True)
        part.drop(keys).write_parquet(folder / "part.parquet")
