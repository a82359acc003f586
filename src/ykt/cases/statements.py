"""The case SQL: one statement per file in the data package ykt/cases/sql/, read once into a frozen mapping by file stem."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType


def _load() -> Mapping[str, str]:
    folder = resources.files("ykt.cases.sql")
    texts = {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8").strip()
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }
    return MappingProxyType(texts)


CASE_SQL: Mapping[str, str] = _load()
