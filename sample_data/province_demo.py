"""The province demo: the seed county (510723, the generated sample county of generate.py) and a second
county (510722, second_county.py) that shares people with it, under one counties.yaml.

    WORKDIR/counties.yaml           the province and its two counties (paths relative to it)
    WORKDIR/510723/inbox/           the seed county's inbox; each night's files arrive into it (`arrive`)
    WORKDIR/510722/inbox/           the second county's inbox
    WORKDIR/generated/              generate.py's night1/, night2/ and manifest.json (the seed county's truth)
    WORKDIR/province_manifest.json  the province findings the demo must produce
    WORKDIR/<code>/ykt.duckdb, WORKDIR/<code>/reports/<as_of>/, WORKDIR/province_out/   written by the nights
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ykt.sample_data import second_county
from ykt.sample_data.generate import DEFAULT_SEED, INBOX_DIRS, generate_demo
from ykt.sample_data.story import AREA, COUNTY, build_story

COUNTIES_YAML = f"""\
# The demo province: the seed county and a second county sharing people with it (ykt demo writes this file).
province:
  code: "510000"
  name: 四川省
  department: 省财政厅
  supervisor: 省纪委监委驻省财政厅纪检监察组
  out: province_out
counties:
  - {{code: "{AREA}", name: {COUNTY}, inbox: {AREA}/inbox, db: {AREA}/ykt.duckdb, out: {AREA}/reports}}
  - {{code: "{second_county.CODE}", name: {second_county.NAME}, inbox: {second_county.CODE}/inbox, \
db: {second_county.CODE}/ykt.duckdb, out: {second_county.CODE}/reports}}
"""


@dataclass(frozen=True)
class ProvinceDemoPlan:
    counties_yaml: Path
    seed_inbox: Path  # the seed county's inbox, into which each night's files arrive
    nights: tuple[tuple[Path, dt.date], ...]  # (the files arriving that day, as_of)
    manifest_path: Path  # the seed county's truth (generate.py)
    province_manifest_path: Path  # the province findings expected

    def arrive(self, files: Path) -> None:
        """A night's files land in the seed county's inbox (earlier nights' files stay: the warehouse knows
        them by content hash)."""
        shutil.copytree(files, self.seed_inbox, dirs_exist_ok=True)


def generate_province_demo(workdir: Path, seed: int = DEFAULT_SEED) -> ProvinceDemoPlan:
    """Write both counties' inboxes and counties.yaml; remove what an earlier demo wrote (warehouses, reports,
    the province's outputs), so the demo always tells the same story from night 1."""
    workdir = Path(workdir)
    for old in (AREA, second_county.CODE, "province_out"):
        shutil.rmtree(workdir / old, ignore_errors=True)
    plan = generate_demo(workdir / "generated", seed)
    seed_inbox = workdir / AREA / "inbox"
    for sub in INBOX_DIRS:
        (seed_inbox / sub).mkdir(parents=True, exist_ok=True)
    second_inbox = workdir / second_county.CODE / "inbox"
    for sub in INBOX_DIRS:
        (second_inbox / sub).mkdir(parents=True, exist_ok=True)
    expected = second_county.generate_second_county(second_inbox, build_story(seed), seed)
    counties_yaml = workdir / "counties.yaml"
    counties_yaml.write_text(COUNTIES_YAML, encoding="utf-8")
    province_manifest = workdir / "province_manifest.json"
    province_manifest.write_text(
        json.dumps(
            {"counties": [AREA, second_county.CODE], "findings": expected}, ensure_ascii=False, indent=1
        )
        + "\n",
        encoding="utf-8",
    )
    return ProvinceDemoPlan(counties_yaml, seed_inbox, plan.nights, plan.manifest_path, province_manifest)
