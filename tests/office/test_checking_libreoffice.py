"""`ykt check`'s annotated copies opened by LibreOffice itself, the office suite a township clerk
most often has: LibreOffice (headless) converts each copy to a flat OpenDocument spreadsheet, and
the test reads back what LibreOffice understood, not what openpyxl wrote: the comment on each bad
cell, the red fill, the summary sheet first.

`make test` installs Debian's libreoffice-calc-nogui; without it these tests fail (they do not skip).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.checking_fixture import (
    HEADER,
    TITLE,
    broken,
    person_id,
    roster_rows,
)
from ykt.check.annotate import SUMMARY_SHEET, check_files

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
}
BAD_RED = "#ffc7ce"


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class Cell:
    text: str
    comment: str | None
    background: str | None


def _backgrounds(root: ET.Element) -> dict[str, str]:
    """Cell style name → its background colour, from the document's automatic styles."""
    found = {}
    for style in root.iter(_q("style:style")):
        props = style.find(_q("style:table-cell-properties"))
        if props is not None and props.get(_q("fo:background-color")):
            found[style.get(_q("style:name"))] = props.get(_q("fo:background-color")).lower()
    return found


def _rows(table: ET.Element, backgrounds: dict[str, str]) -> list[list[Cell]]:
    """The sheet as LibreOffice laid it out, repeated rows and cells expanded (1-based: rows[r-1][c-1])."""
    rows: list[list[Cell]] = []
    for row in table.iter(_q("table:table-row")):
        cells: list[Cell] = []
        for cell in row:
            if cell.tag not in (_q("table:table-cell"), _q("table:covered-table-cell")):
                continue
            note = cell.find(_q("office:annotation"))
            comment = (
                None if note is None else "\n".join("".join(p.itertext()) for p in note.iter(_q("text:p")))
            )
            text = "\n".join("".join(p.itertext()) for p in cell.findall(_q("text:p")))
            one = Cell(text, comment, backgrounds.get(cell.get(_q("table:style-name"), "")))
            cells += [one] * min(int(cell.get(_q("table:number-columns-repeated"), "1")), 64)
        rows += [cells] * min(int(row.get(_q("table:number-rows-repeated"), "1")), 64)
    return rows


def open_in_libreoffice(workbooks: list[Path], out: Path) -> dict[Path, dict[str, list[list[Cell]]]]:
    """Each workbook as LibreOffice reads it: {sheet name: rows}, in LibreOffice's sheet order."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail(
            "soffice is missing: these tests need Debian's libreoffice-calc-nogui. "
            "Run `make test` (it installs it) or `apt-get install -y libreoffice-calc-nogui`."
        )
    # copies under distinct names: two clerks' files may share one (every copy is "<name>.检查结果.xlsx")
    copies = [shutil.copyfile(workbook, out / f"{i}-{workbook.name}") for i, workbook in enumerate(workbooks)]
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(out / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            *map(str, copies),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"LibreOffice failed: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    opened = {}
    for workbook, copy in zip(workbooks, copies):
        converted = out / f"{Path(copy).stem}.fods"
        assert converted.is_file(), (
            f"LibreOffice did not open {workbook.name}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
        )
        root = ET.parse(converted).getroot()
        backgrounds = _backgrounds(root)
        opened[workbook] = {
            t.get(_q("table:name")): _rows(t, backgrounds) for t in root.iter(_q("table:table"))
        }
    return opened


def marked_cells(rows: list[list[Cell]]) -> dict[tuple[int, int], Cell]:
    return {(r, c): cell for r, row in enumerate(rows, 1) for c, cell in enumerate(row, 1) if cell.comment}


@pytest.fixture(scope="module")
def annotated_csv(tmp_path_factory, config):
    """A GB18030 CSV (title on line 1, header on line 2) whose line 5 has a wrong ID check digit."""
    folder = tmp_path_factory.mktemp("csv")
    lines = [TITLE, ",".join(HEADER)] + [",".join(r) for r in roster_rows(4)]
    lines[4] = lines[4].replace(person_id(3), broken(person_id(3)))
    path = folder / "低保花名册.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    [result] = check_files([path], *config)
    return result.annotated


def test_libreoffice_shows_each_bad_cells_comment_and_red_fill(bad_xlsx, annotated_csv, config, tmp_path):
    """The xlsx: row 4's ID and row 6's amount carry their comments and Excel's "bad" red, no other cell
    does; the CSV's copy: line 5's ID. The values around them are the clerk's own."""
    [result] = check_files([bad_xlsx], *config)
    opened = open_in_libreoffice([result.annotated, annotated_csv], tmp_path)

    roster = opened[result.annotated]["花名册"]
    marked = marked_cells(roster)
    id_col, amount_col = HEADER.index("身份证号码") + 1, HEADER.index("应发金额") + 1
    assert set(marked) == {(4, id_col), (6, amount_col)}
    assert marked[(4, id_col)].comment == "第4行 身份证号码：身份证号码校验位错误"
    assert marked[(6, amount_col)].comment.startswith("第6行 应发金额：金额无法识别")
    assert {cell.background for cell in marked.values()} == {BAD_RED}
    assert roster[5][amount_col - 1].text == "abc" and roster[2][0].text == "村民1"
    assert roster[2][id_col - 1].background != BAD_RED  # a clean row stays unmarked

    csv_sheet = [rows for name, rows in opened[annotated_csv].items() if name != SUMMARY_SHEET][0]
    [(where, cell)] = marked_cells(csv_sheet).items()
    assert where == (5, id_col) and cell.comment == "第5行 身份证号码：身份证号码校验位错误"
    assert cell.background == BAD_RED and cell.text == broken(person_id(3))


def test_libreoffice_opens_the_summary_sheet_first_with_the_row_accounting(bad_xlsx, config, tmp_path):
    """检查汇总 is the first sheet LibreOffice shows: 5 read, 3 passed, 2 with problems."""
    [result] = check_files([bad_xlsx], *config)
    sheets = open_in_libreoffice([result.annotated], tmp_path)[result.annotated]
    assert list(sheets)[0] == SUMMARY_SHEET
    lines = {row[0].text: [c.text for c in row[1:3]] for row in sheets[SUMMARY_SHEET] if row and row[0].text}
    assert lines["读取行数"][0] == "5" and lines["通过行数"][0] == "3" and lines["有问题的行数"][0] == "2"
    assert lines["ID_CHECKSUM"] == ["身份证号码校验位错误", "1"]
