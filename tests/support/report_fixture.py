"""The report of a tiny warehouse (tests/golden/warehouse_fixture.sql), shared by the report and rendering tests.

The fixture is the night of 2024-04-20 (run R2) one night after 2024-03-20 (run R1); its SQL
file states the design every expectation is derived from.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl

from ykt.config import load_programs
from ykt.report.model import Report, build_report
from ykt.warehouse import Warehouse

FIXTURE_SQL = Path(__file__).parents[1] / "golden" / "warehouse_fixture.sql"
AS_OF = dt.date(2024, 4, 20)
RUN_ID = "R2"
# The registry's titles for the rules of issue 2 (rules/rules.yaml), in registry order.
RULE_TITLES = {
    "MISSING": "应发未发",
    "FAILED_NOT_REISSUED": "发放失败未重发",
    "PAID_LATE": "发放不及时",
    "UNDERPAID": "不足额发放",
    "OVERPAID": "超标准发放",
    "DUPLICATE": "重复发放",
    "UNENTITLED": "无依据发放",
    "BATCH_STALLED": "整批未发放",
}
FULL_ID = re.compile(r"\d{17}[\dX]")


def fixture_warehouse() -> Warehouse:
    wh = Warehouse(":memory:")
    wh.execute("fixture", FIXTURE_SQL.read_text(encoding="utf-8"))
    return wh


def fixture_report(wh: Warehouse | None = None, **overrides: Any) -> Report:
    """The report of run R2 at 2024-04-20 over the fixture warehouse."""
    wh = wh or fixture_warehouse()
    kwargs = {
        "rule_titles": RULE_TITLES,
        "rule_counts": {},
        "case_counts": None,
        "started_at": dt.datetime(2024, 4, 20, 1, 0, 0),
        "finished_at": dt.datetime(2024, 4, 20, 1, 3, 30),
    }
    kwargs.update(overrides)
    return build_report(wh, RUN_ID, AS_OF, load_programs(), **kwargs)


def text_cells(frame: pl.DataFrame) -> list[str]:
    """Every non-null text value of a frame (what a person could read)."""
    strings = [c for c, t in frame.schema.items() if t == pl.Utf8]
    return [v for c in strings for v in frame.get_column(c).drop_nulls().to_list()]
