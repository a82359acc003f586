"""The command line: contract exit codes and messages a clerk can act on."""

from __future__ import annotations

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
    clerk would type it, with the data-quality suite on. Every contract output and the Data Docs appear."""
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
    assert code == 0, capsys.readouterr().err
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {
        "discrepancies.csv",
        "cases.jsonl",
        "clues.jsonl",
        "rejects.csv",
        "run.json",
        "exceptions.xlsx",
    } <= names
    assert (tmp_path / "out" / "data_docs" / "index.html").is_file()
