"""Peak memory and time of reading the worst file of each hostile kind within the default budgets.

    .venv/bin/python bench/hostile.py [WORKDIR]

Each file is read by `ykt.ingest.read.read_batches` (the night's reader) in a fresh child process, so
the child's ru_maxrss is that file's peak; figures go to bench/README.md (target: each <= 2 GB, <= 30 s).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import attacks
from ykt.config import Settings

LIMITS = Settings()

CHILD = """
import sys
from pathlib import Path
from ykt.config import load_programs
from ykt.errors import InputFileError
from ykt.ingest.read import load_aliases, read_batches
rows = 0
try:
    for item in read_batches(Path(sys.argv[1]), "roster", load_aliases(), load_programs(), 250_000):
        rows += getattr(getattr(item, "frame", None), "height", 0)
    print("read", rows, "rows")
except InputFileError as exc:
    print(exc.reason_code, exc.message)
"""


def files(work: Path) -> dict[str, Path]:
    return {
        f"CSV, largest cell allowed ({LIMITS.max_cell_chars} chars)": attacks.huge_cell_csv(
            work / "cell", LIMITS.max_cell_chars - 1
        ),
        "CSV, 3 MB cell": attacks.huge_cell_csv(work / "cell3"),
        "CSV, stray quote, 20k lines": attacks.stray_quote_csv(work / "q20k", 20_000),
        "CSV, stray quote, 200k lines": attacks.stray_quote_csv(work / "q200k", 200_000),
        "xlsx, zip bomb (2 GB workbook.xml)": attacks.zip_bomb_xlsx(work / "bomb"),
        "xlsx, 20M tiny rows": attacks.tiny_rows_xlsx(work / "tiny"),
    }


def measure(path: Path) -> tuple[str, float, float]:
    """(outcome, seconds, peak MB) of reading one file in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # max over children so far
    return proc.stdout.strip().splitlines()[-1], seconds, peak


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="ykt-hostile-"))
    print("| file | outcome | time (s) | peak RSS (MB, max so far) |\n|---|---|---|---|")
    for label, path in files(work).items():
        outcome, seconds, peak = measure(path)
        print(f"| {label} | {outcome[:60]} | {seconds:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
