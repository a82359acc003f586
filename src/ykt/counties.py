"""counties.yaml: the province and its counties, loaded into frozen typed objects.

One county is one warehouse, one inbox and one output folder, so a county's night can neither read nor
write another's data. Paths in the file are relative to the file itself. Every mistake is reported at
once, each with the file and key (ConfigError, exit 2).

    province: {code: "510000", name: 四川省, department: 省财政厅, supervisor: …, out: province_out}
    counties:
      - {code: "510723", name: 盐亭县, inbox: 510723/inbox, db: 510723/ykt.duckdb, out: 510723/out}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ykt.config import ConfigProblems, read_yaml
from ykt.errors import ConfigError, ConfigProblem

DIVISION_CODE = re.compile(r"^\d{6}$")  # 行政区划代码: six digits (GB/T 2260)

_PROVINCE_KEYS = {"code", "name", "department", "supervisor", "out", "programs"}
_COUNTY_KEYS = {"code", "name", "inbox", "db", "out", "programs"}


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    department: str  # 承办部门 of province findings (city/province finance department)
    supervisor: str  # 监督主体 of province findings (the 纪委监委 named here)
    out: Path
    programs: Path | None  # every county's programs.yaml unless a county names its own


@dataclass(frozen=True)
class County:
    code: str
    name: str
    inbox: Path
    db: Path
    out: Path
    programs: Path | None  # None: the built-in programs.yaml

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True)
class Counties:
    source: Path
    province: Province
    counties: tuple[County, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.counties)

    def by_code(self, code: str) -> County:
        for county in self.counties:
            if county.code == code:
                return county
        raise ConfigError(
            [
                ConfigProblem(
                    str(self.source), "counties", f"没有代码为 {code} 的县；可用：{'、'.join(self.codes)}"
                )
            ]
        )


def _unknown_keys(c: ConfigProblems, raw: dict[str, Any], allowed: set[str], where: str) -> None:
    for unknown in sorted(set(raw) - allowed):
        c.add(f"{where}.{unknown}" if where else unknown, f"未知字段；可用字段：{', '.join(sorted(allowed))}")


def _division_code(c: ConfigProblems, raw: dict[str, Any], where: str) -> str:
    value = raw.get("code")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # an unquoted 510723 is still the code people mean
    if not isinstance(value, str) or not DIVISION_CODE.match(value):
        c.add(f"{where}.code", f'应为 6 位行政区划代码（加引号，如 "510723"），实际为 {value!r}')
        return ""
    return value


def _path(
    c: ConfigProblems, raw: dict[str, Any], key: str, where: str, base: Path, *, required: bool
) -> Path:
    value: str | None = c.get(raw, key, where, str, required=required)
    if not value:
        return base
    return (base / value).resolve()


def _province(c: ConfigProblems, raw: Any, base: Path) -> Province:
    if not isinstance(raw, dict):
        c.add("province", "应为键值对：code, name, department, supervisor, out")
        raw = {}
    _unknown_keys(c, raw, _PROVINCE_KEYS, "province")
    return Province(
        code=_division_code(c, raw, "province"),
        name=c.get(raw, "name", "province", str, default=""),
        department=c.get(raw, "department", "province", str, default=""),
        supervisor=c.get(raw, "supervisor", "province", str, default=""),
        out=_path(c, raw, "out", "province", base, required=True),
        programs=_path(c, raw, "programs", "province", base, required=False) if raw.get("programs") else None,
    )


def _county(c: ConfigProblems, raw: Any, where: str, base: Path, default_programs: Path | None) -> County:
    if not isinstance(raw, dict):
        c.add(where, "应为键值对：code, name, inbox, db, out")
        raw = {}
    _unknown_keys(c, raw, _COUNTY_KEYS, where)
    own_programs = _path(c, raw, "programs", where, base, required=False) if raw.get("programs") else None
    return County(
        code=_division_code(c, raw, where),
        name=c.get(raw, "name", where, str, default=""),
        inbox=_path(c, raw, "inbox", where, base, required=True),
        db=_path(c, raw, "db", where, base, required=True),
        out=_path(c, raw, "out", where, base, required=True),
        programs=own_programs or default_programs,
    )


def _check_isolation(c: ConfigProblems, counties: list[County]) -> None:
    """Two counties sharing a code, warehouse, inbox or output folder would see each other's villagers."""
    for attribute, label in (
        ("code", "代码"),
        ("db", "数据仓库"),
        ("inbox", "收件目录"),
        ("out", "输出目录"),
    ):
        seen: dict[object, int] = {}
        for i, county in enumerate(counties):
            value = getattr(county, attribute)
            if value in ("", None):
                continue
            if value in seen:
                c.add(
                    f"counties[{i}].{attribute}",
                    f"{label}与 counties[{seen[value]}] 相同；每个县必须各用各的",
                )
            seen.setdefault(value, i)


def load_counties(path: str | Path) -> Counties:
    path = Path(path)
    base = path.resolve().parent
    c = ConfigProblems(str(path))
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("counties"), list) or not raw["counties"]:
        raise ConfigError([ConfigProblem(str(path), "counties", "应有非空的 counties 列表")])
    _unknown_keys(c, raw, {"province", "counties"}, "")
    province = _province(c, raw.get("province"), base)
    counties = [
        _county(c, item, f"counties[{i}]", base, province.programs) for i, item in enumerate(raw["counties"])
    ]
    _check_isolation(c, counties)
    for i, county in enumerate(counties):
        if county.programs is not None and not county.programs.is_file():
            c.add(f"counties[{i}].programs", f"文件不存在：{county.programs}")
    c.raise_if_any()
    return Counties(source=path, province=province, counties=tuple(counties))
