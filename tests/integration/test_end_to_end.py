"""End to end over the sample county, two nights, exactly as `make demo` runs it.

The fixture is the generated demo inbox (sample_data/generate.py). Its manifest is
the ground truth the generator wrote while injecting each anomaly; everything it
does not list reconciles cleanly. So the findings must equal the manifest, not
"look plausible".
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from ykt.pipeline import NightOptions, load_config, run_night
from ykt.sample_data.generate import generate_demo

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Both nights run on one warehouse and one --out, as `ykt demo` runs them: each night's outputs in
    its own folder out/<as_of>."""
    root = tmp_path_factory.mktemp("demo")
    plan = generate_demo(root / "inbox")
    manifest = json.loads(plan.manifest_path.read_text(encoding="utf-8"))
    config = load_config()
    nights = []
    for inbox, as_of in plan.nights:
        options = NightOptions(
            inbox=inbox,
            as_of=as_of,
            db=root / "ykt.duckdb",
            out=root / "out",
            quality=False,
        )
        nights.append(run_night(options, config))
    return {"root": root, "plan": plan, "manifest": manifest, "config": config, "nights": nights}


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _finding_keys(rows: list[dict]) -> Counter:
    # SHARED_ACCOUNT is one clue per card across programs: its findings carry no program of their own
    return Counter(
        (
            r["rule"],
            r["id_number"] or None,
            "" if r["rule"] == "SHARED_ACCOUNT" else r["program_code"],
            r["period"],
        )
        for r in rows
    )


@pytest.mark.parametrize("night", [0, 1])
def test_findings_equal_the_injected_truth(demo, night):
    """Every anomaly the generator injected is found, and nothing else (per rule, person, program, period)."""
    expected_rows = demo["manifest"]["nights"][night]["findings"]
    found = _csv(demo["nights"][night].outputs["discrepancies.csv"])
    expected = _finding_keys([{**r, "id_number": r["id_number"]} for r in expected_rows])
    actual = _finding_keys(found)
    assert actual - expected == Counter(), "unexpected findings"
    assert expected - actual == Counter(), "missed findings"


def test_the_three_seed_cases_reach_the_right_bodies(demo):
    """李安成's 200 元 (resolved the day after), the child's failed 1350 元, and 武阳社区7组 as ONE case."""
    seeds = demo["manifest"]["seed_cases"]
    night1 = _jsonl(demo["nights"][0].outputs["cases.jsonl"])
    night2 = _jsonl(demo["nights"][1].outputs["cases.jsonl"])

    li = seeds["li_ancheng"]
    li_cases = [c for c in night1 if c["program_code"] == "NONGJI" and c["village"] == li["village"]]
    assert [(c["rule"], c["status"], c["department"], c["supervisor"]) for c in li_cases] == [
        ("MISSING", "open", li["department"], li["supervisor"])
    ]
    li_after = [c for c in night2 if c["case_id"] == li_cases[0]["case_id"]]
    assert [(c["status"], c["resolved_on"]) for c in li_after] == [("resolved", li["resolved_on"])]

    child = seeds["child"]
    child_cases = [c for c in night1 if c["program_code"] == "CHILD" and c["rule"] == "FAILED_NOT_REISSUED"]
    assert sorted(c["period"] for c in child_cases) == child["periods"]
    assert {(c["department"], c["supervisor"]) for c in child_cases} == {
        (child["department"], child["supervisor"])
    }

    wuyang = seeds["wuyang"]
    batch = [c for c in night1 if c["rule"] == "BATCH_STALLED"]
    assert len(batch) == 1
    assert (batch[0]["township"], batch[0]["village"], batch[0]["group"]) == (
        wuyang["township"],
        wuyang["village"],
        wuyang["group"],
    )
    assert batch[0]["persons"] == wuyang["persons"]
    assert f"{batch[0]['amount']:.2f}" == wuyang["amount"]
    assert (batch[0]["department"], batch[0]["supervisor"]) == (wuyang["department"], wuyang["supervisor"])
    assert not [
        c
        for c in night1
        if c["rule"] == "MISSING" and c["program_code"] == "LAND_COMP" and c["village"] == "武阳社区"
    ]


def test_clues_never_reach_the_platform_file(demo):
    """Routing: complaint rules in cases.jsonl, clue rules only in clues.jsonl."""
    complaint = {"MISSING", "FAILED_NOT_REISSUED", "UNDERPAID", "BATCH_STALLED", "PROGRAM_STALLED"}
    for night in demo["nights"]:
        cases = _jsonl(night.outputs["cases.jsonl"])
        clues = _jsonl(night.outputs["clues.jsonl"])
        assert {c["rule"] for c in cases} <= complaint
        assert clues and not {c["rule"] for c in clues} & complaint


def test_rejected_rows_are_exactly_the_damaged_ones(demo):
    """The generator damaged a few cells on purpose (scientific-notation IDs, wrong check digits)."""
    rejects = _csv(demo["nights"][0].outputs["rejects.csv"])
    got = {(Path(r["file"]).name, int(r["row"]), r["reason_code"]) for r in rejects}
    want = {(Path(r["file"]).name, r["row"], r["reason_code"]) for r in demo["manifest"]["rejected_rows"]}
    assert got == want


def test_every_file_accounts_for_every_row(demo):
    """run.json: rows_read = rows_loaded + rows_rejected for every file, and night 2 loads only its new file."""
    for night in demo["nights"]:
        run = json.loads(night.outputs["run.json"].read_text(encoding="utf-8"))
        assert run["files"], "no files reported"
        for f in run["files"]:
            assert f["rows_read"] == f["rows_loaded"] + f["rows_rejected"], f
    night2 = json.loads(demo["nights"][1].outputs["run.json"].read_text(encoding="utf-8"))
    assert [f["status"] for f in night2["files"]] == ["loaded"]


def test_nothing_a_person_reads_shows_a_full_id(demo):
    """cases.jsonl, clues.jsonl, rejects.csv, report.html and the inspectors' workbooks mask ID numbers."""
    outputs = demo["nights"][0].outputs
    for name in ("cases.jsonl", "clues.jsonl", "rejects.csv", "report.html"):
        assert not FULL_ID.search(outputs[name].read_text(encoding="utf-8-sig")), name
    sheets = [
        sheet
        for name in ("exceptions.xlsx", "clues.xlsx")
        for sheet in openpyxl.load_workbook(outputs[name], read_only=True).worksheets
    ]
    for sheet in sheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and FULL_ID.search(value)), (sheet.title, value)


def test_rerunning_a_night_gives_byte_identical_cases(demo):
    """Running night 2 again on the same warehouse changes nothing the platform sees."""
    plan, night2 = demo["plan"], demo["nights"][1]
    inbox, as_of = plan.nights[1]
    again_out = demo["root"] / "again"
    run_night(
        NightOptions(inbox=inbox, as_of=as_of, db=demo["root"] / "ykt.duckdb", out=again_out, quality=False),
        demo["config"],
    )
    again_out = again_out / as_of.isoformat()
    for name in ("cases.jsonl", "clues.jsonl", "discrepancies.csv"):
        assert (again_out / name).read_bytes() == night2.outputs[name].read_bytes(), name
    rerun = json.loads((again_out / "run.json").read_text(encoding="utf-8"))
    assert [f["status"] for f in rerun["files"]] == ["duplicate"]


def test_the_township_roster_in_the_household_head_layout_is_understood_and_says_how(demo):
    """黄甸镇's own September 特困 roster names each person only under 户主姓名, with a generic 身份证号码 column
    and no card: every row loads, none is rejected, and run.json tells the clerk the head was taken as the
    beneficiary (the night's health has no layout alarm)."""
    run = json.loads(demo["nights"][0].outputs["run.json"].read_text(encoding="utf-8"))
    [line] = [f for f in run["files"] if f["name"].startswith("黄甸镇2024年9月特困")]
    assert (line["status"], line["rows_rejected"], line["reason_code"]) == ("loaded", 0, None)
    assert line["rows_loaded"] == line["rows_read"] > 0
    assert any("户主姓名" in sentence and "享受人" in sentence for sentence in line["inferences"])
    assert "FILE_LAYOUT_SUSPECT" not in {r["code"] for r in run["health"]["reasons"]}


def test_a_payment_the_bank_returned_is_owed_again_and_its_return_named(demo):
    """One August 低保 paid on 08-08 came back on 08-20 (账户冻结) and was never paid again: a complaint case
    whose finding names the return, not a paid entitlement."""
    findings = _csv(demo["nights"][0].outputs["discrepancies.csv"])
    returned = [f for f in findings if f["rule"] == "FAILED_NOT_REISSUED" and "退回" in f["detail"]]
    assert len(returned) == 1
    assert returned[0]["program_code"] == "DIBAO" and returned[0]["period"] == "2024-08"
    assert "账户冻结" in returned[0]["detail"]


def test_one_payment_flagged_by_two_clue_rules_is_one_clue_with_both_reasons(demo):
    """The demo's 68,640 元 耕地地力保护补贴 row is both OVERPAID and AMOUNT_OUTLIER: discrepancies.csv keeps both
    rows, clues.jsonl has one clue (OVERPAID, the rule that runs first) listing both reasons, and clues.xlsx's
    线索 sheet names both titles on that clue's row."""
    night = demo["nights"][0]
    findings = [f for f in _csv(night.outputs["discrepancies.csv"]) if f["amount_paid"] == "68640.00"]
    assert sorted(f["rule"] for f in findings) == ["AMOUNT_OUTLIER", "OVERPAID"]
    clues = [c for c in _jsonl(night.outputs["clues.jsonl"]) if c["amount"] == 68640.0]
    assert [(c["rule"], [r["rule"] for r in c["reasons"]]) for c in clues] == [
        ("OVERPAID", ["OVERPAID", "AMOUNT_OUTLIER"])
    ]
    assert [r["title"] for r in clues[0]["reasons"]] == ["超标准发放", "金额异常"]
    sheet = openpyxl.load_workbook(night.outputs["clues.xlsx"], read_only=True)["线索"]
    titles = [row for row in sheet.iter_rows(values_only=True) if clues[0]["case_id"] in row]
    assert len(titles) == 1 and "超标准发放、金额异常" in titles[0]
