"""OpenDocument spreadsheets (.ods), as LibreOffice and WPS users save their rosters.

The fixture is one 花名册 sheet under a title: 张三's ID typed as text (loads), 李四's typed as a number
(LibreOffice keeps 15 significant digits, so its last digits are gone: rejected, never repaired).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ods import write_ods
from ykt.config import load_programs
from ykt.errors import InputFileError
from ykt.ingest import check_file, load_aliases

TITLE = "安和县2024年4月城乡低保金发放花名册"
HEADER = ["姓名", "身份证号码", "应发金额"]


@pytest.fixture(scope="module")
def config():
    return load_programs(), load_aliases()


def test_an_ods_roster_loads_its_text_ids_and_rejects_an_id_typed_as_a_number(tmp_path: Path, config):
    rows = [[TITLE], HEADER, ["张三", "11010519491231002X", 1350], ["李四", 510723197001010011, 1350]]
    path = write_ods(tmp_path / "低保花名册.ods", {"花名册": rows})
    [table] = check_file(path, "roster", *config)
    assert table.sheet == "花名册"
    assert table.normalised.loaded.get_column("id_number").to_list() == ["11010519491231002X"]
    assert table.rejects.select("row", "reason_code").rows() == [(4, "ID_SCIENTIFIC")]


def test_a_broken_ods_is_rejected_as_a_whole_with_a_reason(tmp_path: Path, config):
    path = tmp_path / "花名册.ods"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError) as raised:
        check_file(path, "roster", *config)
    assert raised.value.reason_code == "FILE_UNREADABLE"
