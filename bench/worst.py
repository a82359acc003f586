"""Peak memory and time of a whole night on the worst file of each kind the default reading budgets admit.

    .venv/bin/python bench/worst.py [--kinds csv,xlsx,xls,ods] [--quality] [--work DIR]

Each file is the largest of its kind the defaults (ykt.config.Settings) let through, built from the
bench's own generated data (bench.py's 1M / 1.1M files, generated on first use):

- csv:  a GB18030 bank file of the bench's kind with as many payments as fit under `max_file_bytes`;
- xlsx: a roster whose sheet XML is just under `max_unpacked_bytes` (the zip's unpacked budget);
- xls:  a BIFF roster of full 65,536-row sheets, as many as fit under `max_file_bytes`;
- ods:  a roster whose content.xml is just under `max_unpacked_bytes`.

Each night runs alone in an inbox of its own (`ykt run --engine plain`, a fresh warehouse) under
`/usr/bin/time -v`: its maximum resident set size and wall clock go to a table on stdout and to
bench/README.md by hand, with the machine's load (`uptime`). Target (issue 14): ≤ 2 GB and ≤ 30 s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (bench/bench.py: the generated data)
from tests.support.ods import _MANIFEST, _NS  # noqa: E402
from ykt.config import Settings  # noqa: E402
from ykt.sample_data.writers import Table, _package_parts  # noqa: E402

LIMITS = Settings()
AS_OF = "2024-07-20"
XLS_SHEET_ROWS = 65_536  # BIFF8's rows per sheet


def source_data(work: Path) -> bench.Dataset:
    return bench.prepare(work, 1_000_000, 1_100_000, 20240901, 0)


def worst_csv(work: Path, inbox: Path) -> Path:
    """A bank file of the bench's kind (distinct payments, its anomalies at their usual rates) with as
    many rows as fit under max_file_bytes: generated at the row count the 1.1M file's bytes per row give."""
    small = source_data(work)
    source = next((small.inbox / "payments").glob("*.csv"))
    per_row = source.stat().st_size / 1_100_000
    m = int(LIMITS.max_file_bytes * 0.995 / per_row)
    data = bench.prepare(work, int(m / 1.1), m, 20240901, 0)
    big = next((data.inbox / "payments").glob("*.csv"))
    if big.stat().st_size > LIMITS.max_file_bytes:
        raise SystemExit(f"{big} is over max_file_bytes: lower the 0.995 above")
    target = inbox / "payments" / big.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(big, target)
    return target


def _roster_rows(data: bench.Dataset) -> pl.DataFrame:
    """The bench roster's rows as text (its CSV read back), repeated as often as a budget needs."""
    source = next((data.inbox / "roster").glob("*.csv"))
    text = source.read_bytes().decode("gb18030")
    return pl.read_csv(text.encode(), skip_rows=1, infer_schema=False)


def _cycled(frame: pl.DataFrame) -> Iterator[tuple[str, ...]]:
    while True:
        yield from frame.iter_rows()


def _fill(rows: pl.DataFrame, budget: int, row_bytes: Callable[[tuple[str, ...]], bytes]) -> Iterator[bytes]:
    """Encoded rows (cycling through `rows`) while their total stays under `budget` bytes."""
    used = 0
    for row in _cycled(rows):
        encoded = row_bytes(row)
        used += len(encoded)
        if used > budget:
            return
        yield encoded


def worst_xlsx(work: Path, inbox: Path) -> Path:
    rows = _roster_rows(source_data(work))
    header = rows.columns

    def cell(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value or "")}</t></is></c>'

    def letters(i: int) -> str:
        return chr(ord("A") + i)

    counter = iter(range(2, 1 << 40))

    def row_bytes(row: tuple[str, ...]) -> bytes:
        r = next(counter)
        cells = "".join(cell(f"{letters(i)}{r}", v) for i, v in enumerate(row))
        return f'<row r="{r}">{cells}</row>'.encode()

    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1">' + "".join(cell(f"{letters(i)}1", h) for i, h in enumerate(header)) + "</row>"
    ).encode()
    tail = b"</sheetData></worksheet>"
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    parts = _package_parts([Table(rows.head(1))])
    budget = LIMITS.max_unpacked_bytes - sum(len(v.encode()) for v in parts.values()) - len(head) - 4096
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts.items():
            zf.writestr(name, text.encode("utf-8"))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head)
            for encoded in _fill(rows, budget, row_bytes):
                sheet.write(encoded)
            sheet.write(tail)
    return target


def worst_ods(work: Path, inbox: Path) -> Path:
    rows = _roster_rows(source_data(work))

    def cell(value: str) -> str:
        return f'<table:table-cell office:value-type="string"><text:p>{escape(value or "")}</text:p></table:table-cell>'

    def row_bytes(row: tuple[str, ...]) -> bytes:
        return ("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>").encode()

    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="花名册">'
    ).encode() + row_bytes(tuple(rows.columns))
    tail = b"</table:table></office:spreadsheet></office:body></office:document-content>"
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.ods"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        zf.writestr("META-INF/manifest.xml", _MANIFEST)
        with zf.open("content.xml", "w", force_zip64=True) as content:
            content.write(head)
            for encoded in _fill(rows, LIMITS.max_unpacked_bytes - 8192, row_bytes):
                content.write(encoded)
            content.write(tail)
    return target


def worst_xls(work: Path, inbox: Path) -> Path:
    """Full 65,536-row sheets (header + 65,535 rows) while the file stays under max_file_bytes:
    one sheet is written first to learn its size."""
    import xlwt

    rows = _roster_rows(source_data(work))
    per_sheet = XLS_SHEET_ROWS - 1
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.xls"
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(sheets: int) -> None:
        book = xlwt.Workbook(encoding="utf-8")
        cycled = _cycled(rows)
        for s in range(sheets):
            sheet = book.add_sheet(f"花名册{s + 1}")
            for c, head in enumerate(rows.columns):
                sheet.write(0, c, head)
            for r in range(1, per_sheet + 1):
                for c, value in enumerate(next(cycled)):
                    sheet.write(r, c, value)
        book.save(str(target))

    write(1)
    one = target.stat().st_size
    write(max(1, int(LIMITS.max_file_bytes * 0.98) // one))
    return target


BUILDERS: dict[str, Callable[[Path, Path], Path]] = {
    "csv": worst_csv,
    "xlsx": worst_xlsx,
    "xls": worst_xls,
    "ods": worst_ods,
}


def night(inbox: Path, work: Path, quality: bool) -> tuple[int, float, float, float, str]:
    """(exit code, wall s, CPU s (user + system), peak RSS MB, last line of stderr) of `ykt run` on
    `inbox` with a fresh warehouse. On a shared machine the CPU seconds are the steadier figure: an idle
    2-core machine runs the night in between CPU / 2 and CPU seconds."""
    shutil.rmtree(work / "night", ignore_errors=True)
    (work / "night").mkdir(parents=True)
    command = [
        "/usr/bin/time",
        "-v",
        str(Path(sys.executable).with_name("ykt")),
        "run",
        "--engine",
        "plain",
        "--inbox",
        str(inbox),
        "--as-of",
        AS_OF,
        "--db",
        str(work / "night" / "w.duckdb"),
        "--out",
        str(work / "night" / "out"),
        *([] if quality else ["--no-quality"]),
    ]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = int(_field(proc.stderr, r"Maximum resident set size \(kbytes\)")) / 1024
    cpu = float(_field(proc.stderr, r"User time \(seconds\)")) + float(
        _field(proc.stderr, r"System time \(seconds\)")
    )
    said = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("\t")]
    return proc.returncode, wall, cpu, peak, said[-1] if said else ""


def _field(report: str, label: str) -> str:
    found = re.search(label + r": ([\d.]+)", report)
    if found is None:
        raise SystemExit(f"/usr/bin/time gave no {label}:\n{report[-2000:]}")
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(BUILDERS))
    parser.add_argument("--quality", action="store_true", help="with the Great Expectations step")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(
        "| kind | file | size on disk | unpacked | exit | night (s) | peak RSS (MB) |\n|---|---|---:|---:|---:|---:|---:|"
    )
    for kind in args.kinds.split(","):
        inbox = args.work / "worst" / kind / "inbox"
        built = sorted(inbox.rglob(f"*.{kind}"))
        path = built[0] if built else BUILDERS[kind](args.work, inbox)
        unpacked = (
            sum(m.file_size for m in zipfile.ZipFile(path).infolist()) if zipfile.is_zipfile(path) else None
        )
        code, wall, cpu, peak, said = night(inbox, args.work / "worst" / kind, args.quality)
        size = f"{path.stat().st_size / 1e6:.0f} MB"
        shown = f"{unpacked / 2**20:.0f} MiB" if unpacked else "–"
        print(
            f"| {kind} | {path.name} | {size} | {shown} | {code} | {wall:.1f} | {cpu:.1f} | {peak:,.0f} |",
            flush=True,
        )
        if code not in (0, 3):
            print(f"  ! {said}", flush=True)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
