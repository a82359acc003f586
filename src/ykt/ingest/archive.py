"""Every inbox file archived unchanged under its content hash (issue 3).

`archive_dir/<hash[:2]>/<hash><suffix>` holds the bytes; `<hash>.json` beside it
records the original name, who uploaded it and when it was received. The same
bytes under another name are the same file: the hash is the identity.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ykt.errors import DiskSpaceError
from ykt.masking import printable

_CHUNK = 1 << 20
_MB = 1 << 20


def content_hash(path: Path) -> str:
    """sha256 hex digest of the file's bytes, read in 1 MiB chunks (files can be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def archived_path(archive_dir: Path, file_hash: str, suffix: str) -> Path:
    return Path(archive_dir) / file_hash[:2] / f"{file_hash}{suffix.lower()}"


def archive_file(
    copy: Path,
    archive_dir: Path,
    file_hash: str,
    *,
    original: Path,
    uploaded_by: str = "nightly",
    received_at: dt.datetime | None = None,
) -> Path:
    """Put the night's private copy of an upload (ykt.ingest.snapshot) into the archive, write its
    receipt naming the `original` inbox file, and return the archived file.

    Idempotent: bytes already archived under this hash are not stored again and the first receipt is
    kept (later receipts of the same bytes are in `run_files`). The copy is hard-linked in (same disk,
    no second copy); where links are not possible it is copied through a temporary name and renamed,
    so a crash never leaves a half-written file under a valid hash.
    """
    copy, original = Path(copy), Path(original)
    target = archived_path(archive_dir, file_hash, original.suffix)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(archive_dir).chmod(0o700)  # the uploads hold full IDs: the archive is its owner's alone
    if not target.exists():
        _link_or_copy(copy, target)
    receipt = target.with_name(f"{file_hash}.json")
    if not receipt.exists():
        received = (received_at or dt.datetime.now()).isoformat(timespec="seconds")
        body = {
            "file_hash": file_hash,
            "original_name": original.name,
            "original_path": str(original),
            "uploaded_by": uploaded_by,
            "received_at": received,
            "size": os.lstat(copy).st_size,
        }
        partial = receipt.with_name(receipt.name + ".partial")
        partial.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(partial, receipt)
    return target


def _link_or_copy(copy: Path, target: Path) -> None:
    try:
        os.link(copy, target)
    except FileExistsError:
        return
    except OSError:  # a filesystem without hard links
        _copy(copy, target)


def _copy(path: Path, target: Path) -> None:
    """Copy through `<target>.partial`; a failed copy (a full disk) leaves no partial file behind."""
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(path, partial)
        partial.chmod(0o600)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise archive_disk_full(path, target.parent) from None
        raise


def archive_disk_full(path: Path, where: Path) -> DiskSpaceError:
    return DiskSpaceError(
        f"归档时磁盘空间已满，未能复制文件“{printable(path.name)}”（未完成的副本已删除）",
        where=str(where),
        hint="清理该磁盘或用更大的磁盘存放归档目录后重新运行；已载入的文件不会重复载入",
    )


def remove_partials(archive_dir: Path) -> list[Path]:
    """Delete `*.partial` copies a killed night left in the archive (never a file under a valid hash)."""
    archive_dir = Path(archive_dir)
    found = sorted(archive_dir.glob("*/*.partial")) if archive_dir.is_dir() else []
    for partial in found:
        partial.unlink(missing_ok=True)
    return found


def check_archive_space(files: Iterable[Path], archive_dir: Path) -> None:
    """Refuse the night before any work when the archive's disk cannot hold a copy of every inbox file
    (already archived files need none: the sum is the most a night can need)."""
    needed = sum(os.lstat(f).st_size for f in files)  # an entry is never followed
    existing = Path(archive_dir).resolve()
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if needed > free:
        raise DiskSpaceError(
            f"归档目录所在磁盘空间不足：收件目录中的文件共 {needed / _MB:.1f} MB，磁盘仅剩 {free / _MB:.1f} MB",
            where=str(archive_dir),
            hint="清理该磁盘，或用更大的磁盘存放数据仓库与归档目录后重新运行；本次未做任何处理",
        )
