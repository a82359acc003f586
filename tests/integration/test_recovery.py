"""A night is one unit of recovery (issue 14): a night killed at any point and run again reports exactly
what a clean night reports; leftovers of the killed night are cleaned; a second night on a warehouse in
use is refused before any work; a full disk leaves no partial archive copy.

Fixture (`_inbox`): a tiny county night designed to exercise every kind of run_files row a re-run must
get right: a roster loaded with one rejected row (bad ID), a bank file loaded, the same bank file again
under another name (a duplicate within the night), and a roster that is not a workbook (rejected as a
whole). 村民3 is on the roster and unpaid: one MISSING finding and one opened case.

Kills are real: the night runs in a child process in which one step is replaced by `os._exit(9)` (no
`finally`, no clean-up, exactly like `kill -9`); no switch in the product is involved.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from tests.support.hostile import make_id
from ykt.cli import main
from ykt.ingest import snapshot
from ykt.pipeline import NightOptions, run_night
from ykt.report import OUTPUT_NAMES, stale_night_files
from ykt.warehouse import Warehouse, lock_path

AS_OF = dt.date(2024, 9, 12)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
BYTE_FOR_BYTE = ("discrepancies.csv", "rejects.csv", "cases.jsonl", "clues.jsonl")


def _inbox(inbox: Path) -> Path:
    ids = [make_id("510723", "19600101", i) for i in (1, 2, 3)]
    roster = [
        "姓名,身份证号码,应发金额,乡镇（街道）",
        *(f"村民{i},{ids[i - 1]},1350,凤灵街道" for i in (1, 2, 3)),
    ]
    roster.append("村民4,51072319600101004,1350,凤灵街道")  # 17 digits: one rejected row
    bank = ["姓名,身份证号码,补贴项目,发放期间,发放金额,发放日期,发放状态"]
    bank += [f"村民{i},{ids[i - 1]},城乡低保,2024-08,1350.00,2024-08-08,成功" for i in (1, 2)]
    (inbox / "roster").mkdir(parents=True)
    (inbox / "payments").mkdir(parents=True)
    (inbox / "roster" / "城乡低保_2024年8月.csv").write_text("\n".join(roster) + "\n", encoding="utf-8-sig")
    (inbox / "payments" / "代发明细.csv").write_bytes("\n".join(bank).encode("gbk"))
    (inbox / "payments" / "代发明细_副本.csv").write_bytes("\n".join(bank).encode("gbk"))
    (inbox / "roster" / "花名册.xlsx").write_bytes(b"this is not a workbook")
    return inbox


def _options(root: Path, quality: bool) -> NightOptions:
    return NightOptions(
        inbox=root / "inbox", as_of=AS_OF, db=root / "w.duckdb", out=root / "out", quality=quality
    )


def _night(root: Path, quality: bool = False) -> Path:
    if not (root / "inbox").exists():
        _inbox(root / "inbox")
    run_night(_options(root, quality))
    return root / "out" / AS_OF.isoformat()


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The same night run once, never interrupted: what every re-run must reproduce."""
    return _night(tmp_path_factory.mktemp("clean"))


# Each kill point: the step replaced by os._exit(9) in the child process.
KILLS = {
    "after the files are loaded": "pipeline.detect = die",
    "after the cases are updated": "pipeline.write_reports = die",
    "half-way through the outputs": textwrap.dedent(
        """
        written = []
        real = write.write_atomically
        def third_dies(*args, **kwargs):
            written.append(args[0])
            if len(written) == 3:
                die()
            return real(*args, **kwargs)
        write.write_atomically = third_dies
        """
    ),
    "as the night's folder is published (renamed in, its link not yet replaced)": "write._swap_link = die",
    "after the outputs, before the run is marked finished": "pipeline.finish_run = die",
}


def _killed_night(root: Path, kill: str, quality: bool = False) -> None:
    script = "\n".join(
        [
            "import os, datetime as dt",
            "from pathlib import Path",
            "from ykt import pipeline",
            "from ykt.report import write",
            "def die(*args, **kwargs): os._exit(9)",
            kill,
            f"root = Path({str(root)!r})",
            f"pipeline.run_night(pipeline.NightOptions(inbox=root / 'inbox', as_of=dt.date({AS_OF.year}, "
            f"{AS_OF.month}, {AS_OF.day}), db=root / 'w.duckdb', out=root / 'out', quality={quality}))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, done.stderr


def _run_json(out: Path) -> dict:
    body = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for key in ("run_id", "started", "finished"):
        body.pop(key)
    if body["quality"]:
        body["quality"].pop("seconds")
    return body


def _cells(out: Path) -> dict[str, list[tuple]]:
    return {
        f"{name}:{sheet.title}": [
            tuple(None if isinstance(v, str) and TIMESTAMP.match(v) else v for v in row)
            for row in sheet.iter_rows(values_only=True)
        ]
        for name in ("exceptions.xlsx", "clues.xlsx")
        for sheet in openpyxl.load_workbook(out / name).worksheets
    }


def _assert_same_night(out: Path, clean: Path) -> None:
    for name in BYTE_FOR_BYTE:
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    assert _run_json(out) == _run_json(clean)
    assert _cells(out) == _cells(clean)


@pytest.mark.parametrize("kill", KILLS)
def test_a_night_killed_anywhere_and_run_again_reports_what_a_clean_night_reports(tmp_path, clean, kill):
    _inbox(tmp_path / "inbox")
    _killed_night(tmp_path, KILLS[kill])
    assert lock_path(tmp_path / "w.duckdb").exists()  # the killed night's lock, its pid now dead
    out = _night(tmp_path)
    _assert_same_night(out, clean)
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["rows"]["loaded"] == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert stale_night_files(tmp_path / "out") == []
    assert list((tmp_path / "archive").glob("*/*.partial")) == []
    with Warehouse(tmp_path / "w.duckdb") as wh:
        assert wh.rows("runs", "select count(*), count(finished_at) from runs") == [(1, 1)]
    assert not lock_path(tmp_path / "w.duckdb").exists()


def test_a_killed_night_leaves_the_previous_outputs_whole_and_the_next_replaces_them_as_a_set(tmp_path):
    """Fixture: the night finished; the same night re-run on a changed inbox killed half-way through its
    outputs, then killed again as its folder is published. out/<as_of> still holds the first run's set
    alone (the killed runs' files sit in temporary or unpublished folders), until the night re-runs."""
    out = _night(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (tmp_path / "inbox" / "roster" / "花名册.xlsx").unlink()
    _killed_night(tmp_path, KILLS["half-way through the outputs"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".night.")]
    _killed_night(tmp_path, "write._swap_link = die")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    _night(tmp_path)
    files = {
        f["name"]
        for f in json.loads((tmp_path / "out" / "latest" / "run.json").read_text(encoding="utf-8"))["files"]
    }
    assert "花名册.xlsx" not in files
    assert stale_night_files(tmp_path / "out") == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".versions", AS_OF.isoformat(), "latest"]


def test_each_night_is_published_in_its_own_folder_and_a_re_run_replaces_only_its_own(tmp_path):
    """Fixture: the same inbox run as of 2024-09-12, then 2024-09-13, then 2024-09-12 again. --out keeps both
    nights (history), `latest` points at the newest whatever ran last, the re-run replaced 2024-09-12's folder
    alone (2024-09-13's files untouched, the replaced version removed), and each result names its final paths."""
    _inbox(tmp_path / "inbox")
    out = tmp_path / "out"
    day1, day2 = AS_OF, AS_OF + dt.timedelta(days=1)
    first = run_night(replace(_options(tmp_path, False), as_of=day1))
    second = run_night(replace(_options(tmp_path, False), as_of=day2))
    night2 = {p.name: p.read_bytes() for p in (out / day2.isoformat()).iterdir()}
    again = run_night(replace(_options(tmp_path, False), as_of=day1))
    assert sorted(p.name for p in out.iterdir()) == [
        ".versions",
        day1.isoformat(),
        day2.isoformat(),
        "latest",
    ]
    assert os.readlink(out / "latest") == day2.isoformat()
    assert {p.name: p.read_bytes() for p in (out / day2.isoformat()).iterdir()} == night2
    for result, day in ((first, day1), (second, day2), (again, day1)):
        assert result.outputs == {name: out / day.isoformat() / name for name in OUTPUT_NAMES}
    assert json.loads(again.outputs["run.json"].read_text(encoding="utf-8"))["run_id"] == again.run_id
    assert sorted(p.name for p in (out / ".versions").iterdir()) == sorted([second.run_id, again.run_id])
    assert not Path(os.readlink(out / day1.isoformat())).is_absolute()


def test_a_night_killed_after_loading_is_validated_whole_by_the_quality_step_of_its_re_run(tmp_path_factory):
    """Fixture: the night with the quality step on, killed after its files were loaded: the re-run's quality
    step validates the files the killed night loaded (they are this night's), as a clean night's does."""
    clean_out = _night(tmp_path_factory.mktemp("clean_quality"), quality=True)
    root = tmp_path_factory.mktemp("killed_quality")
    _inbox(root / "inbox")
    _killed_night(root, KILLS["after the files are loaded"], quality=True)
    out = _night(root, quality=True)
    quality = _run_json(out)["quality"]
    assert quality["validations"] and quality == _run_json(clean_out)["quality"]
    assert (out / "data_docs" / "index.html").is_file()
    _assert_same_night(out, clean_out)


def test_a_second_night_on_a_warehouse_in_use_is_refused_before_reading_the_inbox(tmp_path, capsys):
    """Fixture: a lock file written by a live process (a sleeping child) for the warehouse. The second
    `ykt run` exits 2 naming that pid and its start time, and touches neither the warehouse nor the archive."""
    _inbox(tmp_path / "inbox")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        body = {"pid": holder.pid, "started_at": "2024-09-12T01:00:00", "host": os.uname().nodename}
        lock_path(tmp_path / "w.duckdb").write_text(json.dumps(body), encoding="utf-8")
        code = main(_cli(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2
    assert f"另一个核对任务正在运行（pid {holder.pid}，开始于 2024-09-12T01:00:00）" in err
    assert "Traceback" not in err
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "archive").exists()


def test_a_lock_left_by_a_dead_night_is_taken_over(tmp_path):
    """Fixture: a lock file naming a process that has exited (a killed night): the next night runs."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    body = {"pid": int(dead.stdout), "started_at": "2024-09-12T01:00:00", "host": os.uname().nodename}
    lock_path(tmp_path / "w.duckdb").write_text(json.dumps(body), encoding="utf-8")
    _night(tmp_path)
    assert (tmp_path / "out" / "latest" / "run.json").is_file()
    assert not lock_path(tmp_path / "w.duckdb").exists()


def test_a_disk_full_while_archiving_leaves_no_partial_copy_and_says_what_to_do(
    tmp_path, capsys, monkeypatch
):
    """Fixture: the copy of an upload writes part of the file, then fails with ENOSPC (a full disk)."""
    _inbox(tmp_path / "inbox")

    def half_then_full(source, target):
        target.write(source.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshot, "copy_hashing", half_then_full)
    code = main(_cli(tmp_path))
    err = capsys.readouterr().err
    assert code == 2
    assert "归档时磁盘空间已满" in err and str(tmp_path / "archive") in err and "处理办法" in err
    assert "Traceback" not in err
    assert [p for p in (tmp_path / "archive").rglob("*") if p.is_file()] == []


def test_an_archive_disk_too_small_for_the_inbox_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """Fixture: the archive's disk reports 10 bytes free; the inbox holds more. Exit 2 before the warehouse exists."""
    _inbox(tmp_path / "inbox")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 10, 10))
    code = main(_cli(tmp_path))
    err = capsys.readouterr().err
    assert code == 2
    assert "归档目录所在磁盘空间不足" in err and "MB" in err
    assert not (tmp_path / "w.duckdb").exists()


def test_an_out_folder_holding_the_warehouse_is_refused(tmp_path, capsys):
    """Fixture: --out is the folder of the warehouse and inbox: replacing it as a whole would delete them."""
    _inbox(tmp_path / "inbox")
    code = main(_cli(tmp_path, out=tmp_path))
    assert code == 2
    assert "输出目录包含" in capsys.readouterr().err
    assert (tmp_path / "inbox").is_dir()


def _cli(root: Path, out: Path | None = None) -> list[str]:
    return [
        *(
            "run",
            "--inbox",
            str(root / "inbox"),
            "--as-of",
            AS_OF.isoformat(),
            "--db",
            str(root / "w.duckdb"),
        ),
        *("--out", str(out or root / "out"), "--engine", "plain", "--no-quality"),
    ]
