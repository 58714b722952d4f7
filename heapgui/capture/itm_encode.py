"""An ITM packet encoder: SWO byte streams for tests, benchmarks and the simulated device.

It emits what a Cortex-M ITM emits for stimulus writes (1, 2 or 4 bytes, on
ports 0-255, with page extension packets for ports above 31), local timestamps,
overflow and sync packets, and, for exercising decoders, hardware (DWT)
packets, global timestamps and bare extension packets. `ItmEncoder.writes`
builds a whole batch of interleaved writes, timestamps and syncs in one pass
of array operations; everything else that carries stimulus data goes through it.
"""

from __future__ import annotations

import logging

import numpy as np

from heapgui.capture.itm_packets import (
    CONTINUATION_CAP,
    GLOBAL_TS1,
    GLOBAL_TS2,
    PAGES,
    PORTS,
)

logger = logging.getLogger(__name__)

MAX_DELTA = (1 << 28) - 1  # four 7-bit groups: the widest local timestamp
SYNC_ZEROS = 5  # the shortest sync: five zero bytes, then 0x80
_SIZE_CODE = {1: 1, 2: 2, 4: 3}
_SIZE_CODES = np.array([_SIZE_CODE.get(n, 0) for n in range(5)], np.uint8)  # indexed by size

ArrayLike = np.ndarray | list[int]


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
        deltas: ArrayLike | None = None,
        tc: int = 0,
    ) -> bytes:
        """Write `data` to `port` as `size`-byte stimulus writes, little-endian.

        A tail shorter than `size` goes out as a 2-byte then a 1-byte write.
        With `deltas` (one per write, see `write_count`), each write is followed
        by a local timestamp packet carrying that delta.
        """
        if size not in _SIZE_CODE:
            raise ValueError(f"stimulus writes are 1, 2 or 4 bytes, not {size}")
        count = self.write_count(len(data), size)
        if deltas is not None and len(deltas) != count:
            raise ValueError(f"{count} writes need {count} deltas, got {len(deltas)}")
        full, rest = divmod(len(data), size)
        sizes = np.full(count, size, np.int64)
        value = np.empty(count, np.uint32)
        value[:full] = np.frombuffer(data, f"<u{size}", full)
        tail = data[full * size :]
        if rest >= 2:
            sizes[full], value[full] = 2, int.from_bytes(tail[:2], "little")
        if rest & 1:
            sizes[-1], value[-1] = 1, tail[-1]
        return self.writes(np.full(count, port), sizes, value, deltas, tc=tc)

    def writes(
        self,
        port: ArrayLike,
        size: ArrayLike,
        value: ArrayLike,
        deltas: ArrayLike | None = None,
        stamped: ArrayLike | None = None,
        syncs: ArrayLike | None = None,
        tc: int = 0,
    ) -> bytes:
        """Packets for a batch of stimulus writes in program order, ports interleaved freely.

        Write `i` puts the low `size[i]` (1, 2 or 4) bytes of `value[i]` on
        `port[i]`, little-endian. With `deltas`, a local timestamp packet
        carrying `deltas[j]` follows write `stamped[j]` (ascending indices) or,
        without `stamped`, write `j`. A sync packet precedes each write listed
        in `syncs`. Page extension packets go in wherever a write's page
        differs from the one in force.
        """
        port = np.asarray(port, np.int64)
        size = np.asarray(size, np.int64)
        count = port.shape[0]
        lanes = np.asarray(value, "<u4").view(np.uint8).reshape(-1, 4)
        if size.shape != (count,) or lanes.shape[0] != count:
            raise ValueError(f"{count} stimulus writes need {count} sizes and values")
        if ((size != 1) & (size != 2) & (size != 4)).any():
            raise ValueError("stimulus writes are 1, 2 or 4 bytes")
        if count == 0:
            return b""
        if port.min() < 0 or port.max() >= PORTS:
            raise ValueError(f"stimulus ports are 0 to {PORTS - 1}")
        if deltas is None:
            deltas = stamped = np.empty(0, np.int64)
        else:
            deltas = np.asarray(deltas, np.int64)
            # A slice when every write is stamped: indexing by it is cheaper.
            stamped = slice(None) if stamped is None else np.asarray(stamped, np.int64)
            if deltas.shape != size[stamped].shape:
                raise ValueError(f"{size[stamped].shape[0]} timestamps need as many deltas")
        synced = np.asarray([] if syncs is None else syncs, np.int64)

        # Each write's packets: [sync] [page extension] stimulus [timestamp].
        page = port >> 5
        before = np.empty(count, np.int64)  # the page in force when the write comes
        before[0] = self.page
        before[1:] = page[:-1]
        before[synced] = 0  # a sync resets the page
        extended = np.flatnonzero(page != before)
        stamp_len = _timestamp_lengths(deltas, tc)
        lead = np.zeros(count, np.int64)  # bytes in front of the stimulus packet
        lead[synced] = SYNC_ZEROS + 1
        lead[extended] += 1
        lengths = lead + 1 + size
        lengths[stamped] += stamp_len
        ends = np.cumsum(lengths)
        header = ends - lengths + lead
        out = np.zeros(int(ends[-1]), np.uint8)

        out[header[synced] - lead[synced] + SYNC_ZEROS] = 0x80
        out[header[extended] - 1] = _page_header(page[extended])
        out[header] = (port & 0x1F) << 3 | _SIZE_CODES[size]
        smallest = int(size.min())
        for k in range(4):
            wide = slice(None) if k < smallest else np.flatnonzero(size > k)
            out[header[wide] + 1 + k] = lanes[wide, k]
        _put_timestamps(out, header[stamped] + 1 + size[stamped], deltas, tc, stamp_len)
        self.page = int(page[-1])
        return out.tobytes()

    def timestamp(self, delta: int, tc: int = 0) -> bytes:
        """A local timestamp: format 2 for deltas 1-6 without TC, else format 1."""
        deltas = np.array([delta], np.int64)
        length = _timestamp_lengths(deltas, tc)
        out = np.zeros(int(length[0]), np.uint8)
        _put_timestamps(out, np.zeros(1, np.int64), deltas, tc, length)
        return out.tobytes()

    def overflow(self) -> bytes:
        return b"\x70"

    def sync(self, zeros: int = SYNC_ZEROS) -> bytes:
        """A synchronisation packet; decoders (and this encoder) restart at page 0."""
        if zeros < SYNC_ZEROS:
            raise ValueError("a sync packet needs at least five zero bytes")
        self.page = 0
        return bytes(zeros) + b"\x80"

    def hardware(self, address: int, payload: bytes) -> bytes:
        """A hardware source (DWT) packet; the demultiplexer skips these."""
        return bytes([(address << 3) | 0x04 | _SIZE_CODE[len(payload)]]) + payload

    def global_timestamp(self, value: int, second: bool = False) -> bytes:
        """A GTS1 (0x94) or GTS2 (0xB4) packet with `value` in 7-bit groups (4 or 6 at most)."""
        groups = CONTINUATION_CAP[GLOBAL_TS2 if second else GLOBAL_TS1]
        if not 0 <= value < 1 << 7 * groups:
            raise ValueError(f"a GTS{1 + second} packet carries {7 * groups} bits")
        return bytes([0xB4 if second else 0x94]) + _groups(value)

    def extension(self, value: int, source: bool = False) -> bytes:
        """An extension packet; with `source` False it sets the stimulus page to `value`."""
        if not source:
            if not 0 <= value < PAGES:
                raise ValueError(f"stimulus pages are 0 to {PAGES - 1}")
            self.page = value
            return bytes([_page_header(value)])
        header = 0x0C | (value & 0x07) << 4
        more = value >> 3
        if not more:
            return bytes([header])
        return bytes([header | 0x80]) + _groups(more)


def _page_header(page: int | np.ndarray) -> int | np.ndarray:
    """The one-byte extension packet selecting stimulus page `page` (0-7): SH = 0, EX = page."""
    return 0x08 | page << 4


def _groups(value: int) -> bytes:
    """`value` in 7-bit groups, least significant first, bit 7 set on all but the last."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _group_counts(values: np.ndarray) -> np.ndarray:
    """How many 7-bit groups each value needs (none for 0)."""
    counts = np.zeros(values.shape[0], np.int64)
    rest = values
    while rest.any():
        counts += rest > 0
        rest = rest >> 7
    return counts


def _put_groups(out: np.ndarray, at: np.ndarray, values: np.ndarray, counts: np.ndarray) -> None:
    """Write `counts[i]` 7-bit groups of `values[i]` from `out[at[i]]` on, as `_groups` does."""
    for k in range(int(counts.max(initial=0))):
        has = counts > k
        more = np.where(counts[has] > k + 1, 0x80, 0)
        out[at[has] + k] = (values[has] >> (7 * k)) & 0x7F | more


def _timestamp_lengths(deltas: np.ndarray, tc: int) -> np.ndarray:
    """Bytes of each local timestamp packet: 1 for format 2, else 1 + its 7-bit groups."""
    if (deltas < 0).any() or (deltas > MAX_DELTA).any():
        raise ValueError(f"local timestamp deltas must be 0..{MAX_DELTA}")
    short = (deltas >= 1) & (deltas <= 6) & (tc == 0)
    return np.where(short, 1, 1 + np.maximum(1, _group_counts(deltas)))


def _put_timestamps(
    out: np.ndarray, at: np.ndarray, deltas: np.ndarray, tc: int, lengths: np.ndarray
) -> None:
    """Write the local timestamp packets of `deltas` (`lengths` bytes each) at `at`."""
    short = lengths == 1
    out[at[short]] = (deltas[short] << 4).astype(np.uint8)
    long = ~short
    at, deltas = at[long], deltas[long]
    out[at] = 0xC0 | (tc & 0x03) << 4
    _put_groups(out, at + 1, deltas, lengths[long] - 1)
