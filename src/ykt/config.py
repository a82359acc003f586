"""Configuration as data: programs.yaml loaded into frozen, typed objects.

Everything is validated at start-up and every mistake is reported at once, each
with its file and key, so a clerk fixing the YAML sees the whole list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ykt.errors import ConfigError, ConfigProblem

CADENCES = ("monthly", "quarterly", "annual", "once")


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    aliases: tuple[str, ...]
    cadence: str
    pay_day: int | None
    due_days_after_approval: int | None
    grace_days: int
    reissue_days: int
    standard_amount: Decimal | None
    tolerance: Decimal
    means_tested: bool
    department: str
    supervisor: str
    resolve_days: int
    outlier_check: bool
    # Benford first-digit test per township: only for programs whose amounts are free (one-off and
    # annual payments computed from land, machines, compensation). Monthly 低保-type amounts cluster
    # in one range by design and would flag whole townships, so it is off unless asked for.
    benford_check: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Settings:
    batch_stalled_min_persons: int = 10
    outlier_z: float = 3.5
    benford_min_payments: int = 300
    benford_max_mad: float = 0.015
    # FILE_LAYOUT_SUSPECT: a file whose rows fail for one reason on one column this often is misread as a whole
    layout_alarm_share: float = 0.5
    layout_alarm_min_rows: int = 20
    # COVERAGE: a program's current roster rows fell by more than this share against its last accepted roster
    roster_collapse_share: float = 0.5
    # health: rejected rows above this share of the rows read make the night need attention
    attention_reject_share: float = 0.05
    # Reading budgets (FILE_TOO_LARGE, ykt.ingest.read.formats.limits): checked before and while parsing
    max_file_bytes: int = 200_000_000  # bytes on disk, any format
    # legacy .xls: calamine holds every sheet's cells at once; a 191 MB one took a night to 2.5 GB (bench/README.md)
    max_xls_bytes: int = 120_000_000
    # xlsx/ods: total uncompressed size in the zip directory; 600 MiB admits a 1M-row roster (about 546 MB)
    max_unpacked_bytes: int = 629_145_600
    # .ods: its one big content.xml is parsed whole; at 593 MiB a night peaked at 1.9–2.0 GB (bench/README.md)
    max_ods_unpacked_bytes: int = 524_288_000
    max_zip_entries: int = 10_000  # xlsx/ods: members in the zip directory
    max_zip_ratio: int = 200  # xlsx/ods: uncompressed/compressed of one member of 1 MB or more
    max_rows: int = 10_000_000  # rows of one file (all sheets)
    max_columns: int = 1_000  # columns of one sheet or CSV line
    max_cell_chars: int = 32_767  # characters in one cell (Excel's own limit)
    max_line_bytes: int = 1_048_576  # CSV: bytes of one line (a quoted cell's newlines included)
    # DuckDB's memory during a night (beyond it, joins and aggregates spill to <db>.tmp): without it DuckDB
    # takes up to 80% of the machine, and the largest CSV the budgets admit peaked at 2.0 GB in the rules
    warehouse_memory_mb: int = 1024


@dataclass(frozen=True)
class Programs:
    source: str
    programs: tuple[Program, ...]
    settings: Settings = field(default_factory=Settings)

    def by_code(self, code: str) -> Program:
        for p in self.programs:
            if p.code == code:
                return p
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.programs)

    def name_index(self) -> dict[str, str]:
        """Every known spelling (code, name, alias) -> program code."""
        index: dict[str, str] = {}
        for p in self.programs:
            for spelling in (p.code, *p.all_names):
                index[spelling] = p.code
        return index


def default_programs_path() -> Path:
    return Path(str(resources.files("ykt.rules").joinpath("programs.yaml")))


def read_yaml(path: Path) -> Any:
    """Parse a configuration file; a missing file or broken YAML is a ConfigError naming the file."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), "-", "文件不存在")]) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        message = f"第 {line} 行不是 UTF-8 编码（可能用 GBK 保存了）；请用 UTF-8 另存后重试"
        raise ConfigError([ConfigProblem(str(path), "-", message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(str(path), "-", f"YAML 格式错误：{exc}")]) from None


class ConfigProblems:
    """Collects every mistake in one configuration file instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[ConfigProblem] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(ConfigProblem(self.file, key, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        """A list of non-empty strings, or a recorded problem and an empty tuple."""
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(key, f"应为非空文本列表，实际为 {value!r}")
            return ()
        return tuple(value)

    def get(
        self,
        raw: dict[str, Any],
        key: str,
        where: str,
        kind: type,
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        """A typed field of a mapping, or a recorded problem and the default."""
        if key not in raw or raw[key] is None:
            if required:
                self.add(f"{where}.{key}", "缺少必填项 (required)")
            return default
        value = raw[key]
        if kind is Decimal:
            try:
                return Decimal(str(value))
            except InvalidOperation:
                self.add(f"{where}.{key}", f"应为金额数字，实际为 {value!r}")
                return default
        if kind is bool and not isinstance(value, bool):
            self.add(f"{where}.{key}", f"应为 true/false，实际为 {value!r}")
            return default
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.add(f"{where}.{key}", f"应为整数，实际为 {value!r}")
            return default
        if kind is float and not isinstance(value, (int, float)):
            self.add(f"{where}.{key}", f"应为数字，实际为 {value!r}")
            return default
        if kind is str and not isinstance(value, str):
            self.add(f"{where}.{key}", f"应为文本，实际为 {value!r}")
            return default
        return value


_PROGRAM_KEYS = {
    "code",
    "name",
    "aliases",
    "cadence",
    "pay_day",
    "due_days_after_approval",
    "grace_days",
    "reissue_days",
    "standard_amount",
    "tolerance",
    "means_tested",
    "department",
    "supervisor",
    "resolve_days",
    "outlier_check",
    "benford_check",
}


def _program(c: ConfigProblems, raw: dict[str, Any], where: str) -> Program | None:
    for unknown in sorted(set(raw) - _PROGRAM_KEYS):
        c.add(f"{where}.{unknown}", f"未知字段；可用字段：{', '.join(sorted(_PROGRAM_KEYS))}")
    code = c.get(raw, "code", where, str, default="")
    if code and not code.replace("_", "").isalnum():
        c.add(f"{where}.code", f"代码只能含字母、数字和下划线，实际为 {code!r}")
    cadence = c.get(raw, "cadence", where, str, default="monthly")
    if cadence not in CADENCES:
        c.add(f"{where}.cadence", f"应为 {' | '.join(CADENCES)} 之一，实际为 {cadence!r}")
    pay_day = c.get(raw, "pay_day", where, int, required=cadence in ("monthly", "quarterly"))
    if pay_day is not None and not 1 <= pay_day <= 28:
        c.add(f"{where}.pay_day", f"应在 1–28 之间（每月都有的日期），实际为 {pay_day}")
    due_days = c.get(raw, "due_days_after_approval", where, int, required=cadence in ("annual", "once"))
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        c.add(f"{where}.aliases", "应为文本列表，如 [低保金, 城乡低保]")
        aliases = []
    standard = c.get(raw, "standard_amount", where, Decimal, required=False)
    program = Program(
        code=code,
        name=c.get(raw, "name", where, str, default=""),
        aliases=tuple(aliases),
        cadence=cadence,
        pay_day=pay_day,
        due_days_after_approval=due_days,
        grace_days=c.get(raw, "grace_days", where, int, required=False, default=0),
        reissue_days=c.get(raw, "reissue_days", where, int),
        standard_amount=standard,
        tolerance=c.get(raw, "tolerance", where, Decimal, required=False, default=Decimal("0.01")),
        means_tested=c.get(raw, "means_tested", where, bool, required=False, default=False),
        department=c.get(raw, "department", where, str, default=""),
        supervisor=c.get(raw, "supervisor", where, str, default=""),
        resolve_days=c.get(raw, "resolve_days", where, int),
        outlier_check=c.get(raw, "outlier_check", where, bool, required=False, default=standard is None),
        benford_check=c.get(raw, "benford_check", where, bool, required=False, default=False),
    )
    for key in ("grace_days", "reissue_days", "resolve_days", "due_days_after_approval"):
        value = getattr(program, key)
        if isinstance(value, int) and value < 0:
            c.add(f"{where}.{key}", f"不能为负数，实际为 {value}")
    return program


def _settings(c: ConfigProblems, raw: Any) -> Settings:
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        c.add("settings", "应为键值对")
        return Settings()
    defaults = Settings()
    values = {}
    for key, default in vars(defaults).items():
        values[key] = c.get(raw, key, "settings", type(default), required=False, default=default)
    for unknown in sorted(set(raw) - set(values)):
        c.add(f"settings.{unknown}", f"未知设置；可用：{', '.join(values)}")
    return Settings(**values)


def load_programs(path: str | Path | None = None) -> Programs:
    path = Path(path) if path else default_programs_path()
    c = ConfigProblems(str(path))
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("programs"), list) or not raw["programs"]:
        raise ConfigError([ConfigProblem(str(path), "programs", "应有非空的 programs 列表")])
    programs = [
        _program(c, item if isinstance(item, dict) else {}, f"programs[{i}]")
        for i, item in enumerate(raw["programs"])
    ]
    settings = _settings(c, raw.get("settings"))
    _check_unique_spellings(c, programs)
    c.raise_if_any()
    return Programs(source=str(path), programs=tuple(p for p in programs if p), settings=settings)


def _check_unique_spellings(c: ConfigProblems, programs: list[Program | None]) -> None:
    """A name or alias must point at one program, or title/file-name detection would guess."""
    seen: dict[str, str] = {}
    codes: dict[str, int] = {}
    for i, p in enumerate(programs):
        if p is None:
            continue
        if p.code in codes:
            c.add(f"programs[{i}].code", f"项目代码 {p.code} 与 programs[{codes[p.code]}] 重复")
        codes.setdefault(p.code, i)
        for spelling in (p.code, *p.all_names):
            other = seen.get(spelling)
            if other is not None and other != p.code:
                c.add(f"programs[{i}]", f"名称或别名“{spelling}”同时属于 {other} 和 {p.code}")
            seen[spelling] = p.code


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a canonical period ('2024-03', '2024-Q1', '2024')."""
    if "-Q" in period:
        year, q = int(period[:4]), int(period[-1])
        start = dt.date(year, 3 * (q - 1) + 1, 1)
        end_month = start.month + 2
        end = dt.date(year + (end_month // 12), end_month % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    if len(period) == 4:
        return dt.date(int(period), 1, 1), dt.date(int(period), 12, 31)
    year, month = int(period[:4]), int(period[5:7])
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end
