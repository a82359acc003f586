"""Clerks' rosters for the `ykt check` tests: valid villagers, one way to break an ID, and the files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from tests.support.hostile import make_card, make_id
from ykt.config import Programs, load_programs
from ykt.ingest import ColumnAliases, load_aliases

HEADER = ["姓名", "身份证号码", "银行卡号", "乡镇(街道)", "村(社区)", "组", "应发金额"]
TITLE = "安和县2024年4月城乡低保金发放花名册"


def person_id(i: int) -> str:
    """A valid ID for villager i (distinct for i < 50,000)."""
    return make_id("510723", f"{1950 + i // 999:04d}0101", i % 999 + 1)


def broken(id_number: str) -> str:
    """The same ID with a wrong check character."""
    return id_number[:-1] + ("0" if id_number[-1] != "0" else "1")


def roster_rows(n: int = 5) -> list[list[str]]:
    """Villager i (1-based) on spreadsheet row i + 2, every cell valid."""
    return [
        [f"村民{i}", person_id(i), make_card(i), "凤灵街道", "万安社区", "一组", "1350.00"]
        for i in range(1, n + 1)
    ]


def write_roster_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """Title on row 1 (bold, as clerks format it), header on row 2, data from row 3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append([TITLE])
    ws["A1"].font = Font(bold=True, size=16)
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def config() -> tuple[Programs, ColumnAliases]:
    return load_programs(), load_aliases()


@pytest.fixture()
def bad_xlsx(tmp_path: Path) -> Path:
    """Five rows (spreadsheet rows 3–7): row 4's ID has a wrong check digit, row 6's amount is 'abc'."""
    rows = roster_rows()
    rows[1][1] = broken(rows[1][1])
    rows[3][6] = "abc"
    return write_roster_xlsx(tmp_path / "低保花名册.xlsx", rows)
