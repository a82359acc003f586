"""Batch-level data quality (Great Expectations) over the statistics of the batches one run loaded.

GX takes ~3 s to import, so the suite runs once per module over one documented fixture.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.quality_fixture import fixture_warehouse
from ykt.config import load_programs
from ykt.quality.docs import offline_page
from ykt.quality.model import QualitySummary
from ykt.quality.profile import quality_profiles
from ykt.quality.suite import check_quality


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> tuple[QualitySummary, Path]:
    out = tmp_path_factory.mktemp("out")
    return check_quality(fixture_warehouse(), "Q1", out, load_programs()), out


def failures_of(summary: QualitySummary, kind: str) -> list[str]:
    return [f.description for f in summary.failures if f.kind == kind]


def test_one_validation_per_kind_loaded_plus_the_files(outcome):
    """Q1 loaded a roster and payments: three suites (files, roster, payments), none for deaths/employees."""
    summary, _ = outcome
    rows = {v.kind: (v.batches, v.rows) for v in summary.validations}
    assert rows == {"files": (3, 3), "roster": (1, 4), "payments": (1, 5)}
    assert not summary.success


def test_implausible_amount_and_impossible_due_date_name_their_rows(outcome):
    """The roster suite fails exactly the two designed checks, each naming roster.xlsx and the row."""
    summary, _ = outcome
    roster = failures_of(summary, "roster")
    assert len(roster) == 2
    assert any("10倍" in d and "roster.xlsx 第6行" in d and "1 行不符合" in d for d in roster)
    assert any("审批日期" in d and "roster.xlsx 第5行" in d for d in roster)


def test_share_of_failed_payments_is_checked(outcome):
    """2 of 5 payments failed: above the allowed 20%, the payments suite says so (and nothing else)."""
    summary, _ = outcome
    payments = failures_of(summary, "payments")
    assert len(payments) == 1 and "发放失败" in payments[0] and "2 行不符合" in payments[0]


def test_file_level_control_totals_and_row_accounting(outcome):
    """bank.csv's 合计 row disagrees with its rows; broken.xlsx does not account for one row."""
    summary, _ = outcome
    files = failures_of(summary, "files")
    assert any("合计" in d and "bank.csv" in d for d in files)
    assert any("读取行数" in d and "broken.xlsx" in d for d in files)
    assert len(files) == 2


def test_data_docs_are_written_for_it_staff(outcome):
    """index.html under out/data_docs links every suite; no temporary build folder is left behind."""
    summary, out = outcome
    index = out / "data_docs" / "index.html"
    assert summary.docs == index and index.is_file()
    html = index.read_text(encoding="utf-8")
    assert all(f"ykt_{kind}" in html for kind in ("files", "roster", "payments"))
    assert sorted(p.name for p in out.iterdir()) == ["data_docs"]


def test_data_docs_pages_need_nothing_from_the_internet(outcome):
    """Every page of the site loads no CDN script or stylesheet and keeps no script (none could run);
    the index's result table is written out, each loaded kind's suite linking to its result page."""
    _, out = outcome
    docs = out / "data_docs"
    for page in docs.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r'<(?:script|link)\b[^>]*(?:src|href)="https?://', html), page
        assert "<script" not in html, page
    index = (docs / "index.html").read_text(encoding="utf-8")
    for kind in ("files", "roster", "payments"):
        assert f'<a href="validations/ykt_{kind}/' in index
        suite_cell = rf'<td>\s*<a class="ge-index-page-table-expectation-suite-link" href="expectations/ykt_{kind}.html"'
        assert re.search(suite_cell, index)


def test_offline_page_writes_gx_tables_icons_and_our_notes():
    """A page shaped like GX's template (CDN assets, a bootstrap-table filled by script, a status icon):
    the table is written as rows, the icon gets words, a quoted ID number is masked, and an uploaded
    file name cannot inject markup."""
    page = """<html><head><link rel="stylesheet" href="https://cdn.example/bootstrap.min.css"/>
<script src="https://code.example/jquery.min.js"></script></head><body>
<table
  id="s-1-body-table"
  data-toggle="table"
>
</table>
<script>
  $('#s-1-body-table').bootstrapTable(
    Object.assign(
      {
        columns: [{'field': 'ok', 'title': 'Status'}, {'field': 'suite', 'title': 'Suite'}, {'field': 'seen'}],
        data: [{'ok': '<i class="fas fa-times text-danger ge-failed-icon" ></i>', 'suite': 'ykt_roster',
                'seen': '510723199001010015',
                '_table_row_link_path': 'validations/ykt_roster/r.html'}],
        toolbar: '#s-1-body-table-toolbar'
      }, {}));
</script></body></html>"""
    written = offline_page(page, ["花名册：应发日期不能为空，如 <b>坏</b>.xlsx 第3行"])
    assert "https://" not in written and "<script" not in written and "$(" not in written
    assert (
        '<tr><td><a href="validations/ykt_roster/r.html"><i class="fas fa-times text-danger ge-failed-icon" >'
        "✗ 未通过</i></a></td><td>ykt_roster</td><td>5107******"
    ) in written
    assert "510723199001010015" not in written
    assert "如 &lt;b&gt;坏&lt;/b&gt;.xlsx 第3行" in written and "<b>" not in written
    assert written.index('class="ykt-notes"') < written.index("<table>")  # read first


def test_summary_is_json_ready(outcome):
    """run.json carries the summary: it serialises and keeps the counts."""
    summary, _ = outcome
    data = json.loads(json.dumps(summary.to_dict(), ensure_ascii=False))
    assert data["success"] is False
    assert sum(v["failed"] for v in data["validations"]) == len(data["failures"]) == 5
    assert set(data["seconds"]) == {"statistics", "import", "validate", "docs"}


def test_a_run_that_loaded_nothing_skips_gx(tmp_path):
    """No loaded file this run: no suite, no docs, nothing written."""
    wh = fixture_warehouse()
    assert quality_profiles(wh, "Q9", load_programs()) == {}
    summary = check_quality(wh, "Q9", tmp_path, load_programs())
    assert summary.validations == () and summary.docs is None and list(tmp_path.iterdir()) == []


def test_text_from_files_is_escaped_in_the_data_docs_page():
    """cases.jsonl and clues.jsonl carry plain text (a name may be <script>…</script>, as typed); every HTML
    page we render escapes it: here a Data Docs note quoting such a file name."""
    page = offline_page(
        "<html><body><div>GX</div></body></html>", notes=["文件“<script>alert(1)</script>.csv”第3行"]
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_data_docs_pages_are_named_by_the_run_and_read_in_chinese(outcome):
    """Each result page sits under the run's id (GX's run name, `__none__` when not given), every check of
    the suite is described in Chinese on it, and GX's newsletter footer is gone."""
    summary, out = outcome
    docs = out / "data_docs"
    pages = {p.parts[-4]: p for p in docs.glob("validations/*/*/*/*.html")}
    assert set(pages) == {"ykt_files", "ykt_roster", "ykt_payments"}
    assert {p.parts[-3] for p in pages.values()} == {"Q1"}
    roster = pages["ykt_roster"].read_text(encoding="utf-8")
    for text in (
        "入库行数应为 4",
        "身份证号码应为18位",
        "金额应大于0",
        "应发日期不应早于审批日期",
        "运行编号",
    ):
        assert text in roster, text
    assert "__none__" not in roster and "newsletter" not in roster
