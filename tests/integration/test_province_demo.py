"""`ykt demo`: two counties through the province flow, two nights (issue 15's "Done when").

The demo's province_manifest.json lists the cross-county findings the second county was generated to produce
(a duplicate, a public employee of the seed county on its 低保 roster, a death it registered that the seed
county paid on); the seed county's story still ends with 李安成's 农机购置补贴 case resolved on night 2.
"""

from __future__ import annotations

import json

from ykt.cli import main
from ykt.masking import mask_id


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_demo_finds_the_planted_cross_county_cases_and_keeps_the_seed_story(tmp_path):
    assert main(["demo", "--workdir", str(tmp_path), "--engine", "plain"]) == 0
    manifest = json.loads((tmp_path / "province_manifest.json").read_text(encoding="utf-8"))
    expected = sorted(
        (rule, f["program_code"], f["period"], mask_id(f["id_number"]))
        for rule, found in manifest["findings"].items()
        for f in found
    )
    for night in ("2024-09-12", "2024-09-13"):
        clues = _jsonl(tmp_path / "province_out" / night / "province_clues.jsonl")
        assert sorted((c["rule"], c["program_code"], c["period"], c["id_number"]) for c in clues) == expected
        assert all(c["counties"] == ["510722", "510723"] for c in clues)
    assert {r for r, *_ in expected} >= {"CROSS_COUNTY_DUPLICATE", "CROSS_COUNTY_PUBLIC_EMPLOYEE"}

    night2 = _jsonl(tmp_path / "510723" / "reports" / "2024-09-13" / "cases.jsonl")
    resolved = [c for c in night2 if c["program_code"] == "NONGJI" and c["status"] == "resolved"]
    assert [(c["village"], c["resolved_on"], c["county_code"]) for c in resolved] == [
        ("万安社区", "2024-09-13", "510723")
    ]
    summary = json.loads(
        (tmp_path / "province_out" / "2024-09-13" / "province_summary.json").read_text("utf-8")
    )
    assert [c["code"] for c in summary["counties"]] == ["510722", "510723"]
    assert (tmp_path / "counties.yaml").is_file()
