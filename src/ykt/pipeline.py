"""The nightly job as plain functions, one per step.

The Prefect flow in `flows/nightly.py` wraps each of these in a task; `ykt run
--engine plain`, the tests and the bench call them directly. Nothing here knows
about Prefect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from ykt.config import Programs, load_programs
from ykt.errors import ConfigError, ConfigProblem, UsageError, WarehouseError
from ykt.warehouse import Warehouse, night_lock

if TYPE_CHECKING:  # the steps import their packages when they run, so `ykt --help` stays quick
    from ykt.cases import CaseCounts
    from ykt.deliver import DeliveryResult
    from ykt.detect import RuleRegistry
    from ykt.ingest import ColumnAliases, FileResult
    from ykt.quality import QualitySummary
    from ykt.report import Health

DEFAULT_DB = Path("ykt.duckdb")
DEFAULT_OUT = Path("out")


@dataclass(frozen=True)
class NightOptions:
    """Everything one night needs, as the CLI or a Prefect deployment gives it."""

    inbox: Path
    as_of: dt.date
    db: Path = DEFAULT_DB
    out: Path = DEFAULT_OUT
    programs_path: Path | None = None
    archive_dir: Path | None = None  # default: <db folder>/archive
    uploaded_by: str = "nightly"
    endpoint: str | None = None  # the platform; no delivery when None
    allow_http: bool = False  # plain http to a non-loopback endpoint (a county intranet), with a warning
    quality: bool = True  # Great Expectations suite + Data Docs

    @property
    def archive(self) -> Path:
        return self.archive_dir or self.db.resolve().parent / "archive"


@dataclass(frozen=True)
class Config:
    """The validated configuration of a night: programs, column aliases and the rule registry."""

    programs: Programs
    aliases: ColumnAliases
    registry: RuleRegistry


@dataclass(frozen=True)
class WrittenReport:
    """What the report step leaves: the output files, and the night's health (the exit code's source)."""

    outputs: dict[str, Path]
    health: Health


@dataclass(frozen=True)
class NightResult:
    run_id: str
    as_of: dt.date
    outputs: dict[str, Path]
    health: Health
    files: list[FileResult] = field(default_factory=list)
    rule_counts: dict[str, int] = field(default_factory=dict)
    case_counts: CaseCounts | None = None
    delivery: DeliveryResult | None = None
    adopted_runs: tuple[
        str, ...
    ] = ()  # unfinished runs whose loaded files and case events this run took over


def load_config(programs_path: Path | None = None) -> Config:
    """Programs, column aliases, rules and report layout, validated together: every problem reported at once."""
    from ykt.detect import load_registry
    from ykt.ingest import load_aliases
    from ykt.report import default_layout

    problems: list[ConfigProblem] = []

    def collect(load: Callable[[], T]) -> T | None:
        try:
            return load()
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None

    programs = collect(lambda: load_programs(programs_path))
    aliases = collect(load_aliases)
    registry = collect(load_registry)
    collect(default_layout)  # the workbook's layout: a mistake in it stops the night before any work
    if programs is None or aliases is None or registry is None:
        raise ConfigError(problems)
    return Config(programs, aliases, registry)


def new_run_id(as_of: dt.date, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"{as_of.isoformat()}@{now:%Y%m%dT%H%M%S%f}"


def open_warehouse(db: Path, *, must_exist: bool = False, memory_mb: int | None = None) -> Warehouse:
    """The night creates its warehouse on first use; commands that only read or re-send (`deliver`,
    `history`) must not create an empty one from a mistyped path."""
    if must_exist and not db.is_file():
        raise WarehouseError(
            "数据仓库不存在", where=str(db), hint="用 --db 指定夜间核对所用的数据仓库文件（默认 ykt.duckdb）"
        )
    return Warehouse(db, memory_mb=memory_mb)


def start_run(wh: Warehouse, run_id: str, as_of: dt.date, started_at: dt.datetime) -> list[str]:
    """Record the run, adopting every run that never finished (see `adopt_unfinished_runs`); returns their ids."""
    with wh.transaction():
        adopted = adopt_unfinished_runs(wh, run_id)
        wh.execute(
            "start run",
            "insert into runs (run_id, as_of, started_at) values ($run_id, $as_of, $started_at)",
            {"run_id": run_id, "as_of": as_of, "started_at": started_at},
        )
    return adopted


# What a run inherits from the runs that never finished (no finished_at: killed, or failed half-way).
# Only what changed the warehouse is kept: the files they loaded (a re-run would otherwise see them as
# duplicates) and the case events they applied (a re-run finds those cases already changed). Everything
# else they saw (duplicates, rejected files, strays) leaves no data and is seen again by this run.
_GONE = "list_contains($gone::varchar[], run_id)"
_ADOPT_SQL = (
    ("loaded files", f"update run_files set run_id = $run_id where status = 'loaded' and {_GONE}"),
    ("files seen", f"delete from run_files where {_GONE}"),
    ("first seen by", f"update files set run_id = $run_id where {_GONE}"),
    ("case events", f"update case_events set run_id = $run_id where {_GONE}"),
    ("runs", f"delete from runs where {_GONE}"),
)


def adopt_unfinished_runs(wh: Warehouse, run_id: str) -> list[str]:
    """Make every unfinished run's loaded files and case events this run's, and delete its `runs` row.
    Safe only under the night lock: no other run can be in progress, so an unfinished row is a dead run."""
    gone = [
        r[0]
        for r in wh.rows("unfinished runs", "select run_id from runs where finished_at is null order by 1")
    ]
    if not gone:
        return []
    for name, statement in _ADOPT_SQL:
        params = {"run_id": run_id, "gone": gone} if "$run_id" in statement else {"gone": gone}
        wh.execute(f"adopt unfinished runs: {name}", statement, params)
    return gone


def finish_run(wh: Warehouse, run_id: str, finished_at: dt.datetime, summary: dict[str, Any]) -> None:
    wh.execute(
        "finish run",
        "update runs set finished_at = $finished_at, summary = $summary where run_id = $run_id",
        {
            "run_id": run_id,
            "finished_at": finished_at,
            "summary": json.dumps(summary, ensure_ascii=False, default=str),
        },
    )


def ingest(wh: Warehouse, options: NightOptions, config: Config, run_id: str) -> list[FileResult]:
    from ykt.ingest import ingest_inbox

    own_files = (options.db, Path(f"{options.db}.wal"), options.out)  # never mistaken for uploads
    return ingest_inbox(
        wh,
        options.inbox,
        config.programs,
        config.aliases,
        run_id,
        options.archive,
        uploaded_by=options.uploaded_by,
        exclude=own_files,
    )


def detect(wh: Warehouse, config: Config, as_of: dt.date) -> dict[str, int]:
    from ykt.detect import run_rules

    return run_rules(wh, config.programs, config.registry, as_of)


def follow_cases(wh: Warehouse, config: Config, as_of: dt.date, run_id: str) -> CaseCounts:
    """The night's case changes; those an unfinished run already applied (adopted events) count as this night's."""
    from ykt.cases import update_cases

    adopted = _event_counts(wh, run_id)
    counts = update_cases(wh, config.programs, config.registry, as_of, run_id)
    if not any(adopted.values()):
        return counts
    return replace(counts, **{event: getattr(counts, event) + n for event, n in adopted.items()})


def _event_counts(wh: Warehouse, run_id: str) -> dict[str, int]:
    counts = dict.fromkeys(("opened", "reopened", "escalated", "resolved"), 0)
    counts.update(
        wh.rows(
            "adopted case events",
            "select event, count(*)::integer from case_events where run_id = $run_id group by event",
            {"run_id": run_id},
        )
    )
    return counts


def check_quality(wh: Warehouse, config: Config, run_id: str, out: Path) -> QualitySummary:
    """`out`: the night's temporary folder (Data Docs move into place with the other outputs)."""
    from ykt.quality import check_quality as run_suite

    # GX's Data Docs site insists on an absolute folder
    return run_suite(wh, run_id, out.resolve(), config.programs)


def write_reports(
    wh: Warehouse,
    config: Config,
    run_id: str,
    as_of: dt.date,
    rule_counts: dict[str, int],
    case_counts: CaseCounts,
    started_at: dt.datetime,
    quality: QualitySummary | None,
    out: Path,
    staging: Path | None = None,
) -> WrittenReport:
    """Write every output into `staging` (the night's temporary folder), publish it as `out/<as_of>`
    (ykt.report.publish_night: one atomic swap, other nights kept, `out/latest` the newest), then mark
    the run finished: a night killed before that is re-run whole (see `adopt_unfinished_runs`)."""
    from ykt.report import build_report, publish_night, write_outputs

    finished_at = dt.datetime.now()
    report = build_report(
        wh,
        run_id,
        as_of,
        config.programs,
        rule_titles={r.code: r.title for r in config.registry.rules},
        rule_counts=rule_counts,
        case_counts=case_counts,
        started_at=started_at,
        finished_at=finished_at,
        quality=quality,
    )
    staging = staging or night_folder(out)
    written = write_outputs(report, staging)
    published = publish_night(staging, out, as_of, run_id)
    outputs = {name: published / path.name for name, path in written.items()}
    finish_run(
        wh,
        run_id,
        finished_at,
        {
            "rule_counts": rule_counts,
            "outputs": {k: str(v) for k, v in outputs.items()},
            "health": report.health.as_dict(),
        },
    )
    return WrittenReport(outputs, report.health)


def deliver_cases(wh: Warehouse, endpoint: str | None, allow_http: bool = False) -> DeliveryResult | None:
    if not endpoint:
        return None
    from ykt.deliver import deliver, platform_token

    return deliver(wh, endpoint, platform_token(), allow_http=allow_http)


def check_preconditions(options: NightOptions) -> None:
    """What must hold before any work, so a night never fails after hours of it for a reason known at the start."""
    from ykt.ingest import check_inbox_space

    if options.endpoint:
        from ykt.deliver import check_endpoint

        check_endpoint(options.endpoint, options.allow_http)
    check_out_folder(options)
    check_inbox_space(options.inbox, options.archive)


def check_out_folder(options: NightOptions) -> None:
    """--out holds the nights' report folders, whose old versions and leftovers are deleted: it must not
    hold the inbox, the warehouse or the archive."""
    out = options.out.resolve()
    ours = {"收件目录": options.inbox, "数据仓库": options.db, "归档目录": options.archive}
    for label, path in ours.items():
        if Path(path).resolve().is_relative_to(out):
            raise UsageError(
                f"输出目录包含{label}：输出目录只存放各晚的报告，其中的旧版本和残留会被删除",
                where=f"--out {options.out}；{label} {path}",
                hint="为 --out 指定一个只存放报告的目录（例如 reports）",
            )


def clean_leftovers(options: NightOptions) -> None:
    """What a killed night left behind, removed under the night lock (no other night can be writing it):
    temporary night folders and links in --out and versions no night shows, `*.partial` copies and the night's
    private copies of the inbox in the archive. Unfinished `runs` rows are adopted by the run itself
    (`start_run`)."""
    from ykt.ingest import remove_partials, remove_snapshots
    from ykt.report import remove_stale_night_files

    remove_stale_night_files(options.out)
    remove_partials(options.archive)
    remove_snapshots(options.archive)


P = ParamSpec("P")
T = TypeVar("T")


class Step(Protocol):
    """How an orchestrator runs one step: the identity here, a Prefect task in flows/nightly.py."""

    def __call__(self, fn: Callable[P, T], /) -> Callable[P, T]: ...


def plain_step(fn: Callable[P, T]) -> Callable[P, T]:
    return fn


def night_folder(out: Path) -> Path:
    from ykt.report import night_folder as folder

    return folder(out)


def run_night(options: NightOptions, config: Config | None = None, step: Step = plain_step) -> NightResult:
    """One night, start to finish. The sequence lives only here; an orchestrator passes
    `step` to wrap each plain function (the Prefect flow turns each into a task).

    A night is one unit of recovery (docs/architecture.md, "A night is one unit of recovery"): the lock
    first, then what a killed night left is cleaned, and a run that never finished is adopted."""
    with night_lock(options.db):  # before any work: a second night on this warehouse stops here
        clean_leftovers(options)
        check_preconditions(options)
        config = config or step(load_config)(options.programs_path)
        started_at = dt.datetime.now()
        run_id = new_run_id(options.as_of, started_at)
        staging = night_folder(options.out)
        with open_warehouse(options.db, memory_mb=config.programs.settings.warehouse_memory_mb) as wh:
            adopted = start_run(wh, run_id, options.as_of, started_at)
            files = step(ingest)(wh, options, config, run_id)
            rule_counts = step(detect)(wh, config, options.as_of)
            case_counts = step(follow_cases)(wh, config, options.as_of, run_id)
            quality = step(check_quality)(wh, config, run_id, staging) if options.quality else None
            written = step(write_reports)(
                wh,
                config,
                run_id,
                options.as_of,
                rule_counts,
                case_counts,
                started_at,
                quality,
                options.out,
                staging,
            )
            delivery = step(deliver_cases)(wh, options.endpoint, options.allow_http)
    return NightResult(
        run_id,
        options.as_of,
        written.outputs,
        written.health,
        files,
        rule_counts,
        case_counts,
        delivery,
        tuple(adopted),
    )
