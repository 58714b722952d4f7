"""ITM/SWO demultiplexer: samples, pyocd as an oracle, timestamps, resync, pages, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itm_oracle import reference_demux
from pyocd.trace import events
from pyocd.trace.swo import SWOParser

from heapgui.capture.itm import DemuxChunk, ItmDemux, PortClock
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.cli import main

# --- helpers ------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.events: list[events.TraceEvent] = []

    def receive(self, event: events.TraceEvent) -> None:
        self.events.append(event)


def pyocd_events(swo: bytes) -> list[events.TraceITMEvent]:
    """Stimulus events as pyocd's own SWO parser reports them."""
    sink = _Sink()
    SWOParser(None, sink).parse(swo)
    return [e for e in sink.events if isinstance(e, events.TraceITMEvent)]


def pyocd_payloads(swo: bytes) -> dict[int, bytes]:
    out: dict[int, bytearray] = {}
    for e in pyocd_events(swo):
        out.setdefault(e.port, bytearray()).extend(e.data.to_bytes(e.width, "little"))
    return {p: bytes(v) for p, v in sorted(out.items())}


def in_pieces(data: bytes, size: int) -> tuple[DemuxChunk, ItmDemux]:
    demux = ItmDemux()
    parts = [demux.feed(data[i : i + size]) for i in range(0, len(data), size)]
    return DemuxChunk.concat([*parts, demux.finish()]), demux


def ticks_per_byte(chunk: DemuxChunk, port: int) -> list[int]:
    clock = PortClock()
    clock.add(chunk.times.get(port))
    return clock.ticks_at(np.arange(len(chunk.payload(port)))).tolist()


# --- the samples ----------------------------------------------------------------


@pytest.mark.parametrize("piece", [None, 1, 7, 4096])
def test_sample_capture_gives_the_reference_ports(samples, piece):
    swo = (samples / "capture.swo").read_bytes()
    if piece is None:
        demux = ItmDemux()
        chunk = demux.demux_all(swo)
    else:
        chunk, demux = in_pieces(swo, piece)
    assert chunk.payload(31) == (samples / "capture.port31").read_bytes()
    assert chunk.payload(0) == (samples / "capture.port0").read_bytes()
    assert set(chunk.payloads) == {0, 31}
    assert demux.skipped_bytes == 0 and demux.stats.overflows == 0


def test_sample_capture_agrees_with_pyocd_and_the_reference(samples):
    swo = (samples / "capture.swo").read_bytes()
    chunk = ItmDemux().demux_all(swo)
    assert chunk.payloads == pyocd_payloads(swo)
    # pyocd reads multi-group timestamps backwards (the sample has them): date
    # the bytes against the reference instead.
    expected = reference_demux(swo).marks
    assert {
        p: list(zip(t.ends.tolist(), t.ticks.tolist(), strict=True)) for p, t in chunk.times.items()
    } == expected


# --- pyocd as an oracle on streams with timestamps ----------------------------


@st.composite
def timestamped_streams(draw) -> tuple[bytes, bool]:
    """Streams pyocd decodes right: one-group timestamps, no 0xF0, pages 0-7, no DWT."""
    enc = ItmEncoder()
    parts = []
    overflow = False
    for _ in range(draw(st.integers(1, 40))):
        what = draw(st.sampled_from(["write"] * 5 + ["overflow", "sync", "gts", "page"]))
        if what == "write":
            size = draw(st.sampled_from([1, 2, 4]))
            port = draw(st.sampled_from([0, 1, 5, 31]))
            parts.append(enc.stimulus(port, draw(st.binary(min_size=size, max_size=size)), size))
        elif what == "overflow":
            parts.append(enc.overflow())
            overflow = True
        elif what == "sync":
            parts.append(enc.sync())
        elif what == "gts":
            parts.append(enc.global_timestamp(draw(st.integers(0, 1 << 20))))
        else:
            parts.append(enc.extension(draw(st.integers(0, 7))))
        if draw(st.booleans()):
            parts.append(enc.timestamp(draw(st.integers(0, 127)), draw(st.integers(0, 2))))
    parts.append(enc.timestamp(1))  # pyocd only hands events on at a timestamp
    return b"".join(parts), overflow


@settings(max_examples=80, deadline=None)
@given(timestamped_streams(), st.integers(1, 64))
def test_payloads_and_dates_equal_pyocd(stream, piece):
    swo, overflow = stream
    chunk, _ = in_pieces(swo, piece)
    assert chunk.payloads == pyocd_payloads(swo)
    if overflow:
        return  # pyocd dates packets before an overflow with the earlier timestamp
    for port in chunk.payloads:
        expected = []
        for e in pyocd_events(swo):
            if e.port == port:
                expected += [e.timestamp] * e.width
        assert ticks_per_byte(chunk, port) == expected


# --- where heapgui departs from pyocd ---------------------------------------------


def test_multi_group_timestamps_are_least_significant_first():
    # 300 ticks = 0b10_0101100: groups 0x2C then 0x02, the first with "more" set.
    swo = bytes([0xF9, 0x41, 0xC0, 0xAC, 0x02]) + bytes([0xF9, 0x42, 0xC0, 0x80, 0x80, 0x01])
    chunk = ItmDemux().demux_all(swo)
    assert chunk.payload(31) == b"AB"
    assert ticks_per_byte(chunk, 31) == [300, 300 + (1 << 14)]


def test_header_0xf0_is_a_local_timestamp():
    # 0xF0 is format 1 with TC = 3 (packet and timestamp delayed), not a reserved header.
    swo = bytes([0x09, 0x61, 0xF0, 0x05, 0x09, 0x62, 0x10])
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payloads == {1: b"ab"}
    assert ticks_per_byte(chunk, 1) == [5, 6]
    assert demux.skipped_bytes == 0


def test_stream_without_timestamps_delivers_at_once_and_dates_at_the_end():
    enc = ItmEncoder()
    swo = enc.stimulus(31, b"heap-trace", 4) + enc.stimulus(0, b"log\n", 1)
    demux = ItmDemux()
    chunk = demux.feed(swo)
    assert chunk.payloads == {0: b"log\n", 31: b"heap-trace"}
    assert chunk.times == {}
    final = demux.finish()
    assert {p: (t.ends.tolist(), t.ticks.tolist()) for p, t in final.times.items()} == {
        0: ([4], [0]),
        31: ([10], [0]),
    }
    assert demux.stats.timestamps == 0


# --- garbage, overflows, pages -------------------------------------------------


def test_reserved_bytes_are_skipped_and_counted():
    enc = ItmEncoder()
    before = enc.stimulus(31, b"good", 4)
    garbage = bytes([0x04, 0x80, 0x90, 0xA0, 0xB0, 0xF4, 0x00, 0x00])
    after = enc.stimulus(31, bytes(range(40)), 4)
    demux = ItmDemux()
    chunk = demux.demux_all(before + garbage + after)
    assert chunk.payload(31) == b"good" + bytes(range(40))
    assert demux.skipped_bytes == len(garbage)
    assert demux.first_skip == len(before)


def test_resync_after_wrong_baud_rate_garbage():
    enc = ItmEncoder()
    rng = np.random.default_rng(7)
    good = enc.stimulus(31, bytes(range(64)), 4, deltas=[10] * 16)
    garbage = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes() + bytes([0x04])
    tail_data = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    tail = enc.sync() + enc.stimulus(31, tail_data, 4, deltas=[3] * 100)
    chunk, demux = in_pieces(good + garbage + tail, 333)
    port31 = chunk.payload(31)
    assert port31.startswith(bytes(range(64)))
    assert port31.endswith(tail_data)
    assert demux.skipped_bytes > 0
    assert len(good) <= demux.first_skip < len(good) + len(garbage)


def _payload(count: int) -> bytes:
    """Bytes that are all reserved headers, so no packet starts inside a payload."""
    return bytes(0x04 | (k % 8) << 4 for k in range(count))


def _writes(port: int, count: int) -> bytes:
    """`count` one-byte writes to `port`: 2 bytes each."""
    return ItmEncoder().stimulus(port, _payload(count), 1)


@pytest.mark.parametrize("run, recovered", [(7, False), (8, True)])
def test_resync_waits_for_a_run_of_eight_valid_packets(run, recovered):
    swo = bytes([0x04]) + _writes(5, run) + bytes([0x04]) + _writes(6, 10)
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payload(6) == _payload(10)
    assert chunk.payload(5) == (_payload(run) if recovered else b"")
    assert demux.skipped_bytes == (2 if recovered else 2 + 2 * run)


def test_sync_ends_a_resync_at_once():
    swo = bytes([0x04]) + _writes(5, 2) + bytes([0x04]) + bytes(5) + b"\x80" + _writes(6, 2)
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payloads == {6: _payload(2)}
    assert demux.skipped_bytes == 1 + 4 + 1


def test_overflows_are_counted_with_the_first_offset():
    enc = ItmEncoder()
    head = enc.stimulus(31, b"abcd", 4)
    swo = head + enc.overflow() + enc.stimulus(31, b"efgh", 4) + enc.overflow() * 2
    chunk, demux = in_pieces(swo, 3)
    assert chunk.overflows == 3 and demux.stats.overflows == 3
    assert demux.stats.first_overflow == len(head)
    assert chunk.payload(31) == b"abcdefgh"


def test_pages_select_ports_above_31_and_a_sync_resets_them():
    enc = ItmEncoder()
    swo = (
        enc.stimulus(33, b"p1", 1)  # page 1, address 1
        + bytes([0x09, ord("x")])  # still page 1: port 33
        + enc.extension(7)  # the last page
        + bytes([0x09, ord("y")])
        + enc.sync()
        + bytes([0x09, ord("z")])  # back on page 0: port 1
    )
    expected = {1: b"z", 33: b"p1x", 7 * 32 + 1: b"y"}
    assert ItmDemux().demux_all(swo).payloads == expected
    assert in_pieces(swo, 1)[0].payloads == expected


def test_hardware_packets_and_global_timestamps_are_skipped():
    enc = ItmEncoder()
    swo = (
        enc.hardware(1, b"\x10\x00")
        + enc.stimulus(31, b"ab", 2)
        + enc.global_timestamp(1 << 40, second=True)
        + enc.global_timestamp(5)
        + enc.extension(1000, source=True)
        + enc.stimulus(31, b"cd", 2)
        + enc.timestamp(9)
    )
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payloads == {31: b"abcd"}
    assert demux.skipped_bytes == 0
    assert ticks_per_byte(chunk, 31) == [9] * 4


# --- over-long continuation packets ----------------------------------------------
#
# A local timestamp carries at most 4 payload bytes, GTS1 4, GTS2 6 (a 64-bit
# timestamp) and an extension 4 (ARMv7-M ARM, appendix D4), the last one with
# bit 7 clear. What independent decoders do with a longer continuation run:
# - pyOCD's SWOParser (pyocd/trace/swo.py; run on the same bytes below) reads
#   local and global timestamps and extensions up to the first byte with bit 7
#   clear, however long: the whole run is one packet, for every kind.
# - orbuculum (orbcode/orbuculum, Src/itmDecoder.c) reads GTS1/GTS2 to the end
#   of the run too; a local timestamp or extension it closes after 4 payload
#   bytes and reads the rest of the run as headers.
# - sigrok's arm_itm decoder (libsigrokdecode, decoders/arm_itm/pd.py) collects
#   a local timestamp to the end of its run; GTS headers it takes for reserved
#   one-byte packets, and extensions it does not decode (one byte each).
# So none of them reads a too-long local timestamp's run from its first byte
# on as headers, and pyOCD and orbuculum never do so for a GTS. heapgui did,
# for every kind: after the refused header, 0x81 0x82 was a write to port 16
# and 0xFB with four more bytes a 4-byte write to port 31, the heap trace. It
# now refuses the packet with its whole run, as pyOCD does, then resyncs; what
# it delivers is what pyOCD delivers.

OVERLONG = {
    "local timestamp": bytes([0xC0, 0xFB, 0x81, 0x82, 0x83, 0x84, 0x70]),
    "GTS1": bytes([0x94, 0x80, 0x80, 0x80, 0x80, 0x81, 0x82, 0x70]),
    "GTS2": bytes([0xB4, 0x80, 0x80, 0x80, 0x80, 0x81, 0x82, 0x70]),
    "GTS1, one byte too many": bytes([0x94, 0x80, 0x80, 0xFA, 0x81, 0x02]),
    "extension": bytes([0x8C, 0xFB, 0x81, 0x82, 0x83, 0x84, 0x70]),
}


@pytest.mark.parametrize("name", OVERLONG)
@pytest.mark.parametrize("piece", [None, 1, 3])
@pytest.mark.parametrize("lead", [b"", b"\x04"])
def test_an_over_long_packet_is_skipped_with_its_whole_run(name, piece, lead):
    # With `lead`, a reserved byte comes first: the search for a resync point
    # that then meets the too-long packet must not stop inside its run either.
    enc = ItmEncoder()
    before = enc.stimulus(31, b"good", 4)
    after = enc.stimulus(31, bytes(range(40)), 4)
    swo = before + lead + OVERLONG[name] + after + enc.timestamp(1)  # pyocd waits for one
    if piece is None:
        demux = ItmDemux()
        chunk = demux.demux_all(swo)
    else:
        chunk, demux = in_pieces(swo, piece)
    assert chunk.payloads == {31: b"good" + bytes(range(40))}
    assert chunk.payloads == pyocd_payloads(swo)
    assert demux.stats.overflows == 0  # the 0x70 ending the run is not a packet either
    assert demux.skipped_bytes == len(lead + OVERLONG[name])
    assert demux.first_skip == len(before)


@st.composite
def streams_with_over_long_packets(draw) -> bytes:
    """Writes of 7-bit bytes, and too-long packets of the kinds pyOCD reads whole."""
    enc = ItmEncoder()
    parts = []
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.booleans()):
            size = draw(st.sampled_from([1, 2, 4]))
            data = bytes(b & 0x7F for b in draw(st.binary(min_size=size, max_size=size)))
            parts.append(enc.stimulus(draw(st.sampled_from([0, 16, 31])), data, size))
        else:
            header = draw(st.sampled_from([0xC0, 0xD0, 0xE0, 0x94, 0xB4, 0x8C, 0xFC]))
            cap = 6 if header == 0xB4 else 4
            run = draw(st.binary(min_size=cap, max_size=cap + 8))
            parts.append(bytes([header, *(b | 0x80 for b in run), draw(st.integers(0, 0x7F))]))
    return b"".join(parts) + enc.timestamp(1)


@settings(max_examples=150, deadline=None)
@given(streams_with_over_long_packets(), st.integers(1, 16))
def test_over_long_packets_cost_what_pyocd_skips_and_nothing_else(swo, piece):
    # Every run byte has bit 7 set and no written byte has: a run read as
    # packets would show. A resync after a refused packet must not drop the
    # writes after it either, when more too-long packets follow soon.
    chunk, demux = in_pieces(swo, piece)
    assert chunk.payloads == pyocd_payloads(swo)
    assert all(max(payload) < 0x80 for payload in chunk.payloads.values())
    assert demux.stats.truncated_bytes == 0


def test_a_run_as_long_as_the_architecture_allows_is_a_packet():
    enc = ItmEncoder()
    longest = {
        "local timestamp": bytes([0xC0, 0x81, 0x82, 0x83, 0x04]),
        "GTS1": bytes([0x94, 0x81, 0x82, 0x83, 0x04]),
        "GTS2": bytes([0xB4, 0x81, 0x82, 0x83, 0x84, 0x85, 0x06]),
        "extension": bytes([0x8C, 0x81, 0x82, 0x83, 0x04]),
    }
    swo = b"".join(enc.stimulus(31, b"ab", 2) + packet for packet in longest.values())
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payloads == {31: b"ab" * 4}
    assert demux.skipped_bytes == 0
    assert demux.stats.packets == 8
    # The local timestamp dates the first write; no other follows, so the end dates the rest.
    assert ticks_per_byte(chunk, 31) == [1 | 2 << 7 | 3 << 14 | 4 << 21] * 8


def test_a_line_held_high_after_a_timestamp_header_is_skipped_in_constant_memory():
    # Every 0xFF byte says "more": the whole stretch belongs to the refused packet.
    enc = ItmEncoder()
    head = enc.stimulus(31, b"good", 4)
    demux = ItmDemux()
    parts = [demux.feed(head + bytes([0xC0]))]
    for _ in range(100):
        parts.append(demux.feed(b"\xff" * 4096))
        assert len(demux._carry) <= 64
    parts.append(demux.feed(b"\x7f" + enc.stimulus(31, bytes(range(40)), 4)))
    chunk = DemuxChunk.concat([*parts, demux.finish()])
    assert chunk.payloads == {31: b"good" + bytes(range(40))}
    assert demux.skipped_bytes == 1 + 100 * 4096 + 1
    assert demux.first_skip == len(head)


def test_an_over_long_run_reaching_the_end_of_the_stream_is_skipped():
    swo = ItmEncoder().stimulus(31, b"good", 4) + bytes([0xB4]) + b"\x81" * 50
    for piece in (None, 7):
        chunk, demux = in_pieces(swo, piece or len(swo))
        assert chunk.payloads == {31: b"good"}
        assert (demux.skipped_bytes, demux.first_skip) == (51, 5)
        assert demux.stats.truncated_bytes == 0


# --- stimulus pages --------------------------------------------------------------


def test_the_stimulus_page_is_three_bits():
    # A page extension is one byte, EX[2:0] = page (8 pages of 32 ports). This one
    # has continuation bytes (pyocd would make it page 2**31 - 1); like orbuculum,
    # heapgui takes it for an extension packet that sets no page.
    swo = bytes([0xF8, 0xFF, 0xFF, 0xFF, 0x7F, 0x09, ord("x")])
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payloads == {1: b"x"}
    assert set(demux.stats.port_bytes) == {1}
    assert demux.skipped_bytes == 0


def test_random_bytes_never_make_a_port_above_255():
    rng = np.random.default_rng(5)
    for _ in range(20):
        demux = ItmDemux()
        demux.demux_all(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
        assert max(demux.stats.port_bytes, default=0) < 256


def test_encoder_refuses_ports_an_itm_does_not_have():
    enc = ItmEncoder()
    with pytest.raises(ValueError):
        enc.stimulus(256, b"x", 1)
    with pytest.raises(ValueError):
        enc.extension(8)
    with pytest.raises(ValueError):
        enc.global_timestamp(1 << 28)  # GTS1: four 7-bit groups
    with pytest.raises(ValueError):
        enc.global_timestamp(1 << 42, second=True)  # GTS2: six
    assert enc.stimulus(255, b"x", 1) == bytes([0x78, 0xF9, ord("x")])


def test_a_long_zero_run_split_across_feeds_is_still_one_sync():
    enc = ItmEncoder()
    swo = enc.stimulus(31, bytes(4), 4) + bytes(100) + b"\x80" + enc.stimulus(31, b"A", 1)
    cut = len(swo) - 3  # the first feed ends inside the zero run
    demux = ItmDemux()
    chunk = DemuxChunk.concat([demux.feed(swo[:cut]), demux.feed(swo[cut:]), demux.finish()])
    assert chunk.payload(31) == bytes(4) + b"A"
    assert demux.skipped_bytes == 0


def test_a_line_held_low_is_skipped_in_constant_memory():
    demux = ItmDemux()
    for _ in range(200):
        demux.feed(bytes(4096))
        assert len(demux._carry) <= 64  # the run is counted, not kept
    demux.feed(b"\x01")  # not a sync terminator: every zero was garbage
    chunk = demux.feed(ItmEncoder().stimulus(31, bytes(range(64)), 4))
    chunk = DemuxChunk.concat([chunk, demux.finish()])
    assert demux.skipped_bytes == 200 * 4096 + 1
    assert demux.first_skip == 0
    assert chunk.payload(31) == bytes(range(64))


@pytest.mark.parametrize("piece", [None, 97])
def test_many_zero_runs_in_one_buffer_match_the_reference(piece):
    # Dozens of syncs (and zero runs that are not syncs) take the array path.
    rng = np.random.default_rng(11)
    enc = ItmEncoder()
    parts = []
    for k in range(300):
        parts.append(enc.stimulus(31, bytes([k % 256, 0, 0, 1]), 4))
        ending = [b"\x80", b"\x80", b"\x01", b""][k % 4]
        parts.append(bytes(int(rng.integers(1, 12))) + ending)
    swo = b"".join(parts)
    expected = reference_demux(swo)
    chunk, demux = in_pieces(swo, piece or len(swo))
    assert chunk.payloads == {p: bytes(v) for p, v in expected.payloads.items()}
    assert demux.skipped_bytes == expected.skipped > 0
    assert demux.stats.packets == expected.packets


def test_offsets_after_a_counted_zero_run_stay_exact():
    demux = ItmDemux()
    demux.feed(bytes([0x04]) + bytes(100))  # garbage, then a zero run to the end
    demux.feed(b"\x01")  # ends the run without a sync; a 1-byte write begins
    chunk = DemuxChunk.concat([demux.feed(b"A\x70"), demux.finish()])  # payload, overflow
    assert chunk.payloads == {0: b"A"}
    assert demux.skipped_bytes == 101 and demux.first_skip == 0
    assert demux.stats.first_overflow == 103


def test_a_sync_needs_five_zero_bytes():
    write = ItmEncoder().stimulus(31, bytes(range(32)), 4)
    demux = ItmDemux()
    chunk = demux.demux_all(bytes(4) + b"\x80" + write)
    assert chunk.payload(31) == bytes(range(32))
    assert demux.skipped_bytes == 5
    assert demux.stats.packets == 8


def test_unfinished_packet_at_the_end_is_truncated_not_skipped():
    swo = ItmEncoder().stimulus(31, b"abcd", 4) + bytes([0xFB, 1, 2])
    demux = ItmDemux()
    chunk = demux.demux_all(swo)
    assert chunk.payload(31) == b"abcd"
    assert demux.stats.truncated_bytes == 3
    assert demux.skipped_bytes == 0


# --- dating bytes across chunks -----------------------------------------------------


def test_port_clock_dates_bytes_when_their_timestamp_arrives():
    enc = ItmEncoder()
    demux = ItmDemux()
    clock = PortClock()
    first = demux.feed(enc.stimulus(31, b"abcdefgh", 4))  # two writes, no timestamp yet
    clock.add(first.times.get(31))
    assert clock.ticks_at([0, 7]).tolist() == [-1, -1]
    second = demux.feed(enc.timestamp(1000) + enc.stimulus(31, b"ij", 2) + enc.timestamp(5))
    clock.add(second.times.get(31))
    assert second.positions[31] == 8
    assert clock.ticks_at(np.arange(11)).tolist() == [1000] * 8 + [1005] * 2 + [-1]
    assert clock.dated == 10
    clock.forget_before(8)
    assert clock.ticks_at([8, 9]).tolist() == [1005, 1005]


def test_encoder_round_trip_of_a_big_timestamped_stream():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, 3 << 20, dtype=np.uint8).tobytes()
    deltas = rng.integers(0, 1 << 28, len(data) // 4)
    enc = ItmEncoder()
    swo = enc.stimulus(31, data, 4, deltas) + enc.stimulus(0, b"log line\n", 1)
    chunk = ItmDemux().demux_all(swo)
    assert chunk.payload(31) == data
    assert chunk.payload(0) == b"log line\n"
    times = chunk.times[31]
    assert times.ends.tolist() == list(range(4, len(data) + 1, 4))
    assert np.array_equal(times.ticks, np.cumsum(deltas))


@st.composite
def write_batches(draw) -> dict:
    """Writes interleaved on pages 0, 1 and 7, some timestamped, some after a sync."""
    count = draw(st.integers(1, 40))

    def each(values: st.SearchStrategy) -> list:
        return draw(st.lists(values, min_size=count, max_size=count))

    stamped = sorted(draw(st.sets(st.integers(0, count - 1))))
    delta = st.sampled_from([0, 1, 6, 7, 127, 128, 1 << 14, (1 << 28) - 1])
    deltas = draw(st.lists(delta, min_size=len(stamped), max_size=len(stamped)))
    return {
        "port": each(st.sampled_from([0, 1, 31, 32, 40, 255])),
        "size": each(st.sampled_from([1, 2, 4])),
        "value": each(st.integers(0, (1 << 32) - 1)),
        "delta_of": dict(zip(stamped, deltas, strict=True)),
        "syncs": draw(st.sets(st.integers(0, count - 1))),
    }


@settings(max_examples=60, deadline=None)
@given(write_batches(), st.data())
def test_write_batches_demultiplex_to_their_ports_and_dates(batch, data):
    port, size, value, delta_of, syncs = batch.values()
    # Brute force: each port's bytes, their dates, and the packets the ITM must send.
    payloads: dict[int, bytearray] = {}
    ticks: dict[int, list[int]] = {}
    undated: dict[int, int] = {}
    total, page, packets = 0, 0, len(port) + len(delta_of) + len(syncs)
    for i, (p, n, v) in enumerate(zip(port, size, value, strict=True)):
        if i in syncs:
            page = 0
        if p // 32 != page:
            page, packets = p // 32, packets + 1  # a page extension packet
        payloads.setdefault(p, bytearray()).extend(v.to_bytes(4, "little")[:n])
        undated[p] = undated.get(p, 0) + n
        if i in delta_of:
            total += delta_of[i]
            for q, k in undated.items():
                ticks.setdefault(q, []).extend([total] * k)
            undated.clear()
    for q, k in undated.items():
        ticks.setdefault(q, []).extend([total] * k)

    # Two batches from one encoder: the page carries over from the first to the second.
    enc = ItmEncoder()
    cut = data.draw(st.integers(0, len(port)))

    def batch_of(lo: int, hi: int) -> bytes:
        stamped = [i for i in sorted(delta_of) if lo <= i < hi]
        return enc.writes(
            port[lo:hi],
            size[lo:hi],
            value[lo:hi],
            [delta_of[i] for i in stamped],
            [i - lo for i in stamped],
            [i - lo for i in sorted(syncs) if lo <= i < hi],
        )

    swo = batch_of(0, cut) + batch_of(cut, len(port))
    chunk, demux = in_pieces(swo, data.draw(st.integers(1, 64)))
    assert chunk.payloads == {p: bytes(v) for p, v in sorted(payloads.items())}
    assert {p: ticks_per_byte(chunk, p) for p in chunk.payloads} == ticks
    assert demux.skipped_bytes == 0
    # The spec-reading oracle finds exactly the writes, timestamps, syncs and page changes.
    assert reference_demux(swo).packets == packets


def test_encoder_rejects_what_an_itm_cannot_send():
    enc = ItmEncoder()
    with pytest.raises(ValueError):
        enc.stimulus(31, b"abc", 3)
    with pytest.raises(ValueError):
        enc.stimulus(31, b"abcd", 4, deltas=[1, 2])
    with pytest.raises(ValueError):
        enc.timestamp(1 << 28)
    with pytest.raises(ValueError):
        enc.sync(4)
    assert ItmEncoder.write_count(7, 4) == 3


# --- CLI -----------------------------------------------------------------------------


def test_cli_demux_writes_the_port(samples, tmp_path, capsys):
    out = tmp_path / "heaptrace"
    assert main(["demux", str(samples / "capture.swo"), "-o", str(out)]) == 0
    assert out.read_bytes() == (samples / "capture.port31").read_bytes()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "port 0: 515 bytes, port 31: 40000 bytes" in err
    assert "0 overflows; 0 skipped bytes" in err
    text = tmp_path / "log"
    assert main(["demux", str(samples / "capture.swo"), "--port", "0", "-o", str(text)]) == 0
    assert text.read_bytes() == (samples / "capture.port0").read_bytes()


def test_cli_demux_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.swo"
    assert main(["demux", str(missing), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"heapgui-cli: error: {missing}: No such file or directory\n"
    assert not (tmp_path / "out").exists()
    junk = tmp_path / "junk.swo"
    junk.write_bytes(bytes([0x04]) * 100)
    assert main(["demux", str(junk), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    expected = "offset 0: expected ITM packets, found none (wrong baud rate?)"
    assert err == f"heapgui-cli: error: {junk}: {expected}\n"
    assert main(["demux", str(junk), "-o", str(junk)]) == 2
    assert "would overwrite the SWO capture" in capsys.readouterr().err


def test_cli_demux_port_letter_is_capital_p(samples, tmp_path, capsys):
    # `-p` is `--pools` in `generate`; in `demux` the port is `-P` / `--port`.
    text = tmp_path / "log"
    assert main(["demux", str(samples / "capture.swo"), "-P", "0", "-o", str(text)]) == 0
    assert text.read_bytes() == (samples / "capture.port0").read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["demux", str(samples / "capture.swo"), "-p", "0", "-o", str(tmp_path / "x")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "heapgui-cli: error: unrecognized arguments: -p 0\n"


@pytest.mark.parametrize("port", ["256", "-1", "x", "1e3"])
def test_cli_demux_port_is_one_of_256(samples, tmp_path, capsys, port):
    with pytest.raises(SystemExit) as exit_:
        main(["demux", str(samples / "capture.swo"), "--port", port, "-o", str(tmp_path / "x")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        f"heapgui-cli: error: argument -P/--port: invalid port {port!r}: "
        "expected a stimulus port from 0 to 255\n"
    )
    assert not (tmp_path / "x").exists()


def test_cli_demux_summary_of_many_ports_stays_short(tmp_path, capsys):
    enc = ItmEncoder()
    swo = b"".join(enc.stimulus(port, bytes(port + 1), 1) for port in range(256))
    (tmp_path / "many.swo").write_bytes(swo)
    out = tmp_path / "out"
    assert main(["demux", str(tmp_path / "many.swo"), "-P", "200", "-o", str(out)]) == 0
    assert out.read_bytes() == bytes(201)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 400
    # The port asked for and the seven biggest others, then the rest summed up.
    shown = [200, *range(249, 256)]
    listed = ", ".join(f"port {p}: {p + 1} bytes" for p in shown)
    rest = sum(p + 1 for p in range(256) if p not in shown)
    assert f"; {listed}, 248 more ports: {rest} bytes;" in err
