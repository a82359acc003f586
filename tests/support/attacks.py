"""Hostile inbox entries and files an attacker or a careless clerk produces (issue 14), one generator each.

Each generator writes into a directory and returns what it wrote; the tests in
tests/integration/test_hostile.py say which protection each one proves.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from tests.support.hostile import PEOPLE

ROSTER_HEADER = "姓名,身份证号码,应发金额,乡镇（街道）"
GOOD_NAME = "城乡低保_2024年3月_花名册.csv"


def good_roster(folder: Path, name: str = GOOD_NAME, people: int = 3) -> Path:
    """A DIBAO 2024-03 roster every reader loads whole (program and period in the file name)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [ROSTER_HEADER, *(f"{p.name},{p.id_number},1350,凤灵街道" for p in PEOPLE[:people])]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def linked_entries(inbox: Path, outside: Path) -> list[Path]:
    """Entries that are not regular files of the inbox: links to the process environment and to
    /etc/passwd, a link to a good roster outside the inbox, a linked folder holding one, and a FIFO."""
    outside_roster = good_roster(outside, "城乡低保_2024年3月_外部.csv", people=2)
    (inbox / "payments").mkdir(parents=True, exist_ok=True)
    (inbox / "roster").mkdir(parents=True, exist_ok=True)
    entries = {
        inbox / "payments" / "e.csv": Path("/proc/self/environ"),
        inbox / "roster" / "城乡低保_2024年3月_passwd.csv": Path("/etc/passwd"),
        inbox / "roster" / "城乡低保_2024年3月_外部.csv": outside_roster,
        inbox / "roster" / "linked": outside,
    }
    for link, target in entries.items():
        link.symlink_to(target)
    fifo = inbox / "roster" / "城乡低保_2024年3月_pipe.csv"
    os.mkfifo(fifo)
    return [*entries, fifo]


def huge_cell_csv(folder: Path, cell_chars: int = 3_000_000) -> Path:
    """A roster whose first data line holds one cell of `cell_chars` characters (a pasted blob)."""
    folder.mkdir(parents=True, exist_ok=True)
    person = PEOPLE[0]
    path = folder / "城乡低保_2024年3月_大单元格.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{ROSTER_HEADER}\n{'王' + 'A' * cell_chars},{person.id_number},1350,凤灵街道\n")
        out.writelines(f"{p.name},{p.id_number},1350,凤灵街道\n" for p in PEOPLE[1:])
    return path


def stray_quote_csv(folder: Path, lines: int = 20_000, name: str = "城乡低保_2024年3月_引号.csv") -> Path:
    """A `lines`-row roster with ONE stray `"` opening the name cell of line 3."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{PEOPLE[i % 8].name},{PEOPLE[i % 8].id_number},1350,凤灵街道" for i in range(lines)]
    rows[1] = '"' + rows[1]
    path = folder / name
    path.write_text("\n".join([ROSTER_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def nul_csv(folder: Path) -> Path:
    """A roster whose second person's name holds NUL and ESC bytes (a broken export)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "城乡低保_2024年3月_NUL.csv"
    names = [p.name for p in PEOPLE[:3]]
    names[1] = names[1][0] + "\x00\x1b" + names[1][1:]
    lines = [ROSTER_HEADER, *(f"{n},{p.id_number},1350,凤灵街道" for n, p in zip(names, PEOPLE))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def escape_named_csv(folder: Path) -> Path:
    """A good roster whose file name holds terminal escape codes (ESC [31m) and a BEL."""
    return good_roster(folder, "城乡低保_2024年3月_\x1b[31m红\x07.csv")


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _deflated_entry(archive: zipfile.ZipFile, name: str, head: bytes, filler: bytes, total: int) -> None:
    """One zip member of `total` bytes (head, then filler repeated), streamed through the compressor."""
    with archive.open(_deflated(name), "w", force_zip64=True) as member:
        member.write(head)
        written, block = len(head), filler * ((1 << 20) // len(filler))
        while written < total:
            piece = block[: total - written]
            member.write(piece)
            written += len(piece)


_CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def zip_bomb_xlsx(folder: Path, unpacked: int = 2 << 30) -> Path:
    """An .xlsx whose workbook.xml unpacks to `unpacked` bytes of whitespace (a zip bomb, ~2 MB on disk per GB)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "城乡低保_2024年3月_炸弹.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        _deflated_entry(archive, "xl/workbook.xml", b'<?xml version="1.0"?><workbook>', b" ", unpacked)
    return path


def tiny_rows_xlsx(folder: Path, rows: int = 20_000_000) -> Path:
    """An .xlsx of `rows` one-cell rows (a few MB on disk, ~1 GB of sheet XML)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "城乡低保_2024年3月_小行.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with archive.open(_deflated("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            for start in range(1, rows + 1, 100_000):
                member.write(
                    b"".join(b"<row><c><v>1</v></c></row>" for _ in range(min(100_000, rows + 1 - start)))
                )
            member.write(b"</sheetData></worksheet>")
    return path
