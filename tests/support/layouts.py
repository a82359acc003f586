"""Rosters and bank files laid out as townships and banks really keep them, for the reading-by-meaning
tests: person columns under every role's header, ID columns under unknown headers, marked IDs, bank
statuses in long texts, programs named by a part of their name, and files misread as a whole.

Every file is written here from the rows it holds; the tests state what reading must make of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from tests.support.hostile import make_id

TITLE = "安和县2024年3月城乡低保金发放花名册"
NAME_HEADERS = ("享受人", "姓名", "户主姓名", "申请人")
ID_HEADERS = ("身份证号码", "户主身份证号", "享受人身份证号")
PAYEE_HEADER = "收款人姓名"
ROWS = 25  # above settings.layout_alarm_min_rows (20): a misread file raises the alarm


def person_id(i: int) -> str:
    return make_id("510723", f"{1950 + i // 999:04d}0101", i % 999 + 1)


def write_sheet(path: Path, lines: Sequence[Sequence[object]], sheet: str = "花名册") -> Path:
    """Lines top to bottom from row 1 (None: an empty cell)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for r, cells in enumerate(lines, start=1):
        for c, value in enumerate(cells, start=1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def township_roster(
    path: Path, person_headers: Sequence[str], persons: int = 1, rows: int = ROWS, title: str = TITLE
) -> Path:
    """序号 · 乡镇（街道） · 村（社区） · 组 · <person headers> · 保障期间 · 保障金额（元）, the title on row 1,
    a unit line on row 2, the header on row 3. Each person header holds a name or an ID (by its text)."""
    lines: list[list[object]] = [[title], ["填报单位：（盖章）", None, None, "单位：元"]]
    lines.append(["序号", "乡镇（街道）", "村（社区）", "组", *person_headers, "保障期间", "保障金额（元）"])
    for i in range(1, rows + 1):
        cells = [_person_cell(h, i, persons) for h in person_headers]
        lines.append([i, "凤灵街道", "万安社区", "一组", *cells, "2024年3月", "650.00"])
    return write_sheet(path, lines)


def _person_cell(header: str, i: int, persons: int) -> str:
    """An ID for an ID header, else a name; the n-th person column of a row names the n-th person."""
    if "身份证" in header or "证件" in header:
        return person_id(i)
    return f"村民{i}" if header != PAYEE_HEADER else f"代领人{i}"


@dataclass(frozen=True)
class PersonLayout:
    """One file of the person-column corpus: its headers and where it is."""

    name_header: str
    id_header: str
    payee: bool
    path: Path


def person_layout_corpus(directory: Path) -> list[PersonLayout]:
    """24 rosters: every {name header} × {ID header} × {payee column or not}, 25 valid rows each."""
    corpus = []
    for n, (name, id_header, payee) in enumerate(itertools.product(NAME_HEADERS, ID_HEADERS, (False, True))):
        headers = [name, id_header, *([PAYEE_HEADER] if payee else [])]
        path = township_roster(directory / f"城乡低保_{n:02d}.xlsx", headers)
        corpus.append(PersonLayout(name, id_header, payee, path))
    return corpus


def roster_with_columns(
    path: Path, header: Sequence[str], row: Callable[[int], list[object]], rows: int = ROWS
) -> Path:
    """A DIBAO roster (program and period in the title) with these headers and rows made by `row(i)`."""
    lines: list[list[object]] = [[TITLE], list(header), *(row(i) for i in range(1, rows + 1))]
    return write_sheet(path, lines)


def bank_detail_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """A bank file as UTF-8 CSV (program and period in the file name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(",".join(cells) for cells in [header, *rows]) + "\n"
    path.write_text(text, encoding="utf-8-sig")
    return path
