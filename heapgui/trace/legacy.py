"""The `legacy` trace format (Drone 0.9-0.11).

A record is a 2-byte header, `AB CD` alloc(size), `DC BA` dealloc(size),
`BC DE` grow-in-place(old, new) or `ED CB` shrink-in-place(old, new),
followed by 32-bit values stored XOR 0xC5ACCE55, little-endian unless the
firmware enabled the big-endian option. A stored value of 0 is invalid (drone:
"Invalid packet value"); the tolerant decoder drops such records and counts them.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.errors import DecodeError
from heapgui.trace.chain import DEAD
from heapgui.trace.problems import INVALID_VALUE
from heapgui.trace.records import GROW, Records
from heapgui.trace.varlen import ChainDecoder, pack_records, value_view

logger = logging.getLogger(__name__)

KEY = 0xC5ACCE55
HEADERS = np.array([[0xAB, 0xCD], [0xDC, 0xBA], [0xBC, 0xDE], [0xED, 0xCB]], np.uint8)

# Record length by the two header bytes read as a big-endian 16-bit number.
_STEP = np.full(1 << 16, DEAD, np.int64)
LENGTHS = (6, 6, 10, 10)  # bytes of each record kind: the header, then one or two values
_STEP[HEADERS[:, 0].astype(np.int64) << 8 | HEADERS[:, 1]] = LENGTHS
_KIND = np.zeros(256, np.uint8)
_KIND[HEADERS[:, 0]] = np.arange(4)


class LegacyDecoder(ChainDecoder):
    name = "legacy"
    lengths = LENGTHS
    max_length = max(LENGTHS)
    header_length = 2
    piece = 1 << 20  # dense corruption builds tables over a piece: keep them in the caches
    expected = "one of the legacy headers AB CD, DC BA, BC DE, ED CB"

    def __init__(self, strict: bool = False, big_endian: bool = False) -> None:
        super().__init__(strict)
        self.big_endian = big_endian

    def _advance(self, data: np.ndarray, pos: np.ndarray) -> np.ndarray:
        first = data.take(pos, mode="clip").astype(np.uint16)
        return pos + _STEP.take(first << 8 | data.take(pos + 1, mode="clip"))

    def _assemble(self, buf: bytes, data: np.ndarray, starts: np.ndarray, base: int) -> Records:
        if not starts.size:
            return Records.empty()
        kind = _KIND.take(data.take(starts))
        stored = value_view(buf, 2, self.big_endian)[starts]
        pair = np.flatnonzero(kind >= GROW)
        stored_new = value_view(buf, 6, self.big_endian)[starts[pair]]
        invalid = stored == 0
        invalid[pair[stored_new == 0]] = True
        if invalid.any():
            kind, stored, starts, stored_new = self._drop_invalid(
                invalid, pair, kind, stored, starts, stored_new, base
            )
            pair = np.flatnonzero(kind >= GROW)
        key = np.uint32(KEY)
        new_size = np.zeros(starts.size, np.uint32)
        new_size[pair] = stored_new ^ key
        self.record_bytes += 6 * starts.size + 4 * pair.size
        offset = starts + base if base else starts
        return Records.build(kind, stored ^ key, new_size, offset)

    def _drop_invalid(
        self,
        invalid: np.ndarray,
        pair: np.ndarray,
        kind: np.ndarray,
        stored: np.ndarray,
        starts: np.ndarray,
        stored_new: np.ndarray,
        base: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Records holding a stored 0: an error in strict mode, else counted and dropped."""
        bad = np.flatnonzero(invalid)
        offset = base + int(starts[bad[0]])
        if self.strict:
            raise DecodeError(offset, "a non-zero stored value", "0x00000000")
        self.problems.add(INVALID_VALUE, offset, int(bad.size))
        keep = ~invalid
        return kind[keep], stored[keep], starts[keep], stored_new[keep[pair]]

    def _found(self, data: np.ndarray, pos: int) -> str:
        return "0x" + data[pos : pos + 2].tobytes().hex().upper()


def encode_legacy(records: Records, big_endian: bool = False) -> bytes:
    """The `legacy` bytes for `records` (offsets are ignored).

    A size equal to the key would be stored as the forbidden value 0.
    """
    stored_zero = records.size == KEY
    stored_zero |= (records.new_size == KEY) & (records.kind >= GROW)
    if stored_zero.any():
        raise ValueError(f"size {KEY:#x} cannot be stored in the legacy format (stored value 0)")
    return pack_records(records, HEADERS, big_endian, KEY)
