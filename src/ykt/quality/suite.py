"""Batch-level data quality with Great Expectations (issue 3), on the statistics of what a run loaded.

One GX validation per kind per run, over that kind's statistics (ykt.quality.profile: one row per
loaded file, computed by DuckDB over every row the run loaded): the warehouse holds exactly the rows
the ingest step says it loaded, and for each row check no file has a row that breaks it (or no more
than its tolerated share). A failure names the check in Chinese, how many rows broke it and the first
spreadsheet rows. A fifth, tiny validation checks the files themselves, row by row (row accounting,
合计 control totals). Data Docs for IT staff are written to `<out_dir>/data_docs/index.html`, in
Chinese where we write them (each expectation's description, the notes on top of each page), each
validation named by the night's run id, and readable without the internet (ykt.quality.docs).

GX is validated on pandas DataFrame batches: GX 1.24's SQL path reads DuckDB results after closing
the connection and gets nothing (GX issues #10738, #11579); the frames are a row per file, so the
copy costs nothing. GX is imported only here and only when this run loaded something: importing it
costs ~3 s on this machine (`preload` starts it in the background early in the night).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ykt.config import Programs
from ykt.labels import BATCH_LABELS, FILES_BATCH
from ykt.quality.docs import make_offline, replace_dir
from ykt.quality.model import KindValidation, QualityFailure, QualitySummary
from ykt.quality.profile import EXAMPLES, ROWS, Profile, RowCheck, files_frame, quality_profiles
from ykt.warehouse import Warehouse

DOCS_SITE = "ykt"


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, the Chinese sentence a person reads, and the row check it judges."""

    expectation: Any  # a great_expectations.expectations.Expectation
    text: str
    row_check: RowCheck | None = None


def check_quality(wh: Warehouse, run_id: str, out_dir: Path, programs: Programs) -> QualitySummary:
    """Validate the statistics of every kind this run loaded and its files, write Data Docs, summarise."""
    started = time.perf_counter()
    profiles = quality_profiles(wh, run_id, programs)
    if not profiles:
        return QualitySummary()
    files = files_frame(wh, run_id)
    profiled = time.perf_counter()
    gx, gxe = _import_gx()
    imported = time.perf_counter()
    docs_dir = Path(out_dir) / "data_docs"
    building = docs_dir.with_name(f".data_docs.{os.getpid()}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    context = _context(gx, building)
    validate = _Validator(gx, context, run_id)
    outcomes = [validate.files(files, file_checks(gxe, files.height))]
    outcomes += [validate.kind(profile, suite_checks(gxe, profile)) for profile in profiles.values()]
    validated = time.perf_counter()
    validations = tuple(v for v, _ in outcomes)
    failures = tuple(f for _, failures in outcomes for f in failures)
    context.build_data_docs(site_names=[DOCS_SITE])
    make_offline(building, validations, failures)
    replace_dir(building, docs_dir)
    finished = time.perf_counter()
    return QualitySummary(
        validations=validations,
        failures=failures,
        docs=docs_dir / "index.html",
        seconds={
            "statistics": profiled - started,
            "import": imported - profiled,
            "validate": validated - imported,
            "docs": finished - validated,
        },
    )


# -- suites ----------------------------------------------------------------------------------------


def suite_checks(gxe: Any, profile: Profile) -> list[Check]:
    """A kind's suite over its statistics: every loaded row is in the warehouse, no row breaks a check."""
    rows = profile.rows_expected
    checks = [
        _check(
            gxe.ExpectColumnSumToBeBetween(column=ROWS, min_value=rows, max_value=rows),
            f"入库行数应为 {rows:,}（导入记录的入库行数之和），不一致说明有数据丢失或重复",
        )
    ]
    for row_check in profile.checks:
        if row_check.tolerance:
            expectation = gxe.ExpectColumnValuesToBeBetween(
                column=row_check.share, min_value=0, max_value=row_check.tolerance
            )
        else:
            expectation = gxe.ExpectColumnValuesToBeBetween(column=row_check.name, min_value=0, max_value=0)
        checks.append(_check(expectation, row_check.text, row_check))
    return checks


def file_checks(gxe: Any, files_seen: int) -> list[Check]:
    """The files suite, row by row (one row per file this run saw)."""
    return [
        _check(
            gxe.ExpectTableRowCountToEqual(value=files_seen),
            f"应有 {files_seen:,} 个文件的导入记录（本次运行见到的文件数）",
        ),
        _check(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="rows_read", column_B="rows_accounted"),
            "每个文件的读取行数应等于入库行数加拒收行数",
        ),
        _check(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="control_total", column_B="detail_total", ignore_row_if="either_value_is_missing"
            ),
            "文件合计行金额应等于明细金额之和",
        ),
        _check(
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["loaded", "duplicate", "rejected"]),
            "文件状态应为 loaded/duplicate/rejected",
        ),
    ]


def _check(expectation: Any, text: str, row_check: RowCheck | None = None) -> Check:
    """The Chinese text is the expectation's description: Data Docs show it instead of GX's English
    sentence (GX reads it as a template: it must hold no `$`)."""
    expectation.description = text.replace("$", "＄")
    if row_check is not None:
        statistic = row_check.share if row_check.tolerance else row_check.name
        expectation.notes = (
            f"统计口径：每个文件中不符合此项检查的行{'占比' if row_check.tolerance else '数'}"
            f"（列 {statistic}，由数据仓库逐行计算），检查的数据列为 {row_check.column}"
        )
        expectation.meta = {"检查项": row_check.name, "数据列": row_check.column}
    return Check(expectation, text, row_check)


# -- running GX ------------------------------------------------------------------------------------

_preloading: threading.Thread | None = None


def preload() -> None:
    """Start importing GX in a background thread: the night's later steps (rules and cases, mostly
    DuckDB, which releases the GIL) hide most of its ~3 s. Harmless when the quality step never runs."""
    global _preloading
    if _preloading is None:
        _no_analytics()  # here, not in the thread: setting the environment while others run is unsafe
        _preloading = threading.Thread(target=_import_gx, name="ykt-gx-import", daemon=True)
        _preloading.start()


def _no_analytics() -> None:
    """GX would post usage statistics; county intranets have no internet and the data is not ours to send."""
    if "GX_ANALYTICS_ENABLED" not in os.environ:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"


def _import_gx() -> tuple[Any, Any]:
    _no_analytics()  # a no-op after `preload` (which set it before starting its thread)
    if _preloading is not None and _preloading is not threading.current_thread():
        _preloading.join()  # never two threads importing the same modules at once
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _context(gx: Any, docs_dir: Path) -> Any:
    """An in-memory GX context whose only output is a Data Docs site in docs_dir."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name=DOCS_SITE,
        site_config={
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,  # GX's newsletter and tutorial links: nothing for a county's IT staff
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


class _Validator:
    """Runs suites in one GX context, each validation named by the night's run id."""

    def __init__(self, gx: Any, context: Any, run_id: str) -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        self.gx, self.context = gx, context
        self.run = RunIdentifier(run_name=run_id)

    def files(
        self, frame: pl.DataFrame, checks: Sequence[Check]
    ) -> tuple[KindValidation, list[QualityFailure]]:
        result = self._run(FILES_BATCH, frame, checks)
        failures = [
            _failure(FILES_BATCH, check, r, _files_where(r.result))
            for check, r in zip(checks, result.results)
        ]
        return self._validation(FILES_BATCH, frame.height, frame.height, result, failures)

    def kind(self, profile: Profile, checks: Sequence[Check]) -> tuple[KindValidation, list[QualityFailure]]:
        # GX validates the statistics; the quoted rows are for our sentences only
        frame = profile.frame.drop([c.examples for c in profile.checks])
        result = self._run(profile.kind, frame, checks)
        failures = [
            _failure(profile.kind, check, r, *_broken(profile, check))
            for check, r in zip(checks, result.results)
        ]
        return self._validation(profile.kind, frame.height, profile.rows, result, failures)

    def _validation(
        self, kind: str, batches: int, rows: int, result: Any, failures: list[QualityFailure | None]
    ) -> tuple[KindValidation, list[QualityFailure]]:
        failed = [f for f in failures if f is not None]
        validation = KindValidation(
            kind, batches, rows, len(result.results), len(failed), bool(result.success)
        )
        return validation, failed

    def _run(self, kind: str, frame: pl.DataFrame, checks: Sequence[Check]) -> Any:
        gx, context = self.gx, self.context
        suite = gx.ExpectationSuite(name=f"ykt_{kind}")
        for check in checks:
            suite.add_expectation(check.expectation)
        suite = context.suites.add(suite)
        asset = context.data_sources.add_pandas(f"ykt_{kind}").add_dataframe_asset(kind)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(
                name=f"ykt_{kind}", data=asset.add_batch_definition_whole_dataframe("run"), suite=suite
            )
        )
        result = definition.run(
            batch_parameters={"dataframe": _pandas(frame)},
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": ["file"],
                "partial_unexpected_count": EXAMPLES,
            },
            run_id=self.run,
        )
        # GX does not promise the suite's order: each check is matched to its result by its description
        by_text = {r.expectation_config.description: r for r in result.results}
        result.results = [by_text[c.expectation.description] for c in checks]
        return result


def _pandas(frame: pl.DataFrame) -> Any:
    """GX reads pandas: decimals become floats (comparisons only), everything else as is."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).to_pandas()


def _broken(profile: Profile, check: Check) -> tuple[str, int | None]:
    """Where a kind's check failed and how many rows broke it (table-level checks: nowhere, no count)."""
    if check.row_check is None:
        return "", None
    count, places = profile.broken(check.row_check)
    return _where(places), count


def _files_where(result: Mapping[str, Any]) -> str:
    return _where(
        [(str(e["file"]), 0) for e in result.get("partial_unexpected_index_list") or [] if "file" in e]
    )


def _failure(
    kind: str, check: Check, result: Any, where: str, unexpected: int | None = None
) -> QualityFailure | None:
    """A failed check in words: its Chinese text, how many rows broke it, the first places."""
    if result.success:
        return None
    config = result.expectation_config
    if unexpected is None and check.row_check is None:
        unexpected = result.result.get("unexpected_count")
    counted = "" if unexpected is None else f"，{unexpected:,} 行不符合"
    observed = result.result.get("observed_value")
    seen = f"（实际：{_number(observed)}）" if unexpected is None and observed is not None else ""
    column = (
        check.row_check.column
        if check.row_check
        else config.kwargs.get("column") or config.kwargs.get("column_B")
    )
    return QualityFailure(
        kind=kind,
        expectation=config.type,
        column=column,
        unexpected=unexpected,
        description=f"{BATCH_LABELS.get(kind, kind)}：{check.text}{counted}{seen}{where}",
    )


def _number(value: Any) -> str:
    return (
        f"{value:,}"
        if isinstance(value, int)
        else f"{value:,.2f}"
        if isinstance(value, float)
        else str(value)
    )


def _where(places: Sequence[tuple[str, int]]) -> str:
    """'，如 低保花名册.xlsx 第12行、…' (at most EXAMPLES places; a file-level check names the file)."""
    shown = [f"{file} 第{row}行" if row else file for file, row in places[:EXAMPLES]]
    return f"，如 {'、'.join(shown)}" if shown else ""
