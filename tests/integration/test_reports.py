"""Report data built from a tiny warehouse (tests/golden/warehouse_fixture.sql).

The fixture is the night of 2024-04-20 (run R2) one night after 2024-03-20 (run R1); its SQL
file states the design every expectation below is derived from.
"""

from __future__ import annotations

import polars as pl
import pytest

from tests.support.report_fixture import (
    AS_OF,
    FULL_ID,
    RULE_TITLES,
    fixture_report,
    text_cells,
)
from ykt.cases import CASE_FIELDS
from ykt.report.model import DISCREPANCIES_CSV_COLUMNS, REJECTS_CSV_COLUMNS, Report


@pytest.fixture(scope="module")
def report() -> Report:
    return fixture_report()


def test_discrepancies_are_tonights_findings_with_full_ids(report):
    """Eight findings hold on 2024-04-20 (the 2024-03-20 one is stale); the bureau's file keeps full IDs."""
    d = report.discrepancies
    assert d.columns == list(DISCREPANCIES_CSV_COLUMNS)
    assert d.height == 8
    assert "510723199901010063" not in d.get_column("id_number").to_list()  # the stale finding
    assert "510723199001010015" in d.get_column("id_number").to_list()
    assert d.get_column("rule").to_list() == sorted(d.get_column("rule").to_list())


def test_every_rule_is_counted_including_zero(report):
    """run.json and the summary list every registry code; counts follow the fixture's findings."""
    counts = {r.code: r.findings for r in report.rules}
    assert list(counts) == list(RULE_TITLES)
    assert counts == {
        "MISSING": 4,  # two of them the stalled batch's villagers
        "FAILED_NOT_REISSUED": 1,
        "PAID_LATE": 1,
        "UNDERPAID": 0,
        "OVERPAID": 0,
        "DUPLICATE": 1,
        "UNENTITLED": 0,
        "BATCH_STALLED": 1,
    }


def test_a_rule_missing_from_the_registry_still_shows_its_findings():
    """A finding under a code the titles do not know is still counted, titled by its code."""
    report = fixture_report(rule_titles={"MISSING": "应发未发"})
    counts = {r.code: (r.title, r.findings) for r in report.rules}
    assert counts["MISSING"] == ("应发未发", 4)
    assert counts["DUPLICATE"] == ("DUPLICATE", 1)
    assert sum(n for _, n in counts.values()) == report.discrepancies.height


def test_files_are_this_runs_only(report):
    """R2 saw four files (one a duplicate of R1's roster, one rejected); R1's own line is not repeated."""
    names = {f.name: f.status for f in report.files}
    assert names == {
        "低保花名册2024年4月.xlsx": "loaded",
        "代发明细202404.csv": "loaded",
        "低保花名册2024年3月(副本).xlsx": "duplicate",
        "未知表格.xlsx": "rejected",
    }
    assert all(f.rows_read == f.rows_loaded + f.rows_rejected for f in report.files)


def test_rejects_cover_processed_files_only_and_are_masked(report):
    """The duplicate's reject was reported by R1; tonight's reject value holds a full ID and comes out masked."""
    r = report.rejects
    assert r.columns == list(REJECTS_CSV_COLUMNS)
    assert r.get_column("file").to_list() == ["低保花名册2024年4月.xlsx"]
    assert r.row(0, named=True)["row"] == 7 and r.row(0, named=True)["reason_code"] == "ID_CHECKSUM"
    assert not FULL_ID.search(r.row(0, named=True)["value"])


def test_cases_and_clues_follow_the_routes_and_the_as_of(report):
    """Complaint cases open/escalated tonight plus the one resolved tonight; the clue goes to clues only;
    the case resolved a month ago is no longer listed."""
    assert report.cases.columns == list(CASE_FIELDS)
    assert report.cases.get_column("case_id").to_list() == [
        "YKT-00000000000000C1",
        "YKT-00000000000000C2",
        "YKT-00000000000000C3",
        "YKT-00000000000000C6",
    ]
    assert report.cases.get_column("status").to_list() == ["open", "escalated", "resolved", "open"]
    assert report.clues.get_column("case_id").to_list() == ["YKT-00000000000000C5"]
    assert len(report.case_lines) == report.cases.height and len(report.clue_lines) == report.clues.height
    batch = report.cases.filter(pl.col("rule") == "BATCH_STALLED").row(0, named=True)
    assert (batch["persons"], batch["amount"], batch["department"]) == (268, 171520.0, "江口街道办事处")


def test_case_counts_come_from_tonights_events(report):
    """R2's events: opened C1, C5, C6; escalated C2; resolved C3. Totals count every case by status."""
    assert dict(report.case_activity.events) == {"opened": 3, "reopened": 0, "escalated": 1, "resolved": 1}
    assert dict(report.case_activity.totals) == {"open": 3, "escalated": 1, "resolved": 2, "all": 6}


def test_counts_reported_by_the_cases_step_win():
    """When the cases step reports its own figures (a dataclass), the report shows those."""
    from ykt.cases import CaseCounts

    reported = CaseCounts(opened=7, reopened=1, escalated=2, resolved=3, open_total=9, escalated_total=2)
    report = fixture_report(case_counts=reported)
    assert dict(report.case_activity.events) == {"opened": 7, "reopened": 1, "escalated": 2, "resolved": 3}


def test_kpis_are_per_department(report):
    """县民政局 handled C1–C4 (C3 and C4 resolved); the township office has the stalled batch only."""
    departments = {d["department"]: d for d in report.kpis["departments"]}
    assert set(departments) == {"县民政局", "江口街道办事处"}
    assert departments["县民政局"]["resolved"] == 2
    assert departments["江口街道办事处"]["amount_at_stake"] == 171520.0


def test_nothing_a_person_reads_holds_a_full_id_or_card(report):
    """Findings display, cases, clues and rejects are masked; only discrepancies keeps full values."""
    secrets = set(text_cells(report.discrepancies.select("id_number", "card_number")))
    assert len(secrets) == 14  # seven findings about a person, each with an ID and a card
    frames = (report.findings, report.batch_members, report.cases, report.clues, report.rejects)
    for frame in (*frames, report.priorities, report.case_events):
        for text in text_cells(frame):
            assert not FULL_ID.search(text) and not any(s in text for s in secrets), text
    assert report.findings.get_column("id_masked").to_list()[0].count("*") == 8
    assert all(not FULL_ID.search(line) for line in [*report.case_lines, *report.clue_lines])


def test_priorities_put_escalated_first_then_the_longest_wait_and_say_what_is_new(report):
    """待办: C2 (escalated) first; C1 and the batch C6 are new tonight; C6's villagers waited 50 days, C1 10,
    so C6 comes before C1. Resolved C3 and the clue C5 are not on it."""
    p = report.priorities
    assert p.get_column("case_id").to_list() == [
        "YKT-00000000000000C2",
        "YKT-00000000000000C6",
        "YKT-00000000000000C1",
    ]
    assert p.get_column("novelty").to_list() == ["延续", "新增", "新增"]
    assert p.get_column("status_label").to_list() == ["已督办", "办理中", "办理中"]
    assert p.get_column("days_overdue").to_list() == [10, 50, 10]


def test_a_stalled_batch_is_shown_once_and_its_villagers_apart(report):
    """The batch's two villagers (MISSING findings carrying C6) are not rule-sheet rows of 应发未发: they are
    batch members, named by their batch; the batch itself is one BATCH_STALLED row."""
    rules = report.findings.get_column("rule").to_list()
    assert rules.count("MISSING") == 2 and rules.count("BATCH_STALLED") == 1
    members = report.batch_members
    assert members.get_column("name").to_list() == ["周九", "孙八"]
    assert set(members.get_column("batch")) == {"YKT-00000000000000C6 整批未发放"}


def test_rule_sheet_rows_are_newest_and_largest_first(report):
    """Within a rule, the latest due date first, then the larger sum: 张三 1,350.00 before 李四 980.50."""
    missing = report.findings.filter(pl.col("rule") == "MISSING")
    assert missing.get_column("name").to_list() == ["张三", "李四"]


def test_case_history_trend_townships_and_overview(report):
    """Each listed case's events in order (C2 opened then escalated; C4, resolved a month ago, is not listed);
    the 30-night trend ends on as_of with tonight's two openings and one resolution; money at stake per
    township, largest first; the overview's figures add up the night."""
    history = report.case_events.filter(pl.col("case_id") == "YKT-00000000000000C2")
    assert history.get_column("event_label").to_list() == ["立案", "督办"]
    assert "YKT-00000000000000C4" not in report.case_events.get_column("case_id").to_list()
    assert report.trend.height == 30 and report.trend.row(-1) == (AS_OF, 2, 1)
    assert report.townships.rows() == [("江口街道", 1, 171520.0), ("凤灵街道", 2, 2330.5)]
    o = report.overview
    assert (o.new, o.open, o.escalated, o.resolved) == (3, 3, 1, 1)
    assert (o.amount_at_stake, o.amount_in_question) == (173850.5, 1350.0)
    assert (o.files, o.rows_read, o.rows_loaded, o.rows_rejected) == (4, 11, 10, 1)
