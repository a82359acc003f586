"""counties.yaml: what a province administrator writes, and the mistakes they get told about at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ykt.counties import load_counties
from ykt.errors import ConfigError

GOOD = """\
province: {code: "510000", name: 四川省, department: 省财政厅, supervisor: 省纪委监委驻省财政厅纪检监察组, out: province_out}
counties:
  - {code: "510723", name: 盐亭县, inbox: 510723/inbox, db: 510723/ykt.duckdb, out: 510723/out}
  - {code: "510781", name: 江油市, inbox: 510781/inbox, db: 510781/ykt.duckdb, out: 510781/out}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "counties.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_relative_to_the_file_not_the_working_directory(tmp_path: Path) -> None:
    counties = load_counties(write(tmp_path, GOOD))
    assert counties.codes == ("510723", "510781")
    county = counties.by_code("510781")
    assert county.db == (tmp_path / "510781" / "ykt.duckdb").resolve()
    assert counties.province.out == (tmp_path / "province_out").resolve()
    assert county.programs is None  # the built-in programs.yaml


def test_the_province_programs_file_is_every_countys_default(tmp_path: Path) -> None:
    (tmp_path / "programs.yaml").write_text("programs: []\n", encoding="utf-8")
    text = GOOD.replace("out: province_out}", "out: province_out, programs: programs.yaml}")
    counties = load_counties(write(tmp_path, text))
    assert {c.programs for c in counties.counties} == {(tmp_path / "programs.yaml").resolve()}


def test_every_mistake_is_listed_with_its_key(tmp_path: Path) -> None:
    text = """\
province: {code: "5100", name: 四川省, department: 省财政厅, supervisor: 纪委, out: p}
counties:
  - {code: "510723", name: 盐亭县, inbox: a/inbox, db: shared.duckdb, out: a/out, colour: red}
  - {code: "510723", name: 江油市, inbox: b/inbox, db: shared.duckdb, out: b/out}
  - {code: "510724", name: 三台县, inbox: c/inbox, out: c/out, programs: missing.yaml}
"""
    with pytest.raises(ConfigError) as caught:
        load_counties(write(tmp_path, text))
    keys = {problem.key for problem in caught.value.problems}
    assert keys == {
        "province.code",
        "counties[0].colour",
        "counties[1].code",
        "counties[1].db",
        "counties[2].db",
        "counties[2].programs",
    }
    assert caught.value.exit_code == 2


def test_an_unknown_county_names_the_ones_that_exist(tmp_path: Path) -> None:
    counties = load_counties(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="510723、510781"):
        counties.by_code("999999")
