"""Ingest: nothing lost, nothing doubled (issue 3) — on real files, a real DuckDB and the real reader."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.hostile import PEOPLE, make_id, write_all
from ykt.config import load_programs
from ykt.ingest import ingest_inbox
from ykt.ingest import load as ingest_load
from ykt.ingest import night as ingest
from ykt.ingest import stream as ingest_stream
from ykt.ingest.archive import content_hash
from ykt.ingest.inbox import discover_inbox
from ykt.ingest.read.tables import load_aliases
from ykt.ingest.snapshot import Upload, take_snapshot
from ykt.warehouse.connection import Warehouse

PROGRAMS = load_programs()
ALIASES = load_aliases()
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.I)


@pytest.fixture()
def wh():
    with Warehouse(":memory:") as warehouse:
        yield warehouse


def run(wh: Warehouse, inbox: Path, tmp_path: Path, run_id: str = "r1"):
    return ingest_inbox(wh, inbox, PROGRAMS, ALIASES, run_id, tmp_path / "archive")


def roster_csv(inbox: Path, name: str, rows: list[tuple[str, str, str, str]]) -> Path:
    """A DIBAO 2024-03 roster (program and period in the file name): 姓名, 身份证号码, 应发金额, 乡镇（街道）."""
    path = inbox / "roster" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["姓名,身份证号码,应发金额,乡镇（街道）", *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def count(wh: Warehouse, sql: str, params=None) -> int:
    return wh.rows("test", sql, params)[0][0]


# -- the hostile corpus ------------------------------------------------------------------------------


def expected_rejects(case) -> set[tuple[int, str]]:
    """(row, reason) implied by each fixture's design: number-cell or scientific IDs, number-cell
    cards, bank files without a status column, and annual/once rosters without an approval date
    (issue 2: no due date can be derived)."""
    expected = set()
    index = PROGRAMS.name_index()
    for t in case.tables:
        for row, cells in zip(t.source_rows, t.rows):
            if row in t.numeric.get("id_number", ()) or _SCIENTIFIC.match(cells.get("id_number") or ""):
                expected.add((row, "ID_SCIENTIFIC"))
            if row in t.numeric.get("card_number", ()):
                expected.add((row, "CARD_INVALID"))
            if case.kind == "payments" and "status" not in t.roles:
                expected.add((row, "STATUS_MISSING"))
            program = (
                PROGRAMS.by_code(t.program_hint or index[cells["program"]]) if case.kind == "roster" else None
            )
            if (
                program
                and program.cadence in ("annual", "once")
                and not {"approval_date", "due_date"} & set(t.roles)
            ):
                expected.add((row, "DUE_DATE_UNKNOWN"))
    return expected


def listed(path: Path, kind: str) -> Upload:
    """The file as the inbox listing would give it."""
    info = os.lstat(path)
    return Upload(path, kind, (info.st_dev, info.st_ino))


def test_every_hostile_fixture_loads_exactly_what_its_design_says(wh, tmp_path):
    """Each hostile file (tests/support/hostile.py) is ingested on its own: rejected files count every data
    row as rejected with their FILE_* code; the others load exactly the rows with no designed
    defect and reject the others with the designed reason; rows_read = loaded + rejected."""
    for index, case in enumerate(write_all(tmp_path / "corpus")):
        copy = take_snapshot(listed(case.path, case.kind), tmp_path / "copies", index)
        result = ingest.ingest_file(wh, copy, PROGRAMS, ALIASES, "r1", tmp_path / "archive")
        assert result.rows_read == result.rows_loaded + result.rows_rejected, case.name
        if case.error:
            assert (result.status, result.rows_read, result.rows_rejected) == (
                "rejected",
                case.data_rows,
                case.data_rows,
            ), case.name
            assert wh.rows(
                "t", "select reason_code from files where file_hash = $h", {"h": result.file_hash}
            ) == [(case.error,)]
            continue
        got = set(
            wh.rows(
                "t", 'select "row", reason_code from rejects where file_hash = $h', {"h": result.file_hash}
            )
        )
        expected = expected_rejects(case)
        assert got == expected, case.name
        assert result.rows_read == case.data_rows, case.name
        assert result.rows_rejected == len({row for row, _ in expected}), case.name


def test_total_mismatch_is_reported_on_the_file_but_rows_load(wh, tmp_path):
    """合计 1596.00 written under details summing to 1496.00: the file says so, the rows still load."""
    roster = tmp_path / "inbox" / "roster"
    roster.mkdir(parents=True)
    lines = [
        "2024年3月城乡低保金发放花名册",
        "姓名,身份证号码,应发金额",
        *(f"{p.name},{p.id_number},{a}" for p, a in zip(PEOPLE, ("312.40", '"1,088.00"', "95.60"))),
        "合计,,1596.00",
    ]
    (roster / "低保.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    [result] = run(wh, tmp_path / "inbox", tmp_path)
    assert (result.status, result.rows_loaded) == ("loaded", 3)
    assert "1596.00" in result.reason and "1496.00" in result.reason
    assert wh.rows("t", "select reason_code, control_total, detail_total from files") == [
        ("FILE_TOTAL_MISMATCH", pytest.approx(1596), pytest.approx(1496))
    ]


# -- nothing doubled ------------------------------------------------------------------------------------


def test_same_file_twice_under_two_names_is_loaded_once(wh, tmp_path):
    """Two copies of one roster (different names, same bytes) in one run, then again next night."""
    inbox = tmp_path / "inbox"
    first = roster_csv(
        inbox, "城乡低保_2024年3月_a.csv", [(p.name, p.id_number, "1350", "凤灵街道") for p in PEOPLE[:3]]
    )
    (inbox / "roster" / "城乡低保_2024年3月_副本.csv").write_bytes(first.read_bytes())
    results = run(wh, inbox, tmp_path)
    assert sorted(r.status for r in results) == ["duplicate", "loaded"]
    assert count(wh, "select count(*) from entitlements") == 3
    again = run(wh, inbox, tmp_path, "r2")
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert count(wh, "select count(*) from entitlements") == 3
    assert count(wh, "select count(*) from run_files") == 4


def test_corrected_reupload_supersedes_the_earlier_roster(wh, tmp_path):
    """Night 1: 凤灵街道 roster with persons 0,1. Night 2: a corrected roster for the same
    (DIBAO, 2024-03, 凤灵街道) with person 0 at a new amount and person 2 instead of 1."""
    inbox = tmp_path / "inbox"
    old = roster_csv(
        inbox, "城乡低保_2024年3月_v1.csv", [(p.name, p.id_number, "1350", "凤灵街道") for p in PEOPLE[:2]]
    )
    run(wh, inbox, tmp_path, "r1")
    old_hash = content_hash(old)
    old.unlink()
    new = roster_csv(
        inbox,
        "城乡低保_2024年3月_v2.csv",
        [
            (PEOPLE[0].name, PEOPLE[0].id_number, "1400", "凤灵街道"),
            (PEOPLE[2].name, PEOPLE[2].id_number, "1350", "凤灵街道"),
        ],
    )
    [result] = run(wh, inbox, tmp_path, "r2")
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 2, 0)
    current = wh.rows(
        "t", "select id_number, amount_due from entitlements where superseded_by is null order by id_number"
    )
    assert current == sorted(
        [(PEOPLE[0].id_number, pytest.approx(1400)), (PEOPLE[2].id_number, pytest.approx(1350))]
    )
    assert (
        count(wh, "select count(*) from entitlements where superseded_by = $h", {"h": content_hash(new)}) == 2
    )
    assert wh.rows(
        "t",
        "select new_file_hash, old_file_hash, program_code, period, township, rows_superseded from supersessions",
    ) == [(result.file_hash, old_hash, "DIBAO", "2024-03", "凤灵街道", 2)]


def test_same_entitlement_on_another_township_roster_is_rejected(wh, tmp_path):
    """Person 0 is on the 凤灵街道 roster; a 富驿镇 roster for the same program and period lists
    person 0 again (and person 3): the repeat cannot create a second entitlement."""
    inbox = tmp_path / "inbox"
    roster_csv(inbox, "城乡低保_2024年3月_a.csv", [(PEOPLE[0].name, PEOPLE[0].id_number, "1350", "凤灵街道")])
    run(wh, inbox, tmp_path, "r1")
    roster_csv(
        inbox,
        "城乡低保_2024年3月_b.csv",
        [
            (PEOPLE[0].name, PEOPLE[0].id_number, "1350", "富驿镇"),
            (PEOPLE[3].name, PEOPLE[3].id_number, "1350", "富驿镇"),
        ],
    )
    results = {r.name: r for r in run(wh, inbox, tmp_path, "r2")}
    second = results["城乡低保_2024年3月_b.csv"]
    assert (second.rows_read, second.rows_loaded, second.rows_rejected) == (2, 1, 1)
    assert wh.rows("t", 'select "row", "column", reason_code from rejects') == [
        (2, "身份证号码", "ENTITLEMENT_EXISTS")
    ]
    assert (
        count(wh, "select count(*) from entitlements where id_number = $i", {"i": PEOPLE[0].id_number}) == 1
    )


# -- nothing lost ----------------------------------------------------------------------------------------


def test_crash_inside_the_transaction_leaves_nothing_and_rerun_loads(wh, tmp_path, monkeypatch):
    """A failure after the rows were inserted (while writing the rejects) rolls everything back;
    the next run loads the file as if nothing had happened."""
    inbox = tmp_path / "inbox"
    roster_csv(
        inbox,
        "城乡低保_2024年3月.csv",
        [(p.name, p.id_number, "1350", "凤灵街道") for p in PEOPLE[:3]]
        + [("坏行", "360426199101010072", "1350", "凤灵街道")],
    )

    def power_cut(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_load, "_insert_rejects", power_cut)
    with pytest.raises(RuntimeError):
        run(wh, inbox, tmp_path)
    for table in ("entitlements", "rejects", "files", "run_files", "supersessions"):
        assert count(wh, f"select count(*) from {table}") == 0, table
    monkeypatch.undo()
    [result] = run(wh, inbox, tmp_path, "r2")
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 3, 1)


def test_archive_keeps_the_bytes_and_who_sent_them(wh, tmp_path):
    """The archived copy is byte-identical under its hash, with a receipt naming the original file."""
    inbox = tmp_path / "inbox"
    path = roster_csv(
        inbox, "城乡低保_2024年3月.csv", [(PEOPLE[0].name, PEOPLE[0].id_number, "1350", "凤灵街道")]
    )
    ingest_inbox(wh, inbox, PROGRAMS, ALIASES, "r1", tmp_path / "archive", uploaded_by="凤灵街道张三")
    digest = content_hash(path)
    copy = tmp_path / "archive" / digest[:2] / f"{digest}.csv"
    assert copy.read_bytes() == path.read_bytes()
    receipt = json.loads((copy.parent / f"{digest}.json").read_text(encoding="utf-8"))
    assert (receipt["original_name"], receipt["uploaded_by"]) == ("城乡低保_2024年3月.csv", "凤灵街道张三")


def test_rejected_file_is_retried_and_stray_files_are_reported(wh, tmp_path):
    """A file with unknown headers is rejected every night (never a silent 'duplicate'); a file
    dropped at the inbox root is reported as of unknown kind."""
    inbox = tmp_path / "inbox"
    (inbox / "payments").mkdir(parents=True)
    (inbox / "payments" / "乱码.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    (inbox / "花名册.csv").write_text("姓名,身份证号码\n", encoding="utf-8")
    assert [kind for _, kind in discover_inbox(inbox)] == ["payments"]
    for night in ("r1", "r2"):
        results = sorted(run(wh, inbox, tmp_path, night), key=lambda r: r.kind)
        assert [(r.kind, r.status) for r in results] == [("payments", "rejected"), ("unknown", "rejected")]
        # no header recognised, so every non-blank line of the file counts as a rejected row
        assert results[0].rows_read == results[0].rows_rejected == 2
    assert count(wh, "select count(*) from files") == 1


def test_whole_file_rejections_are_one_rejects_line_each_and_own_files_are_not_uploads(wh, tmp_path):
    """Fixture: an inbox holding a roster with unknown headers, a stray file at its root, and (by mistake)
    the warehouse's archive and an output folder. The two bad uploads are one rejects line each (no row or
    column), still one line each after a second night; the archive and outputs are never taken for uploads."""
    inbox = tmp_path / "inbox"
    (inbox / "roster").mkdir(parents=True)
    (inbox / "roster" / "乱码.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    (inbox / "说明.txt").write_text("姓名,身份证号码\n", encoding="utf-8")
    (inbox / "out").mkdir()
    (inbox / "out" / "run.json").write_text("{}", encoding="utf-8")
    for night in ("r1", "r2"):
        results = ingest_inbox(
            wh, inbox, PROGRAMS, ALIASES, night, inbox / "archive", exclude=(inbox / "out",)
        )
        assert sorted((r.name, r.status) for r in results) == [
            ("乱码.csv", "rejected"),
            ("说明.txt", "rejected"),
        ]
    lines = wh.rows("test", 'select file_name, "row", "column", reason_code from rejects order by file_name')
    assert lines == [
        ("乱码.csv", None, None, "FILE_HEADERS_UNKNOWN"),
        ("说明.txt", None, None, "FILE_KIND_UNKNOWN"),
    ]


def test_files_are_read_ahead_but_recorded_in_order(wh, tmp_path):
    """Three rosters (a, b, c by name); b has unknown headers. The loader reads one file ahead,
    yet the results come back in inbox order: a loaded, b rejected as a whole, c loaded, each
    with its own rows, and the rejected file's receipt is archived like the others."""
    inbox = tmp_path / "inbox"
    roster_csv(
        inbox, "城乡低保_2024年3月_a.csv", [(p.name, p.id_number, "1350", "凤灵街道") for p in PEOPLE[:2]]
    )
    (inbox / "roster" / "城乡低保_2024年3月_b.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    roster_csv(
        inbox, "城乡低保_2024年3月_c.csv", [(p.name, p.id_number, "1350", "万安社区") for p in PEOPLE[2:5]]
    )
    results = run(wh, inbox, tmp_path)
    assert [(r.name[-5:], r.status, r.rows_loaded) for r in results] == [
        ("a.csv", "loaded", 2),
        ("b.csv", "rejected", 0),
        ("c.csv", "loaded", 3),
    ]
    assert count(wh, "select count(*) from entitlements") == 5
    assert len(list((tmp_path / "archive").rglob("*.json"))) == 3


def test_mac_workbook_dates_count_from_1904(wh, tmp_path):
    """A roster saved with the 1904 date system (Excel for Mac): its 应发日期 typed as the plain
    number 43000 is 1904-01-01 + 43000 days = 2021-09-23 (in a 1900 workbook it would be
    2017-09-22); a real date cell is unaffected."""
    import datetime as dt

    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["姓名", "身份证号码", "应发金额", "应发日期"])
    sheet.append([PEOPLE[0].name, PEOPLE[0].id_number, "1350", 43000])
    sheet.append([PEOPLE[1].name, PEOPLE[1].id_number, "1350", dt.date(2024, 3, 10)])
    (tmp_path / "inbox" / "roster").mkdir(parents=True)
    workbook.save(tmp_path / "inbox" / "roster" / "城乡低保_2024年3月.xlsx")
    [result] = run(wh, tmp_path / "inbox", tmp_path)
    assert result.status == "loaded"
    assert wh.rows("t", "select due_date from entitlements order by source_row") == [
        (dt.date(2021, 9, 23),),
        (dt.date(2024, 3, 10),),
    ]


# -- files read in parts ------------------------------------------------------------------------------


def _ingest_in_batches(tmp_path: Path, inbox: Path, batch_rows: int, monkeypatch) -> tuple[list, dict]:
    """Ingest `inbox` into a fresh warehouse reading CSVs in parts of `batch_rows` rows; return the
    results and every loaded row, reject and files row (file hashes are the same bytes either way)."""
    monkeypatch.setattr(ingest_stream, "BATCH_ROWS", batch_rows)
    with Warehouse(":memory:") as warehouse:
        results = ingest_inbox(warehouse, inbox, PROGRAMS, ALIASES, "r1", tmp_path / f"archive{batch_rows}")
        tables = {
            "entitlements": warehouse.rows("t", "select * from entitlements order by source_row"),
            "rejects": warehouse.rows("t", 'select * from rejects order by "row", reason_code'),
            "files": warehouse.rows(
                "t",
                "select rows_read, rows_loaded, rows_rejected, reason_code, control_total, detail_total "
                "from files",
            ),
        }
    return results, tables


def _people(n: int) -> list[tuple[str, str]]:
    """n distinct (name, valid ID) pairs."""
    return [(f"人员{i}", make_id("510723", f"1960{1 + i % 12:02d}{1 + i % 28:02d}", i)) for i in range(n)]


def test_a_file_larger_than_a_batch_loads_exactly_like_the_whole_file(tmp_path, monkeypatch):
    """A GB18030 roster: title on line 1, header on line 2, 40 data rows on lines 3-42, 合计 on
    line 43 adding up every amount written, a signature on line 44. Read in parts of 8 rows (the
    first part is the 30 lines the header is looked for in), line 36 (a later part) repeats line
    5's person (DUPLICATE_ROW), line 39 has amount 'abc' (AMOUNT_INVALID) and line 42's township is
    a quoted cell holding a newline. In parts it loads exactly what it loads whole: 38 rows loaded,
    those 2 rejected at their own line numbers, the control total agrees with the details."""
    inbox = tmp_path / "inbox"
    (inbox / "roster").mkdir(parents=True)
    people = _people(40)
    people[33] = people[2]  # line 36 = data row 34 repeats line 5
    amounts = [f"{100 + i}.50" for i in range(40)]
    amounts[36] = "abc"  # line 39
    towns = ["凤灵街道"] * 39 + ['"凤灵\n街道"']  # line 42
    rows = [f"{name},{id_number},{a},{t}" for (name, id_number), a, t in zip(people, amounts, towns)]
    written = sum(Decimal(a) for a in amounts if a != "abc")
    lines = [
        "城乡低保2024年3月发放花名册",
        "姓名,身份证号码,应发金额,乡镇（街道）",
        *rows,
        f"合计,,{written},",
        "制表人：张三",
    ]
    (inbox / "roster" / "低保.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))

    [whole], whole_tables = _ingest_in_batches(tmp_path, inbox, 1_000_000, monkeypatch)
    [parts], part_tables = _ingest_in_batches(tmp_path, inbox, 8, monkeypatch)
    assert part_tables == whole_tables
    assert (parts.status, parts.rows_read, parts.rows_loaded, parts.rows_rejected, parts.reason) == (
        "loaded",
        40,
        38,
        2,
        None,
    )
    assert [(r[3], r[6]) for r in part_tables["rejects"]] == [(36, "DUPLICATE_ROW"), (39, "AMOUNT_INVALID")]
    assert part_tables["files"] == [(40, 38, 2, None, pytest.approx(written), pytest.approx(written))]
    assert ("凤灵街道", 42) in [(r[13], r[2]) for r in part_tables["entitlements"]]


def test_a_column_decision_needing_the_whole_file_is_taken_from_the_whole_file(tmp_path, monkeypatch):
    """A CSV has no cell types: whether its IDs went through Excel's number cells is decided over the
    whole column (half or more of the long values zero-padded). The first part (lines 2-30) holds
    genuine IDs only; the 40 rows on lines 31-70 are zero-padded (ID…000): read in parts of 8, the
    whole file still decides, so exactly those 40 rows are rejected ID_SCIENTIFIC, as when read whole."""
    inbox = tmp_path / "inbox"
    people = _people(69)
    rows = [(name, id_number, "1350", "凤灵街道") for name, id_number in people[:29]]
    rows += [(name, id_number[:15] + "000", "1350", "凤灵街道") for name, id_number in people[29:]]
    roster_csv(inbox, "城乡低保_2024年3月.csv", rows)
    _, whole_tables = _ingest_in_batches(tmp_path, inbox, 1_000_000, monkeypatch)
    [parts], part_tables = _ingest_in_batches(tmp_path, inbox, 8, monkeypatch)
    assert part_tables == whole_tables
    assert (parts.rows_loaded, parts.rows_rejected) == (29, 40)
    assert {(r[3], r[6]) for r in part_tables["rejects"]} == {
        (line, "ID_SCIENTIFIC") for line in range(31, 71)
    }


def test_a_file_failing_in_a_later_part_leaves_nothing_and_the_next_file_loads(tmp_path, monkeypatch):
    """Roster a: GB18030, header on line 1, 40 good rows on lines 2-41, then bytes that are no GB18030
    on line 42, read in parts of 8 (its first parts are inserted before the bad one is met). It is
    rejected as a whole (FILE_ENCODING) with none of its rows kept; roster b after it, in the same
    run, loads its 3 rows."""
    inbox = tmp_path / "inbox"
    (inbox / "roster").mkdir(parents=True)
    good = (
        "\n".join(
            ["姓名,身份证号码,应发金额"] + [f"{name},{id_number},100" for name, id_number in _people(40)]
        )
        + "\n"
    )
    (inbox / "roster" / "城乡低保_2024年3月_a.csv").write_bytes(
        good.encode("gb18030") + b"\xff\xfe\xff,1,2\n"
    )
    roster_csv(
        inbox, "城乡低保_2024年3月_b.csv", [(p.name, p.id_number, "1350", "凤灵街道") for p in PEOPLE[:3]]
    )
    monkeypatch.setattr(ingest_stream, "BATCH_ROWS", 8)
    with Warehouse(":memory:") as warehouse:
        a, b = ingest_inbox(warehouse, inbox, PROGRAMS, ALIASES, "r1", tmp_path / "archive")
        assert (a.status, a.rows_loaded, b.status, b.rows_loaded) == ("rejected", 0, "loaded", 3)
        assert warehouse.rows(
            "t", "select reason_code from files where file_hash = $h", {"h": a.file_hash}
        ) == [("FILE_ENCODING",)]
        assert warehouse.rows("t", "select count(*), count(distinct file_hash) from entitlements") == [(3, 1)]
