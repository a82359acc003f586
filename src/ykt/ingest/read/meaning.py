"""What a table's columns mean when their headers do not say it all: the cells under the header, and
who the roster names.

* By content: a column with no role of its own whose sample cells are overwhelmingly valid ID numbers
  (cards, dates) is the kind's ID (card, date) column, when the kind has exactly one such role and no
  header claims it. The header decides between candidates; two candidates and no header → ambiguous.
* By person: a kind whose beneficiary name is required (a roster) and has no beneficiary column takes
  the one person it names: a header naming a person without a role (申请人, 救助人员姓名), else the
  household head (户主姓名), else the payee (持卡人). A roster naming the head and another person keeps
  the other as beneficiary; two unroled person columns → ambiguous. The beneficiary's ID column is
  stood in for the same way (户主身份证号 when the head is the only person named).

Every inference is a Chinese sentence shown to the clerk; every ambiguity names its candidates (the
reader rejects the file, it never guesses). Only the first rows are looked at (the reader's header
window), so a file read in parts and read whole infer the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ykt.ingest.normalise.fields import card_expr, date_expr, id_number_expr, unmarked_expr
from ykt.kinds import kind_spec
from ykt.labels import ROLE_LABELS

CONTENT_SHARE = 0.9  # "overwhelmingly": this share of a column's non-blank sample cells
MIN_CELLS = 3  # fewer non-blank sample cells decide nothing
CARD_DISTINCT = 0.8  # card numbers differ row by row; a 12-digit village code column repeats
_CARD_DIGITS = 12  # an account number this long at least (phone numbers have 11 digits)
_CONTENT_PARSERS = {"id": "id", "card": "card", "date": "date"}


@dataclass(frozen=True)
class Loose:
    """A column whose header is no role's alias (or is blank)."""

    name: str  # frame column ("c3")
    display: str  # the header as written ('' when blank)
    person: bool  # the header names a person without a role (申请人)


def shown(name: str, display: str) -> str:
    """A column as a clerk finds it: 第3列“证件号”, or 第3列（无表头）."""
    number = int(name[1:]) + 1
    return f"第{number}列“{display}”" if display else f"第{number}列（无表头）"


def _cell_class(col: str) -> pl.Expr:
    """'id' | 'card' | 'date' | '' (other text) | null (blank) for each cell: the normaliser's own parsers."""
    text = unmarked_expr(col)
    is_id = id_number_expr(col).struct.field("error").is_null()
    is_card = card_expr(col).struct.field("value").str.len_chars() >= _CARD_DIGITS
    is_date = date_expr(col).struct.field("value").is_not_null() & ~text.str.contains(r"^\d{1,5}(\.\d+)?$")
    return (
        pl.when(text.is_null())
        .then(pl.lit(None, pl.String))
        .when(is_id)
        .then(pl.lit("id"))
        .when(is_card)
        .then(pl.lit("card"))
        .when(is_date)
        .then(pl.lit("date"))
        .otherwise(pl.lit(""))
    )


class Sample:
    """The class of every cell of a sheet's first rows, column by column (one polars pass)."""

    def __init__(self, head: pl.DataFrame):
        classes = head.select(_cell_class(c).alias(c) for c in head.columns)
        self.classes = {c: classes[c].to_list() for c in head.columns}
        self.texts = {c: head[c].to_list() for c in head.columns}

    def content(self, name: str, below: int) -> str | None:
        """What the cells of rows `below`… of a column overwhelmingly are, if anything."""
        cells = [
            (k, t) for k, t in zip(self.classes[name][below:], self.texts[name][below:]) if k is not None
        ]
        if len(cells) < MIN_CELLS:
            return None
        for kind in _CONTENT_PARSERS:
            hits = [t for k, t in cells if k == kind]
            if len(hits) < CONTENT_SHARE * len(cells):
                continue
            if kind == "card" and len(set(hits)) < CARD_DISTINCT * len(hits):
                return None
            return kind
        return None


def content_roles(kind: str) -> dict[str, str]:
    """Content class → the kind's one role of that parser (the required one for IDs): ID, card, date."""
    fields = kind_spec(kind).fields
    roles = {
        cls: [f.role for f in fields if f.parser == parser and (cls != "id" or f.required)]
        for cls, parser in _CONTENT_PARSERS.items()
    }
    return {cls: found[0] for cls, found in roles.items() if len(found) == 1}


@dataclass
class Roles:
    """A header's roles after inference, with the sentences telling the clerk and the ambiguities."""

    columns: dict[str, str]  # role -> frame column
    labels: dict[str, str]  # role -> header as written
    inferences: list[str] = field(default_factory=list)
    ambiguous: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (role, candidates shown)

    def take(self, role: str, name: str, display: str, why: str) -> None:
        self.columns[role], self.labels[role] = name, display
        self.inferences.append(f"{shown(name, display)}{why}")

    def free(self, loose: list[Loose]) -> list[Loose]:
        used = set(self.columns.values())
        return [c for c in loose if c.name not in used]


def infer_roles(roles: Roles, loose: list[Loose], sample: Sample, below: int, kind: str) -> Roles:
    """Fill the roles the headers left open, by content, then by the persons the table names."""
    for cls, role in content_roles(kind).items():
        if role in roles.columns:
            continue
        found = [c for c in roles.free(loose) if sample.content(c.name, below) == cls]
        if len(found) == 1:
            roles.take(role, found[0].name, found[0].display, f"按内容判断为{ROLE_LABELS[role]}")
        elif found:
            roles.ambiguous.append((role, tuple(shown(c.name, c.display) for c in found)))
    if any(f.role == "name" and f.required for f in kind_spec(kind).fields):
        _beneficiary_name(roles, loose)
        _beneficiary_id(roles)
    return roles


def _beneficiary_name(roles: Roles, loose: list[Loose]) -> None:
    """No beneficiary column: the one person the table names is the beneficiary."""
    if "name" in roles.columns:
        return
    persons = [c for c in roles.free(loose) if c.person]
    cols, labels = roles.columns, roles.labels
    if len(persons) > 1:
        roles.ambiguous.append(("name", tuple(shown(c.name, c.display) for c in persons)))
    elif persons:
        why = f"（户主另列为“{labels['head_name']}”）" if "head_name" in cols else "（表中只有一个人名列）"
        roles.take("name", persons[0].name, persons[0].display, f"作为享受人姓名{why}")
    elif "head_name" in cols:
        roles.take("name", cols["head_name"], labels["head_name"], "作为享受人姓名（表中只有一个人名列）")
    elif "payee_name" in cols:
        roles.take(
            "name", cols["payee_name"], labels["payee_name"], "作为享受人姓名（表中只有收款人一个人名列）"
        )


def _beneficiary_id(roles: Roles) -> None:
    """No beneficiary ID column: the ID of the person who is the beneficiary stands in, the head's when
    the head is the only person named (no separate head besides the beneficiary), the payee's when the
    payee is the beneficiary. A head named beside another beneficiary never lends them the head's ID."""
    cols = roles.columns
    if "id_number" in cols or "name" not in cols:
        return
    only_head = cols.get("head_name") in (None, cols["name"])
    for id_role, name_role, ok in (("head_id", "head_name", only_head), ("payee_id", "payee_name", False)):
        if id_role in cols and (ok or cols.get(name_role) == cols["name"]):
            roles.take(
                "id_number",
                cols[id_role],
                roles.labels[id_role],
                "作为享受人身份证号（享受人没有单独的身份证号列）",
            )
            return
