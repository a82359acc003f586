"""exceptions.xlsx and clues.xlsx printed by LibreOffice (headless), as an inspector prints them: every
sheet fits its A4 page's width (none spills sideways onto a second page; only the night's accounting runs
onto a second page down), page 1 is the overview with its three charts, and the Chinese text is set in a
CJK font.

`make test` installs Debian's libreoffice-calc-nogui, poppler-utils and fonts-noto-cjk; without them these
tests fail (they do not skip).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.support.pdf import pdf_fonts, pdf_pages
from tests.support.report_fixture import fixture_report
from ykt.report.write import write_outputs


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, Path]:
    """The fixture night's two workbooks converted to PDF by LibreOffice."""
    out = tmp_path_factory.mktemp("print")
    outputs = write_outputs(fixture_report(), out)
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice is missing: `make test` installs Debian's libreoffice-calc-nogui")
    books = [outputs["exceptions.xlsx"], outputs["clues.xlsx"]]
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(out / 'profile').as_uri()}",
            *("--headless", "--convert-to", "pdf", "--outdir", str(out / "pdf")),
            *map(str, books),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return {book.name: out / "pdf" / f"{book.stem}.pdf" for book in books} | {
        f"{book.name}:book": book for book in books
    }


@pytest.mark.parametrize(("name", "longer"), [("exceptions.xlsx", 1), ("clues.xlsx", 0)])
def test_every_sheet_prints_on_its_own_a4_width(printed, name, longer):
    """A page per sheet (文件与质量 takes two, down): no sheet is cut sideways (fit to width), so each page
    that starts a table holds its first and its last column."""
    sheets = openpyxl.load_workbook(printed[f"{name}:book"]).sheetnames
    pages = pdf_pages(printed[name])
    assert len(pages) == len(sheets) + longer, [p.strip().splitlines()[:1] for p in pages]
    for page in pages:
        head = page.strip().splitlines()[0]
        if "案件编号" in head or "所属整批案件" in head:
            assert head.rstrip().endswith(("说明", "摘要", "逾期天数")), head


def test_page_one_is_the_overview_with_its_charts(printed):
    """Page 1: the title, as-of, health, the headline money, a department's KPIs, the rule and township tables
    and the three charts' titles; page 2 is 待办 (the overview did not spill)."""
    pages = pdf_pages(printed["exceptions.xlsx"])
    first = pages[0]
    for text in (
        "一卡通惠民惠农补贴发放核对 概览",
        "2024-04-20",
        "需关注",
        "173,850.50",
        "县民政局",
        "江口街道办事处",
        "发现问题（按规则，条）",
        "涉及金额（按乡镇，元）",
        "近 30 天 立案与办结（件）",
    ):
        assert text in first, text
    assert pages[1].strip().startswith("新增/延续")


def test_chinese_is_set_in_a_cjk_font(printed):
    """The PDF embeds a CJK font (Noto Sans CJK from fonts-noto-cjk), not boxes in a Latin fallback."""
    assert "CJK" in pdf_fonts(printed["exceptions.xlsx"])
