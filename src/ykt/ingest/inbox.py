"""The inbox: which files are uploads, and each upload's kind from its folder (ykt.kinds).

The inbox is read as a tree of regular files inside it. Nothing is followed: a symbolic link (to a
file or a folder), a FIFO, a device or a socket is never opened (not even stat-followed) and never
walked into; it is reported as INBOX_NOT_REGULAR. A regular file found by a walk that follows no link
lies inside the inbox, so nothing outside it (/proc/self/environ, /etc/passwd) can be read through it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from ykt.ingest.snapshot import Upload
from ykt.kinds import KIND_SPECS
from ykt.masking import printable
from ykt.reasons import FILE_REASONS

INBOX_FOLDERS: Mapping[str, str] = MappingProxyType(
    {code: spec.inbox_folder for code, spec in KIND_SPECS.items()}
)

_NOT_REGULAR = (  # (test on st_mode, what a clerk calls it)
    (stat.S_ISLNK, "符号链接（快捷方式）"),
    (stat.S_ISFIFO, "命名管道"),
    (stat.S_ISCHR, "设备文件"),
    (stat.S_ISBLK, "设备文件"),
    (stat.S_ISSOCK, "套接字"),
)


def is_upload(path: Path) -> bool:
    """Skip what the OS or Excel leaves behind (.DS_Store, ~$lock files, partial copies);
    only a regular file (never followed through a link) is an upload."""
    return _is_upload_name(path.name) and stat.S_ISREG(os.lstat(path).st_mode)


def _is_upload_name(name: str) -> bool:
    return not name.startswith((".", "~$")) and not name.endswith(".partial")


def _walk(root: Path) -> Iterator[tuple[Path, int]]:
    """Every entry under `root` with its own (lstat) mode; folders are entered only when they are real
    folders, never through a link."""
    for path, info in _walk_stat(root):
        yield path, info.st_mode


def _walk_stat(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                found = [(Path(e.path), e.stat(follow_symlinks=False)) for e in entries]
        except OSError:
            continue
        for path, info in found:
            if stat.S_ISDIR(info.st_mode):
                pending.append(path)
            yield path, info


def _real_folder(inbox: Path, folder: str) -> Path | None:
    """The kind folder when it and every folder between it and the inbox is a real folder (no link)."""
    path = inbox
    for part in folder.split("/"):
        path = path / part
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return None
        except OSError:
            return None
    return path


def discover_inbox(inbox: Path) -> list[tuple[Path, str]]:
    """Every uploaded regular file of the inbox with its kind (from its folder), sorted by path.

    Files of any suffix are listed: one the reader cannot open is reported as
    rejected instead of silently ignored.
    """
    return [(upload.path, upload.kind) for upload in list_uploads(inbox)]


def list_uploads(inbox: Path) -> list[Upload]:
    """`discover_inbox` with each file's identity (device, inode), which its one opening checks
    (ykt.ingest.snapshot): an entry swapped after this listing is never read."""
    found = []
    for kind, folder in INBOX_FOLDERS.items():
        real = _real_folder(Path(inbox), folder)
        if real is not None:
            found += [
                Upload(p, kind, (info.st_dev, info.st_ino))
                for p, info in _walk_stat(real)
                if stat.S_ISREG(info.st_mode) and _is_upload_name(p.name)
            ]
    return sorted(found, key=lambda upload: str(upload.path))


def stray_files(inbox: Path, exclude: Sequence[Path] = ()) -> list[Upload]:
    """Uploads outside the four kind folders: their kind is unknown, so they are reported, not loaded
    (kind "unknown"; their rows are counted from their one opening, see ykt.ingest.snapshot).

    `exclude` names our own files (warehouse, archive, outputs) in case they were put inside the inbox.
    """
    inbox = Path(inbox).resolve()
    skip = [inbox / folder for folder in INBOX_FOLDERS.values()] + [Path(p).resolve() for p in exclude]
    return sorted(
        (
            Upload(p, "unknown", (info.st_dev, info.st_ino))
            for p, info in _walk_stat(inbox)
            if stat.S_ISREG(info.st_mode)
            and _is_upload_name(p.name)
            and not any(p.is_relative_to(k) for k in skip)
        ),
        key=lambda upload: str(upload.path),
    )


def not_regular_entries(inbox: Path, exclude: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """Links, FIFOs, devices and sockets anywhere in the inbox (`inbox` resolved), each with what it is."""
    inbox = Path(inbox).resolve()
    skip = [Path(p).resolve() for p in exclude]
    found = []
    for path, mode in _walk(inbox):
        what = next((name for test, name in _NOT_REGULAR if test(mode)), None)
        if what and _is_upload_name(path.name) and not any(path.is_relative_to(k) for k in skip):
            found.append((path, what))
    return sorted(found)


def not_regular_reason(path: Path, what: str, inbox: Path) -> str:
    """What the clerk is told about an entry that is not a regular file (`inbox` resolved)."""
    return (
        f"{FILE_REASONS['INBOX_NOT_REGULAR']}：{printable(str(path.relative_to(inbox)))} 是{what}，未读取。"
        "处理办法：请把文件本身（而不是快捷方式或链接）复制到收件目录"
    )


def stray_reason(path: Path, inbox: Path) -> str:
    """What the clerk is told about an upload outside the kind folders (`inbox` resolved)."""
    folders = "、".join(f"{f}/" for f in INBOX_FOLDERS.values())
    return f"{FILE_REASONS['FILE_KIND_UNKNOWN']}：{printable(str(path.relative_to(inbox)))}。请放入 {folders} 之一"


def kind_from_folder(path: Path) -> str | None:
    """The kind whose inbox folder holds the file (the folder may sit anywhere, e.g. a copied inbox)."""
    parts = path.parent.parts
    for kind, folder in INBOX_FOLDERS.items():
        if tuple(folder.split("/")) == parts[-len(folder.split("/")) :]:
            return kind
    return None
