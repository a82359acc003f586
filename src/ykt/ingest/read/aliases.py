"""Column aliases (schemas/columns.yaml) loaded into a frozen, validated `ColumnAliases`.

Header texts are compared after `normalise_header`, and so are the aliases, so the YAML
can be written the way people write headers ("金额（元）" and "金额" are one alias).
Every mistake in the YAML is reported at once, each with its file and key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ykt.config import ConfigProblems, read_yaml
from ykt.errors import ConfigError, ConfigProblem
from ykt.kinds import KINDS, role_kinds

# The role contract: which kinds may use each role (derived from the kinds' fields).
ROLE_KINDS: dict[str, tuple[str, ...]] = role_kinds()

# Units written into a header: （元）, (万元), (元/人/月), 单位：元 ... (after NFKC, so ASCII brackets).
_UNIT = re.compile(
    r"\((?:单位:?)?[万千]?元(?:/[^()]*)?\)|\[(?:单位:?)?[万千]?元\]|【(?:单位:?)?[万千]?元】|单位:[万千]?元"
)
_SPACES = re.compile(r"\s+")


def normalise_header(text: str) -> str:
    """NFKC (full-width → half-width), drop spaces/newlines, units like （元）/(元)/单位：元 and * markers."""
    folded = unicodedata.normalize("NFKC", str(text))
    compact = _SPACES.sub("", folded)
    return _UNIT.sub("", compact).strip("*※")


# A note in brackets after a header's words: 身份证号码(18位), 金额(保留两位小数), 姓名【必填】.
_NOTE = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]")


def without_notes(header: str) -> str:
    """A normalised header without its bracketed notes ("身份证号码(18位)" → "身份证号码"): tried only when
    the header as written is no alias, since some aliases keep their brackets (乡镇(街道), 村(社区))."""
    return _NOTE.sub("", header)


@dataclass(frozen=True)
class RoleSpec:
    role: str
    kinds: tuple[str, ...]
    aliases: tuple[str, ...]  # normalised, most preferred first
    prefer: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, normalised aliases preferred for that kind)

    def ranked_aliases(self, kind: str) -> tuple[str, ...]:
        """Aliases in preference order for one kind (its `prefer` list first)."""
        first = dict(self.prefer).get(kind, ())
        return first + tuple(a for a in self.aliases if a not in first)


@dataclass(frozen=True)
class KindHeaders:
    kind: str
    required: tuple[str, ...]
    distinctive: tuple[str, ...]
    title_words: tuple[str, ...]


@dataclass(frozen=True)
class ColumnAliases:
    """Everything reading needs to recognise a table: role aliases, kinds, non-data row labels."""

    source: str
    roles: tuple[RoleSpec, ...]
    kinds: tuple[KindHeaders, ...]
    total_tiers: tuple[tuple[str, ...], ...]  # normalised labels; first tier present gives the control total
    other_totals: tuple[str, ...]
    signatures: tuple[str, ...]
    # Headers naming a person without a role of their own (申请人, 救助人员姓名): exact words and endings.
    person_words: tuple[str, ...] = ()
    person_endings: tuple[str, ...] = ()

    def names_a_person(self, header: str) -> bool:
        """A normalised header (notes dropped) that names a person, though no role's alias."""
        return header in self.person_words or any(
            header.endswith(e) and header != e for e in self.person_endings
        )

    def kind(self, kind: str) -> KindHeaders:
        for spec in self.kinds:
            if spec.kind == kind:
                return spec
        raise KeyError(kind)

    def lookup(self, kind: str) -> dict[str, tuple[str, int]]:
        """Normalised alias -> (role, preference rank) for the roles one kind uses."""
        index: dict[str, tuple[str, int]] = {}
        for spec in self.roles:
            if kind in spec.kinds:
                for rank, alias in enumerate(spec.ranked_aliases(kind)):
                    index.setdefault(alias, (spec.role, rank))
        return index

    def known_headers(self, kind: str) -> tuple[str, ...]:
        return tuple(self.lookup(kind))


def default_columns_path() -> Path:
    return Path(str(resources.files("ykt.schemas").joinpath("columns.yaml")))


def _role(p: ConfigProblems, role: str, raw: Any) -> RoleSpec | None:
    key = f"roles.{role}"
    if role not in ROLE_KINDS:
        p.add(key, f"未知角色；可用角色：{', '.join(ROLE_KINDS)}")
        return None
    if not isinstance(raw, dict):
        p.add(key, "应为包含 kinds 和 aliases 的映射")
        return None
    for unknown in sorted(set(raw) - {"kinds", "aliases", "prefer"}):
        p.add(f"{key}.{unknown}", "未知字段；可用字段：kinds, aliases, prefer")
    kinds = p.strings(raw.get("kinds"), f"{key}.kinds")
    for kind in kinds:
        if kind not in ROLE_KINDS[role]:
            p.add(f"{key}.kinds", f"角色 {role} 不能用于 {kind}；允许：{', '.join(ROLE_KINDS[role])}")
    aliases = tuple(normalise_header(a) for a in p.strings(raw.get("aliases"), f"{key}.aliases"))
    if any(not a for a in aliases):
        p.add(f"{key}.aliases", "有别名在去掉空格和单位后为空")
    prefer: list[tuple[str, tuple[str, ...]]] = []
    for kind, listed in (raw.get("prefer") or {}).items():
        wanted = tuple(normalise_header(a) for a in p.strings(listed, f"{key}.prefer.{kind}"))
        if kind not in kinds:
            p.add(f"{key}.prefer.{kind}", f"{kind} 不在该角色的 kinds 中")
        for alias in wanted:
            if alias not in aliases:
                p.add(f"{key}.prefer.{kind}", f"“{alias}”不在 aliases 中")
        prefer.append((kind, wanted))
    return RoleSpec(role, kinds, aliases, tuple(prefer))


def _kind(p: ConfigProblems, kind: str, raw: Any, roles: dict[str, RoleSpec]) -> KindHeaders:
    key = f"kinds.{kind}"
    raw = raw if isinstance(raw, dict) else {}
    spec = KindHeaders(
        kind,
        required=p.strings(raw.get("required"), f"{key}.required"),
        distinctive=p.strings(raw.get("distinctive", []), f"{key}.distinctive"),
        title_words=p.strings(raw.get("title_words", []), f"{key}.title_words"),
    )
    for role in (*spec.required, *spec.distinctive):
        if role not in roles or kind not in roles[role].kinds:
            p.add(key, f"角色 {role} 没有为 {kind} 定义别名")
    return spec


def _check_unambiguous(p: ConfigProblems, roles: dict[str, RoleSpec]) -> None:
    """One header text must mean one role within a kind, or reading would guess."""
    for kind in KINDS:
        seen: dict[str, str] = {}
        for spec in roles.values():
            if kind not in spec.kinds:
                continue
            for alias in spec.aliases:
                other = seen.setdefault(alias, spec.role)
                if other != spec.role:
                    p.add(
                        f"roles.{spec.role}.aliases",
                        f"别名“{alias}”在 {kind} 中同时属于 {other} 和 {spec.role}",
                    )


def _rows(
    p: ConfigProblems, raw: Any
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...], tuple[str, ...]]:
    raw = raw if isinstance(raw, dict) else {}
    tiers_raw = raw.get("totals")
    if not isinstance(tiers_raw, list) or not tiers_raw:
        p.add("rows.totals", "应为标签列表的列表，如 [[总计], [合计], [小计]]")
        tiers_raw = []
    tiers = tuple(
        tuple(normalise_header(t) for t in p.strings(tier, f"rows.totals[{i}]"))
        for i, tier in enumerate(tiers_raw)
    )
    others = tuple(normalise_header(t) for t in p.strings(raw.get("other_totals", []), "rows.other_totals"))
    signatures = tuple(normalise_header(t) for t in p.strings(raw.get("signatures"), "rows.signatures"))
    return tiers, others, signatures


def _people(p: ConfigProblems, raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    raw = raw if isinstance(raw, dict) else {}
    for unknown in sorted(set(raw) - {"words", "endings"}):
        p.add(f"people.{unknown}", "未知字段；可用字段：words, endings")
    words = tuple(normalise_header(w) for w in p.strings(raw.get("words", []), "people.words"))
    endings = tuple(normalise_header(w) for w in p.strings(raw.get("endings", []), "people.endings"))
    return words, endings


def load_aliases(path: Path | None = None) -> ColumnAliases:
    """Load and validate columns.yaml (default: the packaged schemas/columns.yaml)."""
    path = Path(path) if path else default_columns_path()
    p = ConfigProblems(str(path))
    raw = read_yaml(path)
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("roles"), dict)
        or not isinstance(raw.get("kinds"), dict)
    ):
        raise ConfigError([ConfigProblem(str(path), "-", "应包含 roles、kinds 和 rows 三部分")])
    for unknown in sorted(set(raw) - {"roles", "kinds", "rows", "people"}):
        p.add(unknown, "未知部分；可用：roles, kinds, rows, people")
    roles = {name: spec for name, body in raw["roles"].items() if (spec := _role(p, str(name), body))}
    _check_unambiguous(p, roles)
    for kind in sorted(set(raw["kinds"]) - set(KINDS)):
        p.add(f"kinds.{kind}", f"未知类别；可用：{', '.join(KINDS)}")
    kinds = tuple(_kind(p, kind, raw["kinds"].get(kind), roles) for kind in KINDS)
    tiers, others, signatures = _rows(p, raw.get("rows"))
    words, endings = _people(p, raw.get("people"))
    p.raise_if_any()
    return ColumnAliases(str(path), tuple(roles.values()), kinds, tiers, others, signatures, words, endings)
