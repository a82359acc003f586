"""The province lake: every county's current entitlements, payments, open cases and reference lists as
Hive-partitioned Parquet under the province's `out` (`<table>/county=…/program=…/period=…/*.parquet`).

A county's export replaces that county's partition only, and atomically as far as a reader can tell: it is
written into a staging folder first, then each table's `county=…` folder is renamed into place (the old one
renamed aside and removed). A county whose night failed keeps its previous export. The SQL is executed only
by `ykt.warehouse` (the county's Warehouse for the export, a Lake for reading).
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import polars as pl

from ykt.config import Programs
from ykt.warehouse import Lake, Warehouse

# table → the export's partition columns (after county: program and period where the rows have them)
LAKE_TABLES: dict[str, tuple[str, ...]] = {
    "entitlements": ("county", "program", "period"),
    "payments": ("county", "program", "period"),
    "cases": ("county",),
    "public_employees": ("county",),
    "deaths": ("county",),
}
LAKE_FOLDER = "lake"  # under the province's out
STAGING = ".staging"


def sql_text(name: str) -> str:
    return resources.files("ykt.province.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def export_sql(table: str) -> str:
    """COPY of the table's export select (sql/export_<table>.sql) to Parquet, partitioned as LAKE_TABLES says."""
    partitions = ", ".join(LAKE_TABLES[table])  # code constants, never input
    return f"copy ({sql_text(f'export_{table}')}) to $target (format parquet, partition_by ({partitions}))"


def lake_root(province_out: Path) -> Path:
    return Path(province_out) / LAKE_FOLDER


def export_county(wh: Warehouse, county_code: str, root: Path) -> dict[str, int]:
    """Write the county's tables into the lake, replacing its previous partition; returns rows per table."""
    staging = root / STAGING / f"{county_code}.{os.getpid()}"
    _remove_leftovers(root, county_code)
    staging.mkdir(parents=True)
    try:
        rows = {}
        for table in LAKE_TABLES:
            (staging / table).mkdir()
            cursor = wh.execute(
                f"province export: {table}",
                export_sql(table),
                {"county": county_code, "target": str(staging / table)},
            )
            rows[table] = int(cursor.fetchall()[0][0])
        for table in LAKE_TABLES:
            _swap(staging / table / f"county={county_code}", root / table / f"county={county_code}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows


def _swap(new: Path, target: Path) -> None:
    """Put `new` in place of `target` (either may be missing: a table the county has no rows of)."""
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.rename(old)
    if new.exists():
        new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(root: Path, county_code: str) -> None:
    """What a killed export of this county left: its staging folders and partitions renamed aside."""
    for path in [
        *(root / STAGING).glob(f"{county_code}.*"),
        *root.glob(f"*/.county={county_code}.old.*"),
    ]:
        shutil.rmtree(path, ignore_errors=True)


def lake_files(root: Path, table: str) -> list[str]:
    return sorted(str(p) for p in (root / table).glob("county=*/**/*.parquet"))


def open_lake(lake: Lake, root: Path | None, programs: Programs) -> dict[str, int]:
    """The lake's tables as views over their files (an empty table where no county has rows; every table
    empty when `root` is None), and the province's programs as `programs`; returns files per table."""
    lake.execute("lake tables", sql_text("lake_tables"))
    files = {table: lake_files(root, table) if root else [] for table in LAKE_TABLES}
    for table, paths in files.items():
        if paths:  # Hive values are typed by guess (a county code would become a number): read back as text
            lake.parquet_view(table, paths, text_columns=LAKE_TABLES[table])
    lake.register(
        "programs",
        pl.DataFrame(
            [(p.code, p.name, p.means_tested) for p in programs.programs],
            schema={"code": pl.Utf8, "name": pl.Utf8, "means_tested": pl.Boolean},
            orient="row",
        ),
    )
    return {table: len(paths) for table, paths in files.items()}
