"""Each inbox upload is opened once, and the night reads only the private copy taken through that descriptor.

Listing the inbox (ykt.ingest.inbox) follows no link, but the listing and the reading are two moments:
a file could be swapped for a symbolic link (to /proc/self/environ, to a roster outside the inbox), or
its folder for a link to another folder, in between. So each upload is opened with O_NOFOLLOW (a link
in its place fails to open), checked to be a regular file and the very file the listing saw (device
and inode: a folder swapped for a link leads elsewhere), and copied through that one descriptor into a
private folder of the archive (0700), hashing the bytes on the way. Everything after (reading,
counting rows, archiving) uses the copy under the upload's own name (its name carries the program and
period), so what is hashed, archived and loaded are the same bytes, and nothing outside the inbox is read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ykt.ingest.archive import archive_disk_full

_CHUNK = 1 << 20
_FOLDER_PREFIX = ".incoming."


@dataclass(frozen=True)
class Upload:
    """An inbox file as the listing saw it: where, its kind, and which file it was (device, inode)."""

    path: Path
    kind: str
    identity: tuple[int, int]


@dataclass(frozen=True)
class Snapshot:
    """The night's private copy of one upload (`copy` keeps the upload's file name) and its content hash."""

    upload: Upload
    copy: Path
    file_hash: str


class NotTheListedFile(Exception):
    """The inbox entry is no longer the regular file the listing saw; `what` says what it is now."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def snapshot_folder(archive_dir: Path) -> Path:
    """This night's private folder of copies, inside the archive (same disk: archiving is a hard link)."""
    return Path(archive_dir) / f"{_FOLDER_PREFIX}{os.getpid()}.tmp"


def take_snapshot(upload: Upload, folder: Path, index: int) -> Snapshot:
    """Copy the upload through one descriptor into `folder/<index>/<name>`; raises NotTheListedFile
    when the entry is now a link, not a regular file, or another file; FileNotFoundError when it is gone."""
    copy = Path(folder) / f"{index:06d}" / upload.path.name
    copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(folder).chmod(0o700)
    fd = _open_listed(upload)
    with os.fdopen(fd, "rb") as source:
        try:
            with open(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as target:
                file_hash = copy_hashing(source, target)
        except OSError as exc:
            copy.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise archive_disk_full(upload.path, Path(folder).parent) from None
            raise
    return Snapshot(upload, copy, file_hash)


def copy_hashing(source: BinaryIO, target: BinaryIO) -> str:
    """Copy in 1 MiB chunks (files can be GBs); the sha256 hex digest of what was copied."""
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def _open_listed(upload: Upload) -> int:
    try:
        fd = os.open(upload.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link in the file's place
            raise NotTheListedFile("列出后被换成的符号链接（快捷方式）") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != upload.identity:
        os.close(fd)
        raise NotTheListedFile("列出后被替换的条目（其所在文件夹或文件本身被换成了别的文件或链接）")
    return fd


def remove_snapshots(archive_dir: Path, folder: Path | None = None) -> list[Path]:
    """Remove `folder`, or (folder None) every snapshot folder a killed night left in the archive."""
    archive_dir = Path(archive_dir)
    if folder is not None:
        found = [Path(folder)] if Path(folder).exists() else []
    elif archive_dir.is_dir():
        found = sorted(archive_dir.glob(f"{_FOLDER_PREFIX}*.tmp"))
    else:
        found = []
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found
