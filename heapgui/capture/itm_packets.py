"""ITM packet headers and the length of the packet that would start at every byte offset.

The demultiplexer does not parse packet by packet. It computes, for every
offset of a buffer at once, how long a packet starting there would be, and
only then finds which offsets really start packets (`heapgui.capture.itm_chain`).
The byte-level rules are ARM's ITM packet protocol (ARMv7-M Architecture Reference
Manual, appendix D4, "Debug ITM and DWT Packet Protocol").
"""

from __future__ import annotations

import logging
import re

import numpy as np

logger = logging.getLogger(__name__)

# Packet kinds, one code per header byte value.
INVALID = 0  # reserved header: not a packet start
SYNC = 1  # 0x00: at least five 0x00 bytes then 0x80
OVERFLOW = 2  # 0x70
STIMULUS = 3  # software source (SWIT): bits 1:0 size code, bit 2 = 0, bits 7:3 address
HARDWARE = 4  # hardware source (DWT): as SWIT with bit 2 = 1
LOCAL_TS1 = 5  # 0b11TT0000 then 1-4 continuation bytes
LOCAL_TS2 = 6  # 0b0DDD0000, DDD in 1..6: a delta of DDD, no payload
GLOBAL_TS1 = 7  # 0x94 then continuation bytes
EXTENSION = 8  # hdr & 0x0B == 0x08; C (bit 7) = continuation bytes follow
GLOBAL_TS2 = 9  # 0xB4 then continuation bytes

# Lengths are packet bytes including the header; 0 marks an invalid start,
# INCOMPLETE a packet that runs past the end of the bytes seen so far and
# OVERLONG a header whose continuation run is longer than its kind allows.
INCOMPLETE = -1
OVERLONG = -2
CONTINUED = 64  # length codes from here up: a header followed by continuation bytes

OVERFLOW_HEADER = 0x70
SYNC_ZEROS = 5  # 47 zero bits and a one, on a byte-aligned wire: 0x00 x5 then 0x80
SYNC_END = 0x80
MORE = 0x80  # bit 7 of a continuation byte: another byte of the packet follows
PORTS_PER_PAGE = 32  # stimulus addresses in a header
PAGES = 8  # stimulus pages, EX[2:0] of a one-byte page extension
PORTS = PAGES * PORTS_PER_PAGE

# Most payload bytes each continued packet kind may carry (ARMv7-M ARM, D4.2),
# the last with bit 7 clear: a local timestamp holds 28 bits, an extension 32
# bits after its 3 header bits, GTS1 bits 25:0 of a global timestamp, GTS2 bits
# 63:26 (6 bytes; 4 for a 48-bit timestamp). A byte with bit 7 set in the last
# place makes the packet OVERLONG, which is how garbage with long 0x80+ runs
# is caught; the demultiplexer then skips the whole run, whose bytes must not
# be read as headers (0x81 0x82 would be a write to port 16).
CONTINUATION_CAP = {LOCAL_TS1: 4, GLOBAL_TS1: 4, GLOBAL_TS2: 6, EXTENSION: 4}
LOOKAHEAD = max(CONTINUATION_CAP.values())
MAX_PACKET = 1 + LOOKAHEAD  # longest packet other than a sync


def _header_tables() -> tuple[np.ndarray, np.ndarray]:
    """Kind and length code for each of the 256 header values.

    The length code is the packet length for fixed-length packets, 0 for
    reserved headers and 0x00, and CONTINUED + cap for headers followed by at
    most `cap` continuation bytes.
    """
    kind = np.zeros(256, np.uint8)
    code = np.zeros(256, np.int32)
    for hdr in range(256):
        size_code = hdr & 0x03
        if hdr == 0x00:
            kind[hdr] = SYNC
        elif hdr == OVERFLOW_HEADER:
            kind[hdr], code[hdr] = OVERFLOW, 1
        elif size_code:
            kind[hdr] = HARDWARE if hdr & 0x04 else STIMULUS
            code[hdr] = 1 + (1 << (size_code - 1))
        elif hdr & 0x0F == 0x00 and hdr & 0xC0 == 0xC0:
            kind[hdr], code[hdr] = LOCAL_TS1, CONTINUED + CONTINUATION_CAP[LOCAL_TS1]
        elif hdr & 0x8F == 0x00:  # 0x10..0x60; 0x00 and 0x70 were taken above
            kind[hdr], code[hdr] = LOCAL_TS2, 1
        elif hdr in (0x94, 0xB4):
            kind[hdr] = GLOBAL_TS1 if hdr == 0x94 else GLOBAL_TS2
            code[hdr] = CONTINUED + CONTINUATION_CAP[kind[hdr]]
        elif hdr & 0x0B == 0x08:
            kind[hdr] = EXTENSION
            code[hdr] = CONTINUED + CONTINUATION_CAP[EXTENSION] if hdr & 0x80 else 1
        # Everything else (0x80-0xB0, 0bxxxx0100 but the two GTS) is reserved: INVALID.
    return kind, code


KIND, _LENGTH_CODE = _header_tables()


# The length codes as a byte translation table: `bytes.translate` maps a
# buffer through it at memory speed, with none of the index conversion a
# numpy gather costs.
_CODE_TABLE = _LENGTH_CODE.astype(np.uint8).tobytes()

# Per header value: payload bytes of a stimulus packet (else 0), whether the
# packet sets the stimulus page, and whether it is a local timestamp. The page is
# EX[2:0] of a one-byte extension with SH = 0 (8 pages of 32 ports), and a
# sync resets it; an extension with continuation bytes sets no page, as in
# orbuculum (pyOCD would take EX from the continuation bytes, unbounded).
STIMULUS_BYTES = np.where(KIND == STIMULUS, _LENGTH_CODE - 1, 0).astype(np.uint8)
SETS_PAGE = ((KIND == EXTENSION) & (np.arange(256) & 0x84 == 0)) | (KIND == SYNC)
IS_LOCAL_TS = (KIND == LOCAL_TS1) | (KIND == LOCAL_TS2)

# Reading 8 bytes after any offset must stay inside the buffer: callers pad
# with PAD bytes that all say "more", so a continuation run reaching the
# padding is merely cut off, never terminated by it.
PAD = 8
PAD_BYTES = b"\xff" * PAD
_MORE_BITS = np.uint64(0x8080808080808080)
_BYTE_SUM = np.uint64(0x0101010101010101)

_RUN_WINDOW = np.arange(8)  # bytes of a continuation run looked at before searching
_FIVE_ZEROS = bytes(SYNC_ZEROS)
_NON_ZERO = re.compile(rb"[^\x00]")


def words(padded: np.ndarray, size: int) -> np.ndarray:
    """Little-endian `size`-byte words starting at every offset of `padded` (a view)."""
    dtype = np.dtype(f"<u{size}")
    return np.ndarray((padded.shape[0] - size + 1,), dtype, padded, 0, (1,))


def packet_lengths(padded: np.ndarray, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Length of the packet starting at each offset of the data (int32).

    `padded` is the data followed by PAD_BYTES; `data` is the same bytes
    without the padding, for fast substring search. The lengths are 0 where
    no valid packet can start and INCOMPLETE where the packet needs bytes
    beyond the end to be decided, OVERLONG where a header's continuation run
    is too long. Also returns the offsets of packets longer than MAX_PACKET
    (syncs with extra zeros), which only syncs can be.
    """
    n = len(data)
    code = np.frombuffer(data.translate(_CODE_TABLE), np.uint8)
    # A continuation header's length follows from the bytes after it: two
    # bytes when the first one ends the packet, three when the second does.
    # Longer runs are rare (multi-group timestamps): those are counted apart.
    continued = code >= CONTINUED
    more = padded[1 : n + 1] >= MORE
    short = more.view(np.uint8) + np.uint8(2)
    # Select by arithmetic: np.where on an irregular mask costs ten times more.
    lengths = (code - (code - short) * continued).astype(np.int32)
    more &= padded[2 : n + 2] >= MORE
    more &= continued
    _continuation_lengths(padded, n, lengths, np.flatnonzero(more), code)
    jumps = _sync_lengths(padded, data, lengths)
    # Fixed-length packets near the end may be cut off.
    tail = max(0, n - MAX_PACKET)
    ends = np.arange(tail, n, dtype=np.int32) + lengths[tail:]
    cut = (ends > n) & (lengths[tail:] > 0)
    lengths[tail:][cut] = INCOMPLETE
    return lengths, jumps


def _continuation_lengths(
    padded: np.ndarray, n: int, lengths: np.ndarray, starts: np.ndarray, code: np.ndarray
) -> None:
    """Fill in the headers at `starts`, followed by two or more continuation bytes."""
    if starts.size == 0:
        return
    cap = code[starts].astype(np.int32) - CONTINUED
    # Count the leading "more" bytes among the 8 after each header, all at
    # once in a 64-bit word: isolate the first byte without bit 7, then add up
    # the bit-7 flags below it.
    after = words(padded, 8)[starts + 1]
    stops = ~after & _MORE_BITS
    first_stop = stops & (np.uint64(0) - stops)
    below = (first_stop - np.uint64(1)) & _MORE_BITS
    more = ((below >> np.uint64(7)) * _BYTE_SUM >> np.uint64(56)).astype(np.int32)
    ok = more < cap
    result = np.where(ok, more + 2, OVERLONG)
    # Too many "more" bytes is refused only when they are all real bytes.
    result[~ok & (starts + cap >= n)] = INCOMPLETE
    lengths[starts] = result


def run_ends(buf: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each offset in `first`, the first offset at or after it whose byte has bit 7 clear.

    That byte ends a continuation run; len(buf) where the run reaches the end.
    Most runs end within a few bytes: those are read in a window, and only
    longer ones (a line held high) search the buffer.
    """
    n = buf.shape[0]
    if first.size == 0 or n == 0:
        return np.full(first.shape, n, first.dtype)
    window = first[:, None] + _RUN_WINDOW
    ends = buf[np.minimum(window, n - 1)] < MORE
    ends &= window < n
    found = ends.any(axis=1)
    out = first + ends.argmax(axis=1)
    if not found.all():
        far = np.minimum(first[~found] + _RUN_WINDOW.shape[0], n)
        low = int(far.min())
        stops = np.append(np.flatnonzero(buf[low:] < MORE) + low, n)
        out[~found] = stops[np.searchsorted(stops, far)]
    return out


def _sync_lengths(padded: np.ndarray, data: bytes, lengths: np.ndarray) -> np.ndarray:
    """Fill in sync packets: runs of at least five zeros ended by 0x80.

    Every offset of such a run from which five zeros or more follow starts
    a sync reaching to the 0x80. A run reaching the end is undecided.
    Returns the offsets of syncs longer than MAX_PACKET.
    """
    n = len(data)
    begin, end = _zero_runs(padded, data)
    # Trailing zeros, however few, may still become a sync.
    if end.size and end[-1] == n:
        lengths[begin[-1] :] = INCOMPLETE
        begin, end = begin[:-1], end[:-1]
    sync = padded[end] == SYNC_END
    begin, end = begin[sync], end[sync]
    if begin.size == 0:
        return begin
    count = end - SYNC_ZEROS + 1 - begin  # offsets with five zeros or more ahead
    at = np.repeat(begin - (np.cumsum(count) - count), count) + np.arange(count.sum())
    length = np.repeat(end + 1, count) - at
    lengths[at] = length
    return at[length > MAX_PACKET]


_FEW_RUNS = 32


def _zero_runs(padded: np.ndarray, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """[begin, end) of the zero runs that are five bytes or longer, or reach the end.

    Such runs only occur in syncs and garbage (no other header is 0x00), so a
    substring search finds the few there usually are; many (a line held low,
    sync packets in a row) are found with array operations instead.
    """
    n = len(data)
    runs: list[int] = []
    at = data.find(_FIVE_ZEROS)
    while at >= 0 and len(runs) < 2 * _FEW_RUNS:
        found = _NON_ZERO.search(data, at + SYNC_ZEROS)
        end = found.start() if found else n
        runs += [at, end]
        at = data.find(_FIVE_ZEROS, end)
    if at >= 0:
        zero = np.zeros(n + 2, np.int8)
        zero[1:-1] = padded[:n] == 0
        edges = np.flatnonzero(np.diff(zero))
        begin, end = edges[0::2], edges[1::2]
        keep = end - begin >= SYNC_ZEROS
        begin, end = begin[keep], end[keep]
    else:
        begin = np.array(runs[0::2], np.int64)
        end = np.array(runs[1::2], np.int64)
    tail = n - len(data.rstrip(b"\x00")) if n and data[-1] == 0 else 0
    if tail and not (end.size and end[-1] == n):
        begin, end = np.append(begin, n - tail), np.append(end, n)
    return begin, end
