"""Nights that did not understand one of their files: one alarm, never thousands of rejects and false clues.

Fixture: a county of 30 villagers in three villages on 城乡低保 (DIBAO) for 2024-08, due 2024-08-10, night
of 2024-09-12.
Each night below sends one of its two files as a bank or a township really botches them: every ID
exported masked (5107********0011), which no reader can repair.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.support.hostile import make_id
from ykt.cli import main
from ykt.masking import mask_id

PEOPLE = [(f"村民{i}", make_id("510723", f"{1950 + i:04d}0101", i)) for i in range(1, 31)]
VILLAGES = ("万安社区", "永安村", "武阳社区")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header), *(",".join(r) for r in rows)]
    path.write_bytes("\n".join(lines).encode("gbk"))


def _roster(inbox: Path, masked: bool = False) -> None:
    rows = [
        [VILLAGES[i % 3], name, mask_id(pid) if masked else pid, "城乡低保", "2024-08", "1350.00"]
        for i, (name, pid) in enumerate(PEOPLE)
    ]
    header = ["村(社区)", "姓名", "身份证号码", "补贴项目", "发放期间", "应发金额"]
    _write(inbox / "roster" / "低保花名册.csv", header, rows)


def _payments(inbox: Path, masked: bool = False) -> None:
    header = ["姓名", "身份证号码", "补贴项目", "发放期间", "发放金额", "发放日期", "发放状态"]
    rows = [
        [name, mask_id(pid) if masked else pid, "城乡低保", "2024-08", "1350.00", "2024-08-08", "成功"]
        for name, pid in PEOPLE
    ]
    _write(inbox / "payments" / "代发明细.csv", header, rows)


def _night(tmp_path: Path) -> tuple[int, Path]:
    out = tmp_path / "out"
    args = [
        "run",
        "--inbox",
        str(tmp_path / "inbox"),
        "--as-of",
        "2024-09-12",
        "--db",
        str(tmp_path / "w.duckdb"),
    ]
    return main([*args, "--out", str(out), "--engine", "plain", "--no-quality"]), out / "latest"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_a_misread_roster_is_one_layout_alarm_and_one_coverage_gap_not_thirty_false_clues(tmp_path):
    _roster(tmp_path / "inbox", masked=True)
    _payments(tmp_path / "inbox")
    code, out = _night(tmp_path)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    rejects = _csv(out / "rejects.csv")
    findings = _csv(out / "discrepancies.csv")
    assert code == 3
    assert run["health"]["status"] == "attention"
    assert [f["reason_code"] for f in run["files"] if f["status"] == "rejected"] == ["FILE_LAYOUT_SUSPECT"]
    assert [r["reason_code"] for r in rejects] == ["FILE_LAYOUT_SUSPECT"]
    assert [(f["rule"], f["program_code"], f["period"]) for f in findings if f["rule"] == "COVERAGE"] == [
        ("COVERAGE", "DIBAO", "2024-08")
    ]
    assert not [f for f in findings if f["rule"] in ("UNENTITLED", "PAYEE_MISMATCH", "OVERPAID", "DUPLICATE")]
    assert not _jsonl(out / "clues.jsonl")
    codes = {r["code"] for r in run["health"]["reasons"]}
    assert {"FILE_LAYOUT_SUSPECT", "COVERAGE_GAP"} <= codes


def test_a_misread_bank_file_is_one_layout_alarm_and_one_program_stall_not_thirty_missing_cases(tmp_path):
    _roster(tmp_path / "inbox")
    _payments(tmp_path / "inbox", masked=True)
    code, out = _night(tmp_path)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    cases = _jsonl(out / "cases.jsonl")
    assert code == 3
    assert [f["reason_code"] for f in run["files"] if f["status"] == "rejected"] == ["FILE_LAYOUT_SUSPECT"]
    assert [(c["rule"], c["program_code"], c["period"], c["persons"]) for c in cases] == [
        ("PROGRAM_STALLED", "DIBAO", "2024-08", 30)
    ]
    assert {r["code"] for r in run["health"]["reasons"]} >= {"FILE_LAYOUT_SUSPECT", "PROGRAM_STALLED"}
