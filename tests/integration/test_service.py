"""What IT meets when the night runs unattended: overlapping nights, preconditions, the notification
webhook, and what the command shows and logs.

Fixtures: `_tiny_inbox`, one 低保 roster of two villagers and the bank file paying both on time (a
healthy night, exit 0); an empty inbox (a night that needs attention, exit 3: NO_INPUT_FILES); a lock
held by a real second process (`_holder`: it takes the night lock through the product's own code and
keeps it until the test releases it); a local HTTP server as the webhook (tests.support.webhook).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.hostile import make_id
from tests.support.webhook import webhook
from ykt.cli import main
from ykt.warehouse import lock_path

AS_OF = "2024-09-12"
YKT = [sys.executable, "-m", "ykt.cli"]


def _tiny_inbox(inbox: Path) -> Path:
    ids = [make_id("510723", "19600101", i) for i in (1, 2)]
    roster = [
        "姓名,身份证号码,应发金额,乡镇（街道）",
        *(f"村民{i},{ids[i - 1]},1350,凤灵街道" for i in (1, 2)),
    ]
    bank = ["姓名,身份证号码,补贴项目,发放期间,发放金额,发放日期,发放状态"]
    bank += [f"村民{i},{ids[i - 1]},城乡低保,2024-08,1350.00,2024-08-08,成功" for i in (1, 2)]
    (inbox / "roster").mkdir(parents=True)
    (inbox / "payments").mkdir(parents=True)
    (inbox / "roster" / "城乡低保_2024年8月.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    (inbox / "payments" / "代发明细.csv").write_text("\n".join(bank) + "\n", encoding="utf-8")
    return inbox


def _args(root: Path, inbox: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--inbox",
        str(inbox),
        "--as-of",
        AS_OF,
        "--db",
        str(root / "w.duckdb"),
        "--out",
        str(root / "out"),
        "--engine",
        "plain",
        "--no-quality",
        *extra,
    ]


@contextmanager
def _holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the night lock of `db` until a line is written to its stdin."""
    script = (
        "import sys; from pathlib import Path; from ykt.warehouse import night_lock\n"
        f"with night_lock(Path({str(db)!r}), 0):\n"
        "    print('ready', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_second_night_stops_with_exit_2_naming_the_running_one(tmp_path):
    """Two real processes: one holds the night; `ykt run --lock-wait 0` exits 2 with the holder's pid,
    its start time, the lock file and what to do, and never creates the warehouse."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    with _holder(tmp_path / "w.duckdb") as holder:
        started = json.loads(lock_path(tmp_path / "w.duckdb").read_text(encoding="utf-8"))["started_at"]
        done = subprocess.run(
            [*YKT, *_args(tmp_path, inbox, "--lock-wait", "0")], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stderr
    assert f"另一个核对任务正在运行（pid {holder.pid}，开始于 {started}）" in done.stderr
    assert str(lock_path(tmp_path / "w.duckdb")) in done.stderr and "处理办法" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_a_second_night_waits_for_the_first_and_then_runs(tmp_path):
    """The second night, given a wait, is still waiting while the first holds the lock, and runs once the
    first lets go: exit 0 (the tiny night is healthy) and its reports written."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    with _holder(tmp_path / "w.duckdb") as holder:
        second = subprocess.Popen(
            [*YKT, *_args(tmp_path, inbox, "--lock-wait", "300")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # not a timed assertion: the second night must merely not have finished yet
        assert second.poll() is None, second.communicate()
        assert not (tmp_path / "w.duckdb").exists()
        assert holder.stdin is not None
        holder.stdin.write("release\n")
        holder.stdin.flush()
        out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert (
        json.loads((tmp_path / "out" / AS_OF / "run.json").read_text(encoding="utf-8"))["health"]["status"]
        == "ok"
    )


def test_check_never_touches_the_warehouse(tmp_path, monkeypatch, capsys):
    """`ykt check` while a night holds the lock of ./ykt.duckdb and no warehouse exists: the check runs,
    and no warehouse (nor anything else) appears in the working folder."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with _holder(work / "ykt.duckdb"):
        code = main(["check", "--kind", "roster", str(inbox / "roster" / "城乡低保_2024年8月.csv")])
        listing = sorted(p.name for p in work.iterdir())
    assert code == 0, capsys.readouterr().err
    assert listing == ["ykt.duckdb.lock"]  # the holder's lock only


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys):
    """--out under a regular file (no folder can be made there), and --out that is itself a file: exit 2
    naming --out, before the warehouse or the archive exist (not after the whole night)."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    for out in (tmp_path / "a-file" / "out", tmp_path / "a-file"):
        args = _args(tmp_path, inbox)
        args[args.index("--out") + 1] = str(out)
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "输出目录不可写" in err and f"--out {out}" in err and "Traceback" not in err
        assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "archive").exists()


def test_a_deployment_given_a_missing_inbox_stops_before_any_work(tmp_path):
    """The CLI checks --inbox itself; a scheduled run gets its inbox as a parameter, checked by the night."""
    import pytest

    from ykt.errors import UsageError
    from ykt.pipeline import NightOptions, run_night

    options = NightOptions(inbox=tmp_path / "gone", as_of=dt.date(2024, 9, 12), db=tmp_path / "w.duckdb")
    with pytest.raises(UsageError, match="收件目录不存在") as raised:
        run_night(options)
    assert raised.value.exit_code == 2 and str(tmp_path / "gone") in raised.value.render()
    assert not (tmp_path / "w.duckdb").exists()


def test_a_night_needing_attention_posts_its_health_to_the_webhook(tmp_path):
    """An empty inbox (attention): one POST with county, as_of, health, exit code, reasons and the report
    paths; a healthy night on another warehouse posts nothing."""
    (tmp_path / "empty").mkdir()
    with webhook() as (url, received):
        code = main(_args(tmp_path, tmp_path / "empty", "--notify-url", url, "--county-name", "安和县"))
        healthy = tmp_path / "healthy"
        assert main(_args(healthy, _tiny_inbox(healthy / "inbox"), "--notify-url", url)) == 0
    assert code == 3
    [notice] = received
    assert notice["county"] == "安和县" and notice["as_of"] == AS_OF
    assert notice["health"] == "attention" and notice["exit_code"] == 3
    assert [r["code"] for r in notice["reasons"]] == ["NO_INPUT_FILES"]
    assert Path(notice["links"]["run.json"]) == (tmp_path / "out" / AS_OF / "run.json").absolute()
    assert Path(notice["links"]["exceptions.xlsx"]).is_file()
    assert notice["run_id"].startswith(AS_OF) and notice["headers"]["Idempotency-Key"]


def test_a_night_that_stops_on_an_error_posts_failed(tmp_path):
    """A night stopped by a held lock (exit 2) still tells the webhook: health failed, its exit code and
    the error's message, read from the environment's YKT_NOTIFY_URL."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    with webhook() as (url, received), _holder(tmp_path / "w.duckdb"):
        env = {**os.environ, "YKT_NOTIFY_URL": url}
        done = subprocess.run(
            [*YKT, *_args(tmp_path, inbox, "--lock-wait", "0")], capture_output=True, text=True, env=env
        )
    assert done.returncode == 2
    [notice] = received
    assert notice["health"] == "failed" and notice["exit_code"] == 2 and notice["as_of"] == AS_OF
    [reason] = notice["reasons"]
    assert reason["code"] == "NIGHT_STOPPED" and "另一个核对任务正在运行" in reason["message"]


def test_a_webhook_that_is_down_never_changes_the_nights_exit_code(tmp_path, capsys):
    """The webhook answers 503 to every try: the night still exits 3 (its own result), and says the
    notification failed."""
    (tmp_path / "empty").mkdir()
    with webhook(status=503) as (url, received):
        code = main(
            _args(tmp_path, tmp_path / "empty", "--notify-url", url, "--log-file", str(tmp_path / "n.log"))
        )
    assert code == 3
    assert len(received) == 3  # retried: three attempts
    assert "通知发送失败" in (tmp_path / "n.log").read_text(encoding="utf-8")


def test_log_file_holds_each_steps_counts_and_a_pipe_shows_no_progress(tmp_path):
    """`--log-file` records each step and its counts; stderr that is not a terminal stays quiet."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    log = tmp_path / "night.log"
    done = subprocess.run(
        [*YKT, *_args(tmp_path, inbox, "--log-file", str(log))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    text = log.read_text(encoding="utf-8")
    for line in (
        "开始读取收件目录",
        "读取 城乡低保_2024年8月.csv",
        "读取收件：文件 2 个（入库 2，",
        "入库 4 行",
        "规则检查：发现问题 0 条",
        "报告：8 个文件写入",  # the six files plus clues.xlsx and report.html
    ):
        assert line in text, line
    assert done.stderr == ""


def test_a_terminal_shows_the_step_in_progress(tmp_path):
    """Run under a pseudo-terminal: the live progress line names the steps as they run."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    with subprocess.Popen(
        [*YKT, *_args(tmp_path, inbox)], stdin=slave, stdout=slave, stderr=slave, env=env
    ) as night:
        os.close(slave)
        screen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the night ended
                break
            if not chunk:
                break
            screen += chunk
        night.wait(timeout=300)
    os.close(master)
    text = screen.decode("utf-8", "replace")
    assert night.returncode == 0, text
    assert "开始运行核对规则" in text and "运行状态：正常" in text


def test_serve_without_a_reachable_prefect_server_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    """`ykt serve` with no PREFECT_API_URL, then with one where nothing listens: exit 2 before serving,
    naming `prefect server start` and --with-server."""
    inbox = _tiny_inbox(tmp_path / "inbox")
    args = [
        "serve",
        "--inbox",
        str(inbox),
        "--db",
        str(tmp_path / "w.duckdb"),
        "--out",
        str(tmp_path / "out"),
    ]
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "未设置 PREFECT_API_URL" in err and "prefect server start" in err and "--with-server" in err
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert main(args) == 2
    assert "Prefect 服务器无法访问" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_a_large_file_says_how_far_its_reading_got(tmp_path, monkeypatch):
    """Fixture: the tiny night with the large-file threshold lowered to one row (a real large file takes
    minutes to make): the log, and so the progress line, gives the rows read so far of each file."""
    from ykt.ingest import load

    monkeypatch.setattr(load, "PROGRESS_ROWS", 1)
    inbox = _tiny_inbox(tmp_path / "inbox")
    assert main(_args(tmp_path, inbox, "--log-file", str(tmp_path / "n.log"))) == 0
    assert "读取 城乡低保_2024年8月.csv：已读 2 行" in (tmp_path / "n.log").read_text(encoding="utf-8")
