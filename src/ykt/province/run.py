"""A province night: the county nights (fanned out by whatever engine the caller gives), then the province
layer (the province rules over the lake, the province report and its outputs).

The sequence lives here; `flows/province.py` only supplies a Prefect fan-out (threads or Dask), and
`ykt run --counties … --engine plain` the plain loop below."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ykt.config import load_programs
from ykt.counties import Counties
from ykt.province.county import CountyJob, CountyOutcome, run_county
from ykt.province.lake import lake_root, open_lake
from ykt.province.model import ProvinceReport, build_province_report
from ykt.province.render import write_province_outputs
from ykt.province.rules import ProvinceRule, check_rule_sql, load_province_rules, run_province_rules
from ykt.warehouse import Lake

# How the county nights are run: jobs in, one outcome per job out (in any order).
FanOut = Callable[[Sequence[CountyJob]], list[CountyOutcome]]


@dataclass(frozen=True)
class ProvinceResult:
    report: ProvinceReport
    outputs: dict[str, Path]

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


def plain_fan_out(jobs: Sequence[CountyJob]) -> list[CountyOutcome]:
    """One county after another in this process (`--engine plain`)."""
    return [run_county(job) for job in jobs]


def county_jobs(
    counties: Counties, as_of: dt.date, only: str | None = None, quality: bool = True
) -> list[CountyJob]:
    chosen = [counties.by_code(only)] if only else list(counties.counties)
    lake = lake_root(counties.province.out)
    return [CountyJob(county, as_of, lake, quality) for county in chosen]


def check_province_config(counties: Counties) -> tuple[ProvinceRule, ...]:
    """Before any county's night: the province rules and programs must load and bind (exit 2 otherwise)."""
    rules = load_province_rules()
    programs = load_programs(counties.province.programs)
    with Lake() as lake:
        open_lake(lake, None, programs)  # the empty tables: each rule's SQL must bind
        check_rule_sql(lake, rules)
    return rules


def run_province(
    counties: Counties,
    as_of: dt.date,
    *,
    only: str | None = None,
    quality: bool = True,
    fan_out: FanOut = plain_fan_out,
) -> ProvinceResult:
    rules = check_province_config(counties)
    started_at = dt.datetime.now()
    outcomes = fan_out(county_jobs(counties, as_of, only, quality))
    return province_layer(counties, as_of, outcomes, rules, started_at)


def province_layer(
    counties: Counties,
    as_of: dt.date,
    outcomes: list[CountyOutcome],
    rules: tuple[ProvinceRule, ...],
    started_at: dt.datetime,
) -> ProvinceResult:
    """The province rules over every county's latest export, the report, and its outputs."""
    province = counties.province
    root = lake_root(province.out)
    with Lake() as lake:
        open_lake(lake, root, load_programs(province.programs))
        findings = run_province_rules(lake, rules)
    report = build_province_report(
        province,
        as_of,
        outcomes,
        rules,
        findings,
        started_at=started_at,
        finished_at=dt.datetime.now(),
        lake=str(root),
    )
    outputs = write_province_outputs(report, province.out, started_at)
    return ProvinceResult(report, outputs)
