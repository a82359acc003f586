"""Every inbox file archived unchanged under its content hash (issue 3).

`archive_dir/<hash[:2]>/<hash><suffix>` holds the bytes; `<hash>.json` beside it
records the original name, who uploaded it and when it was received. The same
bytes under another name are the same file: the hash is the identity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

_CHUNK = 1 << 20


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
    path: Path,
    archive_dir: Path,
    file_hash: str,
    *,
    uploaded_by: str = "nightly",
    received_at: dt.datetime | None = None,
) -> Path:
    """Copy `path` unchanged into the archive and write its receipt; return the copy.

    Idempotent: bytes already archived under this hash are not copied again and the
    first receipt is kept (later receipts of the same bytes are in `run_files`).
    The copy is written to a temporary name and renamed, so a crash never leaves a
    half-written file under a valid hash.
    """
    path = Path(path)
    target = archived_path(archive_dir, file_hash, path.suffix)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(archive_dir).chmod(0o700)  # the uploads hold full IDs: the archive is its owner's alone
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        partial.chmod(0o600)
        os.replace(partial, target)
    receipt = target.with_name(f"{file_hash}.json")
    if not receipt.exists():
        received = (received_at or dt.datetime.now()).isoformat(timespec="seconds")
        body = {
            "file_hash": file_hash,
            "original_name": path.name,
            "original_path": str(path),
            "uploaded_by": uploaded_by,
            "received_at": received,
            "size": path.stat().st_size,
        }
        partial = receipt.with_name(receipt.name + ".partial")
        partial.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(partial, receipt)
    return target
