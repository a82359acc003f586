"""run.json: the run's accounting (files, findings per rule, cases, KPIs, data quality)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from ykt.report.model import Report


def write_run_json(report: Report, path: Path) -> None:
    path.write_text(render_run_json(report), encoding="utf-8")


def run_summary(report: Report) -> dict[str, Any]:
    """The content of run.json, as plain data."""
    files = [asdict(f) for f in report.files]
    return {
        "run_id": report.run_id,
        "county_code": report.county_code,
        "health": report.health.as_dict(),
        "as_of": report.as_of.isoformat(),
        "started": report.started_at.isoformat(timespec="seconds"),
        "finished": report.finished_at.isoformat(timespec="seconds"),
        "files": files,
        "rows": {key: sum(f[f"rows_{key}"] for f in files) for key in ("read", "loaded", "rejected")},
        "findings": {r.code: r.findings for r in report.rules},
        "findings_total": sum(r.findings for r in report.rules),
        "cases": {**report.case_activity.events, "totals": dict(report.case_activity.totals)},
        "kpis": None if report.kpis is None else dict(report.kpis),
        "quality": None if report.quality is None else dict(report.quality),
    }


def render_run_json(report: Report) -> str:
    return json.dumps(run_summary(report), ensure_ascii=False, indent=2, default=_json_value) + "\n"


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"run.json cannot hold a {type(value).__name__}: {value!r}")
