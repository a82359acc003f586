"""Writing the night's outputs into one folder, one renderer per output.

Every file is written atomically (a temporary file in the same folder, then os.replace), so a reader
never sees half a report. No queries and no masking here: `ykt.report.model` already made every value
what its reader may see.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ykt.report.model import Report
from ykt.report.render_csv import write_discrepancies_csv, write_rejects_csv
from ykt.report.render_json import write_run_json
from ykt.report.render_jsonl import write_lines
from ykt.report.render_xlsx import write_exceptions_xlsx

OUTPUT_NAMES = (
    "discrepancies.csv",
    "cases.jsonl",
    "clues.jsonl",
    "rejects.csv",
    "run.json",
    "exceptions.xlsx",
)


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write every output of one night into out_dir; returns output name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[Path], None]] = {
        "discrepancies.csv": lambda p: write_discrepancies_csv(report, p),
        "cases.jsonl": lambda p: write_lines(report.case_lines, p),
        "clues.jsonl": lambda p: write_lines(report.clue_lines, p),
        "rejects.csv": lambda p: write_rejects_csv(report, p),
        "run.json": lambda p: write_run_json(report, p),
        "exceptions.xlsx": lambda p: write_exceptions_xlsx(report, p),
    }
    return {name: write_atomically(out_dir / name, write) for name, write in writers.items()}


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside the target, then rename over it (atomic on one filesystem)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
