"""Writing the night's outputs into one folder, one renderer per output.

Every file is written atomically (a temporary file in the same folder, then os.replace), so a reader
never sees half a report; and the night's outputs move into place as one set (issue 14): they are all
written into a temporary night folder beside `--out` (`night_folder`), which `publish_night` renames
over `--out` at the end, so a reader never sees two nights' files side by side. No queries and no masking here: `ykt.report.model` already made every value
what its reader may see.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from types import MappingProxyType

from ykt.errors import DiskSpaceError
from ykt.report.model import Report
from ykt.report.render_csv import write_discrepancies_csv, write_rejects_csv
from ykt.report.render_html import write_report_html
from ykt.report.render_json import write_run_json
from ykt.report.render_jsonl import write_cases_jsonl, write_clues_jsonl
from ykt.report.render_xlsx import write_clues_xlsx, write_exceptions_xlsx

# Every output of a night, in the order they are written, with its renderer.
RENDERERS: Mapping[str, Callable[[Report, Path], None]] = MappingProxyType(
    {
        "discrepancies.csv": write_discrepancies_csv,
        "cases.jsonl": write_cases_jsonl,
        "clues.jsonl": write_clues_jsonl,
        "rejects.csv": write_rejects_csv,
        "run.json": write_run_json,
        "exceptions.xlsx": write_exceptions_xlsx,
        "clues.xlsx": write_clues_xlsx,
        "report.html": write_report_html,
    }
)
OUTPUT_NAMES = tuple(RENDERERS)
# Outputs holding full ID and card numbers (the bureau's own systems read them): readable by their owner only.
SENSITIVE_OUTPUTS = frozenset({"discrepancies.csv"})


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write every output of one night into out_dir; returns output name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: write_atomically(out_dir / name, partial(render, report), owner_only=name in SENSITIVE_OUTPUTS)
        for name, render in RENDERERS.items()
    }


def write_atomically(path: Path, write: Callable[[Path], None], *, owner_only: bool = False) -> Path:
    """Write to a temporary file beside the target, then rename over it (atomic on one filesystem)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_or_say_disk_full(write, tmp, path)
        if owner_only:
            tmp.chmod(0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_or_say_disk_full(write: Callable[[Path], None], tmp: Path, path: Path) -> None:
    try:
        write(tmp)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise DiskSpaceError(
            f"写报告时磁盘空间已满，未能写出“{path.name}”",
            where=str(path.parent),
            hint="清理该磁盘或用 --out 指定有空间的目录后重新运行本晚核对：数据仓库中的结果已保存，"
            "重新运行会写出同一晚的全部报告",
        ) from None


def night_folder(out: Path) -> Path:
    """The temporary folder a night writes its outputs into: beside `out`, on the same filesystem."""
    out = Path(out)
    return out.with_name(f".{out.name}.night.{os.getpid()}.tmp")


def publish_night(staging: Path, out: Path) -> None:
    """Put the night's folder in place of `out` as a whole: rename the old one aside, the new one in, drop the old."""
    out = Path(out)
    old = out.with_name(f".{out.name}.old.{os.getpid()}.tmp")
    _remove(old)
    if out.exists():
        out.rename(old)
    Path(staging).rename(out)
    _remove(old)


def stale_night_files(out: Path) -> list[Path]:
    """What killed nights left: temporary night folders beside `out`, `.*.tmp` files and folders inside it."""
    out = Path(out)
    beside = out.parent.iterdir() if out.parent.is_dir() else iter(())
    inside = out.iterdir() if out.is_dir() else iter(())
    prefix = f".{out.name}."
    return sorted(
        [p for p in beside if p.name.startswith(prefix) and p.name.endswith(".tmp")]
        + [p for p in inside if p.name.startswith(".") and p.name.endswith(".tmp")]
    )


def remove_stale_night_files(out: Path) -> list[Path]:
    found = stale_night_files(out)
    for path in found:
        _remove(path)
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
