"""GB18030 bytes → UTF-8 bytes: the decoder every CSV/TXT upload in the national encoding goes through.

glibc's iconv does the work where the process has it, called through ctypes:
- it converts straight to UTF-8, with no Python str in between;
- ctypes releases the GIL for the call, so one part of a big file is decoded while other
  threads normalise and load the previous one. Python's codec holds the GIL for a whole
  block and stalls every other thread that needs it for that long (ykt.ingest.stream pipelines
  reading, normalising and loading; bench/README.md has the measurement).

The two decoders differ on a few codes, and a file must decode to the same text wherever it
is read, so one mapping is made the product's: GB18030-2005/2022's (the standard in force),
which glibc implements. Those editions gave 25 two-byte codes that GB18030-2000 (Python's
codec) maps to private-use characters their real characters: FE51 is 𠂇 U+20087, FE59 is
龴 U+9FB4, A6D9 is ︐ U+FE10... A name holding one of them is read as the character, not as a
private-use code (which NAME_RARE_CHAR would flag as a lost 生僻字). Where iconv is missing, or
differs on a probe of those codes, or rejects a block Python's codec accepts (the 2000
edition's four-byte codes for the same characters, retired in 2022), Python's codec decodes
it and its private-use results are mapped to the same characters. A block neither accepts
raises UnicodeDecodeError, from Python's codec, whose position the caller reports.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

# Python's gb18030 (the 2000 edition) → the character GB18030-2005/2022 and glibc give the same bytes.
# The editions also swapped ḿ (U+1E3F): Python reads it from 8135F437, glibc from A8BC; translate()
# replaces simultaneously, so the pair is swapped back.
_TO_STANDARD = {
    0x1E3F: 0xE7C7,
    0xE78D: 0xFE10,
    0xE78E: 0xFE12,
    0xE78F: 0xFE11,
    0xE790: 0xFE13,
    0xE791: 0xFE14,
    0xE792: 0xFE15,
    0xE793: 0xFE16,
    0xE794: 0xFE17,
    0xE795: 0xFE18,
    0xE796: 0xFE19,
    0xE7C7: 0x1E3F,
    0xE816: 0x20087,
    0xE817: 0x20089,
    0xE818: 0x200CC,
    0xE81E: 0x9FB4,
    0xE826: 0x9FB5,
    0xE82B: 0x9FB6,
    0xE82C: 0x9FB7,
    0xE831: 0x215D7,
    0xE832: 0x9FB8,
    0xE83B: 0x2298F,
    0xE843: 0x9FB9,
    0xE854: 0x9FBA,
    0xE855: 0x241FE,
    0xE864: 0x9FBB,
}
# The UTF-8 lead bytes of U+E000..U+EFFF and U+1000..U+1FFF, where all of them lie: a one-byte
# search is a memchr, far cheaper than looking for the characters (Chinese text has neither).
_DIFFERING_LEADS = (b"\xee", b"\xe1")
_FAILED = ctypes.c_size_t(-1).value


def to_utf8(data: bytes) -> bytes:
    """`data` (GB18030) as UTF-8; UnicodeDecodeError when it is not GB18030."""
    converted = _iconv_to_utf8(data)
    return converted if converted is not None else python_to_utf8(data)


def python_to_utf8(data: bytes) -> bytes:
    """The same conversion by Python's codec, the codes the editions disagree on mapped as glibc maps them."""
    utf8 = data.decode("gb18030").encode("utf-8")
    if not any(lead in utf8 for lead in _DIFFERING_LEADS):
        return utf8
    return (
        utf8.decode("utf-8").translate(_TO_STANDARD).encode("utf-8")
    )  # rare: translate() goes character by character


class _Iconv:
    def __init__(self, libc: ctypes.CDLL):
        self.open, self.convert, self.close = libc.iconv_open, libc.iconv, libc.iconv_close
        self.open.restype, self.open.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
        pointer, size = ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)
        self.convert.restype, self.convert.argtypes = (
            ctypes.c_size_t,
            [ctypes.c_void_p, pointer, size, pointer, size],
        )
        self.close.argtypes = [ctypes.c_void_p]


@lru_cache(maxsize=1)
def _iconv() -> _Iconv | None:
    """glibc's iconv, if this process has it and it converts GB18030 as the product maps it."""
    name = ctypes.util.find_library("c")
    try:
        iconv = _Iconv(ctypes.CDLL(name))
    except (OSError, AttributeError, TypeError):
        return None
    probe = (
        "一卡通 低保 ".encode("gb18030") + bytes.fromhex("fe51fe59a6d9a8bc") + "凤灵街道".encode("gb18030")
    )
    return iconv if _convert(iconv, probe) == python_to_utf8(probe) else None


def _iconv_to_utf8(data: bytes) -> bytes | None:
    """iconv's conversion; None where this process has no usable iconv or iconv rejects the bytes."""
    iconv = _iconv()
    return None if iconv is None else _convert(iconv, data)


def _convert(iconv: _Iconv, data: bytes) -> bytes | None:
    """One iconv call over the whole of `data`, without the GIL; None when iconv cannot
    open the conversion or rejects the bytes (the caller then asks Python's codec)."""
    handle = iconv.open(b"UTF-8", b"GB18030")
    if handle is None or handle == _FAILED:
        return None
    try:
        capacity = len(data) * 3 // 2 + 16  # UTF-8 takes at most 1.5 bytes per GB18030 byte (2 → 3, 4 → 4)
        out = bytearray(capacity)
        target = (ctypes.c_char * capacity).from_buffer(out)
        source = ctypes.c_void_p(ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value)
        out_at, in_left, out_left = (
            ctypes.c_void_p(ctypes.addressof(target)),
            ctypes.c_size_t(len(data)),
            ctypes.c_size_t(capacity),
        )
        result = iconv.convert(
            handle, ctypes.byref(source), ctypes.byref(in_left), ctypes.byref(out_at), ctypes.byref(out_left)
        )
        del target  # release the export before the bytearray is resized
        if result == _FAILED or in_left.value:
            return None
        del out[capacity - out_left.value :]
        return bytes(out)
    finally:
        iconv.close(handle)
