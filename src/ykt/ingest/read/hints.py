"""Program and period hints from a sheet's title lines, its name, or the file name.

The sources are tried in that order and the first one that mentions a program (or a
period) decides; a source that mentions two different programs is ambiguous, and so
is one with two different periods: we never guess between them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
_NOT_A_DAY = r"(?!\d{1,2}[日号])"

# Most specific first: a quarter beats a month beats a year within one source.
_QUARTER = (
    re.compile(r"(20\d{2})年第?([一二三四1-4])季度?"),
    re.compile(r"(?<!\d)(20\d{2})[-_]?[Qq]([1-4])(?!\d)"),
)
_MONTH = (
    re.compile(r"(20\d{2})年(0?[1-9]|1[0-2])月" + _NOT_A_DAY),
    re.compile(r"(?<!\d)(20\d{2})[-/.](0?[1-9]|1[0-2])(?![-/.]?\d)"),
    re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)"),
)
_YEAR = (
    re.compile(r"(20\d{2})年度"),
    re.compile(r"(?<!\d)(20\d{2})年(?![\d第一二三四])"),
)


def _compact(text: str) -> str:
    """NFKC, no spaces, ASCII upper-case: how titles and spellings are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def periods_in(text: str) -> set[str]:
    """Canonical periods ('YYYY-Qn', 'YYYY-MM', 'YYYY') of the most specific kind found."""
    text = _compact(text)
    quarters = {f"{y}-Q{_CN_DIGITS.get(q, q)}" for p in _QUARTER for y, q in p.findall(text)}
    if quarters:
        return quarters
    months = {f"{y}-{int(m):02d}" for p in _MONTH for y, m in p.findall(text)}
    if months:
        return months
    return {y for p in _YEAR for y in p.findall(text)}


@dataclass(frozen=True)
class Hint:
    value: str | None  # the one value found, else None
    found: tuple[str, ...] = ()  # every distinct value in the deciding source (2+ = ambiguous)
    source: str = ""  # the text it came from
    part: str = ""  # a program recognised by a distinctive part of its spellings: that part

    @property
    def ambiguous(self) -> bool:
        return len(self.found) > 1


def period_hint(sources: Sequence[str]) -> Hint:
    for source in sources:
        found = periods_in(source)
        if found:
            ordered = tuple(sorted(found))
            return Hint(ordered[0] if len(ordered) == 1 else None, ordered, source)
    return Hint(None)


def programs_in(text: str, name_index: dict[str, str]) -> set[str]:
    """Program codes mentioned in a text; the longest spelling wins where spellings overlap."""
    text = _compact(text)
    taken: list[tuple[int, int]] = []
    codes: set[str] = set()
    for spelling in sorted(name_index, key=lambda s: len(_compact(s)), reverse=True):
        needle = _compact(spelling)
        start = text.find(needle)
        while needle and start >= 0:
            end = start + len(needle)
            if _standalone(text, start, end, needle) and not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                codes.add(name_index[spelling])
            start = text.find(needle, start + 1)
    return codes


def _standalone(text: str, start: int, end: int, needle: str) -> bool:
    """An ASCII code (DIBAO) must not be part of a longer ASCII word; Chinese names may touch."""
    if not needle.isascii():
        return True
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def program_hint(sources: Sequence[str], name_index: dict[str, str]) -> Hint:
    """The program a source names by one of its spellings; failing that in every source, the program a
    source names by a distinctive part of its spellings (城市低保 → 低保, 特困供养人员 → 特困)."""
    for source in sources:
        found = programs_in(source, name_index)
        if found:
            ordered = tuple(sorted(found))
            return Hint(ordered[0] if len(ordered) == 1 else None, ordered, source)
    parts = distinctive_parts(name_index)
    for source in sources:
        text = _compact(source)
        matched = {part: code for part, code in parts.items() if part in text}
        if matched:
            ordered = tuple(sorted(set(matched.values())))
            part = max(matched, key=len) if len(ordered) == 1 else ""
            return Hint(ordered[0] if len(ordered) == 1 else None, ordered, source, part)
    return Hint(None)


# Words of many subsidies' names that tell no program apart, even when one program's spellings alone
# hold them here (a title "XX人员补助" must not be read as 特困人员).
_GENERIC_PARTS = frozenset(
    (
        "补贴",
        "补助",
        "补偿",
        "资金",
        "人员",
        "居民",
        "城乡",
        "城市",
        "农村",
        "基本",
        "生活",
        "困难",
        "发放",
        "保障",
        "救助",
    )
)
_MIN_PART = 2


def distinctive_parts(name_index: dict[str, str]) -> dict[str, str]:
    """Every run of at least two Chinese characters inside one program's spellings and no other's
    (generic words excepted) → that program's code."""
    owners: dict[str, set[str]] = {}
    for spelling, code in name_index.items():
        for run in re.findall(r"[\u4e00-\u9fff]+", _compact(spelling)):
            for start in range(len(run)):
                for end in range(start + _MIN_PART, len(run) + 1):
                    owners.setdefault(run[start:end], set()).add(code)
    return {
        part: next(iter(codes))
        for part, codes in owners.items()
        if len(codes) == 1 and part not in _GENERIC_PARTS
    }
