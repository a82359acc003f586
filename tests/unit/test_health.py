"""A night's health (run.json `health`, `ykt run`'s exit code) from its files and findings.

Each case is a small night written out below: the files it saw (name, status, reason code, rows read and
rejected) and the COVERAGE / PROGRAM_STALLED findings it produced.
"""

from __future__ import annotations

import polars as pl

from ykt.config import Settings
from ykt.report.health import FileLine, night_health

SETTINGS = Settings()  # attention_reject_share 5%
NO_FINDINGS = pl.DataFrame(
    schema={"rule": pl.Utf8, "program_code": pl.Utf8, "period": pl.Utf8, "detail": pl.Utf8}
)


def loaded(name: str, read: int = 100, rejected: int = 0) -> FileLine:
    return FileLine(name, "payments", "loaded", read, read - rejected, rejected, None, None, ())


def rejected(name: str, code: str, reason: str) -> FileLine:
    return FileLine(name, "roster", "rejected", 0, 0, 0, reason, code, ())


def test_a_night_that_understood_everything_is_ok_and_exits_0():
    health = night_health([loaded("花名册.xlsx", 100, 2), loaded("代发明细.csv")], NO_FINDINGS, SETTINGS)
    assert (health.status, health.reasons, health.exit_code) == ("ok", (), 0)
    assert health.as_dict() == {"status": "ok", "reasons": []}


def test_an_empty_inbox_needs_attention():
    health = night_health([], NO_FINDINGS, SETTINGS)
    assert health.status == "attention" and health.exit_code == 3
    assert [r.code for r in health.reasons] == ["NO_INPUT_FILES"]


def test_every_file_rejected_fails_the_night_with_exit_1():
    files = [
        rejected("a.xlsx", "FILE_UNREADABLE", "文件无法打开"),
        rejected("b.csv", "FILE_ENCODING", "编码无法识别"),
    ]
    health = night_health(files, NO_FINDINGS, SETTINGS)
    assert (health.status, health.exit_code) == ("failed", 1)
    assert [r.code for r in health.reasons] == ["ALL_FILES_REJECTED", "FILE_REJECTED", "FILE_REJECTED"]


def test_a_misread_file_is_a_layout_alarm_naming_the_file():
    files = [
        loaded("代发明细.csv"),
        rejected("低保花名册.xlsx", "FILE_LAYOUT_SUSPECT", "第3行表头：……缺少享受人姓名列"),
    ]
    health = night_health(files, NO_FINDINGS, SETTINGS)
    [reason] = health.reasons
    assert (health.status, reason.code, reason.file) == (
        "attention",
        "FILE_LAYOUT_SUSPECT",
        "低保花名册.xlsx",
    )
    assert "缺少享受人姓名列" in reason.message
    assert reason.as_dict() == {
        "code": "FILE_LAYOUT_SUSPECT",
        "message": reason.message,
        "file": "低保花名册.xlsx",
    }


def test_coverage_gaps_and_stalled_programs_are_one_reason_per_program_period():
    findings = pl.DataFrame(
        {
            "rule": ["MISSING", "COVERAGE", "PROGRAM_STALLED", "COVERAGE", "UNENTITLED"],
            "program_code": ["DIBAO", "DIBAO", "TEKUN", "DIBAO", "CHILD"],
            "period": ["2024-07", "2024-08", "2024-07", "2024-07", "2024-07"],
            "detail": [
                "",
                "城乡低保 2024-08 无有效花名册",
                "特困 2024-07 整项目未发放",
                "城乡低保 2024-07 无有效花名册",
                "",
            ],
        }
    )
    health = night_health([loaded("x.csv")], findings, SETTINGS)
    assert [(r.code, r.program_code, r.period) for r in health.reasons] == [
        ("COVERAGE_GAP", "DIBAO", "2024-07"),
        ("COVERAGE_GAP", "DIBAO", "2024-08"),
        ("PROGRAM_STALLED", "TEKUN", "2024-07"),
    ]
    assert health.status == "attention"


def test_rejects_above_the_share_need_attention_and_duplicates_do_not_count():
    over = night_health([loaded("a.xlsx", 100, 6)], NO_FINDINGS, SETTINGS)
    assert [r.code for r in over.reasons] == ["REJECTS_ABOVE_SHARE"]
    assert "6 行" in over.reasons[0].message
    at_limit = night_health([loaded("a.xlsx", 100, 5)], NO_FINDINGS, SETTINGS)
    assert at_limit.status == "ok"
    duplicate = FileLine(
        "old.xlsx", "roster", "duplicate", 100, 10, 90, None, None, ()
    )  # reported when it first came
    assert night_health([loaded("a.xlsx"), duplicate], NO_FINDINGS, SETTINGS).status == "ok"
