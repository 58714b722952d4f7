"""The `tagged` trace format (Drone master, Drone Stream).

A record is one tag byte (0 alloc, 1 dealloc, 2 grow, 3 shrink) followed by
the size as a 32-bit little-endian value, or by the old and the new size.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.trace.chain import DEAD
from heapgui.trace.records import GROW, Records
from heapgui.trace.varlen import ChainDecoder, pack_records, value_view

logger = logging.getLogger(__name__)

LENGTHS = (5, 5, 9, 9)  # bytes of each record kind: the tag, then one or two sizes
# Record length by tag byte; any other byte cannot start a record.
_STEP = np.full(256, DEAD, np.int64)
_STEP[: len(LENGTHS)] = LENGTHS
_TAGS = np.arange(4, dtype=np.uint8)[:, None]


class TaggedDecoder(ChainDecoder):
    name = "tagged"
    lengths = LENGTHS
    max_length = max(LENGTHS)
    header_length = 1
    expected = "a record tag 0-3"

    def _advance(self, data: np.ndarray, pos: np.ndarray) -> np.ndarray:
        return pos + _STEP.take(data.take(pos, mode="clip"))

    def _assemble(self, buf: bytes, data: np.ndarray, starts: np.ndarray, base: int) -> Records:
        if not starts.size:
            return Records.empty()
        kind = data.take(starts)
        size = value_view(buf, 1)[starts]
        new_size = np.zeros(starts.size, np.uint32)
        pair = np.flatnonzero(kind >= GROW)
        new_size[pair] = value_view(buf, 5)[starts[pair]]
        self.record_bytes += 5 * starts.size + 4 * pair.size
        offset = starts + base if base else starts
        return Records.build(kind, size, new_size, offset)

    def _found(self, data: np.ndarray, pos: int) -> str:
        return f"0x{int(data[pos]):02x}"


def encode_tagged(records: Records) -> bytes:
    """The `tagged` bytes for `records` (offsets are ignored)."""
    return pack_records(records, _TAGS)
