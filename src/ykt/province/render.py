"""The province's outputs in `<province out>/<as_of>/`: province_clues.jsonl and province_summary.json,
written into a temporary folder and published as a set, with `latest` the newest (as a county night's are)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ykt.province.model import ProvinceReport
from ykt.report import night_folder, publish_night, remove_stale_night_files, write_atomically

PROVINCE_OUTPUTS = ("province_clues.jsonl", "province_summary.json")


def write_province_outputs(report: ProvinceReport, out: Path, started_at: dt.datetime) -> dict[str, Path]:
    remove_stale_night_files(out)  # what a killed province run left in it
    staging = night_folder(out)
    staging.mkdir(parents=True, exist_ok=True)
    write_atomically(staging / "province_clues.jsonl", lambda p: _write_clues(report, p))
    write_atomically(staging / "province_summary.json", lambda p: _write_summary(report, p))
    run_id = f"province-{report.as_of:%Y%m%d}-{started_at:%Y%m%dT%H%M%S%f}"
    published = publish_night(staging, out, report.as_of, run_id)
    return {name: published / name for name in PROVINCE_OUTPUTS}


def _write_clues(report: ProvinceReport, path: Path) -> None:
    """One JSON object per line (polars writes UTF-8, not \\u-escaped), in the report's order."""
    report.clues.write_ndjson(path)


def _write_summary(report: ProvinceReport, path: Path) -> None:
    path.write_text(json.dumps(report.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
