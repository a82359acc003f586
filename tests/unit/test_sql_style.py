"""Every query file in rules/ and src/ykt/cases/sql/ ends with `select * from final` (dbt style: the
last named CTE is the result).

What counts as a query: a file whose statement yields rows (a `select` or `with`) or is built from
them (`insert into … select`, `create … as select`). After `select * from final` a query may only
order its rows (`order by …`: a listing's order, or the row order of an insert) and an insert may
add `on conflict do nothing`. Exempt, as they have no select of their own: `update` and `delete`
statements (DML) and `create … table name (columns)` (DDL).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

FOLDERS = (Path(str(resources.files("ykt.rules"))), Path(str(resources.files("ykt.cases.sql"))))
FILES = sorted(path for folder in FOLDERS for path in folder.glob("*.sql"))

_COMMENT = re.compile(r"--[^\n]*")
_EXEMPT = re.compile(r"^(update|delete)\b|^create\b[^(]*\btable\s+\w+\s*\(")
_ENDING = re.compile(r"\bselect \* from final(\s+order by [^;]+?)?(\s+on conflict do nothing)?$")


def _statement(path: Path) -> str:
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    return " ".join(text.split()).rstrip(";").strip()


def test_there_are_query_files_to_check():
    assert len(FILES) > 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_query_ends_with_select_from_final(path: Path):
    statement = _statement(path)
    if _EXEMPT.match(statement):
        return
    assert _ENDING.search(statement), f"{path.name} does not end with `select * from final`"
