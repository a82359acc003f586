"""The text of an Arrow string array as one buffer, for writers that emit many lines at once."""

from __future__ import annotations

import pyarrow as pa


def arrow_text(strings: pa.Array) -> memoryview:
    """The characters of a non-null Arrow large_string array laid end to end (its data buffer), uncopied."""
    if len(strings) == 0:
        return memoryview(b"")
    _, offsets, data = strings.buffers()
    offsets = memoryview(offsets).cast("B").cast("q")  # large_string: 64-bit offsets
    first, last = offsets[strings.offset], offsets[strings.offset + len(strings)]
    return memoryview(data).cast("B")[first:last]
