"""The nightly service against a real standing Prefect server: `ykt serve` fires scheduled nights, and the
repository's prefect.yaml deploys to a process work pool whose worker runs a night.

Fixtures: one `prefect server start` subprocess for the module (free port, its own PREFECT_HOME); the demo
county's first night as the inbox; a local HTTP server as IT's webhook. Everything is read back through
the server's REST API, as the Prefect UI would show it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.webhook import webhook
from ykt.sample_data.generate import generate_demo

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(url: str, path: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}{path}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _healthy(url: str) -> bool:
    try:
        return _api(url, "/health") is True
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A standing Prefect server, as IT would keep one running; (api url, environment for its clients)."""
    home = tmp_path_factory.mktemp("prefect_home")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    url = f"http://127.0.0.1:{port}/api"
    with open(home / "server.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            assert process.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()
            time.sleep(0.5)
        yield url, {**env, "PREFECT_API_URL": url}
    finally:
        process.terminate()
        process.wait(timeout=60)


def _kill_group(pid: int) -> None:
    """Whatever the service started and left running (a night in progress) ends with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _wait_for_completed_run(url: str, deployment: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = _api(
            url,
            "/flow_runs/filter",
            {
                "deployments": {"name": {"any_": [deployment]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
            },
        )
        assert isinstance(runs, list)
        if runs:
            return runs[0]
        time.sleep(1)
    raise AssertionError(f"no run of {deployment} finished within {seconds} s")


def _artifacts(url: str, flow_run_id: str) -> dict[str, dict]:
    found = _api(url, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
    assert isinstance(found, list)
    return {a["key"]: a for a in found}


def _start_service(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """`ykt serve …` in its own process group (so a test can stop it and whatever it started)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ykt.cli", *args],
        env=env,
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_ykt_serve_fires_a_scheduled_night_through_the_server_with_artifacts_and_logs(server, tmp_path):
    """`ykt serve` on a schedule firing every 5 seconds (a six-field cron: seconds last): a night runs
    through the standing server and completes; its run carries the summary (health 需关注, the report
    paths) and the new-case table (the 268-person stalled batch, no ID numbers); the package's counts are
    in the run's log; the attention night posted to the webhook."""
    url, env = server
    plan = generate_demo(tmp_path / "inbox")
    inbox, as_of = plan.nights[0]
    out = tmp_path / "out"
    with webhook() as (hook, received):
        args = [
            "serve",
            "--inbox",
            str(inbox),
            "--as-of",
            as_of.isoformat(),
            "--db",
            str(tmp_path / "w.duckdb"),
        ]
        args += ["--out", str(out), "--no-quality", "--cron", "* * * * * */5", "--timezone", "UTC"]
        args += ["--name", "serve-test", "--notify-url", hook, "--county-name", "安和县"]
        service = _start_service(args, env, tmp_path)
        try:
            run = _wait_for_completed_run(url, "serve-test", 150)
        finally:
            service.send_signal(signal.SIGTERM)
            output = service.communicate(timeout=60)[0].decode("utf-8", "replace")
            _kill_group(service.pid)
    assert run["state_type"] == "COMPLETED", output
    assert run["parameters"]["as_of"] == as_of.isoformat() and Path(run["parameters"]["db"]).is_absolute()

    artifacts = _artifacts(url, run["id"])
    summary = artifacts["ykt-night-summary"]["data"]
    assert f"{as_of} 夜间核对：需关注" in summary and "PROGRAM_STALLED" in summary
    assert f"`{out / as_of.isoformat() / 'exceptions.xlsx'}`" in summary
    table = json.loads(artifacts["ykt-new-cases"]["data"])
    stalled = [row for row in table if row["问题类型"] == "BATCH_STALLED"]
    assert [row["人数"] for row in stalled] == [268]
    assert re.search(r"\d{17}[\dXx]", artifacts["ykt-new-cases"]["data"]) is None  # no ID number

    logs = _api(url, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 200})
    messages = [entry["message"] for entry in logs if entry["name"].startswith("ykt")]
    assert any(m.startswith("读取收件：文件 21 个") for m in messages), messages
    assert any(m.startswith("规则检查：发现问题") for m in messages)

    notices = [n for n in received if n["as_of"] == as_of.isoformat()]
    assert notices and notices[0]["health"] == "attention" and notices[0]["county"] == "安和县"


def test_serve_with_server_starts_its_own_server_runs_a_night_and_stops_it(tmp_path):
    """`ykt serve --with-server` on a free port: the server it starts answers, a scheduled night completes
    through it, and stopping the service stops that server too."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home")}
    env.pop("PREFECT_API_URL", None)
    (tmp_path / "inbox").mkdir()  # an empty inbox: a quick night (it needs attention)
    args = [
        "serve",
        "--inbox",
        str(tmp_path / "inbox"),
        "--db",
        str(tmp_path / "w.duckdb"),
        "--out",
        str(tmp_path / "out"),
    ]
    args += ["--no-quality", "--cron", "* * * * * */5", "--with-server", "--server-port", str(port)]
    service = _start_service(args, env, tmp_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            assert service.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        run = _wait_for_completed_run(url, "ykt-nightly", 120)
    finally:
        service.send_signal(signal.SIGINT)  # Ctrl-C: the service stops its runner, then its server
        output = service.communicate(timeout=90)[0].decode("utf-8", "replace")
        _kill_group(service.pid)
    assert run["state_type"] == "COMPLETED", output
    assert (tmp_path / "out" / "latest" / "run.json").is_file()
    assert not _healthy(url), "the server outlived the service that started it"


def test_serve_refuses_a_bad_cron_or_time_zone_with_exit_2(server, tmp_path):
    """A mistyped schedule is a usage error when `serve` starts, not a service that never fires."""
    _, env = server
    (tmp_path / "inbox").mkdir()
    base = [
        sys.executable,
        "-m",
        "ykt.cli",
        "serve",
        "--inbox",
        str(tmp_path / "inbox"),
        "--out",
        str(tmp_path / "o"),
    ]
    for flags, word in ((["--cron", "0 2 * *"], "cron 表达式无效"), (["--timezone", "Beijing"], "时区无效")):
        done = subprocess.run(
            [*base, *flags], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2 and word in done.stderr, done.stderr


def test_prefect_yaml_deploys_the_nightly_schedule_and_a_process_worker_runs_it(server, tmp_path):
    """The repository's prefect.yaml, deployed as README says (a process work pool, the paths from the
    environment): the deployment is at 02:00 Asia/Shanghai with the flow's entrypoint; a run of it,
    picked up by `prefect worker start --run-once`, completes and writes the night's reports."""
    url, env = server
    plan = generate_demo(tmp_path / "inbox")
    inbox, _ = plan.nights[0]
    env = {
        **env,
        "YKT_INBOX": str(inbox),
        "YKT_DB": str(tmp_path / "w.duckdb"),
        "YKT_OUT": str(tmp_path / "out"),
    }
    prefect = [sys.executable, "-m", "prefect"]

    def cli(*args: str) -> str:
        done = subprocess.run(
            [*prefect, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("work-pool", "create", "ykt-process", "--type", "process")
    cli("--no-prompt", "deploy", "--all")
    deployment = _api(url, "/deployments/name/ykt-nightly/ykt-nightly-pool")
    assert isinstance(deployment, dict)
    assert deployment["entrypoint"] == "flows/nightly.py:nightly"
    assert deployment["work_pool_name"] == "ykt-process"
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployment["schedules"]] == [
        ("0 2 * * *", "Asia/Shanghai")
    ]
    assert deployment["parameters"]["inbox"] == str(inbox)

    cli(
        "deployment",
        "run",
        "ykt-nightly/ykt-nightly-pool",
        "--param",
        "quality=false",
        "--param",
        "as_of=2024-09-12",
    )
    cli("worker", "start", "--pool", "ykt-process", "--run-once")
    run = _wait_for_completed_run(url, "ykt-nightly-pool", 30)
    assert run["state_type"] == "COMPLETED"
    assert (
        json.loads((tmp_path / "out" / "2024-09-12" / "run.json").read_text(encoding="utf-8"))["as_of"]
        == "2024-09-12"
    )
