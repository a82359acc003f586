"""Writing the night's outputs into one folder, one renderer per output.

Every file is written atomically (a temporary file in the same folder, then os.replace), so a reader
never sees half a report; and the night's outputs are published as one set (issues 14 and 16): they
are all written into a temporary night folder inside `--out` (`night_folder`), which `publish_night`
turns into `out/<as_of>` with one atomic link swap, keeping the other nights' folders (history) and
pointing `out/latest` at the newest. No queries and no masking here: `ykt.report.model` already made
every value what its reader may see.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
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


# --out holds one folder per night, named by its as-of date, and `latest`, the newest night:
#   out/2024-09-12 -> .versions/2024-09-12@20240912T020000123456   (relative symbolic links)
#   out/latest     -> 2024-09-12
# A night's folder is written as `.night.<pid>.tmp` inside out, renamed into `.versions/<run id>` and
# published by replacing its date's link (os.replace of a new link: atomic, so a reader finds either
# the previous run of that night or this one, never a missing or half-written folder); the version it
# replaced is removed after. Other nights' folders are kept (history).
VERSIONS = ".versions"
LATEST = "latest"
_NIGHT_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


def night_folder(out: Path) -> Path:
    """The temporary folder a night writes its outputs into: inside `out`, on the disk it is published on."""
    return Path(out) / f".night.{os.getpid()}.tmp"


def published_folder(out: Path, as_of: dt.date) -> Path:
    """Where readers find a night's outputs: `out/<as_of>` (a link to its current version)."""
    return Path(out) / as_of.isoformat()


def publish_night(staging: Path, out: Path, as_of: dt.date, run_id: str) -> Path:
    """Publish the night's folder as `out/<as_of>` (replacing an earlier run of the same night only)
    and point `out/latest` at the newest night; returns `out/<as_of>`."""
    out = Path(out)
    version = out / VERSIONS / run_id
    version.parent.mkdir(exist_ok=True)
    Path(staging).rename(version)
    link = published_folder(out, as_of)
    replaced = _version_of(link)
    _swap_link(link, Path(VERSIONS) / run_id)
    _swap_link(out / LATEST, Path(max(p.name for p in out.iterdir() if _NIGHT_NAME.fullmatch(p.name))))
    if replaced is not None and replaced != version:
        _remove(replaced)
    return link


def _version_of(link: Path) -> Path | None:
    """The folder `out/<as_of>` shows now; a real folder there (written before versions existed) is
    moved into the versions first, so the link can replace it."""
    if link.is_symlink():
        return link.parent / VERSIONS / Path(os.readlink(link)).name
    if link.is_dir():
        aside = link.parent / VERSIONS / f"{link.name}@before-versions.{os.getpid()}"
        link.rename(aside)
        return aside
    return None


def _swap_link(link: Path, target: Path) -> None:
    """Make `link` a relative symbolic link to `target` in one step (a new link renamed over it)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def stale_night_files(out: Path) -> list[Path]:
    """What killed nights left in `out`: temporary night folders and links (`.*.tmp`), and versions no
    night's link points at (a night killed before or after its link was replaced)."""
    out = Path(out)
    if not out.is_dir():
        return []
    entries = list(out.iterdir())
    shown = {_version_name(p) for p in entries if _NIGHT_NAME.fullmatch(p.name) and p.is_symlink()}
    versions = list((out / VERSIONS).iterdir()) if (out / VERSIONS).is_dir() else []
    return sorted(
        [p for p in entries if p.name.startswith(".") and p.name.endswith(".tmp")]
        + [p for p in versions if p.name not in shown]
    )


def _version_name(link: Path) -> str:
    return Path(os.readlink(link)).name


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
