"""report.html as Chromium shows and prints it, with no network at all: printed to PDF (A4 landscape from
the page's @media print), page 1 is the overview with its inline SVG charts, the case table follows on its
own page; nothing is fetched from anywhere.

`make test` installs Debian's chromium, poppler-utils and fonts-noto-cjk; without them these tests fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.pdf import pdf_pages
from tests.support.report_fixture import fixture_report
from ykt.report.write import write_outputs

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: the county intranet
)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: `make test` installs Debian's chromium")
    out = tmp_path_factory.mktemp("html")
    html = write_outputs(fixture_report(), out)["report.html"]
    pdf = out / "report.pdf"
    subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={out / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pdf


def test_printed_page_one_is_the_overview_with_charts(printed):
    """Page 1: title, as-of, health, the headline figures, the KPI table and the three chart titles (the
    bars' labels are SVG text); 待办 and the cases start on page 2."""
    pages = pdf_pages(printed)
    assert len(pages) == 2
    first = pages[0]
    for text in (
        "一卡通惠民惠农补贴发放核对 概览",
        "2024-04-20",
        "需关注",
        "173,850.50",
        "江口街道办事处",
        "发现问题（按规则，条）",
        "涉及金额（按乡镇，元）",
        "近30天 立案与办结（件）",
        "应发未发",
    ):
        assert text in first, text
    assert "待办" not in first and "待办" in pages[1]
    assert "YKT-00000000000000C2" in pages[1] and "督办" in pages[1]  # a case and its history


def test_the_font_the_page_asks_for_is_installed():
    """The page names Noto Sans CJK SC first (Chromium embeds its glyphs as unnamed Type 3 fonts, so the PDF
    cannot be asked which font it used): fontconfig must resolve that name to a CJK font, not a fallback."""
    found = subprocess.run(
        ["fc-match", "Noto Sans CJK SC"], capture_output=True, text=True, check=True
    ).stdout
    assert "CJK" in found, found


def test_search_and_sort_work_in_the_browser(tmp_path):
    """The inline script filters the case table by a typed word and sorts by amount, in Chromium itself:
    the DOM after the script ran (--dump-dom) shows only 江口街道's case, then the cases largest first."""
    html = write_outputs(fixture_report(), tmp_path)["report.html"]
    probe = tmp_path / "probe.html"
    script = """
<script>
document.getElementById("case-search").value = "江口";
document.getElementById("case-search").dispatchEvent(new Event("input"));
var shown = Array.prototype.filter.call(document.getElementById("cases").tBodies[0].rows,
  function (r) { return r.style.display !== "none"; }).map(function (r) { return r.cells[0].textContent; });
var amount = document.getElementById("cases").tHead.rows[0].cells[5];
amount.click(); amount.click();
var order = Array.prototype.map.call(document.getElementById("cases").tBodies[0].rows,
  function (r) { return r.cells[0].textContent; });
document.body.setAttribute("data-shown", shown.join(","));
document.body.setAttribute("data-order", order.join(","));
</script>
</body>"""
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    dom = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-shown="YKT-00000000000000C6"' in dom
    assert (
        'data-order="YKT-00000000000000C6,YKT-00000000000000C1,YKT-00000000000000C3,YKT-00000000000000C2"'
        in dom
    )
