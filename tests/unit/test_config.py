"""programs.yaml is data: loaded into frozen objects, every mistake reported at once with file and key."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import yaml

from ykt.config import default_programs_path, load_programs, period_bounds
from ykt.errors import ConfigError


def test_default_programs_load_with_the_seed_departments():
    """The shipped programs.yaml routes the seed's three programs to the bodies that handled them."""
    programs = load_programs()
    assert programs.by_code("NONGJI").department == "县农业农村局"
    assert programs.by_code("CHILD").standard_amount == Decimal("1350.00")
    assert programs.by_code("CHILD").supervisor == "驻县民政局纪检监察组"
    assert programs.name_index()["低保金"] == "DIBAO"
    with pytest.raises(dataclasses.FrozenInstanceError):
        programs.by_code("DIBAO").grace_days = 3  # type: ignore[misc]


def test_every_mistake_is_reported_at_once_with_file_and_key(tmp_path):
    """Fixture: one program with a bad cadence, a missing supervisor, a negative grace and an alias shared with another."""
    path = tmp_path / "programs.yaml"
    path.write_text(
        """
programs:
  - code: A
    name: 甲补贴
    aliases: [共用名]
    cadence: weekly
    pay_day: 10
    grace_days: -1
    reissue_days: 15
    department: 县民政局
    resolve_days: 15
  - code: B
    name: 乙补贴
    aliases: [共用名]
    cadence: once
    due_days_after_approval: 30
    reissue_days: 15
    department: 县农业农村局
    supervisor: 驻县农业农村局纪检监察组
    resolve_days: 15
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_programs(path)
    keys = {p.key for p in info.value.problems}
    assert {"programs[0].cadence", "programs[0].supervisor", "programs[0].grace_days", "programs[1]"} <= keys
    assert all(p.file == str(path) for p in info.value.problems)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2024-Q4", "2024-10-01", "2024-12-31"),
        ("2023", "2023-01-01", "2023-12-31"),
    ],
)
def test_period_bounds_cover_month_quarter_and_year(period, first, last):
    """Leap February, the last quarter and a whole year: the bounds rules use for deaths and due dates."""
    start, end = period_bounds(period)
    assert (start.isoformat(), end.isoformat()) == (first, last)


def test_benford_check_is_on_only_for_free_amount_programs():
    """Shipped programs.yaml: the Benford test is for the one-off and annual programs with free amounts;
    monthly 低保-type programs keep the robust z-score (no standard amount) but not Benford."""
    programs = load_programs()
    assert {p.code for p in programs.programs if p.benford_check} == {"GENGDI", "NONGJI", "LAND_COMP"}
    assert programs.by_code("DIBAO").outlier_check and not programs.by_code("DIBAO").benford_check


def test_benford_check_must_be_a_boolean_reported_with_the_other_mistakes(tmp_path):
    """Fixture: benford_check written as 是 and outlier_check as 1 in one program, plus a missing
    resolve_days: all three are reported at once; an absent benford_check defaults to off."""
    path = tmp_path / "programs.yaml"
    path.write_text(
        """
programs:
  - code: A
    name: 甲补贴
    cadence: once
    due_days_after_approval: 30
    reissue_days: 15
    department: 县农业农村局
    supervisor: 驻县农业农村局纪检监察组
    benford_check: 是
    outlier_check: 1
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_programs(path)
    keys = {p.key for p in info.value.problems}
    assert keys == {"programs[0].benford_check", "programs[0].outlier_check", "programs[0].resolve_days"}
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    benford_check: 是\n    outlier_check: 1\n", "    resolve_days: 15\n"
        ),
        encoding="utf-8",
    )
    assert load_programs(path).by_code("A").benford_check is False


def test_a_programs_file_saved_in_gbk_is_a_configuration_error_naming_the_line(tmp_path):
    """Fixture: the packaged programs.yaml saved in GBK (as Windows Notepad may): exit-2 error with the file
    and the first line that is not UTF-8, never a traceback."""
    path = tmp_path / "programs.yaml"
    text = default_programs_path().read_text(encoding="utf-8")
    path.write_bytes(text.encode("gbk"))
    first_chinese = next(i for i, line in enumerate(text.splitlines(), 1) if not line.isascii())
    with pytest.raises(ConfigError) as caught:
        load_programs(path)
    [problem] = caught.value.problems
    assert problem.file == str(path) and f"第 {first_chinese} 行不是 UTF-8" in problem.message
    assert caught.value.exit_code == 2


def test_two_programs_with_one_code_are_reported(tmp_path):
    """Fixture: the packaged file with its second program's code changed to the first's (DIBAO twice)."""
    raw = yaml.safe_load(default_programs_path().read_text(encoding="utf-8"))
    raw["programs"][1]["code"] = raw["programs"][0]["code"]
    path = tmp_path / "programs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_programs(path)
    keys = {p.key: p.message for p in caught.value.problems}
    assert "与 programs[0] 重复" in keys["programs[1].code"]
