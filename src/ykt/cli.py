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
    from ykt.counties import Counties
    from ykt.pipeline import NightOptions, NightResult
    from ykt.province import ProvinceResult

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

    run = sub.add_parser("run", help="运行一次夜间核对（一个县，或 counties.yaml 中的各县及全省）")
    _night_arguments(run, as_of_required=True, counties=True)
    _county_arguments(run)
    run.add_argument(
        "--engine", choices=("prefect", "plain"), default="prefect", help="编排方式（默认 Prefect 流程）"
    )

    serve = sub.add_parser("serve", help="按计划（cron）每晚运行核对：需要常驻的 Prefect 服务器")
    _night_arguments(serve, as_of_required=False, counties=False)
    serve.add_argument("--cron", default="0 2 * * *", help="运行计划（cron 表达式，默认每天 02:00）")
    serve.add_argument("--timezone", default="Asia/Shanghai", help="cron 与默认核对基准日所用时区")
    serve.add_argument(
        "--with-server", action="store_true", help="由本命令启动 Prefect 服务器（否则使用 PREFECT_API_URL）"
    )
    serve.add_argument("--server-port", type=int, default=4200, help="--with-server 时服务器的端口")
    serve.add_argument("--name", default="ykt-nightly", help="Prefect 部署名称")

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

    _add_user_commands(sub)
    web = sub.add_parser("web", help="启动网页服务：经办人员上传文件，纪检监察人员查看案件")
    web.add_argument("--counties", type=_existing_file, required=True, help="各县配置 counties.yaml")
    web.add_argument("--host", default="127.0.0.1", help="监听地址（默认只在本机）")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--max-upload-mb", type=int, default=50, help="单个上传文件的大小上限（MB）")
    web.add_argument("--no-quality", action="store_true", help="网页发起的核对跳过数据质量检查")
    return parser


def _add_user_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """`ykt user add|disable|passwd`: accounts of the web desk (the password always from standard input)."""
    user = sub.add_parser("user", help="管理网页账号（密码从标准输入读取）")
    actions = user.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = actions.add_parser("add", help="新建账号")
    add.add_argument("login")
    add.add_argument("--role", choices=("clerk", "inspector", "admin"), required=True)
    add.add_argument("--county", action="append", required=True, help="绑定的县代码（可重复）")
    add.add_argument("--full-ids", action="store_true", help="允许查看完整身份证号和卡号（每次查看记入审计）")
    for name, text in (("disable", "停用账号（立即退出登录）"), ("passwd", "修改密码")):
        action = actions.add_parser(name, help=text)
        action.add_argument("login")
    for action in (add, *(actions.choices[n] for n in ("disable", "passwd"))):
        action.add_argument("--counties", type=_existing_file, required=True, help="各县配置 counties.yaml")


def _night_arguments(parser: argparse.ArgumentParser, *, as_of_required: bool, counties: bool) -> None:
    """What a night needs, the same for `ykt run` and `ykt serve` (`run` may take counties.yaml instead)."""
    inbox_help = "一个县的收件目录（roster/ payments/ reference/…）"
    if counties:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--inbox", type=_existing_dir, help=inbox_help)
        source.add_argument(
            "--counties", type=_existing_file, help="各县配置 counties.yaml：各县夜间核对，再做全省跨县核查"
        )
    else:
        parser.add_argument("--inbox", type=_existing_dir, required=True, help=inbox_help)
    as_of_help = "核对基准日 YYYY-MM-DD" + ("" if as_of_required else "（默认为每次运行当天）")
    parser.add_argument("--as-of", type=_date, required=as_of_required, default=None, help=as_of_help)
    only_inbox = "（仅 --inbox）" if counties else ""
    parser.add_argument(
        "--db", type=Path, default=None, help=f"DuckDB 数据仓库文件（默认 ykt.duckdb）{only_inbox}"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"输出目录（默认 out；每晚一个以核对基准日命名的文件夹，latest 指向最新一晚）{only_inbox}",
    )
    parser.add_argument(
        "--programs", type=_existing_file, default=None, help=f"补贴项目配置 programs.yaml{only_inbox}"
    )
    parser.add_argument("--endpoint", default=None, help="监督一点通平台接口地址（https；不填则不推送）")
    parser.add_argument(
        "--allow-http", action="store_true", help="允许以明文 http 推送到内网平台地址（会记录警告）"
    )
    parser.add_argument("--no-quality", action="store_true", help="跳过 Great Expectations 数据质量检查")
    parser.add_argument("--county-name", default=None, help="县名（写入通知；--counties 时取 counties.yaml）")
    parser.add_argument(
        "--notify-url",
        default=None,
        help="核对失败或需关注时 POST 通知的地址（默认取环境变量 YKT_NOTIFY_URL）",
    )
    parser.add_argument(
        "--lock-wait", type=float, default=None, help="另一核对任务占用数据仓库时最多等待的秒数（默认 60）"
    )
    parser.add_argument("--verbose", action="store_true", help="在标准错误输出显示详细日志")
    parser.add_argument("--log-file", type=Path, default=None, help="把日志追加写入该文件")


def _county_arguments(run: argparse.ArgumentParser) -> None:
    """`ykt run --counties`: which counties, and where they run side by side."""
    which = run.add_mutually_exclusive_group()
    which.add_argument("--county", default=None, help="只核对该县（6 位行政区划代码；仅 --counties）")
    which.add_argument(
        "--all", action="store_true", help="核对 counties.yaml 中的每个县（不指定 --county 时即如此）"
    )
    run.add_argument(
        "--dask",
        default=None,
        metavar="local|ADDRESS",
        help="各县并行于 Dask：local 为本机 LocalCluster，或已有集群的调度地址（仅 --counties）",
    )


def _night_options(args: argparse.Namespace, as_of: dt.date) -> NightOptions:
    from ykt.deliver import notify_url
    from ykt.pipeline import DEFAULT_DB, DEFAULT_OUT, NightOptions

    return NightOptions(
        inbox=args.inbox,
        as_of=as_of,
        db=args.db or DEFAULT_DB,
        out=args.out or DEFAULT_OUT,
        programs_path=args.programs,
        endpoint=args.endpoint,
        allow_http=args.allow_http,
        quality=not args.no_quality,
        county=args.county_name,
        notify_url=notify_url(args.notify_url),
        lock_wait=args.lock_wait,
    )


def _run_night(options: NightOptions, engine: str) -> NightResult:
    from ykt import pipeline

    if engine == "plain":
        return pipeline.run_night(options)
    from ykt.flows.nightly import run_options

    result: NightResult = run_options(options)
    return result


def cmd_run(args: argparse.Namespace) -> int:
    from ykt.progress import show_progress

    if args.counties is not None:
        with show_progress(args.verbose, args.log_file):
            return _run_counties(args)
    for flag, given in (("--county", args.county), ("--all", args.all), ("--dask", args.dask)):
        if given:
            raise UsageError(
                f"{flag} 只用于 --counties", hint="一个县用 --inbox；多个县用 --counties counties.yaml"
            )
    options = _night_options(args, args.as_of)
    with show_progress(args.verbose, args.log_file):
        result = _run_night(options, args.engine)
    _print_night(result)
    code = result.health.exit_code
    if result.delivery is not None:
        print(f"  {result.delivery}")
        if not result.delivery.complete and code == 0:
            code = 3  # ran, but cases wait in the outbox: needs attention
    return code


def _run_counties(args: argparse.Namespace) -> int:
    """Every county of counties.yaml (or --county), then the province layer; exit code: the worst of them."""
    from ykt.counties import load_counties
    from ykt.province import check_province_config

    for flag, given in (("--db", args.db), ("--out", args.out), ("--programs", args.programs)):
        if given is not None:
            raise UsageError(
                f"{flag} 不能与 --counties 同用：各县的数据仓库、输出目录和项目配置写在 counties.yaml 中",
                hint=f"去掉 {flag}，或在 counties.yaml 中修改该县的配置",
            )
    if args.endpoint:
        raise UsageError(
            "--endpoint 不能与 --counties 同用：各县案件用 `ykt deliver --db 该县数据仓库` 推送",
            hint="去掉 --endpoint",
        )
    if args.dask is not None and args.engine == "plain":
        raise UsageError("--dask 需要 Prefect 流程编排，不能与 --engine plain 同用", hint="去掉其中一个")
    counties = load_counties(args.counties)
    if args.county:
        counties.by_code(args.county)  # an unknown code stops here, before any work
    check_province_config(counties)
    result = _run_province(
        counties,
        args.as_of,
        engine=args.engine,
        county=args.county,
        dask=args.dask,
        quality=not args.no_quality,
    )
    _print_province(result)
    return result.exit_code


def _run_province(
    counties: Counties,
    as_of: dt.date,
    *,
    engine: str,
    county: str | None = None,
    dask: str | None = None,
    quality: bool = True,
) -> ProvinceResult:
    if engine == "plain":
        from ykt.province import run_province

        return run_province(counties, as_of, only=county, quality=quality)
    from ykt.flows.province import run_province_flow

    result: ProvinceResult = run_province_flow(
        counties.source, as_of, county=county, dask=dask, quality=quality
    )
    return result


def _print_province(result: ProvinceResult) -> None:
    from ykt.labels import HEALTH_STATUS_LABELS

    report = result.report
    print(f"[{report.as_of}] {report.province.name}：{len(report.counties)} 个县")
    for c in report.counties:
        line = f"  {c.name}（{c.code}）{HEALTH_STATUS_LABELS.get(c.status, c.status)}"
        if c.error:
            line += f"：{c.error}"
        else:
            line += (
                f"：文件 {c.files} 个，发现问题 {sum(c.findings.values())} 条，"
                f"办理中案件 {c.cases.get('open', 0) + c.cases.get('escalated', 0)} 件；输出 {c.out}"
            )
        print(line)
    found = "、".join(f"{r.title} {r.findings} 条" for r in report.rules)
    print(f"  跨县核查：{found}（线索交{report.province.department}、{report.province.supervisor}）")
    for name, path in sorted(result.outputs.items()):
        print(f"  {name:<22} {path}")


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


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the nightly flow on its schedule until interrupted (Ctrl-C, or the service manager's stop)."""
    from contextlib import nullcontext

    from ykt.flows.serve import Schedule, own_server, require_server, serve
    from ykt.pipeline import check_preconditions
    from ykt.progress import show_progress

    options = _absolute(_night_options(args, args.as_of or dt.date.today()))
    check_preconditions(options)  # a mistake in the paths shows now, not at 02:00
    schedule = Schedule(cron=args.cron, timezone=args.timezone, name=args.name)
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    server = own_server(args.server_port, home / "ykt-server.log") if args.with_server else nullcontext(None)
    with server as api_url, show_progress(args.verbose, None):
        if api_url:
            os.environ["PREFECT_API_URL"] = api_url  # before Prefect is first imported
        print(f"Prefect 服务器：{require_server()}；计划 {schedule.cron}（{schedule.timezone}）", flush=True)
        from ykt.flows.nightly import flow_parameters

        parameters = flow_parameters(options, with_as_of=args.as_of is not None)
        log_file = str(args.log_file.resolve()) if args.log_file else None
        serve({**parameters, "timezone": schedule.timezone, "log_file": log_file}, schedule)
    return 0


def _absolute(options: NightOptions) -> NightOptions:
    """The served runs start in a process of their own: every path absolute."""
    from dataclasses import replace

    programs = options.programs_path.resolve() if options.programs_path else None
    return replace(
        options,
        inbox=options.inbox.resolve(),
        db=options.db.resolve(),
        out=options.out.resolve(),
        programs_path=programs,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Two counties through the province flow, two nights: the seed county's story and the cross-county finds."""
    from ykt.counties import load_counties
    from ykt.province import check_province_config
    from ykt.sample_data.province_demo import generate_province_demo

    plan = generate_province_demo(args.workdir)
    counties = load_counties(plan.counties_yaml)
    check_province_config(counties)
    results = []
    for files, as_of in plan.nights:
        plan.arrive(files)
        results.append(_run_province(counties, as_of, engine=args.engine))
        _print_province(results[-1])
    seed_out = next(c.out for c in results[-1].report.counties if c.code == counties.codes[0])
    print(f"\n各县配置：{plan.counties_yaml.resolve()}")
    print(
        f"稽查报告（Excel，{counties.counties[0].label}）：{Path(str(seed_out), 'exceptions.xlsx').absolute()}"
    )
    print(f"跨县线索（JSONL）：{results[-1].outputs['province_clues.jsonl'].absolute()}")
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


def _password_from_stdin() -> str:
    if sys.stdin.isatty():
        print("请输入密码（输入后按回车）：", file=sys.stderr, end="", flush=True)
    return sys.stdin.readline()


def cmd_user(args: argparse.Namespace) -> int:
    from ykt import web
    from ykt.counties import load_counties

    counties = load_counties(args.counties)
    if args.action == "add":
        user = web.add_user(
            counties, args.login, args.role, args.county, _password_from_stdin(), full_ids=args.full_ids
        )
        print(f"已新建账号 {user.login}（{user.role}），绑定：{'、'.join(user.counties)}")
    elif args.action == "passwd":
        web.set_password(counties, args.login, _password_from_stdin())
        print(f"已修改 {args.login} 的密码；其已登录的会话全部失效")
    else:
        web.disable_user(counties, args.login)
        print(f"已停用账号 {args.login}")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from ykt import web
    from ykt.counties import load_counties

    if args.max_upload_mb < 1:
        raise UsageError("--max-upload-mb 至少为 1", hint="如 --max-upload-mb 50")
    settings = web.WebSettings(
        counties=load_counties(args.counties),
        max_upload_bytes=args.max_upload_mb << 20,
        quality=not args.no_quality,
    )
    print(f"网页服务：http://{args.host}:{args.port}/login （账号用 ykt user add 创建）", flush=True)
    web.serve(settings, args.host, args.port)
    return 0


COMMANDS = {
    "run": cmd_run,
    "serve": cmd_serve,
    "demo": cmd_demo,
    "check": cmd_check,
    "deliver": cmd_deliver,
    "history": cmd_history,
    "user": cmd_user,
    "web": cmd_web,
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
