"""The nightly job as plain functions, one per step.

The Prefect flow in `flows/nightly.py` wraps each of these in a task; `ykt run
--engine plain`, the tests and the bench call them directly. Nothing here knows
about Prefect.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from ykt.config import Programs, load_programs
from ykt.errors import ConfigError, ConfigProblem, UsageError, WarehouseError, YktError
from ykt.masking import printable
from ykt.warehouse import Warehouse, night_lock

if TYPE_CHECKING:  # the steps import their packages when they run, so `ykt --help` stays quick
    from ykt.cases import CaseCounts
    from ykt.deliver import DeliveryResult
    from ykt.detect import RuleRegistry
    from ykt.ingest import ColumnAliases, FileResult
    from ykt.quality import QualitySummary
    from ykt.report import Health

log = logging.getLogger("ykt.pipeline")

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
    county: str | None = None  # the county's name, as the night's notification names it
    notify_url: str | None = (
        None  # webhook told of a night that failed or needs attention (ykt.deliver.notify)
    )
    lock_wait: float | None = None  # seconds to wait for another night's lock (None: YKT_LOCK_WAIT, else 60)
    county_code: str | None = None  # counties.yaml's division code; None for a night run without it

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


def start_run(
    wh: Warehouse, run_id: str, as_of: dt.date, started_at: dt.datetime, county_code: str | None = None
) -> list[str]:
    """Record the run, adopting every run that never finished (see `adopt_unfinished_runs`); returns their ids."""
    with wh.transaction():
        check_county(wh, county_code)
        adopted = adopt_unfinished_runs(wh, run_id)
        wh.execute(
            "start run",
            "insert into runs (run_id, as_of, started_at, county_code) "
            "values ($run_id, $as_of, $started_at, $county_code)",
            {"run_id": run_id, "as_of": as_of, "started_at": started_at, "county_code": county_code},
        )
    return adopted


def check_county(wh: Warehouse, county_code: str | None) -> None:
    """A warehouse belongs to one county: a night of another county on it would mix two counties' villagers
    (two counties.yaml entries pointing at one file, or a path typed wrong)."""
    if county_code is None:
        return
    owner = wh.scalar("warehouse county", "select max(county_code) from runs")
    if owner is not None and owner != county_code:
        raise WarehouseError(
            f"数据仓库属于县 {owner}，不能用于县 {county_code} 的核对",
            where=wh.path,
            hint="检查 counties.yaml 中该县的 db 路径：每个县使用自己的数据仓库",
        )


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


def preload_quality() -> None:
    """Start importing Great Expectations (~3 s) in the background while the rules and cases run."""
    from ykt.quality import preload

    preload()


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
    from ykt.deliver import check_endpoint, check_notify_url
    from ykt.ingest import check_inbox_space

    if not options.inbox.is_dir():  # the CLI checks it too; a scheduled deployment's parameter does not
        raise UsageError(
            "收件目录不存在", where=str(options.inbox), hint="检查 --inbox（或部署参数 inbox）指向的目录"
        )
    if options.endpoint:
        check_endpoint(options.endpoint, options.allow_http)
    check_notify_url(options.notify_url, options.allow_http)
    check_out_folder(options)
    check_out_writable(options.out)
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


def check_out_writable(out: Path) -> None:
    """The night writes its outputs into a staging folder inside --out and publishes it there as <as_of>:
    --out must take a new entry. Probed before any work, not found out after the whole night."""
    staging = night_folder(out)
    probe = staging.with_name(f"{staging.stem}.probe.tmp")  # named like a leftover: a killed probe is cleaned
    # folders the probe creates are removed again: a night refused later (its configuration, say) leaves nothing
    created = [folder for folder in (probe, *probe.parents) if not folder.exists()]
    try:
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"{out} 是文件")
        probe.mkdir(parents=True)
        for folder in created:
            folder.rmdir()
    except OSError as exc:
        raise UsageError(
            f"输出目录不可写：{exc.strerror or exc}",
            where=f"--out {out}",
            hint="为 --out 指定一个本账号可写的目录（或修正该目录的权限）；核对尚未开始，修正后重新运行即可",
        ) from None


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
    first, then what a killed night left is cleaned, and a run that never finished is adopted. A night that
    needs attention, or stops on an error, tells the webhook (`NightOptions.notify_url`)."""
    try:
        result = _night(options, config, _announced(step))
    except Exception as exc:
        notify_stopped(options, exc)
        raise
    _announced(step)(notify)(options, result)
    return result


def _night(options: NightOptions, config: Config | None, step: Step) -> NightResult:
    with night_lock(options.db, options.lock_wait):  # before any work: a second night waits, then stops
        clean_leftovers(options)
        check_preconditions(options)
        config = config or step(load_config)(options.programs_path)
        started_at = dt.datetime.now()
        run_id = new_run_id(options.as_of, started_at)
        staging = night_folder(options.out)
        with open_warehouse(options.db, memory_mb=config.programs.settings.warehouse_memory_mb) as wh:
            adopted = start_run(wh, run_id, options.as_of, started_at, options.county_code)
            files = step(ingest)(wh, options, config, run_id)
            _log_files(files)
            if options.quality:
                preload_quality()
            rule_counts = step(detect)(wh, config, options.as_of)
            log.info("规则检查：发现问题 %d 条 %s", sum(rule_counts.values()), _nonzero(rule_counts))
            case_counts = step(follow_cases)(wh, config, options.as_of, run_id)
            log.info(
                "案件：新立 %d、重新立案 %d、督办 %d、办结 %d；办理中 %d、已督办 %d",
                *asdict(case_counts).values(),
            )
            quality = step(check_quality)(wh, config, run_id, staging) if options.quality else None
            if quality is not None:
                log.info(
                    "数据质量：检查 %d 类，未通过 %d 项", len(quality.validations), len(quality.failures)
                )
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
            log.info(
                "报告：%d 个文件写入 %s；运行状态 %s",
                len(written.outputs),
                options.out,
                written.health.status,
            )
            delivery = step(deliver_cases)(wh, options.endpoint, options.allow_http)
            if delivery is not None:
                log.info("%s", delivery)
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


# What each step is called in the log (and in the CLI's progress line).
STEP_LABELS = {
    "load_config": "读取配置",
    "ingest": "读取收件目录",
    "detect": "运行核对规则",
    "follow_cases": "更新案件",
    "check_quality": "数据质量检查",
    "write_reports": "写出报告",
    "deliver_cases": "推送监督一点通平台",
    "notify": "发送通知",
}
# Steps that talk to another system and may fail for a moment: an orchestrator may retry them (the Prefect
# flow does, with a delay). Every other step is deterministic: run again on the same input, it fails again.
TRANSIENT_STEPS = frozenset({"deliver_cases", "notify"})


def _announced(step: Step) -> Step:
    """`step`, logging each step's start (what the CLI's progress line shows)."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        inner = step(fn)

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            log.info("开始%s", STEP_LABELS.get(fn.__name__, fn.__name__), extra={"ykt_step": fn.__name__})
            return inner(*args, **kwargs)

        return call

    return wrap


def _nonzero(counts: dict[str, Any]) -> str:
    return "（" + "，".join(f"{k} {v}" for k, v in counts.items() if v) + "）" if any(counts.values()) else ""


def _log_files(files: list[FileResult]) -> None:
    by_status = {
        status: sum(1 for f in files if f.status == status) for status in ("loaded", "duplicate", "rejected")
    }
    log.info(
        "读取收件：文件 %d 个（入库 %d，重复 %d，整份拒收 %d），入库 %d 行，拒收 %d 行",
        len(files),
        *by_status.values(),
        sum(f.rows_loaded for f in files),
        sum(f.rows_rejected for f in files),
    )


def notify(options: NightOptions, result: NightResult) -> bool:
    """Tell the webhook about a night that needs attention or failed (nothing for a healthy night)."""
    from ykt.deliver import NightNotice, notify_night

    health = result.health
    notice = NightNotice(
        as_of=result.as_of.isoformat(),
        health=health.status,
        exit_code=health.exit_code,
        reasons=[r.as_dict() for r in health.reasons],
        county=options.county,
        run_id=result.run_id,
        # out/<as_of>/<file>: the night's stable address (resolving it would name the version behind the link)
        links={name: str(path.absolute()) for name, path in sorted(result.outputs.items())},
    )
    return notify_night(options.notify_url, notice, allow_http=options.allow_http)


def notify_stopped(options: NightOptions, exc: BaseException) -> None:
    """A night that stopped on an error still tells the webhook; a failure to tell it is only logged."""
    from ykt.deliver import NightNotice, notify_night

    if not options.notify_url:
        return
    if isinstance(exc, YktError):  # our messages name what and where, never an ID (ykt.errors)
        message, code = exc.render(), exc.exit_code
    else:  # an unexpected error's text may quote data: its type only, the stack trace is in the log
        message, code = f"程序内部异常：{type(exc).__name__}", 1
    notice = NightNotice(
        as_of=options.as_of.isoformat(),
        health="failed",
        exit_code=code,
        reasons=[{"code": "NIGHT_STOPPED", "message": printable(message)[:2000]}],
        county=options.county,
    )
    try:
        notify_night(options.notify_url, notice, allow_http=options.allow_http)
    except Exception:  # the night's own error is what the caller must see
        log.exception("发送核对中止通知时出错")
