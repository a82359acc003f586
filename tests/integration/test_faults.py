"""Faults a county's IT meets, each answered with a message naming the path and what to do, and an exit code.

Fixtures: a real warehouse file made by a tiny night, held open by a second process (locked), overwritten
with bytes that are not a database (damaged), or absent (a mistyped --db); and endpoints that would send
the platform token in clear text. No request ever leaves this machine.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from ykt.cli import main
from ykt.deliver import check_endpoint
from ykt.errors import UsageError
from ykt.warehouse import Warehouse


def _warehouse(path: Path) -> Path:
    Warehouse(path).close()
    return path


def test_a_warehouse_held_by_another_run_is_refused_with_its_pid_and_exit_2(tmp_path, capsys):
    db = _warehouse(tmp_path / "ykt.duckdb")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys,time; c=duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code = main(["history", "YKT-0000", "--db", str(db)])
        err = capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert code == 2
    assert f"数据仓库正被进程 {holder.pid} 使用" in err and str(db) in err
    assert "Traceback" not in err


def test_a_damaged_warehouse_is_named_and_never_replaced(tmp_path, capsys):
    db = tmp_path / "ykt.duckdb"
    db.write_bytes(b"\0" * 4096)
    code = main(["history", "YKT-0000", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert "数据仓库文件已损坏" in err and "从备份恢复" in err
    assert db.read_bytes() == b"\0" * 4096


@pytest.mark.parametrize(
    "command", [["history", "YKT-0000"], ["deliver", "--endpoint", "https://127.0.0.1:9/x"]]
)
def test_commands_that_only_read_refuse_a_missing_warehouse_instead_of_creating_one(
    tmp_path, capsys, command
):
    db = tmp_path / "typo.duckdb"
    code = main([*command, "--db", str(db)])
    assert code == 2
    assert "数据仓库不存在" in capsys.readouterr().err
    assert not db.exists()


def test_plain_http_to_another_host_is_refused_before_any_work(tmp_path, capsys):
    """The token would travel in clear text: refused at the start of the night (nothing read, no warehouse)."""
    (tmp_path / "inbox").mkdir()
    db = tmp_path / "w.duckdb"
    args = ["run", "--inbox", str(tmp_path / "inbox"), "--as-of", "2024-09-12", "--db", str(db)]
    code = main([*args, "--endpoint", "http://platform.county.example/api/cases", "--engine", "plain"])
    assert code == 2
    assert "平台地址不是 https" in capsys.readouterr().err
    assert not db.exists()


def test_http_is_allowed_to_this_machine_and_to_an_intranet_host_only_when_asked(caplog):
    check_endpoint("http://127.0.0.1:8080/api/cases")
    check_endpoint("http://localhost/api/cases")
    check_endpoint("http://[::1]/api/cases")
    check_endpoint("https://platform.county.example/api/cases")
    with pytest.raises(UsageError):
        check_endpoint("http://10.20.30.40/api/cases")
    with caplog.at_level(logging.WARNING, logger="ykt.deliver.platform"):
        check_endpoint("http://10.20.30.40/api/cases", allow_http=True)
    assert "明文" in caplog.text
    with pytest.raises(UsageError):
        check_endpoint("ftp://platform.county.example/cases")


def test_a_full_disk_while_writing_the_report_is_a_message_and_the_rerun_writes_it(
    tmp_path, capsys, monkeypatch
):
    """Fixture: an empty inbox and a disk that fills up while the workbook is written (its renderer raises
    ENOSPC). The night stops with exit 2 naming the file and what to do, no traceback, the previous --out
    untouched (no night published); run again with room, the same night writes every output."""
    import errno

    from ykt.report import write as report_write

    (tmp_path / "inbox").mkdir()
    out = tmp_path / "out"
    args = [
        "run",
        "--inbox",
        str(tmp_path / "inbox"),
        "--as-of",
        "2024-09-12",
        "--db",
        str(tmp_path / "w.duckdb"),
    ]
    args += ["--out", str(out), "--engine", "plain", "--no-quality"]

    def full(report, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report_write, "RENDERERS", {**report_write.RENDERERS, "exceptions.xlsx": full})
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "写报告时磁盘空间已满" in err and "exceptions.xlsx" in err and "Traceback" not in err
    assert not (out / "2024-09-12").exists() and not (out / "latest").exists()
    monkeypatch.undo()
    assert main(args) == 3  # an empty inbox needs attention, and the report is all there
    night = out / "2024-09-12"
    assert (night / "exceptions.xlsx").is_file() and (night / "run.json").is_file()
