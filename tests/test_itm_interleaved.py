"""Garbage and valid ITM traffic interleaved, long enough to span many walk blocks and slices.

The demultiplexer cuts its input into slices and each slice into blocks, and
resynchronises after garbage with whole-buffer array passes (run verdicts,
the next plausible offset, continuation runs read in a window first). These
properties build streams of stretches (timestamped writes on few or many
ports and pages, uniform noise, long runs of reserved bytes or of "more"
bytes, zero runs) and check, for arbitrary feed boundaries and slice sizes,
that the result is the byte-at-a-time reference's and the same as in one feed.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itm_oracle import reference_demux

from heapgui.capture import itm
from heapgui.capture.itm import DemuxChunk, ItmDemux
from heapgui.capture.itm_encode import ItmEncoder

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESERVED = np.array([0x04, 0x80, 0x90, 0xA0, 0xB0, 0xF4], np.uint8)
CONTINUED = np.array([0xC0, 0xF0, 0x94, 0xB4, 0x88], np.uint8)
KINDS = ["few ports", "many ports", "noise", "reserved", "more bytes", "zeros"]


def _stretch(kind: str, seed: int, size: int, enc: ItmEncoder) -> bytes:
    rng = np.random.default_rng(seed)
    if kind in ("few ports", "many ports"):
        ports = [0, 31] if kind == "few ports" else list(range(0, 256, 3))
        port = rng.choice(ports, size)
        sizes = rng.choice([1, 2, 4], size, p=[0.1, 0.1, 0.8])
        value = rng.integers(0, 1 << 32, size, dtype=np.uint64).astype(np.uint32)
        stamped = np.flatnonzero(rng.random(size) < 0.7)
        deltas = rng.geometric(1 / 300, stamped.size)
        syncs = np.flatnonzero(rng.random(size) < 0.01)
        return enc.writes(port, sizes, value, deltas, stamped, syncs)
    if kind == "noise":  # a wrong baud rate
        return rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    if kind == "reserved":  # a stretch where no offset starts a packet
        return rng.choice(RESERVED, size).tobytes()
    if kind == "more bytes":  # a continuation header and a run longer than any packet
        run = rng.integers(0x80, 0x100, size, dtype=np.uint8).tobytes()
        return bytes([int(rng.choice(CONTINUED))]) + run + bytes([int(rng.integers(0, 0x80))])
    return bytes(size) + bytes([int(rng.choice([0x80, 0x01]))])  # zeros: a sync or garbage


stretches = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 32), st.integers(1, 1500)),
    min_size=1,
    max_size=12,
)


def _stream(parts: list[tuple[str, int, int]]) -> bytes:
    enc = ItmEncoder()
    return b"".join(_stretch(kind, seed, size, enc) for kind, seed, size in parts)


def _demux(data: bytes, cuts: list[int], slice_size: int) -> tuple[DemuxChunk, ItmDemux]:
    demux = ItmDemux()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    with mock.patch.object(itm, "SLICE", slice_size):
        parts = [demux.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        parts.append(demux.finish())
    return DemuxChunk.concat(parts), demux


def _marks(chunk: DemuxChunk) -> dict[int, list[tuple[int, int]]]:
    return {
        port: list(zip(t.ends.tolist(), t.ticks.tolist(), strict=True))
        for port, t in chunk.times.items()
    }


@SETTINGS
@given(
    stretches,
    st.lists(st.integers(0, 1 << 20), max_size=8),
    st.sampled_from([1 << 20, 4096, 777]),
)
def test_interleaved_streams_match_the_reference_in_any_pieces(parts, cuts, slice_size):
    data = _stream(parts)
    expected = reference_demux(data)
    chunk, demux = _demux(data, cuts, slice_size)
    assert chunk.payloads == {p: bytes(v) for p, v in sorted(expected.payloads.items())}
    assert _marks(chunk) == expected.marks
    assert (demux.skipped_bytes, demux.first_skip) == (expected.skipped, expected.first_skip)
    assert demux.stats.overflows == expected.overflows
    assert demux.stats.packets == expected.packets
    assert demux.stats.truncated_bytes == expected.truncated


@SETTINGS
@given(stretches, st.lists(st.integers(0, 1 << 20), min_size=1, max_size=30))
def test_interleaved_streams_in_pieces_equal_one_feed(parts, cuts):
    data = _stream(parts)
    whole, one = _demux(data, [], 1 << 20)
    pieces, many = _demux(data, cuts, 1 << 20)
    assert pieces.payloads == whole.payloads
    assert _marks(pieces) == _marks(whole)
    assert many.stats == one.stats
    assert (many.skipped_bytes, many.first_skip) == (one.skipped_bytes, one.first_skip)
