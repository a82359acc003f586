"""The web desk's upload helpers on small in-memory files: names made harmless, formats told by content,
periods the form accepts, spreadsheet column letters."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ykt.config import load_programs
from ykt.web.app import column_letter
from ykt.web.uploads import UploadRefused, composed_stem, periods_ok, receive, safe_stem, sniff


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\低保花名册.xlsx", "低保花名册"),
        ("盐亭县2024年4月低保花名册（改正）.xlsx", "盐亭县2024年4月低保花名册（改正）"),
        ("a.b.c.xlsx", "a_b_c"),
        ("...", "上传文件"),
        ("名单 2024-09 .csv", "名单_2024-09"),
    ],
)
def test_a_clerks_file_name_becomes_one_harmless_path_part(name: str, stem: str) -> None:
    assert safe_stem(name) == stem
    assert "/" not in safe_stem(name) and "." not in safe_stem(name)


def test_the_clerks_choice_names_the_working_copy() -> None:
    """Program and period chosen on the page override what the name says; the night reads them from it."""
    assert composed_stem("名单.xlsx", "农机购置补贴", "2024-08") == "农机购置补贴2024-08"
    assert composed_stem("低保2024年4月.xlsx", None, None) == "低保2024年4月"


@pytest.mark.parametrize(
    ("period", "ok"),
    [
        ("2024-09", True),
        ("2024-Q3", True),
        ("2024", True),
        ("2024-13", False),
        ("2024/09", False),
        ("../x", False),
    ],
)
def test_periods_the_form_accepts(period: str, ok: bool) -> None:
    assert periods_ok(period) is ok


def _write(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(body)
    return path


def test_formats_are_told_by_content(tmp_path: Path) -> None:
    programs = load_programs()
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert sniff(_write(tmp_path, ods.getvalue()), programs) == ".ods"
    assert sniff(_write(tmp_path, "姓名,身份证号码\n张三,1\n".encode("gb18030")), programs) == ".csv"
    assert sniff(_write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)), programs) == ".xls"
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
    with pytest.raises(UploadRefused, match="不是 Excel"):
        sniff(_write(tmp_path, docx.getvalue()), programs)


def test_an_empty_upload_is_refused_and_not_kept(tmp_path: Path) -> None:
    with pytest.raises(UploadRefused, match="空的"):
        receive(io.BytesIO(b""), tmp_path / "blobs", 1 << 20, load_programs())
    assert list((tmp_path / "blobs").iterdir()) == []


@pytest.mark.parametrize(
    ("col", "letters"), [(1, "A"), (7, "G"), (26, "Z"), (27, "AA"), (703, "AAA"), (None, "")]
)
def test_column_letters(col: int | None, letters: str) -> None:
    assert column_letter(col) == letters


def test_an_id_in_a_file_name_is_masked_where_people_read_it() -> None:
    from ykt.web.uploads import display_name

    shown = display_name("李安成510723195510190875低保.xlsx")
    assert (
        "510723195510190875" not in shown and shown.startswith("李安成5107") and shown.endswith("低保.xlsx")
    )
