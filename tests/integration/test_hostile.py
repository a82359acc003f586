"""Hostile files and faults (issue 14): each attack in tests/support/attacks.py is met by its protection,
the file is reported with its reason and the night goes on with the others."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import attacks
from ykt.check import check_files
from ykt.cli import main
from ykt.config import load_programs
from ykt.errors import InputFileError
from ykt.ingest import check_file, ingest_inbox
from ykt.ingest import night as ingest_night
from ykt.ingest.read import read_tables
from ykt.ingest.read.tables import load_aliases
from ykt.warehouse.connection import Warehouse

PROGRAMS = load_programs()
ALIASES = load_aliases()


@pytest.fixture()
def wh():
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def run(wh: Warehouse, inbox: Path, tmp_path: Path):
    return ingest_inbox(wh, inbox, PROGRAMS, ALIASES, "r1", tmp_path / "archive")


def test_links_fifos_and_files_outside_the_inbox_are_reported_never_opened(wh, tmp_path):
    """Fixture: an inbox with one good roster, links to /proc/self/environ and /etc/passwd, a link to a
    roster outside the inbox, a linked folder holding one and a FIFO. Only the good roster loads; each
    other entry is INBOX_NOT_REGULAR; nothing of the environment or passwd reaches warehouse or archive."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    entries = attacks.linked_entries(inbox, tmp_path / "outside")
    os.environ["YKT_TEST_SECRET"] = "platform-token-0123456789"
    results = run(wh, inbox, tmp_path)
    by_name = {r.name: r for r in results}
    assert by_name[attacks.GOOD_NAME].status == "loaded"
    assert wh.rows("t", "select count(*) from entitlements") == [(3,)]
    for entry in entries:
        got = by_name[entry.name]
        assert (got.status, got.reason_code, got.rows_read) == ("rejected", "INBOX_NOT_REGULAR", 0), entry
    assert len(results) == len(entries) + 1
    archived = b"".join(p.read_bytes() for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert b"root:" not in archived and b"platform-token" not in archived
    dumped = str(wh.rows("t", "select * from rejects")) + str(wh.rows("t", "select * from run_files"))
    assert "platform-token" not in dumped and "root:" not in dumped


def _swap_file_for_link(path: Path, secret: Path) -> None:
    path.unlink()
    path.symlink_to(secret)


def _swap_folder_for_link(path: Path, secret: Path) -> None:
    folder = path.parent
    folder.rename(folder.with_name(folder.name + "-aside"))
    folder.symlink_to(secret.parent)


@pytest.mark.parametrize("swap", [_swap_file_for_link, _swap_folder_for_link], ids=["file", "folder"])
def test_an_upload_swapped_for_a_link_after_the_listing_is_never_read(wh, tmp_path, monkeypatch, swap):
    """Fixture: the inbox holds the good roster and a second roster; right after the night lists the
    inbox, the second roster (or its whole folder) is swapped for a link to a roster of five people
    outside the inbox, named the same. The night reports it INBOX_NOT_REGULAR once and reads nothing
    of the outside roster: not loaded, not archived, not counted (a swapped folder is itself a link, reported too)."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    second = attacks.good_roster(inbox / "roster" / "第二批", "城乡低保_2024年3月_第二批.csv", people=1)
    secret = attacks.good_roster(tmp_path / "outside", second.name, people=5)
    listed = ingest_night.list_uploads

    def list_then_swap(folder: Path):
        found = listed(folder)
        swap(second, secret)
        return found

    monkeypatch.setattr(ingest_night, "list_uploads", list_then_swap)
    results = run(wh, inbox, tmp_path)
    by_name = {r.name: r for r in results}
    assert by_name[attacks.GOOD_NAME].status == "loaded"
    assert (by_name[second.name].status, by_name[second.name].reason_code) == (
        "rejected",
        "INBOX_NOT_REGULAR",
    )
    linked_folder = {"第二批"} if swap is _swap_folder_for_link else set()
    assert by_name.keys() == {attacks.GOOD_NAME, second.name, *linked_folder}
    assert wh.rows("t", "select count(*) from entitlements") == [(3,)]
    archived = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert secret.read_bytes() not in [p.read_bytes() for p in archived]
    assert not list((tmp_path / "archive").glob(".incoming*")), "the night's private copies are removed"


def _rejected(wh: Warehouse, inbox: Path, tmp_path: Path, name: str):
    """The night over `inbox` (its good roster loads): the result of the file called `name`."""
    results = {r.name: r for r in run(wh, inbox, tmp_path)}
    assert results[attacks.GOOD_NAME].status == "loaded"
    return results[name]


def test_a_csv_with_one_3_mb_cell_is_rejected_as_too_large_and_the_night_goes_on(wh, tmp_path):
    """Fixture: a roster whose first data line holds a 3 MB cell (its parts were sized from the first lines'
    average length: a MemoryError). Rejected as a whole, naming line 2 and the limit; `ykt check` agrees."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    path = attacks.huge_cell_csv(inbox / "roster")
    got = _rejected(wh, inbox, tmp_path, path.name)
    assert (got.status, got.reason_code, got.rows_read) == ("rejected", "FILE_TOO_LARGE", 0)
    assert "第2行" in got.reason and "上限" in got.reason
    with pytest.raises(InputFileError) as checked:
        check_file(path, "roster", PROGRAMS, ALIASES)
    assert checked.value.reason_code == "FILE_TOO_LARGE"


def test_a_zip_bomb_is_rejected_from_its_zip_directory_before_parsing(tmp_path):
    """Fixture: an .xlsx whose workbook.xml unpacks to 2 GB (~2 MB on disk): rejected from the zip directory,
    naming the limit and the real size. A workbook of 20M tiny rows (≈ 496 MB of XML, under the size budget):
    rejected by counting its rows in a stream before any parser holds them."""
    with pytest.raises(InputFileError) as info:
        read_tables(attacks.zip_bomb_xlsx(tmp_path), "roster", ALIASES, PROGRAMS)
    assert info.value.reason_code == "FILE_TOO_LARGE"
    assert "解压后约 2 GB" in info.value.message and "上限" in info.value.message
    with pytest.raises(InputFileError) as info:
        read_tables(attacks.tiny_rows_xlsx(tmp_path), "roster", ALIASES, PROGRAMS)
    assert info.value.reason_code == "FILE_TOO_LARGE" and "上限" in info.value.message


def test_a_sheet_with_more_rows_than_allowed_is_counted_and_refused_before_parsing(tmp_path, monkeypatch):
    """Fixture: a 2,000-row roster .xlsx (ordinary compression) against a 1,000-row budget, with the row count
    switched on for every sheet size (in production: sheets of 64 MB or more). Its rows are counted in a
    stream and the file is refused before calamine holds them."""
    from tests.support.ods import write_ods  # an .ods content.xml is counted the same way
    from ykt.config import Settings
    from ykt.ingest.read.formats import limits

    monkeypatch.setattr(limits, "_COUNT_ROWS_FROM", 0)
    rows = [
        ["姓名", "身份证号码", "应发金额"],
        *([f"村民{i}", f"5107231950010{i:05d}", "1350"] for i in range(2000)),
    ]
    path = write_ods(tmp_path / "低保花名册.ods", {"花名册": rows})
    with pytest.raises(InputFileError) as info:
        limits.check_zip_directory(path, Settings(max_rows=1000))
    assert info.value.reason_code == "FILE_TOO_LARGE" and "1000 行上限" in info.value.message
    limits.check_zip_directory(path, Settings(max_rows=5000))  # within the budget: nothing to say


def test_a_legacy_xls_over_its_own_byte_budget_is_refused_before_parsing(tmp_path):
    """Fixture: a 3-person roster saved as .xls (a few KB) against an .xls budget of 1,000 bytes (in
    production 120 MB: calamine parses a whole .xls at once, bench/README.md). Refused as FILE_TOO_LARGE,
    telling the clerk to save it as .xlsx/.csv or split it; within the budget it reads whole."""
    import dataclasses

    import xlwt

    from ykt.config import Settings

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("花名册")
    for r, row in enumerate(
        [["姓名", "身份证号码", "应发金额"], *(["村民", p.id_number, "1350"] for p in attacks.PEOPLE[:3])]
    ):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "城乡低保_2024年3月_花名册.xls"
    book.save(str(path))
    small = dataclasses.replace(PROGRAMS, settings=Settings(max_xls_bytes=1000))
    with pytest.raises(InputFileError) as info:
        read_tables(path, "roster", ALIASES, small)
    assert info.value.reason_code == "FILE_TOO_LARGE"
    assert (
        ".xls" in info.value.message and "上限" in info.value.message and ".xlsx" in (info.value.hint or "")
    )
    assert sum(t.frame.height for t in read_tables(path, "roster", ALIASES, PROGRAMS)) == 3


def test_an_ods_over_its_own_unpacked_budget_is_refused_before_parsing(tmp_path):
    """Fixture: a 3-person roster .ods against an .ods unpacked budget of 100 bytes (in production 500 MiB,
    below the 600 MiB of an .xlsx: its one content.xml is parsed whole, bench/README.md). Refused from the zip
    directory as FILE_TOO_LARGE; the same file reads whole under the default budgets."""
    import dataclasses

    from tests.support.ods import write_ods
    from ykt.config import Settings

    rows = [["姓名", "身份证号码", "应发金额"], *(["村民", p.id_number, "1350"] for p in attacks.PEOPLE[:3])]
    path = write_ods(tmp_path / "城乡低保_2024年3月_花名册.ods", {"花名册": rows})
    small = dataclasses.replace(PROGRAMS, settings=Settings(max_ods_unpacked_bytes=100))
    with pytest.raises(InputFileError) as info:
        read_tables(path, "roster", ALIASES, small)
    assert info.value.reason_code == "FILE_TOO_LARGE" and "解压后" in info.value.message
    assert sum(t.frame.height for t in read_tables(path, "roster", ALIASES, PROGRAMS)) == 3


@pytest.mark.parametrize("lines", [20_000, 200_000])
def test_one_stray_quote_rejects_the_file_naming_its_line_and_quoting_no_row(wh, tmp_path, lines):
    """Fixture: a roster of 20k (and 200k) lines with ONE stray `"` opening line 3's name cell (the CSV part
    cutting counted quotes again for every line: superlinear time). Rejected naming line 3; no ID of any row
    appears in what is recorded (polars' own error quotes the raw rows)."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    path = attacks.stray_quote_csv(inbox / "roster", lines)
    got = _rejected(wh, inbox, tmp_path, path.name)
    assert got.status == "rejected" and got.reason_code in ("FILE_TOO_LARGE", "FILE_UNREADABLE")
    assert "第3行" in got.reason
    recorded = str(wh.rows("t", "select * from rejects")) + str(wh.rows("t", "select * from run_files"))
    assert not any(p.id_number in recorded for p in attacks.PEOPLE)


def test_a_small_csv_with_a_stray_quote_is_unreadable_without_quoting_raw_rows(tmp_path):
    """Fixture: 5 lines with one stray quote: polars fails and its message holds the rows; ours names the
    file and line only."""
    path = attacks.stray_quote_csv(tmp_path, 5)
    with pytest.raises(InputFileError) as info:
        read_tables(path, "roster", ALIASES, PROGRAMS)
    assert info.value.reason_code == "FILE_UNREADABLE" and "第3行" in info.value.render()
    assert not any(p.id_number in info.value.render() for p in attacks.PEOPLE)


def test_nul_and_escape_bytes_are_removed_at_the_reader_and_the_row_is_warned(wh, tmp_path):
    """Fixture: a roster whose second name holds NUL and ESC. All rows load, the name without them, and
    that row carries TEXT_CONTROL_CHARS; `ykt check` of the same file (with a bad row added) writes its
    annotated copy (openpyxl refuses control characters)."""
    inbox = tmp_path / "inbox"
    path = attacks.nul_csv(inbox / "roster")
    [result] = run(wh, inbox, tmp_path)
    assert (result.status, result.rows_loaded) == ("loaded", 3)
    names = wh.rows("t", "select name, warnings from entitlements order by source_row")
    assert names[1] == (attacks.PEOPLE[1].name, "TEXT_CONTROL_CHARS")
    assert all("\x00" not in n and "\x1b" not in n for n, _ in names)
    with open(path, "a", encoding="utf-8") as out:
        out.write("坏行,123,1350,凤灵街道\n")
    [checked] = check_files([path], PROGRAMS, ALIASES, kind="roster")
    assert checked.rows_rejected == 1 and checked.annotated is not None and checked.annotated.exists()


def test_escape_codes_in_a_file_name_are_shown_escaped_and_reach_workbooks_safely(wh, tmp_path):
    """Fixture: a roster named with ESC [31m and BEL. run_files names it with the codes written out, and
    `ykt check` writes its summary workbook (openpyxl raises IllegalCharacterError on the raw name)."""
    inbox = tmp_path / "inbox"
    path = attacks.escape_named_csv(inbox / "roster")
    [result] = run(wh, inbox, tmp_path)
    assert result.name == "城乡低保_2024年3月_\\x1b[31m红\\x07.csv"
    with open(path, "a", encoding="utf-8") as out:
        out.write("坏行,123,1350,凤灵街道\n")
    [checked] = check_files([path], PROGRAMS, ALIASES, kind="roster")
    assert checked.annotated is not None and "\x1b" not in checked.describe()


def test_a_night_over_every_hostile_file_loads_the_good_one_and_exits_3(tmp_path, capsys):
    """Fixture: one good roster and every attack above in one inbox. `ykt run` loads the good file, reports
    each hostile one with its reason in run.json, and exits 3 (health: attention)."""
    inbox = tmp_path / "inbox"
    attacks.good_roster(inbox / "roster")
    linked = attacks.linked_entries(inbox, tmp_path / "outside")
    roster = inbox / "roster"
    hostile = {
        attacks.huge_cell_csv(roster).name: "FILE_TOO_LARGE",
        attacks.zip_bomb_xlsx(roster).name: "FILE_TOO_LARGE",
        attacks.tiny_rows_xlsx(roster).name: "FILE_TOO_LARGE",
        attacks.stray_quote_csv(roster).name: None,  # too large or unreadable: either names line 3
        **{entry.name: "INBOX_NOT_REGULAR" for entry in linked},
    }
    out = tmp_path / "out"
    args = ["run", "--inbox", str(inbox), "--as-of", "2024-09-12", "--db", str(tmp_path / "w.duckdb")]
    assert main([*args, "--out", str(out), "--engine", "plain", "--no-quality"]) == 3
    files = {
        f["name"]: f for f in json.loads((out / "latest" / "run.json").read_text(encoding="utf-8"))["files"]
    }
    assert files[attacks.GOOD_NAME]["status"] == "loaded"
    for name, code in hostile.items():
        assert files[name]["status"] == "rejected", name
        assert code is None or files[name]["reason_code"] == code, name
