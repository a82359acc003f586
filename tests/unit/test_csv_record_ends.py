"""Where a CSV block's records end: after each newline outside quotes (a quoted cell may hold newlines).

The cutter finds them by the quotes' positions (and skips that in blocks without quotes); the reference
below is the plain definition, a running count of quotes, which must give the same ends on any block.
"""

from __future__ import annotations

import random

import numpy as np

from ykt.ingest.read.formats.csv import _record_ends


def reference_ends(data: bytes) -> list[int]:
    ends, inside = [], False
    for offset, byte in enumerate(data):
        if byte == 0x22:
            inside = not inside
        elif byte == 0x0A and not inside:
            ends.append(offset + 1)
    return ends


def test_newlines_inside_quotes_do_not_end_a_record():
    block = b'a,"line one\nline two",b\nc,d\n"x""y\n",e\n'
    assert _record_ends(block).tolist() == [24, 28, 38] == reference_ends(block)


def test_random_blocks_with_and_without_quotes_end_where_the_definition_says():
    """3,000 random blocks of quotes, newlines and text; a third of them without any quote."""
    rng = random.Random(20240901)
    for n in range(3000):
        alphabet = b"ab,\n" if n % 3 == 0 else b'ab"\n,'
        block = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        assert np.array_equal(_record_ends(block), reference_ends(block)), block
