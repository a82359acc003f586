"""What the data-quality suite validates: the statistics of what a run loaded, computed in the warehouse.

Each kind's row checks are SQL conditions evaluated by DuckDB in one pass over the rows this run
loaded of that kind: per loaded file, its rows and, for each check, how many rows break it and the
first EXAMPLES of them (spreadsheet row numbers). Great Expectations then validates these statistics,
a frame of one row per file (ykt.quality.suite), instead of a pandas copy of every row: at 1M
entitlements + 1.1M payments the copy and GX's row-wise checks took ~7 s, the statistics take well
under one. The run's files themselves (one row per file) are small and go to GX as they are.

No GX here: plain warehouse reads, so the statistics can be tested without importing it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ykt.config import Programs
from ykt.kinds import KIND_SPECS, KindSpec
from ykt.schemas import ID_PATTERN, PERIOD_PATTERN, STATUSES
from ykt.warehouse import Warehouse

# An amount more than this many times its program's standard (or median) is implausible.
PLAUSIBLE_FACTOR = 10
# A payments file with more than this share of failed rows needs a look before anyone trusts it.
MAX_FAILED_SHARE = 0.2
NOT_FAILED = ("success", "stopped")  # a payment row that is not a failed or returned one
EXAMPLES = 5  # rows quoted per failed check
ROWS = "rows"  # the profile's column of rows loaded per file

_PARAMETER = re.compile(r"\$([a-z_]+)")


@dataclass(frozen=True)
class RowCheck:
    """One check of every loaded row, as a statistic: the rows of a file that break it.

    `breaks` is SQL over the run's rows of the kind (the `batch` CTE): true when the row breaks the
    check. A NULL there counts as not broken, as GX ignores missing values in its row checks (a
    missing value is its own check). Only code constants go into it; values are `$parameters`."""

    name: str  # the statistic's column in the profile (lowercase identifier)
    column: str  # the loaded column the check is about
    breaks: str
    text: str  # Chinese: what every row must be
    tolerance: float = 0.0  # share of a file's rows that may break it
    needs: tuple[tuple[str, str], ...] = ()  # derived batch columns (name, SQL) `breaks` reads

    @property
    def share(self) -> str:
        """The profile column GX judges for a check with a tolerance: its rows over the file's rows."""
        return f"{self.name}_share"

    @property
    def examples(self) -> str:
        return f"{self.name}_rows"


@dataclass(frozen=True)
class Profile:
    """One kind's statistics for one run: what GX validates, and what a failure quotes."""

    kind: str
    rows_expected: int  # rows the ingest step says it loaded: the warehouse must hold exactly these
    checks: tuple[RowCheck, ...]
    frame: pl.DataFrame  # one row per file: file, rows, per check its count, share and first rows

    @property
    def rows(self) -> int:
        return int(self.frame.get_column(ROWS).sum())

    def broken(self, check: RowCheck) -> tuple[int, list[tuple[str, int]]]:
        """Rows that break `check` over all files, and the first EXAMPLES of them as (file, row)."""
        count = int(self.frame.get_column(check.name).sum())
        places = [
            (file, int(row))
            for file, rows in self.frame.select("file", check.examples).iter_rows()
            for row in rows or ()
        ]
        return count, places[:EXAMPLES]


# -- the checks ------------------------------------------------------------------------------------


def row_checks(spec: KindSpec) -> tuple[RowCheck, ...]:
    """Every row check of a kind: the common ones (ID; amount, program and period where the kind has
    them), then its own (`_KIND_CHECKS`; a new kind without its own gets the common ones)."""
    checks = [
        _missing("id_number", "身份证号码不能为空"),
        RowCheck(
            "id_number_malformed",
            "id_number",
            "not regexp_matches(id_number, $id_pattern)",
            "身份证号码应为18位（前17位数字，最后一位数字或X）",
        ),
    ]
    amount = spec.amount_column
    if amount is not None:
        checks += [
            RowCheck("amount_not_positive", amount, f"{amount} <= 0", "金额应大于0"),
            RowCheck(
                "amount_over_limit",
                amount,
                f"{amount} > amount_limit",
                f"金额不应超过该项目补贴标准（或全部记录中位数）的{PLAUSIBLE_FACTOR}倍",
                needs=(("amount_limit", "l.amount_limit"),),
            ),
            _missing("program_code", "补贴项目不能为空"),
            RowCheck(
                "period_malformed",
                "period",
                "not regexp_matches(period, $period_pattern)",
                "发放期间应为 2024-03、2024-Q1 或 2024 的规范格式",
            ),
        ]
    return (*checks, *_KIND_CHECKS.get(spec.code, ()))


def _missing(column: str, text: str) -> RowCheck:
    return RowCheck(f"{column}_missing", column, f"{column} is null", text)


_KIND_CHECKS: Mapping[str, tuple[RowCheck, ...]] = {
    "roster": (
        _missing("due_date", "应发日期不能为空"),
        RowCheck("due_before_approval", "due_date", "due_date < approval_date", "应发日期不应早于审批日期"),
    ),
    "payments": (
        RowCheck(
            "status_unknown",
            "status",
            "not list_contains($statuses, status)",
            "发放状态应为 成功/失败/退回/停发",
        ),
        RowCheck(
            "payment_failed",
            "status",
            "not list_contains($not_failed, status)",
            f"发放失败的笔数不应超过 {MAX_FAILED_SHARE:.0%}（过高多为银行回盘或卡号批量问题）",
            tolerance=MAX_FAILED_SHARE,
        ),
        _missing("pay_date", "发放日期不能为空"),
    ),
    "deaths": (
        _missing("death_date", "死亡日期不能为空"),
        RowCheck(
            "id_number_repeated",
            "id_number",
            "id_copies > 1",
            "同一身份证号码在死亡名单中只应出现一次",
            needs=(("id_copies", "count(t.id_number) over (partition by t.id_number)"),),
        ),
    ),
    "public_employees": (_missing("employer", "工作单位不能为空"),),
}


# -- the statistics --------------------------------------------------------------------------------


def quality_profiles(wh: Warehouse, run_id: str, programs: Programs) -> dict[str, Profile]:
    """kind -> the statistics of the rows this run loaded of it, for every kind it loaded."""
    loaded = dict(
        wh.rows(
            "quality: rows loaded per kind",
            """
        select kind, sum(rows_loaded)::bigint from run_files
        where run_id = $run_id and status = 'loaded' group by kind""",
            {"run_id": run_id},
        )
    )
    profiles = {}
    for kind, spec in KIND_SPECS.items():
        if kind not in loaded:
            continue
        checks = row_checks(spec)
        sql = profile_sql(spec, checks)
        limits = amount_limits(wh, spec, programs) if spec.amount_column else {}
        frame = wh.frame(f"quality: {kind} statistics", sql, parameters(sql, run_id, limits))
        profiles[kind] = Profile(kind, int(loaded[kind]), checks, frame)
    return profiles


def profile_sql(spec: KindSpec, checks: Sequence[RowCheck]) -> str:
    """One pass over the run's rows of a kind: per file, its rows and each check's count, share and first rows.
    Identifiers and conditions are code constants (KindSpec, RowCheck); every value is a $parameter."""
    derived = dict(need for check in checks for need in check.needs)
    columns = ", ".join(
        [f"t.{c}" for c in spec.checked_columns] + [f"{sql} as {name}" for name, sql in derived.items()]
    )
    limits = "left join limits as l on t.program_code = l.program_code" if "amount_limit" in derived else ""
    statistics = ",\n        ".join(
        f"count(*) filter (where {c.breaks}) as {c.name}, "
        f"min(source_row, {EXAMPLES}) filter (where {c.breaks}) as {c.examples}"
        for c in checks
    )
    shares = "".join(f", round(p.{c.name} / p.{ROWS}, 4) as {c.share}" for c in checks if c.tolerance)
    return f"""
with limits as (
    select
        unnest($limit_programs::varchar []) as program_code,
        unnest($limit_amounts::double []) as amount_limit
),

batch as (
    select t.file_hash, {columns}
    from {spec.table} as t {limits}
    where t.file_hash in (
        select r.file_hash from run_files as r where r.run_id = $run_id and r.status = 'loaded'
    )
),

per_file as (
    select
        file_hash,
        count(*) as {ROWS},
        {statistics}
    from batch
    group by file_hash
),

final as (
    select f.original_name as file, p.* exclude (file_hash){shares}
    from per_file as p
    inner join files as f on p.file_hash = f.file_hash
    order by file
)

select * from final
"""


def parameters(sql: str, run_id: str = "", limits: Mapping[str, float] | None = None) -> dict[str, object]:
    """The values the statistics read, only those `sql` names (DuckDB refuses unused ones)."""
    limits = limits or {}
    values: dict[str, object] = {
        "run_id": run_id,
        "id_pattern": ID_PATTERN,
        "period_pattern": PERIOD_PATTERN,
        "statuses": list(STATUSES),
        "not_failed": list(NOT_FAILED),
        "limit_programs": list(limits),
        "limit_amounts": list(limits.values()),
    }
    return {name: values[name] for name in set(_PARAMETER.findall(sql))}


def amount_limits(wh: Warehouse, spec: KindSpec, programs: Programs) -> dict[str, float]:
    """Per program: PLAUSIBLE_FACTOR x its standard amount when configured, otherwise x the median
    current amount in the warehouse (current entitlements; successful payments)."""
    current = "superseded_by is null" if spec.code == "roster" else "status = 'success'"
    medians = wh.rows(
        f"quality: {spec.code} medians",
        # table and columns are code constants (KindSpec)
        f"select program_code, median({spec.amount_column})::double from {spec.table} "
        f"where {current} group by program_code",
    )
    references = {code: float(m) for code, m in medians if m is not None}
    references |= {
        p.code: float(p.standard_amount) for p in programs.programs if p.standard_amount is not None
    }
    return {code: PLAUSIBLE_FACTOR * amount for code, amount in references.items()}


def files_frame(wh: Warehouse, run_id: str) -> pl.DataFrame:
    """Every file this run saw (one row each): its row accounting and 合计 control total."""
    return wh.frame(
        "quality: files batch",
        """
        select r.original_name as file, r.kind, r.status, r.rows_read, r.rows_loaded,
               r.rows_rejected, r.rows_loaded + r.rows_rejected as rows_accounted, f.control_total, f.detail_total
        from run_files r left join files f using (file_hash)
        where r.run_id = $run_id
        order by file, r.kind
    """,
        {"run_id": run_id},
    )
