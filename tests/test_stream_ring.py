"""Drone Stream's ring: drone-core's writer rule against the host's reader, and the reader alone.

The writer (the simulated firmware's) and the reader (the capture's) share
target RAM as a bytearray. The oracle is the list of frames the test asked
the writer to write and the writer accepted: the reader must hand back
exactly those, in order, whatever the poll timing and wraps. Every write is
also checked against a snapshot of the bytes the host has not read yet, so a
writer that overwrote unread data fails.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stream_ram import BASE, MASK, RT, Ram

from heapgui.capture.simulator.stream_writer import RingWriter
from heapgui.capture.stream_map import StreamBuffer
from heapgui.capture.stream_ring import (
    BOOTSTRAP,
    Frame,
    RingReader,
    StreamCorrupt,
    split_frames,
)


def ring(size: int) -> tuple[Ram, RingWriter, RingReader]:
    ram = Ram()
    buffer = StreamBuffer("core0", RT, size)
    writer = RingWriter(buffer, ram.data, BASE)
    writer.boot(primary=True, mask_offset=MASK - BASE)
    return ram, writer, RingReader(0, buffer, ram)


def unread(ram: Ram, buffer: StreamBuffer) -> dict[int, int]:
    """The RAM bytes the host has not read yet, by address, found by hand from the cursors."""
    rc, wc = ram.read32(buffer.read_cursor_address), ram.read32(buffer.write_cursor_address)
    offsets = range(rc, wc) if wc >= rc else [*range(rc, buffer.size), *range(wc)]
    return {buffer.buffer + k: ram.data[buffer.buffer - BASE + k] for k in offsets}


def untouchable(ram: Ram, buffer: StreamBuffer) -> bytes:
    """RAM the writer must never change: all but the ring and its write cursor."""
    rt, end = buffer.runtime - BASE, buffer.buffer - BASE + buffer.size
    return bytes(ram.data[: rt + 8]) + bytes(ram.data[end:])


# Lengths near the extremes make exact fits (a frame ending at `size`, one byte short) likely.
lengths = st.one_of(st.integers(0, 255), st.sampled_from([0, 1, 2, 126, 253, 254, 255]))
frame_lists = st.lists(st.tuples(st.integers(0, 31), lengths, st.integers(0, 255)), max_size=150)
buffer_sizes = st.one_of(
    st.sampled_from([260, 264, 268]), st.integers(65, 1024).map(lambda words: 4 * words)
)


@settings(max_examples=300, deadline=None)
@given(
    sizes=buffer_sizes,  # 260 bytes to 4K
    frames=frame_lists,
    # After each frame the writer tries, the host polls with this chance.
    polls=st.lists(st.booleans(), min_size=1, max_size=120),
)
def test_every_frame_comes_back_in_order_and_nothing_unread_is_overwritten(sizes, frames, polls):
    ram, writer, reader = ring(sizes)
    buffer = reader.buffer
    sent: list[Frame] = []
    got: list[Frame] = []
    for n, (stream, length, fill) in enumerate(frames):
        payload = bytes([fill]) * length
        while True:
            before, outside = unread(ram, buffer), untouchable(ram, buffer)
            written = writer.try_write(stream, payload)
            # What was pending is still there, byte for byte, and still pending.
            after = unread(ram, buffer)
            assert all(after.get(addr) == value for addr, value in before.items())
            assert untouchable(ram, buffer) == outside
            if written:
                sent.append(Frame(0, stream, payload))
                break
            # Full: the firmware waits until the host has read.
            got.extend(reader.poll().frames)
        if polls[n % len(polls)]:
            got.extend(reader.poll().frames)
    got.extend(reader.poll().frames)
    assert got == sent
    assert writer.pending() == 0


@settings(max_examples=60, deadline=None)
@given(frames=frame_lists, size=buffer_sizes)
def test_one_poll_after_each_frame_sees_each_frame_alone(frames, size):
    ram, writer, reader = ring(size)
    for stream, length, fill in frames:
        payload = bytes([fill]) * length
        if not writer.try_write(stream, payload):
            # No room before the end, none before the read cursor: only the wrap marker went
            # in, and the host must read it before the frame fits at 0.
            assert reader.poll().frames == []
            assert writer.try_write(stream, payload)
        assert reader.poll().frames == [Frame(0, stream, payload)]


def parse_by_hand(data: bytes, wrap_at: int | None) -> list[tuple[int, bytes]] | None:
    """An independent reading of section 5's parse: None when the data is corrupt."""
    out = []
    segments = [data] if wrap_at is None else [data[:wrap_at], data[wrap_at:]]
    for k, segment in enumerate(segments):
        i = 0
        while i < len(segment):
            if segment[i] == 0xFF:
                if k == len(segments) - 1:
                    return None  # a marker with no wrap to jump to
                break  # the rest of the first segment is unused
            if segment[i] > 31 or i + 2 > len(segment) or i + 2 + segment[i + 1] > len(segment):
                return None
            out.append((segment[i], segment[i + 2 : i + 2 + segment[i + 1]]))
            i += 2 + segment[i + 1]
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64), wrap=st.integers(0, 64), use_wrap=st.booleans())
def test_split_frames_agrees_with_a_parse_by_hand(data, wrap, use_wrap):
    wrap_at = min(wrap, len(data)) if use_wrap and data else None
    frames, good = split_frames(3, data, wrap_at)
    expected = parse_by_hand(data, wrap_at)
    got = [(f.stream, f.payload) for f in frames]
    if expected is not None:
        assert good == len(data) and got == expected
    else:
        # Everything before the corrupt byte is kept; a by-hand parse of it agrees.
        assert good < len(data)
        assert all(f.core == 3 for f in frames)


def test_a_marker_with_no_wrap_and_a_second_marker_are_corrupt():
    frames, good = split_frames(0, bytes([1, 1, 65, 0xFF]), None)
    assert [f.payload for f in frames] == [b"A"] and good == 3
    data = bytes([1, 1, 65, 0xFF, 9, 9, 2, 0, 0xFF])
    frames, good = split_frames(0, data, 6)
    assert [(f.stream, f.payload) for f in frames] == [(1, b"A"), (2, b"")] and good == 8


def test_a_frame_ending_exactly_at_the_end_wraps_without_a_marker():
    ram, writer, reader = ring(260)
    assert writer.try_write(31, bytes(200))
    reader.poll()
    # 60 more bytes do not fit in the 58 left before the end: a marker, then a write at 0.
    assert writer.try_write(31, bytes(58))
    assert ram.read32(reader.buffer.write_cursor_address) == 60
    assert ram.data[reader.buffer.buffer - BASE + 202] == 0xFF
    assert reader.poll().frames == [Frame(0, 31, bytes(58))]
    ram2, writer2, reader2 = ring(260)
    assert writer2.try_write(31, bytes(100))
    reader2.poll()
    assert writer2.try_write(31, bytes(156))  # 102 + 158 = 260: ends exactly at the end
    assert ram2.read32(reader2.buffer.write_cursor_address) == 0
    assert writer2.try_write(1, b"next")
    assert reader2.poll().frames == [Frame(0, 31, bytes(156)), Frame(0, 1, b"next")]


def test_corrupt_data_is_skipped_and_the_next_poll_starts_clean():
    ram, writer, reader = ring(260)
    assert writer.try_write(31, b"\x00\x04\x00\x00\x00")
    ram.data[reader.buffer.buffer - BASE] = 40  # no stream 40
    poll = reader.poll()
    assert poll.frames == [] and poll.skipped == 7 and poll.skipped_at == 0
    assert writer.try_write(0, b"hi")
    poll = reader.poll()
    assert poll.frames == [Frame(0, 0, b"hi")] and poll.skipped == 0


def test_a_stale_map_is_refused_before_anything_is_written():
    ram, writer, reader = ring(260)
    stale = RingReader(0, StreamBuffer("core0", RT, 1024), ram)
    with pytest.raises(StreamCorrupt, match=r"core0: buffer_size at 0x20001004 is 260, but x.elf"):
        stale.check_size("x.elf")
    reader.check_size("x.elf")


def test_a_cursor_outside_the_buffer_is_a_one_line_error():
    ram, writer, reader = ring(260)
    ram.write32(reader.buffer.write_cursor_address, 999)
    with pytest.raises(StreamCorrupt, match="write_cursor at 0x2000100C is 999, outside"):
        reader.poll()


def test_attach_skips_or_drains_the_backlog():
    ram, writer, reader = ring(260)
    for k in range(3):
        assert writer.try_write(0, bytes([k]))
    assert reader.attach(drain_backlog=False) == 9
    assert reader.poll().frames == []
    ram, writer, reader = ring(260)
    for k in range(3):
        assert writer.try_write(0, bytes([k]))
    assert reader.attach(drain_backlog=True) == 0
    assert [f.payload for f in reader.poll().frames] == [b"\x00", b"\x01", b"\x02"]


def test_bootstrap_block_is_what_the_firmware_copies_at_reset():
    ram, writer, reader = ring(260)
    ram.write32(MASK, 0x12345678)
    reader.bootstrap(0x80000003)
    start = reader.buffer.buffer - BASE
    assert bytes(ram.data[start : start + 16]) == BOOTSTRAP
    assert writer.boot(primary=True, mask_offset=MASK - BASE)
    assert ram.read32(MASK) == 0x80000003
    assert ram.data[start] == 0  # cleared, so the next reset does not find it
    assert [ram.read32(RT + 4 * k) for k in range(3)] == [260, 0, 0]
    # A reset without a host: the primary zeroes the mask.
    assert not writer.boot(primary=True, mask_offset=MASK - BASE)
    assert ram.read32(MASK) == 0
