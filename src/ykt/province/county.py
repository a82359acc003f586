"""One county's part of a province night: its own night (ykt.pipeline.run_night, its own warehouse), its
export to the province lake and its line of the province summary.

`run_county` is what every engine runs per county (a plain loop, Prefect threads, Dask worker processes):
a module-level function of plain, picklable values. It never raises: one county's failure (a missing
inbox, a broken file, a bug) is that county's line in the province summary, and the other counties go on.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ykt import pipeline
from ykt.counties import County
from ykt.errors import YktError
from ykt.province.lake import export_county, sql_text
from ykt.report import published_folder
from ykt.warehouse import night_lock

FAILED_EXIT = 1  # a county that did not finish: the province run failed for it


@dataclass(frozen=True)
class CountyJob:
    county: County
    as_of: dt.date
    lake: Path  # the province lake's root
    quality: bool = True

    @property
    def out(self) -> Path:
        """The county's outputs of this night: `<county out>/<as_of>/` (every night kept beside the others)."""
        return published_folder(self.county.out, self.as_of)


@dataclass(frozen=True)
class CountyOutcome:
    """A county's line of the province summary: plain values (it crosses process boundaries)."""

    code: str
    name: str
    status: str  # ok | attention | failed (the night's health, or failed when it did not finish)
    exit_code: int
    health: dict[str, Any] | None = None
    error: str | None = None  # why the night did not finish
    out: str | None = None
    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)  # open / escalated / resolved at as_of
    money_at_stake: float = 0.0  # amount of the open and escalated cases, complaints and clues
    kpis: dict[str, Any] | None = None  # complaint KPIs overall and per department (办结率), as run.json
    exported: dict[str, int] = field(default_factory=dict)  # rows per lake table

    @classmethod
    def failed(cls, job: CountyJob, error: str) -> CountyOutcome:
        return cls(job.county.code, job.county.name, "failed", FAILED_EXIT, error=error)


def run_county(job: CountyJob) -> CountyOutcome:
    """The county's night, export and summary line; a failure becomes a `failed` line (never raised)."""
    try:
        return _run_county(job)
    except YktError as exc:
        return CountyOutcome.failed(job, exc.render())
    except Exception as exc:  # a bug in one county's night: shown in full, the other counties go on
        traceback.print_exc(file=sys.stderr)
        return CountyOutcome.failed(job, f"程序内部异常：{type(exc).__name__}: {exc}")


def night_options(job: CountyJob) -> pipeline.NightOptions:
    c = job.county
    return pipeline.NightOptions(
        inbox=c.inbox,
        as_of=job.as_of,
        db=c.db,
        out=c.out,  # the night publishes itself as <out>/<as_of> (job.out)
        programs_path=c.programs,
        quality=job.quality,
        county=c.name,
        county_code=c.code,
    )


def _run_county(job: CountyJob) -> CountyOutcome:
    if not job.county.inbox.is_dir():
        return CountyOutcome.failed(
            job, f"收件目录不存在：{job.county.inbox}（检查 counties.yaml 中该县的 inbox）"
        )
    night = pipeline.run_night(night_options(job))
    run_json = json.loads(night.outputs["run.json"].read_text(encoding="utf-8"))
    with night_lock(job.county.db), pipeline.open_warehouse(job.county.db, must_exist=True) as wh:
        exported = export_county(wh, job.county.code, job.lake)
        cases = wh.frame("province: county cases", sql_text("county_summary"), {"as_of": job.as_of}).row(
            0, named=True
        )
    return CountyOutcome(
        code=job.county.code,
        name=job.county.name,
        status=night.health.status,
        exit_code=night.health.exit_code,
        health=night.health.as_dict(),
        out=str(job.out),
        files=len(run_json["files"]),
        rows=run_json["rows"],
        findings=run_json["findings"],
        cases={k: int(cases[k]) for k in ("open", "escalated", "resolved")},
        money_at_stake=float(cases["money_at_stake"]),
        kpis=run_json["kpis"],
        exported=exported,
    )
