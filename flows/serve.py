"""`ykt serve`: the nightly flow served on a cron schedule against a standing Prefect server.

The server is one IT keeps running (`prefect server start`, its address in PREFECT_API_URL), or one this
command starts as its own subprocess (`--with-server`) and stops when it stops. Prefect is imported only
once the server's address is known: Prefect reads PREFECT_API_URL when it is first imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ykt.errors import UsageError

API_URL_ENV = "PREFECT_API_URL"
DEPLOYMENT_NAME = "ykt-nightly"


@dataclass(frozen=True)
class Schedule:
    cron: str = "0 2 * * *"
    timezone: str = "Asia/Shanghai"
    name: str = DEPLOYMENT_NAME


def serve(parameters: dict[str, object], schedule: Schedule) -> None:
    """Create (or update) the deployment and run its scheduled nights until interrupted."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from ykt.flows.nightly import nightly

    check_schedule(schedule)
    nightly.serve(
        name=schedule.name,
        schedules=[Cron(schedule.cron, timezone=schedule.timezone)],
        parameters={k: v for k, v in parameters.items() if v is not None},
        pause_on_shutdown=False,  # a restarted service must find its schedule active
        limit=1,  # one night at a time from this service (the night lock guards the rest)
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def check_schedule(schedule: Schedule) -> None:
    """A mistyped cron expression or time zone is a usage error before the deployment is made."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    except ValidationError as exc:
        field = "时区" if "timezone" in str(exc) else "cron 表达式"
        raise UsageError(
            f"{field}无效：cron {schedule.cron!r}，时区 {schedule.timezone!r}",
            hint="cron 格式为“分 时 日 月 周”，例如每天 02:00 为 '0 2 * * *'；时区用 IANA 名称，例如 Asia/Shanghai",
        ) from None


def api_health(api_url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def require_server(environ: dict[str, str] | None = None) -> str:
    """The standing server's API address, reachable now; a usage error (exit 2) otherwise."""
    api_url = (environ if environ is not None else dict(os.environ)).get(API_URL_ENV, "").strip()
    if not api_url and environ is None:  # `prefect config set PREFECT_API_URL=…` keeps it in a profile
        from prefect.settings import get_current_settings

        api_url = str(get_current_settings().api.url or "").strip()
    if not api_url:
        raise UsageError(
            f"未设置 {API_URL_ENV}：ykt serve 需要一个常驻的 Prefect 服务器",
            hint=f"先运行 `prefect server start`，再设置 {API_URL_ENV}=http://127.0.0.1:4200/api；"
            "或加 --with-server 由本命令启动一个",
        )
    if not api_health(api_url):
        raise UsageError(
            "Prefect 服务器无法访问",
            where=f"{API_URL_ENV}={api_url}",
            hint="确认 `prefect server start` 正在运行且地址正确（以 /api 结尾）；或加 --with-server",
        )
    return api_url


@contextmanager
def own_server(port: int, log_file: Path, startup_timeout: float = 180) -> Iterator[str]:
    """Start `prefect server start` on this machine, wait for its health endpoint, stop it at the end."""
    api_url = f"http://127.0.0.1:{port}/api"
    if api_health(api_url):
        raise UsageError(
            f"端口 {port} 上已有 Prefect 服务器在运行",
            hint=f"去掉 --with-server 并设置 {API_URL_ENV}={api_url}，或用 --server-port 指定其他端口",
        )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(server, api_url, startup_timeout, log_file)
        yield api_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_healthy(server: subprocess.Popen[bytes], api_url: str, timeout: float, log_file: Path) -> None:
    deadline = time.monotonic() + timeout
    while not api_health(api_url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise UsageError(
                f"Prefect 服务器未能启动（{'已退出' if server.poll() is not None else f'{timeout:g} 秒内无响应'}）",
                where=str(log_file),
                hint="查看该日志文件；或先手动运行 `prefect server start` 并设置 PREFECT_API_URL 后去掉 --with-server",
            )
        time.sleep(0.5)
