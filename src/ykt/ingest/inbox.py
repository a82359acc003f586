"""The inbox: which files are uploads, and each upload's kind from its folder (ykt.kinds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from ykt.kinds import KIND_SPECS
from ykt.reasons import FILE_REASONS

INBOX_FOLDERS: Mapping[str, str] = MappingProxyType(
    {code: spec.inbox_folder for code, spec in KIND_SPECS.items()}
)


def is_upload(path: Path) -> bool:
    """Skip what the OS or Excel leaves behind (.DS_Store, ~$lock files, partial copies)."""
    return path.is_file() and not path.name.startswith((".", "~$")) and not path.name.endswith(".partial")


def discover_inbox(inbox: Path) -> list[tuple[Path, str]]:
    """Every uploaded file of the inbox with its kind (from its folder), sorted by path.

    Files of any suffix are listed: one the reader cannot open is reported as
    rejected instead of silently ignored.
    """
    found = [
        (path, kind)
        for kind, folder in INBOX_FOLDERS.items()
        for path in (Path(inbox) / folder).rglob("*")
        if is_upload(path)
    ]
    return sorted(found, key=lambda item: str(item[0]))


def stray_files(inbox: Path, exclude: Sequence[Path] = ()) -> list[Path]:
    """Uploads outside the four kind folders: their kind is unknown, so they are reported, not read.

    `exclude` names our own files (warehouse, archive, outputs) in case they were put inside the inbox.
    """
    inbox = Path(inbox).resolve()
    skip = [inbox / folder for folder in INBOX_FOLDERS.values()] + [Path(p).resolve() for p in exclude]
    return sorted(p for p in inbox.rglob("*") if is_upload(p) and not any(p.is_relative_to(k) for k in skip))


def stray_reason(path: Path, inbox: Path) -> str:
    """What the clerk is told about an upload outside the kind folders (`inbox` resolved)."""
    folders = "、".join(f"{f}/" for f in INBOX_FOLDERS.values())
    return f"{FILE_REASONS['FILE_KIND_UNKNOWN']}：{path.relative_to(inbox)}。请放入 {folders} 之一"


def kind_from_folder(path: Path) -> str | None:
    """The kind whose inbox folder holds the file (the folder may sit anywhere, e.g. a copied inbox)."""
    parts = path.parent.parts
    for kind, folder in INBOX_FOLDERS.items():
        if tuple(folder.split("/")) == parts[-len(folder.split("/")) :]:
            return kind
    return None
