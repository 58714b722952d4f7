"""An ITM packet encoder: SWO byte streams for tests, benchmarks and the simulated device.

It emits what a Cortex-M ITM emits for stimulus writes (1, 2 or 4 bytes, on
any port, with page extension packets for ports above 31), local timestamps,
overflow and sync packets, and, for exercising decoders, hardware (DWT)
packets, global timestamps and bare extension packets.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

MAX_DELTA = (1 << 28) - 1  # four 7-bit groups: the widest local timestamp
_SIZE_CODE = {1: 1, 2: 2, 4: 3}


class ItmEncoder:
    """Builds SWO bytes packet by packet (or write batch by write batch).

    Stateful like the ITM itself: it remembers the stimulus page, so a
    page extension packet appears only when a write changes the page.
    """

    def __init__(self) -> None:
        self.page = 0

    @staticmethod
    def write_count(nbytes: int, size: int = 4) -> int:
        """How many stimulus writes `stimulus(port, data, size)` uses for `nbytes` bytes."""
        rest = nbytes % size
        return nbytes // size + (rest >> 1) + (rest & 1)

    def stimulus(
        self,
        port: int,
        data: bytes,
        size: int = 4,
        deltas: np.ndarray | list[int] | None = None,
        tc: int = 0,
    ) -> bytes:
        """Write `data` to `port` as `size`-byte stimulus writes, little-endian.

        A tail shorter than `size` goes out as a 2-byte then a 1-byte write.
        With `deltas` (one per write, see `write_count`), each write is followed
        by a local timestamp packet carrying that delta.
        """
        if size not in _SIZE_CODE:
            raise ValueError(f"stimulus writes are 1, 2 or 4 bytes, not {size}")
        page, address = divmod(port, 32)
        out = [self._select_page(page)]
        full = len(data) - len(data) % size
        pieces = [(size, data[:full])]
        rest = data[full:]
        if len(rest) >= 2:
            pieces.append((2, rest[:2]))
            rest = rest[2:]
        if rest:
            pieces.append((1, rest))
        count = self.write_count(len(data), size)
        if deltas is not None:
            deltas = np.asarray(deltas, np.int64)
            if deltas.shape != (count,):
                raise ValueError(f"{count} writes need {count} deltas, got {deltas.shape[0]}")
        used = 0
        for width, chunk in pieces:
            writes = len(chunk) // width
            stamp = None if deltas is None else deltas[used : used + writes]
            out.append(_writes((address << 3) | _SIZE_CODE[width], chunk, width, stamp, tc))
            used += writes
        return b"".join(out)

    def timestamp(self, delta: int, tc: int = 0) -> bytes:
        """A local timestamp: format 2 for deltas 1-6 without TC, else format 1."""
        return _timestamps(np.array([delta], np.int64), tc).tobytes()

    def overflow(self) -> bytes:
        return b"\x70"

    def sync(self, zeros: int = 5) -> bytes:
        """A synchronisation packet; decoders (and this encoder) restart at page 0."""
        if zeros < 5:
            raise ValueError("a sync packet needs at least five zero bytes")
        self.page = 0
        return bytes(zeros) + b"\x80"

    def hardware(self, address: int, payload: bytes) -> bytes:
        """A hardware source (DWT) packet; the demultiplexer skips these."""
        return bytes([(address << 3) | 0x04 | _SIZE_CODE[len(payload)]]) + payload

    def global_timestamp(self, value: int, second: bool = False) -> bytes:
        """A GTS1 (0x94) or GTS2 (0xB4) packet with `value` in 7-bit groups."""
        return bytes([0xB4 if second else 0x94]) + _groups(value)

    def extension(self, value: int, source: bool = False) -> bytes:
        """An extension packet; with `source` False it sets the stimulus page to `value`."""
        if not source:
            self.page = value
        header = 0x08 | (0x04 if source else 0) | (value & 0x07) << 4
        more = value >> 3
        if not more:
            return bytes([header])
        return bytes([header | 0x80]) + _groups(more)

    def _select_page(self, page: int) -> bytes:
        return b"" if page == self.page else self.extension(page)


def _groups(value: int) -> bytes:
    """`value` in 7-bit groups, least significant first, bit 7 set on all but the last."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _writes(header: int, data: bytes, width: int, deltas: np.ndarray | None, tc: int) -> bytes:
    """Stimulus packets for consecutive `width`-byte writes, each optionally timestamped."""
    payload = np.frombuffer(data, np.uint8).reshape(-1, width)
    count = payload.shape[0]
    packet = np.empty((count, 1 + width), np.uint8)
    packet[:, 0] = header
    packet[:, 1:] = payload
    if deltas is None:
        return packet.tobytes()
    stamps = _timestamps(deltas, tc)
    stamp_len = _timestamp_lengths(deltas, tc)
    lengths = stamp_len + (1 + width)
    out = np.empty(int(lengths.sum()), np.uint8)
    begin = np.cumsum(lengths) - lengths
    for k in range(1 + width):
        out[begin + k] = packet[:, k]
    # Timestamp bytes: scatter the concatenated stamps behind their packets.
    stamp_begin = np.cumsum(stamp_len) - stamp_len
    within = np.arange(stamps.shape[0]) - np.repeat(stamp_begin, stamp_len)
    out[np.repeat(begin + 1 + width, stamp_len) + within] = stamps
    return out.tobytes()


def _timestamp_lengths(deltas: np.ndarray, tc: int) -> np.ndarray:
    if (deltas < 0).any() or (deltas > MAX_DELTA).any():
        raise ValueError(f"local timestamp deltas must be 0..{MAX_DELTA}")
    short = (deltas >= 1) & (deltas <= 6) & (tc == 0)
    groups = np.ones(deltas.shape[0], np.int64)
    for k in (1, 2, 3):
        groups += deltas >= 1 << (7 * k)
    return np.where(short, 1, 1 + groups)


def _timestamps(deltas: np.ndarray, tc: int) -> np.ndarray:
    """Concatenated local timestamp packets, one per delta."""
    lengths = _timestamp_lengths(deltas, tc)
    out = np.empty(int(lengths.sum()), np.uint8)
    begin = np.cumsum(lengths) - lengths
    short = lengths == 1
    out[begin[short]] = (deltas[short] << 4).astype(np.uint8)
    long_at, long_deltas, groups = begin[~short], deltas[~short], lengths[~short] - 1
    out[long_at] = 0xC0 | (tc & 0x03) << 4
    for k in range(4):
        has = groups > k
        more = np.where(groups[has] > k + 1, 0x80, 0)
        out[long_at[has] + 1 + k] = ((long_deltas[has] >> (7 * k)) & 0x7F) | more
    return out
