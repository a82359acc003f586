"""The command line: contract exit codes and messages a clerk can act on."""

from __future__ import annotations

import json
from pathlib import Path

from ykt.cli import main


def test_missing_inbox_is_a_usage_error_with_exit_code_2(tmp_path, capsys):
    """Fixture: an inbox path that does not exist. Expect exit 2 and a Chinese message naming it."""
    missing = tmp_path / "no-such-inbox"
    code = main(["run", "--inbox", str(missing), "--as-of", "2024-09-12"])
    assert code == 2
    assert "目录不存在" in capsys.readouterr().err


def test_bad_as_of_date_is_a_usage_error(tmp_path, capsys):
    """Fixture: an as-of date in the wrong format (2024/09/12)."""
    code = main(["run", "--inbox", str(tmp_path), "--as-of", "2024/09/12"])
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_broken_programs_file_is_a_configuration_error(tmp_path, capsys):
    """Fixture: a programs.yaml that is not valid YAML. Configuration errors exit 2 before any file is touched."""
    programs = tmp_path / "programs.yaml"
    programs.write_text("programs: [\n", encoding="utf-8")
    code = main(
        [
            "run",
            "--inbox",
            str(tmp_path),
            "--as-of",
            "2024-09-12",
            "--programs",
            str(programs),
            "--engine",
            "plain",
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "programs.yaml" in err and "YAML" in err
    assert not (tmp_path / "out").exists()


def test_run_with_relative_paths_writes_every_output_and_data_docs(tmp_path, monkeypatch, capsys):
    """Fixture: the demo county's first night, run from its own folder with relative --inbox/--db/--out, as a
    clerk would type it, with the data-quality suite on. Every contract output and the Data Docs appear, and
    the night exits 3: the demo plants a paid program-period without a roster and a program never paid."""
    from ykt.sample_data.generate import generate_demo

    plan = generate_demo(tmp_path / "inbox")
    inbox, as_of = plan.nights[0]
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "run",
            "--inbox",
            str(inbox.relative_to(tmp_path)),
            "--as-of",
            as_of.isoformat(),
            "--db",
            "w.duckdb",
            "--out",
            "out",
            "--engine",
            "plain",
        ]
    )
    assert code == 3, capsys.readouterr().err
    health = json.loads((tmp_path / "out" / "latest" / "run.json").read_text(encoding="utf-8"))["health"]
    assert {r["code"] for r in health["reasons"]} == {"COVERAGE_GAP", "PROGRAM_STALLED"}
    names = {p.name for p in (tmp_path / "out" / "latest").iterdir()}
    assert {
        "discrepancies.csv",
        "cases.jsonl",
        "clues.jsonl",
        "rejects.csv",
        "run.json",
        "exceptions.xlsx",
        "clues.xlsx",
        "report.html",
    } <= names
    assert (tmp_path / "out" / "latest" / "data_docs" / "index.html").is_file()


def _payments_csv(path: Path) -> None:
    """Two good payments of 城乡低保 2024-08 (valid IDs, paid, in GBK as banks send them)."""
    from tests.support.hostile import make_id

    rows = [
        "姓名,身份证号码,补贴项目,发放期间,发放金额,发放日期,发放状态",
        *(
            f"村民{i},{make_id('510723', '19600101', i)},城乡低保,2024-08,1350.00,2024-08-08,成功"
            for i in (1, 2)
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\n".join(rows).encode("gbk"))


def _run(inbox: Path, out: Path) -> int:
    args = ["run", "--inbox", str(inbox), "--as-of", "2024-09-12", "--db", str(out.parent / "w.duckdb")]
    return main([*args, "--out", str(out), "--engine", "plain", "--no-quality"])


def test_a_night_with_a_file_it_could_not_read_exits_3_and_says_why(tmp_path, capsys):
    """Fixture: a good bank file and a roster that is not a workbook at all. The night runs, but run.json's
    health is `attention` with the rejected file named, the CLI prints it, and the exit code is 3."""
    inbox = tmp_path / "inbox"
    _payments_csv(inbox / "payments" / "代发明细.csv")
    (inbox / "roster").mkdir()
    (inbox / "roster" / "花名册.xlsx").write_bytes(b"this is not a workbook")
    code = _run(inbox, tmp_path / "out")
    assert code == 3
    health = json.loads((tmp_path / "out" / "latest" / "run.json").read_text(encoding="utf-8"))["health"]
    assert health["status"] == "attention"
    rejected = [r for r in health["reasons"] if r["code"] == "FILE_REJECTED"]
    assert [r["file"] for r in rejected] == ["花名册.xlsx"]
    assert "运行状态：需关注" in capsys.readouterr().out


def test_a_night_whose_every_file_was_rejected_fails_with_exit_1(tmp_path):
    """Fixture: the inbox holds only the broken roster: nothing usable was read, health `failed`, exit 1."""
    inbox = tmp_path / "inbox"
    (inbox / "roster").mkdir(parents=True)
    (inbox / "roster" / "花名册.xlsx").write_bytes(b"this is not a workbook")
    assert _run(inbox, tmp_path / "out") == 1
    health = json.loads((tmp_path / "out" / "latest" / "run.json").read_text(encoding="utf-8"))["health"]
    assert health["status"] == "failed"
    assert [r["code"] for r in health["reasons"]] == ["ALL_FILES_REJECTED", "FILE_REJECTED"]


def test_files_holding_full_ids_are_readable_by_their_owner_only(tmp_path):
    """Fixture: one good bank file, run as a county server would (umask 022). The warehouse, the archive
    (folders and copies) and discrepancies.csv hold full ID numbers: owner-only; the process umask is
    given back afterwards."""
    import os
    import stat

    inbox = tmp_path / "inbox"
    _payments_csv(inbox / "payments" / "代发明细.csv")
    previous = os.umask(0o022)
    try:
        _run(inbox, tmp_path / "out")
        assert os.umask(0o022) == 0o022  # the night restored what it found
    finally:
        os.umask(previous)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    archive = tmp_path / "archive"
    assert mode(tmp_path / "w.duckdb") == 0o600
    assert mode(archive) == 0o700
    assert {mode(p) for p in archive.rglob("*") if p.is_dir()} == {0o700}
    assert {mode(p) for p in archive.rglob("*") if p.is_file()} == {0o600}
    assert mode(tmp_path / "out" / "latest" / "discrepancies.csv") == 0o600


def test_text_typed_as_a_formula_comes_out_as_text_in_every_csv_and_the_workbook(tmp_path):
    """Fixture: a roster named "=cmd.csv" whose 姓名 cells are =HYPERLINK(…) and @SUM(1) (both never paid: they
    reach discrepancies.csv as MISSING) and whose third row's amount is =1+1 (rejected: rejects.csv). No CSV
    cell starts with a formula character, and the workbook holds no formula at all."""
    import csv
    import zipfile

    from tests.support.hostile import make_id

    inbox = tmp_path / "inbox"
    rows = [
        "姓名,身份证号码,补贴项目,发放期间,应发金额",
        f'"=HYPERLINK(""http://x"",""点此"")",{make_id("510723", "19600101", 1)},城乡低保,2024-08,1350.00',
        f"@SUM(1),{make_id('510723', '19600101', 2)},城乡低保,2024-08,1350.00",
        f"村民3,{make_id('510723', '19600101', 3)},城乡低保,2024-08,=1+1",
    ]
    (inbox / "roster").mkdir(parents=True)
    (inbox / "roster" / "=cmd.csv").write_bytes("\n".join(rows).encode("gbk"))
    _run(inbox, tmp_path / "out")
    for name in ("discrepancies.csv", "rejects.csv"):
        with (tmp_path / "out" / "latest" / name).open(encoding="utf-8-sig", newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], name
        assert any(c.startswith("'=") or c.startswith("'@") for c in cells), name
    with zipfile.ZipFile(tmp_path / "out" / "latest" / "exceptions.xlsx") as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert not [n for n in sheets if b"<f>" in book.read(n) or b"<f " in book.read(n)]


def test_a_rejected_file_whose_name_holds_escape_codes_still_gets_its_report(tmp_path):
    """Fixture: a good bank file and, beside it, a 'roster' that is no workbook, named with an ANSI escape
    and a bell (花名册\\x1b[31m\\x07.xlsx). It is rejected as a whole; its name and reason reach run.json and
    the workbook escaped (openpyxl refuses control characters), and the night ends with its report."""
    import zipfile

    inbox = tmp_path / "inbox"
    _payments_csv(inbox / "payments" / "代发明细.csv")
    (inbox / "roster").mkdir()
    (inbox / "roster" / "花名册\x1b[31m\x07.xlsx").write_bytes(b"this is not a workbook")
    assert _run(inbox, tmp_path / "out") == 3
    run = json.loads((tmp_path / "out" / "latest" / "run.json").read_text(encoding="utf-8"))
    [line] = [f for f in run["files"] if f["status"] == "rejected"]
    assert "\x1b" not in line["name"] + line["reason"] and "\\x1b" in line["name"]
    with zipfile.ZipFile(tmp_path / "out" / "latest" / "exceptions.xlsx") as book:
        assert b"\x1b" not in b"".join(book.read(n) for n in book.namelist())
