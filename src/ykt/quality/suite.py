"""Batch-level data quality with Great Expectations (issue 3).

One GX validation per kind per run: every row this run loaded of that kind, all files together,
with a `file` column (and the row number in that file) so a failure points at the spreadsheet
row. A fifth, tiny validation checks the files themselves (row accounting, 合计 control totals).
Data Docs for IT staff are written to `<out_dir>/data_docs/index.html`, rewritten to read without
the internet (`offline_page`): GX's templates load Bootstrap, jQuery, bootstrap-table and Font
Awesome from CDNs, which county intranets cannot reach; without them the index lists nothing and a
check's pass/fail icon is blank.

GX is validated on pandas DataFrame batches: GX 1.24's SQL path reads DuckDB results after
closing the connection and gets nothing (GX issues #10738, #11579). GX is imported only here and
only when this run loaded something: importing it costs ~6 s on this machine, validating and
building the docs about a second (see `QualitySummary.seconds`).
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ykt.config import Programs
from ykt.kinds import KIND_SPECS, kind_spec
from ykt.labels import BATCH_LABELS, CHECK_OUTCOME_LABELS, FILES_BATCH
from ykt.masking import mask_value_expr
from ykt.schemas import ID_PATTERN, PERIOD_PATTERN
from ykt.warehouse import Warehouse

# An amount more than this many times its program's standard (or median) is implausible.
PLAUSIBLE_FACTOR = 10
# A payments batch with more than this share of failed rows needs a look before anyone trusts it.
MAX_FAILED_SHARE = 0.2
DOCS_SITE = "ykt"
EXAMPLES = 5  # rows quoted per failed check


@dataclass(frozen=True)
class KindValidation:
    """The outcome of one kind's suite."""

    kind: str
    batches: int  # files of that kind loaded by this run
    rows: int
    expectations: int
    failed: int
    success: bool


@dataclass(frozen=True)
class QualityFailure:
    kind: str
    expectation: str  # GX expectation type, for IT staff
    column: str | None
    unexpected: int | None  # rows that broke it (None for table-level checks)
    description: str  # Chinese: what is wrong and where (file, row)


@dataclass(frozen=True)
class QualitySummary:
    validations: tuple[KindValidation, ...] = ()
    failures: tuple[QualityFailure, ...] = ()
    docs: Path | None = None
    seconds: Mapping[str, float] = field(default_factory=dict)  # import / validate / docs

    @property
    def success(self) -> bool:
        return all(v.success for v in self.validations)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (run.json `quality`, the report's 数据质量 section)."""
        return {
            "success": self.success,
            "validations": [asdict(v) for v in self.validations],
            "failures": [asdict(f) for f in self.failures],
            # relative to the output folder, where the report that quotes it also lives
            "docs": None if self.docs is None else f"{self.docs.parent.name}/{self.docs.name}",
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


@dataclass(frozen=True)
class Check:
    """One expectation of a suite with the Chinese sentence a person reads when it fails."""

    expectation: Any  # a great_expectations.expectations.Expectation
    text: str


def check_quality(wh: Warehouse, run_id: str, out_dir: Path, programs: Programs) -> QualitySummary:
    """Validate every batch this run loaded, write Data Docs, summarise the outcome."""
    batches = quality_batches(wh, run_id, programs)
    if not batches:
        return QualitySummary()
    started = time.perf_counter()
    gx, gxe = _import_gx()
    imported = time.perf_counter()
    docs_dir = Path(out_dir) / "data_docs"
    building = docs_dir.with_name(f".data_docs.{os.getpid()}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    context = _context(gx, building)
    outcomes = [
        _validate(gx, context, kind, frame, suite_checks(gxe, kind, frame, expected_rows(wh, run_id, kind)))
        for kind, frame in batches.items()
    ]
    validated = time.perf_counter()
    validations = tuple(v for v, _ in outcomes)
    failures = tuple(f for _, failures in outcomes for f in failures)
    context.build_data_docs(site_names=[DOCS_SITE])
    _make_offline(building, validations, failures)
    _replace_dir(building, docs_dir)
    finished = time.perf_counter()
    return QualitySummary(
        validations=validations,
        failures=failures,
        docs=docs_dir / "index.html",
        seconds={
            "import": imported - started,
            "validate": validated - imported,
            "docs": finished - validated,
        },
    )


# -- batches (no GX here: plain warehouse reads) ---------------------------------------------------


def quality_batches(wh: Warehouse, run_id: str, programs: Programs) -> dict[str, pl.DataFrame]:
    """kind -> every row this run loaded of that kind (with `file`), plus the run's `files` batch."""
    batches = {FILES_BATCH: _files_batch(wh, run_id)} if _loaded_hashes_exist(wh, run_id) else {}
    for kind, spec in KIND_SPECS.items():
        columns = ", ".join(f"t.{c}" for c in spec.checked_columns)
        frame = wh.frame(
            f"quality: {kind} batch",
            f"""
            select f.original_name as file, {columns}
            from {spec.table} t
            join files f using (file_hash)
            where t.file_hash in (select file_hash from run_files where run_id = $run_id and status = 'loaded')
            order by file, t.source_row
        """,
            {"run_id": run_id},
        )
        if frame.height:
            batches[kind] = _with_amount_limit(wh, kind, frame, programs)
    return batches


def _loaded_hashes_exist(wh: Warehouse, run_id: str) -> bool:
    return bool(
        wh.scalar(
            "quality: any loaded",
            """
        select count(*) from run_files where run_id = $run_id and status = 'loaded'""",
            {"run_id": run_id},
        )
    )


def _files_batch(wh: Warehouse, run_id: str) -> pl.DataFrame:
    return wh.frame(
        "quality: files batch",
        """
        select r.original_name as file, 0 as source_row, r.kind, r.status, r.rows_read, r.rows_loaded,
               r.rows_rejected, r.rows_loaded + r.rows_rejected as rows_accounted, f.control_total, f.detail_total
        from run_files r left join files f using (file_hash)
        where r.run_id = $run_id
        order by file, r.kind
    """,
        {"run_id": run_id},
    )


def expected_rows(wh: Warehouse, run_id: str, kind: str) -> int:
    """Rows the ingest step says it loaded for this kind: the warehouse must hold exactly these."""
    if kind == FILES_BATCH:
        return int(
            wh.scalar(
                "quality: files seen",
                "select count(*) from run_files where run_id = $run_id",
                {"run_id": run_id},
            )
        )
    return int(
        wh.scalar(
            "quality: rows loaded",
            """
        select coalesce(sum(rows_loaded), 0) from run_files where run_id = $run_id and kind = $kind and status = 'loaded'
    """,
            {"run_id": run_id, "kind": kind},
        )
    )


def _with_amount_limit(wh: Warehouse, kind: str, frame: pl.DataFrame, programs: Programs) -> pl.DataFrame:
    """Add `amount_limit`: PLAUSIBLE_FACTOR x the program's standard amount, or else its median in the warehouse."""
    if kind_spec(kind).amount_column is None:
        return frame
    references = reference_amounts(wh, kind, programs)
    limit = (
        pl.col("program_code").replace_strict(references, default=None, return_dtype=pl.Float64)
        * PLAUSIBLE_FACTOR
    )
    return frame.with_columns(amount_limit=limit)


def reference_amounts(wh: Warehouse, kind: str, programs: Programs) -> dict[str, float]:
    """Per program: standard_amount when configured, otherwise the median current amount (success payments)."""
    spec = kind_spec(kind)
    table, column = spec.table, spec.amount_column
    current = "superseded_by is null" if kind == "roster" else "status = 'success'"
    medians = dict(
        wh.rows(
            f"quality: {kind} medians",
            f"""
        select program_code, median({column})::double from {table} where {current} group by program_code""",
        )
    )
    standards = {p.code: float(p.standard_amount) for p in programs.programs if p.standard_amount is not None}
    return {**{code: float(m) for code, m in medians.items() if m is not None}, **standards}


# -- suites ----------------------------------------------------------------------------------------


def suite_checks(gxe: Any, kind: str, frame: pl.DataFrame, rows_expected: int) -> list[Check]:
    """The expectations of one kind's suite. Every check explains itself in Chinese."""
    checks = [
        Check(
            gxe.ExpectTableRowCountToEqual(value=rows_expected),
            f"入库行数应为 {rows_expected}（导入记录的入库行数之和），不一致说明有数据丢失或重复",
        )
    ]
    if kind == FILES_BATCH:
        return checks + _file_checks(gxe)
    checks += [
        Check(gxe.ExpectColumnValuesToNotBeNull(column="id_number"), "身份证号码不能为空"),
        Check(
            gxe.ExpectColumnValuesToMatchRegex(column="id_number", regex=ID_PATTERN),
            "身份证号码应为18位（前17位数字，最后一位数字或X）",
        ),
    ]
    amount_column = kind_spec(kind).amount_column
    if amount_column is not None:
        checks += _amount_checks(gxe, amount_column)
        checks += [
            Check(gxe.ExpectColumnValuesToNotBeNull(column="program_code"), "补贴项目不能为空"),
            Check(
                gxe.ExpectColumnValuesToMatchRegex(column="period", regex=PERIOD_PATTERN),
                "发放期间应为 2024-03、2024-Q1 或 2024 的规范格式",
            ),
        ]
    kind_checks = _KIND_CHECKS.get(kind)  # a kind without checks of its own gets the common ones
    return checks + (kind_checks(gxe) if kind_checks else [])


def _file_checks(gxe: Any) -> list[Check]:
    return [
        Check(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="rows_read", column_B="rows_accounted"),
            "每个文件的读取行数应等于入库行数加拒收行数",
        ),
        Check(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="control_total", column_B="detail_total", ignore_row_if="either_value_is_missing"
            ),
            "文件合计行金额应等于明细金额之和",
        ),
        Check(
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["loaded", "duplicate", "rejected"]),
            "文件状态应为 loaded/duplicate/rejected",
        ),
    ]


def _amount_checks(gxe: Any, column: str) -> list[Check]:
    return [
        Check(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True), "金额应大于0"),
        Check(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="amount_limit",
                column_B=column,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            f"金额不应超过该项目补贴标准（或全部记录中位数）的{PLAUSIBLE_FACTOR}倍",
        ),
    ]


def _roster_checks(gxe: Any) -> list[Check]:
    return [
        Check(gxe.ExpectColumnValuesToNotBeNull(column="due_date"), "应发日期不能为空"),
        Check(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="due_date",
                column_B="approval_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            "应发日期不应早于审批日期",
        ),
    ]


def _payment_checks(gxe: Any) -> list[Check]:
    return [
        Check(
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["success", "failure", "returned", "stopped"]
            ),
            "发放状态应为 成功/失败/退回/停发",
        ),
        Check(
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["success", "stopped"], mostly=1 - MAX_FAILED_SHARE
            ),
            f"发放失败的笔数不应超过 {MAX_FAILED_SHARE:.0%}（过高多为银行回盘或卡号批量问题）",
        ),
        Check(gxe.ExpectColumnValuesToNotBeNull(column="pay_date"), "发放日期不能为空"),
    ]


def _death_checks(gxe: Any) -> list[Check]:
    return [
        Check(gxe.ExpectColumnValuesToNotBeNull(column="death_date"), "死亡日期不能为空"),
        Check(gxe.ExpectColumnValuesToBeUnique(column="id_number"), "同一身份证号码在死亡名单中只应出现一次"),
    ]


def _employee_checks(gxe: Any) -> list[Check]:
    return [Check(gxe.ExpectColumnValuesToNotBeNull(column="employer"), "工作单位不能为空")]


_KIND_CHECKS: dict[str, Callable[[Any], list[Check]]] = {
    "roster": _roster_checks,
    "payments": _payment_checks,
    "deaths": _death_checks,
    "public_employees": _employee_checks,
}


# -- running GX ------------------------------------------------------------------------------------


def _import_gx() -> tuple[Any, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
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
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def _validate(
    gx: Any, context: Any, kind: str, frame: pl.DataFrame, checks: Sequence[Check]
) -> tuple[KindValidation, list[QualityFailure]]:
    """Run one kind's suite on its pandas batch; failures quote the first rows (file, row) that broke a check."""
    suite = gx.ExpectationSuite(name=f"ykt_{kind}")
    for check in checks:
        check.expectation.notes = check.text
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
            "unexpected_index_column_names": ["file", "source_row"],
            "partial_unexpected_count": EXAMPLES,
        },
    )
    failures = [_failure(kind, r) for r in result.results if not r.success]
    validation = KindValidation(
        kind=kind,
        batches=frame.get_column("file").n_unique(),
        rows=frame.height,
        expectations=len(result.results),
        failed=len(failures),
        success=bool(result.success),
    )
    return validation, failures


def _pandas(frame: pl.DataFrame) -> Any:
    """GX reads pandas: decimals become floats (comparisons only), everything else as is."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).to_pandas()


def _failure(kind: str, result: Any) -> QualityFailure:
    """A failed check in words: the check's Chinese text, how many rows broke it, the first places."""
    config = result.expectation_config
    column = config.kwargs.get("column") or config.kwargs.get("column_B")
    text = config.notes or config.type
    unexpected = result.result.get("unexpected_count")
    where = _where(result.result.get("partial_unexpected_index_list") or [])
    label = BATCH_LABELS.get(kind, kind)
    counted = "" if unexpected is None else f"，{unexpected} 行不符合"
    observed = result.result.get("observed_value")
    seen = f"（实际：{observed}）" if unexpected is None and observed is not None else ""
    return QualityFailure(
        kind=kind,
        expectation=config.type,
        column=column,
        unexpected=unexpected,
        description=f"{label}：{text}{counted}{seen}{where}",
    )


def _where(examples: Sequence[Mapping[str, Any]]) -> str:
    """'，如 低保花名册.xlsx 第12行、…' from GX's unexpected index list (per failed check, at most EXAMPLES)."""
    places = [
        f"{e['file']} 第{int(e['source_row'])}行" if int(e.get("source_row") or 0) else str(e["file"])
        for e in examples[:EXAMPLES]
        if "file" in e
    ]
    return f"，如 {'、'.join(places)}" if places else ""


# -- Data Docs without the internet ----------------------------------------------------------------

# GX's CDN assets: <script src="https://…"></script>, <link href="https://…">, its logo <img src="https://…">.
EXTERNAL_ASSET = re.compile(
    r'<script\b[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>'
    r'|<(?:link|img)\b[^>]*\b(?:href|src)="https?://[^>]*>',
    re.IGNORECASE,
)
EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
# GX fills its index tables in the browser: bootstrap-table reads columns and rows written as Python literals.
BOOTSTRAP_TABLE = re.compile(
    r"\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"
    r"columns: (?P<columns>\[.*?\]),\s*data: (?P<data>\[.*?\]),\s*toolbar:",
    re.DOTALL,
)
EMPTY_TABLE = re.compile(r'<table\s[^>]*\bid="(?P<id>[\w-]+)"[^>]*>\s*</table>')
# Font Awesome status icons are blank without the font: give them words.
STATUS_ICON = re.compile(r'(<i class="fas (?P<icon>fa-check-circle|fa-times)\b[^"]*"[^>]*>)\s*</i>')
OFFLINE_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 1rem 2rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.text-danger, .ykt-notes { color: #b00020; }
.text-success { color: #1b7f3b; }
.text-danger, .text-success { font-style: normal; font-weight: bold; white-space: nowrap; }
.ykt-notes { border: 2px solid #b00020; padding: .5rem 1rem; margin-bottom: 1.5rem; }
.ykt-notes.ykt-ok { border-color: #1b7f3b; color: #1b7f3b; }
.btn, .card:has(.btn-group-toggle), .ge-walkthrough-modal, [id$="-toolbar"] { display: none; }  /* need JS */
.row { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.row > [class*="col-lg-2"] { flex: 0 0 14rem; }
.row > [class*="col-lg-10"] { flex: 1 1 0; min-width: 0; }
"""


def offline_page(page: str, notes: Sequence[str] = (), ok: bool = False) -> str:
    """One Data Docs page that reads without the internet.

    Drops the CDN assets (they can never load here; their scripts block the page while the browser
    waits), the inline scripts (none runs without jQuery), writes GX's script-filled tables as plain
    tables, puts words next to the pass/fail icons, inlines a small stylesheet of ours, puts the
    Chinese `notes` (what failed, in which file and row) at the top of the page, and masks every long
    digit run (GX quotes the values that failed a check: ID and card numbers too).
    """
    tables = {
        m["id"]: _static_table(ast.literal_eval(m["columns"]), ast.literal_eval(m["data"]))
        for m in BOOTSTRAP_TABLE.finditer(page)
    }
    page = INLINE_SCRIPT.sub("", EXTERNAL_ASSET.sub("", page))
    page = EXTERNAL_CSS_URL.sub("none", page)
    page = EMPTY_TABLE.sub(lambda m: tables.get(m["id"], m[0]), page)
    page = STATUS_ICON.sub(lambda m: f"{m[1]}{CHECK_OUTCOME_LABELS[m['icon']]}</i>", page)
    page = page.replace("</head>", f"<style>{OFFLINE_CSS}</style></head>", 1)
    page = re.sub(r"<body\b[^>]*>", lambda m: m[0] + _notes_block(notes, ok), page, count=1)
    masked: str = pl.select(mask_value_expr(pl.lit(page))).item()
    return masked


def _static_table(columns: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> str:
    """bootstrap-table's columns and rows as a plain <table>; a row's link goes on its first cell.

    Cell values are HTML that GX rendered (icons, links), so they are kept as they are.
    """
    head = "".join(f"<th>{html.escape(str(c.get('title') or c['field']))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_linked(row, c['field']) if i == 0 else row.get(c['field'], '')}</td>"
            for i, c in enumerate(columns)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _linked(row: Mapping[str, Any], field_name: str) -> str:
    cell, link = row.get(field_name, ""), row.get("_table_row_link_path")
    return f'<a href="{html.escape(link)}">{cell}</a>' if link else str(cell)


def _notes_block(notes: Sequence[str], ok: bool) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    title = "数据质量检查全部通过" if ok else "数据质量问题"
    return f'<section class="ykt-notes{" ykt-ok" if ok else ""}"><h2>{title}</h2><ul>{items}</ul></section>'


def _make_offline(
    docs_dir: Path, validations: Sequence[KindValidation], failures: Sequence[QualityFailure]
) -> None:
    """Rewrite every page of the site with `offline_page`; the index and each result page say what failed."""
    every_kind = {v.kind for v in validations}
    for page in docs_dir.rglob("*.html"):
        parts = page.relative_to(docs_dir).parts
        kinds = every_kind
        if parts[0] == "validations":  # validations/ykt_<kind>/<run>/<time>/<page>.html
            kinds = {parts[1].removeprefix("ykt_")}
        elif parts != ("index.html",):  # an expectation suite: the checks themselves, no outcome
            kinds = set()
        shown = [v for v in validations if v.kind in kinds]
        notes = [_kind_line(v) for v in shown] + [f.description for f in failures if f.kind in kinds]
        ok = all(v.success for v in shown)
        page.write_text(offline_page(page.read_text(encoding="utf-8"), notes, ok), encoding="utf-8")


def _kind_line(v: KindValidation) -> str:
    outcome = "全部通过" if v.success else f"{v.failed} 项未通过"
    return (
        f"{BATCH_LABELS.get(v.kind, v.kind)}（套件 ykt_{v.kind}）：{v.batches} 个文件、{v.rows} 行，"
        f"{v.expectations} 项检查，{outcome}"
    )


def _replace_dir(new: Path, target: Path) -> None:
    """Swap the freshly built docs into place; last night's docs stay readable until the swap."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
