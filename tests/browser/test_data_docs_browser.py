"""The Data Docs site as IT staff see it: opened in headless Chromium with no internet at all.

The site is built from the fixture night of tests/support/quality_fixture.py (run Q1 loaded roster.xlsx and
bank.csv and rejected broken.xlsx; its designed problems are listed there). Chromium resolves no
host name (`--host-resolver-rules`), like a county intranet: GX's CDN assets can never load, so
whatever the page shows must come from the files we wrote.

`make test` installs Debian's chromium; without it these tests fail (they do not skip).
"""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.quality_fixture import fixture_warehouse
from ykt.config import load_programs
from ykt.quality import QualitySummary, check_quality

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)  # no host resolves: the closed network
LOADED_KINDS = ("files", "roster", "payments")  # what run Q1 validated (deaths/employees: nothing loaded)


class Rendered(HTMLParser):
    """What the browser's DOM holds: table rows as cell texts (+ the row's links), external assets,
    and our notes. A cell's text includes any table nested in it (GX nests the unexpected values)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[list[str], list[str]]] = []
        self.external: list[str] = []
        self.notes: list[str] = []
        self._open: list[tuple[list[str], list[str]]] = []  # rows being read, innermost last
        self._in_notes = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img") and (a.get("src") or a.get("href") or "").startswith("http"):
            self.external.append(a.get("src") or a.get("href"))
        if tag == "tr":
            self._open.append(([], []))
        elif tag in ("td", "th") and self._open:
            self._open[-1][0].append("")
        elif tag == "a" and a.get("href"):
            for _, links in self._open:
                links.append(a["href"])
        elif tag == "li" and self._in_notes:
            self.notes.append("")
        elif tag == "section" and "ykt-notes" in (a.get("class") or ""):
            self._in_notes = True

    def handle_endtag(self, tag):
        if tag == "tr" and self._open:
            cells, links = self._open.pop()
            self.rows.append(([c.strip() for c in cells], links))
        elif tag == "section":
            self._in_notes = False

    def handle_data(self, data):
        for cells, _ in self._open:
            if cells:
                cells[-1] += data
        if self._in_notes and self.notes:
            self.notes[-1] += data


def open_in_chromium(page: Path, profile: Path) -> Rendered:
    """The DOM after Chromium loaded the page (and ran whatever scripts it could)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the Data Docs tests need Debian's chromium. "
            "Run `make test` (it installs it) or `apt-get install -y chromium`."
        )
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0 and "<body" in done.stdout, (
        f"chromium failed on {page}: {done.stderr[-2000:]}"
    )
    dom = Rendered()
    dom.feed(done.stdout)
    return dom


def status(row: list[str]) -> str:
    return "failed" if "未通过" in row[0] else "passed" if "通过" in row[0] else ""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[QualitySummary, Path, Path]:
    out = tmp_path_factory.mktemp("out")
    summary = check_quality(fixture_warehouse(), "Q1", out, load_programs())
    return summary, out / "data_docs" / "index.html", tmp_path_factory.mktemp("chromium-profile")


def test_index_lists_each_kinds_suite_as_failed_without_the_internet(site):
    """Every kind Q1 loaded has its suite on the index, marked failed (each kind has a designed problem),
    linking to its result page; nothing is fetched from a CDN; the kinds Q1 did not load are absent."""
    _, index, profile = site
    dom = open_in_chromium(index, profile)
    assert dom.external == []
    results = {}
    for cells, links in dom.rows:
        suites = [c for c in cells if c.startswith("ykt_")]
        pages = [link for link in links if link.startswith("validations/")]
        if suites and pages:
            results[suites[-1]] = (status(cells), pages[0])
    assert set(results) == {f"ykt_{kind}" for kind in LOADED_KINDS}
    assert {s for s, _ in results.values()} == {"failed"}
    assert all((index.parent / page).is_file() for _, page in results.values())


def test_index_says_in_chinese_which_file_and_row_broke_which_check(site):
    """The index opens with the designed problems, each naming its file (and row where there is one)."""
    _, index, profile = site
    notes = open_in_chromium(index, profile).notes
    assert any("10倍" in n and "roster.xlsx 第6行" in n for n in notes)
    assert any("审批日期" in n and "roster.xlsx 第5行" in n for n in notes)
    assert any("发放失败" in n and "bank.csv 第4行" in n and "bank.csv 第5行" in n for n in notes)
    assert any("合计" in n and "bank.csv" in n for n in notes)
    assert any("读取行数" in n and "broken.xlsx" in n for n in notes)


def test_roster_result_page_shows_the_two_failed_checks_and_their_rows(site):
    """Following the index's link to the roster result: its checks are listed with a visible status,
    exactly the two designed ones failed (amount limit: row 6; due date before approval: row 5)."""
    summary, index, profile = site
    page = next(index.parent.glob("validations/ykt_roster/**/*.html"))
    dom = open_in_chromium(page, profile)
    assert dom.external == []
    checks = [cells for cells, _ in dom.rows if status(cells)]
    failed = [" ".join(cells) for cells in checks if status(cells) == "failed"]
    roster = next(v for v in summary.validations if v.kind == "roster")
    assert len(checks) == roster.expectations
    assert len(failed) == 2
    assert any("金额不应超过" in f and "10倍" in f for f in failed)  # each check reads in Chinese
    assert any("应发日期不应早于审批日期" in f for f in failed)
    assert any("10倍" in n and "roster.xlsx 第6行" in n for n in dom.notes)
    assert any("审批日期" in n and "roster.xlsx 第5行" in n for n in dom.notes)
    assert not any("bank.csv" in n for n in dom.notes)  # another kind's problems stay on its page


def test_each_validation_is_named_by_the_nights_run_id_and_labelled_in_chinese(site):
    """The index's 运行编号 column holds the night's run id (Q1) for every suite, not GX's `__none__`;
    its headers and each result page's overview read in Chinese, counts as the report writes them."""
    summary, index, profile = site
    dom = open_in_chromium(index, profile)
    header = next(cells for cells, _ in dom.rows if "运行编号" in cells)
    assert {"状态", "运行时间", "检查套件"} <= set(header)
    run_names = [cells[header.index("运行编号")] for cells, _ in dom.rows if status(cells)]
    assert run_names and set(run_names) == {"Q1"}
    page = next(index.parent.glob("validations/ykt_payments/Q1/**/*.html"))
    text = " ".join(" ".join(cells) for cells, _ in open_in_chromium(page, profile).rows)
    assert "__none__" not in text and "Q1" in text
    assert all(
        word in text for word in ("检查项数", "满足的检查项", "实际值", "发放状态应为 成功/失败/退回/停发")
    )
    assert "1 个文件不符合（共 1 个，占 100%）" in text  # GX's sentence, per file
