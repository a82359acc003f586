"""The `ykt` command. The one place that catches errors and turns them into exit codes.

Exit codes (README, "Exit codes"): 0 the night ran and understood its input (rejected rows are reported,
not failures); 3 it ran but needs attention (run.json `health`: a misread file, a coverage gap, a stalled
program, too many rejects; `ykt check`: a file with problems); 1 it failed (an unexpected error, or every
file it was given was rejected); 2 bad arguments, configuration or preconditions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ykt.errors import UsageError, YktError
from ykt.kinds import KINDS

CHECK_PROBLEMS_EXIT = 3  # `ykt check`: some file is ✗

if TYPE_CHECKING:  # commands import what they need when they run, so `ykt --help` stays quick
    from ykt.pipeline import NightOptions, NightResult

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# The temporary Prefect server can be slow to start on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


class _Parser(argparse.ArgumentParser):
    def error(
        self, message: str
    ) -> NoReturn:  # argparse exits 2 by itself; route through our single catch site
        raise UsageError(f"参数错误：{message}", hint=f"运行 `{self.prog} --help` 查看用法")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD，实际为 {text!r}") from None


def _existing_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"目录不存在：{text}")
    return path


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"文件不存在：{text}")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ykt", description="一卡通补贴发放核对（ykt-recon）")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="运行一次夜间核对")
    run.add_argument(
        "--inbox", type=_existing_dir, required=True, help="收件目录（roster/ payments/ reference/…）"
    )
    run.add_argument("--as-of", type=_date, required=True, help="核对基准日 YYYY-MM-DD")
    run.add_argument("--db", type=Path, default=Path("ykt.duckdb"), help="DuckDB 数据仓库文件")
    run.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="输出目录（每晚一个以核对基准日命名的文件夹，latest 指向最新一晚）",
    )
    run.add_argument("--programs", type=_existing_file, default=None, help="补贴项目配置 programs.yaml")
    run.add_argument("--endpoint", default=None, help="监督一点通平台接口地址（https；不填则不推送）")
    run.add_argument(
        "--allow-http", action="store_true", help="允许以明文 http 推送到内网平台地址（会记录警告）"
    )
    run.add_argument(
        "--engine", choices=("prefect", "plain"), default="prefect", help="编排方式（默认 Prefect 流程）"
    )
    run.add_argument("--no-quality", action="store_true", help="跳过 Great Expectations 数据质量检查")

    demo = sub.add_parser("demo", help="生成示例数据并运行两晚核对")
    demo.add_argument("--workdir", type=Path, default=Path("demo_out"), help="示例数据、仓库和报告的目录")
    demo.add_argument("--engine", choices=("prefect", "plain"), default="prefect")

    check = sub.add_parser("check", help="检查上传文件（不入库），生成标注错误的工作簿")
    check.add_argument("files", nargs="+", type=_existing_file)
    check.add_argument("--kind", choices=KINDS, default=None)
    check.add_argument("--programs", type=_existing_file, default=None)

    deliver = sub.add_parser("deliver", help="把待推送的案件推送到监督一点通平台")
    deliver.add_argument("--endpoint", required=True, help="监督一点通平台接口地址（https）")
    deliver.add_argument("--allow-http", action="store_true", help="允许以明文 http 推送到内网平台地址")
    deliver.add_argument("--db", type=Path, default=Path("ykt.duckdb"))

    history = sub.add_parser("history", help="显示一个案件的全部状态变化")
    history.add_argument("case_id")
    history.add_argument("--db", type=Path, default=Path("ykt.duckdb"))
    return parser


def _run_night(options: NightOptions, engine: str) -> NightResult:
    from ykt import pipeline

    if engine == "plain":
        return pipeline.run_night(options)
    from ykt.flows.nightly import run_options

    result: NightResult = run_options(options)
    return result


def cmd_run(args: argparse.Namespace) -> int:
    from ykt.pipeline import NightOptions

    options = NightOptions(
        inbox=args.inbox,
        as_of=args.as_of,
        db=args.db,
        out=args.out,
        programs_path=args.programs,
        endpoint=args.endpoint,
        allow_http=args.allow_http,
        quality=not args.no_quality,
    )
    result = _run_night(options, args.engine)
    _print_night(result)
    code = result.health.exit_code
    if result.delivery is not None:
        print(f"  {result.delivery}")
        if not result.delivery.complete and code == 0:
            code = 3  # ran, but cases wait in the outbox: needs attention
    return code


def _print_night(result: NightResult) -> None:
    files, cases = result.files, result.case_counts
    rejected = sum(1 for f in files if f.status == "rejected")
    rows_rejected = sum(f.rows_rejected for f in files)
    print(
        f"[{result.as_of}] 处理文件 {len(files)} 个（整份拒收 {rejected} 个，拒收行 {rows_rejected} 行）；"
        f"发现问题 {sum(result.rule_counts.values())} 条"
    )
    if result.adopted_runs:
        print(f"  接续了中断的核对 {'、'.join(result.adopted_runs)}：其已入库的文件计入本次核对")
    if cases is None:
        return
    print(
        f"  案件（含稽查线索）：新立 {cases.opened}、重新立案 {cases.reopened}、督办 {cases.escalated}、办结 {cases.resolved}；"
        f"办理中 {cases.open_total}、已督办 {cases.escalated_total}"
    )
    for name, path in sorted(result.outputs.items()):
        print(f"  {name:<18} {path}")
    _print_health(result)


def _print_health(result: NightResult) -> None:
    from ykt.labels import HEALTH_STATUS_LABELS

    health = result.health
    print(f"  运行状态：{HEALTH_STATUS_LABELS[health.status]}")
    for reason in health.reasons:
        print(f"    - [{reason.code}] {reason.message}")


def cmd_demo(args: argparse.Namespace) -> int:
    from ykt.pipeline import NightOptions
    from ykt.sample_data.generate import generate_demo

    workdir: Path = args.workdir
    plan = generate_demo(workdir / "inbox")
    db = workdir / "ykt.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)  # the demo always tells the same story from night 1
    results = []
    for inbox, as_of in plan.nights:
        options = NightOptions(inbox=inbox, as_of=as_of, db=db, out=workdir / "reports")
        results.append(_run_night(options, args.engine))
        _print_night(results[-1])
    last = results[-1]
    print(f"\n稽查报告（Excel）：{last.outputs['exceptions.xlsx'].absolute()}")
    print(f"平台案件（JSONL）：{last.outputs['cases.jsonl'].absolute()}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ykt.check import check_files
    from ykt.config import load_programs
    from ykt.ingest import load_aliases

    results = check_files(list(args.files), load_programs(args.programs), load_aliases(), kind=args.kind)
    for result in results:
        print(result.describe())
    # 3 when any file is ✗ (rejected as a whole or with problem rows), so a script sees it
    return 0 if all(result.ok for result in results) else CHECK_PROBLEMS_EXIT


def cmd_deliver(args: argparse.Namespace) -> int:
    from ykt import pipeline

    with pipeline.open_warehouse(args.db, must_exist=True) as wh:
        result = pipeline.deliver_cases(wh, args.endpoint, args.allow_http)
    if result is None:
        raise UsageError("未指定监督一点通平台接口地址", hint="用 --endpoint 指定平台地址")
    print(result)
    result.check()  # undelivered cases stay queued; say so through the exit code
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from ykt import pipeline
    from ykt.cases import case_history

    with pipeline.open_warehouse(args.db, must_exist=True) as wh:
        for line in case_history(wh, args.case_id):
            print(line)
    return 0


COMMANDS = {
    "run": cmd_run,
    "demo": cmd_demo,
    "check": cmd_check,
    "deliver": cmd_deliver,
    "history": cmd_history,
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except YktError as exc:
        print(f"错误：{exc.render()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断；未完成的文件不会留下半截数据，重新运行即可。", file=sys.stderr)
        return 1
    except Exception:  # the single catch site: an unexpected failure is a bug, shown in full
        traceback.print_exc()
        print("错误：程序内部异常（见上方堆栈），请联系维护人员。", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
