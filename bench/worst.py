"""Peak memory and time of a whole night on the worst file of each kind the default reading budgets admit.

    .venv/bin/python bench/worst.py [--kinds csv,xlsx,xls,ods] [--quality] [--work DIR]

Each file is the largest of its kind the defaults (ykt.config.Settings) let through, built from the
bench's own generated data (bench.py's 1M / 1.1M files, generated on first use):

- csv:  a GB18030 bank file of the bench's kind with as many payments as fit under `max_file_bytes`;
- xlsx: a roster whose sheet XML is just under `max_unpacked_bytes` (the zip's unpacked budget);
- xls:  a BIFF roster in 65,536-row sheets, as many rows as fit under `max_xls_bytes`;
- ods:  a roster whose content.xml is just under `max_ods_unpacked_bytes`;

each roster generated with that many distinct entitlements and put in the inbox with its own bank file
(so the night's findings come at the bench's rates, as a county's would).

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
XLS_ROW_BYTES = 162  # xlwt's bytes per bench roster row (measured: 158), with a margin


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
    """The bench roster's rows as text (its CSV read back)."""
    source = next((data.inbox / "roster").glob("*.csv"))
    text = source.read_bytes().decode("gb18030")
    return pl.read_csv(text.encode(), skip_rows=1, infer_schema=False)


def _roster_fitting(
    work: Path, inbox: Path, row_bytes: Callable[[tuple[str, ...]], int], budget: int
) -> pl.DataFrame:
    """A bench roster of distinct entitlements with as many rows as fit in `budget` (bytes per row
    measured on the 1M roster), and its own bank file beside it in the inbox: a night as a county has
    it (findings at the bench's rates), not a roster whose every row is unpaid."""
    sample = _roster_rows(source_data(work)).head(20_000)
    per_row = sum(row_bytes(row) for row in sample.iter_rows()) / sample.height
    n = int(budget * 0.99 / per_row)
    data = bench.prepare(work, n, int(n * 1.1), 20240901, 0)
    payments = next((data.inbox / "payments").glob("*.csv"))
    (inbox / "payments").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(payments, inbox / "payments" / payments.name)
    return _roster_rows(data)


def _within(
    rows: pl.DataFrame, budget: int, row_bytes: Callable[[tuple[str, ...]], bytes]
) -> Iterator[bytes]:
    """Every row encoded; stops the bench if they would not fit in `budget` bytes."""
    used = 0
    for row in rows.iter_rows():
        encoded = row_bytes(row)
        used += len(encoded)
        if used > budget:
            raise SystemExit(f"the rows do not fit in {budget} bytes: lower the 0.99 in _roster_fitting")
        yield encoded


def _xlsx_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value or "")}</t></is></c>'


def _xlsx_row(r: int, row: tuple[str, ...]) -> bytes:
    return (
        f'<row r="{r}">' + "".join(_xlsx_cell(f"{chr(65 + i)}{r}", v) for i, v in enumerate(row)) + "</row>"
    ).encode()


def worst_xlsx(work: Path, inbox: Path) -> Path:
    budget = LIMITS.max_unpacked_bytes - (1 << 20)  # the package's other parts and the header row
    rows = _roster_fitting(work, inbox, lambda row: len(_xlsx_row(1_000_000, row)), budget)
    numbers = iter(range(2, 1 << 40))
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ) + _xlsx_row(1, tuple(rows.columns))
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in _package_parts([Table(rows.head(1))]).items():
            zf.writestr(name, text.encode("utf-8"))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head)
            for encoded in _within(rows, budget, lambda row: _xlsx_row(next(numbers), row)):
                sheet.write(encoded)
            sheet.write(b"</sheetData></worksheet>")
    return target


def _ods_row(row: tuple[str, ...]) -> bytes:
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(v or "")}</text:p></table:table-cell>'
        for v in row
    )
    return f"<table:table-row>{cells}</table:table-row>".encode()


def worst_ods(work: Path, inbox: Path) -> Path:
    budget = min(LIMITS.max_unpacked_bytes, LIMITS.max_ods_unpacked_bytes) - (1 << 20)
    rows = _roster_fitting(work, inbox, lambda row: len(_ods_row(row)), budget)
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="花名册">'
    ).encode() + _ods_row(tuple(rows.columns))
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.ods"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        zf.writestr("META-INF/manifest.xml", _MANIFEST)
        with zf.open("content.xml", "w", force_zip64=True) as content:
            content.write(head)
            for encoded in _within(rows, budget, _ods_row):
                content.write(encoded)
            content.write(b"</table:table></office:spreadsheet></office:body></office:document-content>")
    return target


def worst_xls(work: Path, inbox: Path) -> Path:
    """Sheets of 65,535 rows under a header (BIFF8's limit) while the file stays under max_xls_bytes
    (xlwt wrote the bench roster at 158 bytes a row, its strings shared)."""
    import xlwt

    rows = _roster_fitting(work, inbox, lambda row: XLS_ROW_BYTES, LIMITS.max_xls_bytes)
    target = inbox / "roster" / "基准测试县补贴发放花名册_最大.xls"
    target.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook(encoding="utf-8")
    for s, start in enumerate(range(0, rows.height, XLS_SHEET_ROWS - 1)):
        sheet = book.add_sheet(f"花名册{s + 1}")
        for c, head in enumerate(rows.columns):
            sheet.write(0, c, head)
        for r, row in enumerate(rows.slice(start, XLS_SHEET_ROWS - 1).iter_rows(), start=1):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.save(str(target))
    if target.stat().st_size > LIMITS.max_xls_bytes:
        raise SystemExit(f"{target} is over max_xls_bytes: raise XLS_ROW_BYTES")
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
        "| kind | file | size on disk | unpacked | exit | night (s) | CPU (s) | peak RSS (MB) |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|"
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
