"""The GB18030 decoder: glibc's iconv where present, Python's codec where not, one mapping either way.

Fixtures are built from Python's own encoder, so they cover every character a GB18030 file
can hold; the edition differences are the 25 two-byte codes and the retired four-byte codes
listed in ykt.ingest.read.gb18030."""

from __future__ import annotations

import pytest

from ykt.ingest.read import gb18030

needs_iconv = pytest.mark.skipif(gb18030._iconv() is None, reason="this process has no usable glibc iconv")
# Characters whose 2000-edition four-byte codes the 2022 edition retired (glibc rejects those bytes).
RETIRED = {*range(0x9FB4, 0x9FBC), *range(0xFE10, 0xFE1A)}


def _every_character() -> str:
    return "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000 and c not in RETIRED)


@needs_iconv
def test_both_decoders_give_the_same_text_for_every_character():
    data = _every_character().encode("gb18030")
    assert gb18030._iconv_to_utf8(data) == gb18030.python_to_utf8(data)


@needs_iconv
def test_both_decoders_agree_on_every_two_byte_code():
    codes = [
        bytes([lead, trail])
        for lead in range(0x81, 0xFF)
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFF))
    ]
    valid = b"".join(code for code in codes if gb18030._iconv_to_utf8(code) is not None)
    assert gb18030._iconv_to_utf8(valid) == gb18030.python_to_utf8(valid)


def test_codes_the_2005_edition_gave_real_characters_decode_to_them():
    # FE51 (𠂇), FE59 (龴) and A6D9 (︐) were private-use in GB18030-2000; the retired four-byte
    # code of 龴 decodes to the same character.
    assert gb18030.to_utf8(bytes.fromhex("fe51fe59a6d9")).decode() == "\U00020087\u9fb4\ufe10"
    assert gb18030.to_utf8(bytes.fromhex("82359037")).decode() == "\u9fb4"
    assert gb18030.python_to_utf8(bytes.fromhex("fe51fe59a6d9a8bc8135f437")) == gb18030.to_utf8(
        bytes.fromhex("fe51fe59a6d9a8bc8135f437")
    )


def test_bytes_that_are_not_gb18030_still_fail():
    with pytest.raises(UnicodeDecodeError):
        gb18030.to_utf8("张三,".encode("gb18030") + b"\x80\xff,")
