"""Properties of the ITM demultiplexer against the byte-at-a-time reference."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itm_oracle import reference_demux

from heapgui.capture.itm import DemuxChunk, ItmDemux, PortClock
from heapgui.capture.itm_encode import ItmEncoder

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def packets(draw) -> bytes:
    """One packet (or a stretch of garbage) as bytes, via the encoder where it can."""
    enc = ItmEncoder()
    kind = draw(
        st.sampled_from(
            ["stimulus"] * 6
            + ["ts", "ts_long", "overflow", "sync", "hardware", "gts", "page", "ext_source"]
            + ["garbage", "zeros", "reserved", "overlong", "page_continued"]
        )
    )
    if kind == "stimulus":
        size = draw(st.sampled_from([1, 2, 4]))
        port = draw(st.sampled_from([0, 1, 31]))
        return enc.stimulus(port, draw(st.binary(min_size=size, max_size=size)), size)
    if kind == "ts":
        return enc.timestamp(draw(st.integers(1, 6)))
    if kind == "ts_long":
        return enc.timestamp(draw(st.integers(0, (1 << 28) - 1)), draw(st.integers(0, 3)))
    if kind == "overflow":
        return enc.overflow()
    if kind == "sync":
        return enc.sync(draw(st.integers(5, 9)))
    if kind == "hardware":
        size = draw(st.sampled_from([1, 2, 4]))
        return enc.hardware(draw(st.integers(0, 31)), bytes(size))
    if kind == "gts":
        second = draw(st.booleans())
        return enc.global_timestamp(draw(st.integers(0, (1 << (42 if second else 28)) - 1)), second)
    if kind == "page":
        return enc.extension(draw(st.integers(0, 7)))
    if kind == "page_continued":  # SH = 0 with continuation bytes: no page an ITM sends
        more = draw(st.binary(max_size=5))
        return bytes([0x88 | draw(st.integers(0, 7)) << 4, *(b | 0x80 for b in more), 0x01])
    if kind == "overlong":  # a continued header, then more "more" bytes than it may carry
        header = draw(st.sampled_from([0xC0, 0xF0, 0x94, 0xB4, 0x88, 0xFC]))
        run = bytes(b | 0x80 for b in draw(st.binary(min_size=3, max_size=10)))
        return bytes([header]) + run + draw(st.sampled_from([b"", b"\x05", b"\x70", b"\x00"]))
    if kind == "ext_source":
        return enc.extension(draw(st.integers(0, 1000)), source=True)
    if kind == "zeros":
        tail = draw(st.sampled_from([b"\x80", b"\x01", b""]))
        return bytes(draw(st.integers(1, 150))) + tail
    if kind == "reserved":
        return bytes([draw(st.sampled_from([0x04, 0x80, 0x90, 0xA0, 0xB0, 0xF4]))])
    return draw(st.binary(min_size=1, max_size=12))


streams = st.lists(packets(), max_size=60).map(b"".join)


def _demux_in_pieces(data: bytes, cuts: list[int]) -> tuple[DemuxChunk, ItmDemux]:
    demux = ItmDemux()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    parts = [demux.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(demux.finish())
    # Each chunk says where its bytes sit in the port's stream.
    totals: dict[int, int] = {}
    for part in parts:
        for port, payload in part.payloads.items():
            assert part.positions[port] == totals.get(port, 0)
            totals[port] = totals.get(port, 0) + len(payload)
    assert totals == demux.stats.port_bytes
    return DemuxChunk.concat(parts), demux


def _marks(chunk: DemuxChunk) -> dict[int, list[tuple[int, int]]]:
    return {
        port: list(zip(t.ends.tolist(), t.ticks.tolist(), strict=True))
        for port, t in chunk.times.items()
    }


@SETTINGS
@given(streams, st.lists(st.integers(0, 1 << 16), max_size=6))
def test_matches_the_byte_at_a_time_reference(data, cuts):
    expected = reference_demux(data)
    chunk, demux = _demux_in_pieces(data, cuts)
    assert chunk.payloads == {p: bytes(v) for p, v in sorted(expected.payloads.items())}
    assert _marks(chunk) == expected.marks
    assert demux.stats.overflows == expected.overflows
    assert demux.skipped_bytes == expected.skipped
    assert demux.first_skip == expected.first_skip
    assert demux.stats.truncated_bytes == expected.truncated
    assert demux.stats.packets == expected.packets


@SETTINGS
@given(streams, st.lists(st.integers(0, 1 << 16), min_size=1, max_size=20))
def test_chunked_equals_one_shot(data, cuts):
    whole, one = _demux_in_pieces(data, [])
    pieces, many = _demux_in_pieces(data, cuts)
    assert pieces.payloads == whole.payloads
    assert _marks(pieces) == _marks(whole)
    assert (many.skipped_bytes, many.first_skip) == (one.skipped_bytes, one.first_skip)
    assert many.stats == one.stats


@SETTINGS
@given(st.lists(packets(), max_size=40).map(b"".join), st.integers(1, 7))
def test_byte_by_byte_feeding(data, step):
    whole, one = _demux_in_pieces(data, [])
    pieces, many = _demux_in_pieces(data, list(range(0, len(data), step)))
    assert pieces.payloads == whole.payloads
    assert _marks(pieces) == _marks(whole)
    assert many.stats == one.stats


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 31, 40]), st.binary(min_size=1, max_size=9)), max_size=30
    ),
    st.data(),
)
def test_encoder_round_trip_with_clock(writes, draw):
    enc = ItmEncoder()
    stream = []
    expected: dict[int, bytearray] = {}
    ticks_of: dict[int, list[int]] = {}
    total = 0
    for port, data in writes:
        count = ItmEncoder.write_count(len(data), 4)
        deltas = draw.draw(st.lists(st.integers(0, 5000), min_size=count, max_size=count))
        stream.append(enc.stimulus(port, data, 4, deltas))
        # Each write is dated by the timestamp right after it.
        sizes = [4] * (len(data) // 4) + [2] * (len(data) % 4 >= 2) + [1] * (len(data) % 2)
        for size, delta in zip(sizes, deltas, strict=True):
            total += delta
            ticks_of.setdefault(port, []).extend([total] * size)
        expected.setdefault(port, bytearray()).extend(data)
    chunk = ItmDemux().demux_all(b"".join(stream))
    assert chunk.payloads == {p: bytes(v) for p, v in sorted(expected.items())}
    for port, ticks in ticks_of.items():
        clock = PortClock()
        clock.add(chunk.times.get(port))
        assert clock.ticks_at(np.arange(len(ticks))).tolist() == ticks


def _noise(seed: int, size: int) -> bytes:
    """Uniform random bytes: what a wrong baud rate looks like."""
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=3000), st.builds(_noise, st.integers(0, 1 << 32), st.integers(1, 4000))
    ),
    st.lists(st.integers(0, 1 << 16), max_size=4),
)
def test_random_bytes_match_the_reference(data, cuts):
    # A wrong baud rate: mostly valid-looking packets on many ports and pages.
    expected = reference_demux(data)
    chunk, demux = _demux_in_pieces(data, cuts)
    assert chunk.payloads == {p: bytes(v) for p, v in sorted(expected.payloads.items())}
    assert _marks(chunk) == expected.marks
    assert (demux.skipped_bytes, demux.first_skip) == (expected.skipped, expected.first_skip)
    assert demux.stats.overflows == expected.overflows
    assert demux.stats.packets == expected.packets
