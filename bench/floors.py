"""What each stage of the CSV ingest costs on its own (issue 3's "within 2× of the bare read").

    python bench/floors.py [--entitlements N] [--payments M] [--work DIR]

The bench's ratio says how far the ingest is from 2× the bare read; this says why. On the bench's
own GB18030 CSVs (the same cache as bench.py), one file at a time and one stage at a time, it
times the wall clock and the process's CPU seconds (all threads, user + system) of:

  bare_read   the same bytes through the same readers, as text, and nothing else (the floor)
  archive     the content hash and the archive copy (nothing lost, same bytes loaded once)
  read        ykt.ingest.read.tables.read_batches: the file in parts, header, 合计 and signature lines found
  validate    pandera's three stage models on every part (raw, normalised, loaded), nothing else
  parse       ykt.ingest.normalise.fields.normalise minus the validate above: the field parsers
  load        ykt.warehouse.connection.insert_frame of every part's typed rows into a fresh warehouse file,
              in one transaction, committed

2× the bare read on this machine's cores is a CPU budget: 2 × bare wall × cores is the most CPU
an ingest within 2× could spend, even if it kept every core busy all the time. The report sets the
stages the issue requires besides parsing (archive, read, validate, load) against that budget and
shows what would be left for the ~13 field parsers of 10M rows. The loader's in-file key check,
supersession and the run's bookkeeping are not counted: the figure is a lower bound.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (imports ykt first: the allocator setting)


@dataclass(frozen=True)
class Cost:
    wall: float
    cpu: float


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(run: Callable[[], object]) -> tuple[object, Cost]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    out = run()
    return out, Cost(time.perf_counter() - wall, _cpu_seconds() - cpu)


def _validate_only(parts: list, results: list) -> None:
    """The three pandera models on what normalise() gave them (every bench row is valid, so the typed
    frame is the loaded one without its sheet column)."""
    from ykt.ingest.validate.contract import validate_loaded, validate_normalised, validate_raw
    from ykt.kinds import kind_spec

    for table, result in zip(parts, results):
        typed_columns = [c for c in kind_spec(table.kind).loaded_columns if c not in ("sheet", "source_row")]
        validate_raw(table)
        validate_normalised(result.loaded.select("source_row", *typed_columns), table, False)
        validate_loaded(result.loaded, table.kind)


def _load_only(results: list, db: Path) -> None:
    wh = bench.fresh_warehouse(db)
    try:
        bench.load_normalised(wh, results)
    finally:
        wh.close()


def measure_file(path: Path, kind: str, config, scratch: Path) -> dict[str, Cost]:
    from ykt.ingest.archive import archive_file
    from ykt.ingest.normalise.fields import normalise
    from ykt.ingest.read.tables import read_batches
    from ykt.ingest.snapshot import Upload, take_snapshot
    from ykt.ingest.stream import BATCH_ROWS
    from ykt.ingest.types import RawTable

    costs: dict[str, Cost] = {}
    _, costs["bare_read"] = timed(lambda: bench.bare_read(path))
    upload = Upload(path, kind, (path.lstat().st_dev, path.lstat().st_ino))

    def archive() -> None:  # the night's way: one opening, copied and hashed, then linked into the archive
        copy = take_snapshot(upload, scratch / "archive" / ".copies", 0)
        archive_file(copy.copy, scratch / "archive", copy.file_hash, original=path)
        copy.copy.unlink()

    _, costs["archive"] = timed(archive)
    items, costs["read"] = timed(
        lambda: list(read_batches(path, kind, config.aliases, config.programs, BATCH_ROWS))
    )
    parts = [item for item in items if isinstance(item, RawTable)]
    results, normalise_cost = timed(
        lambda: [normalise(p, config.programs, date1904=p.date1904, key_check=False) for p in parts]
    )
    _, costs["validate"] = timed(lambda: _validate_only(parts, results))
    costs["parse"] = Cost(
        normalise_cost.wall - costs["validate"].wall, normalise_cost.cpu - costs["validate"].cpu
    )
    _, costs["load"] = timed(lambda: _load_only(results, scratch / "floors.duckdb"))
    return costs


STAGES = ("bare_read", "archive", "read", "validate", "parse", "load")
REQUIRED_BESIDES_PARSING = ("archive", "read", "validate", "load")


def report(per_file: dict[str, dict[str, Cost]], cores: int) -> None:
    total = {
        s: Cost(sum(c[s].wall for c in per_file.values()), sum(c[s].cpu for c in per_file.values()))
        for s in STAGES
    }
    print(f"\n{'stage':<12}" + "".join(f"{name[:22]:>26}" for name in per_file) + f"{'all files':>22}")
    for stage in STAGES:
        cells = "".join(f"{c[stage].wall:>11.2f} s {c[stage].cpu:>8.2f} cpu-s" for c in per_file.values())
        print(f"{stage:<12}{cells}{total[stage].wall:>8.2f} s {total[stage].cpu:>7.2f} cpu-s")
    budget = 2 * total["bare_read"].wall * cores
    required = sum(total[s].cpu for s in REQUIRED_BESIDES_PARSING)
    print(
        f"\nCPU budget of an ingest within 2× the bare read: 2 × {total['bare_read'].wall:.2f} s × {cores} cores = {budget:.1f} cpu-s"
    )
    print(
        f"required besides parsing ({', '.join(REQUIRED_BESIDES_PARSING)}): {required:.1f} cpu-s ({required / budget:.0%} of it)"
    )
    print(
        f"left for the field parsers: {budget - required:.1f} cpu-s; they take {total['parse'].cpu:.1f} cpu-s now"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entitlements", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=1_100_000)
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--seed", type=int, default=20240901)
    args = parser.parse_args(argv)
    data = bench.prepare(args.work, args.entitlements, args.payments, args.seed, 0)
    from ykt.pipeline import load_config

    config = load_config()
    bench.warm_imports()
    big = [(path, kind) for path, kind in data.files() if kind in ("roster", "payments")]
    bench.warm_page_cache(big)
    print(
        f"stage costs: {args.entitlements:,} entitlements, {args.payments:,} payments, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        per_file = {path.name: measure_file(path, kind, config, Path(scratch)) for path, kind in big}
    report(per_file, os.cpu_count() or 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
