"""`StreamSource` on a model target: start modes, the mask on every way out, pacing, warnings."""

from __future__ import annotations

import pytest
from stream_ram import BASE, MASK, RT, Ram

from heapgui.capture.byte_source import SourceLost
from heapgui.capture.session import FAILED, CaptureSession
from heapgui.capture.simulator.stream_writer import RingWriter
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.capture.stream_ring import BOOTSTRAP
from heapgui.capture.stream_source import (
    FIRST_PAUSE,
    FROM_RESET,
    IDLE_PAUSE,
    StreamSource,
)
from heapgui.errors import HeapguiError

SIZE = 260
MAP = StreamMap(MASK, (StreamBuffer("core0", RT, SIZE),), "test/layout.toml")


class Target:
    """A target whose RAM is `Ram`, with a firmware writer the test drives by hand."""

    name = "model target"

    def __init__(self) -> None:
        self.memory = Ram()
        self.writer = RingWriter(MAP.buffers[0], self.memory.data, BASE)
        self.writer.boot(primary=True, mask_offset=MASK - BASE)
        self.calls: list[str] = []
        self.fail_writes = False

    def open(self) -> None:
        self.calls.append("open")

    def close(self) -> None:
        self.calls.append("close")

    def reset_and_halt(self) -> None:
        self.calls.append("reset_and_halt")

    def resume(self) -> None:
        self.calls.append("resume")
        assert self.writer.boot(primary=True, mask_offset=MASK - BASE)  # found the bootstrap

    def check_health(self) -> None:
        pass

    @property
    def mask(self) -> int:
        return self.memory.read32(MASK)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def source(target: Target, clock: Clock | None = None, **options) -> StreamSource:
    clock = clock or Clock()
    return StreamSource(target, MAP, clock=clock, sleep=clock.sleep, **options)


def test_attach_sets_the_mask_last_and_stop_clears_it_then_drains():
    target = Target()
    src = source(target)
    src.open()
    assert target.mask == 0x80000003
    assert target.writer.try_write(31, b"\x00\x10\x00\x00\x00")
    assert [f.payload for f in src.read().frames] == [b"\x00\x10\x00\x00\x00"]
    assert target.writer.try_write(0, b"last words")  # written before the firmware saw the stop
    tail = src.finish()
    assert target.mask == 0
    assert [f.payload for f in tail.frames] == [b"last words"]
    src.close()
    assert target.calls == ["open", "close"]


def test_from_reset_halts_bootstraps_and_resumes():
    target = Target()
    target.memory.write32(MASK, 0)
    src = source(target, start=FROM_RESET)
    src.open()
    assert target.calls == ["open", "reset_and_halt", "resume"]
    assert target.mask == 0x80000003  # copied by the firmware from the bootstrap block
    buffer = MAP.buffers[0].buffer
    assert target.memory.read_block(buffer, 16) != BOOTSTRAP  # its first byte was cleared


@pytest.mark.parametrize("failure", ["read", "exception"])
def test_close_clears_the_mask_whatever_ended_the_capture(failure):
    target = Target()
    src = source(target)
    src.open()
    if failure == "read":
        target.memory.write32(RT + 8, 999)  # a cursor outside the buffer: the read fails
        with pytest.raises(HeapguiError, match="outside the 260-byte buffer"):
            src.read()
    src.close()  # no finish(): an exception (Ctrl-C, a bug) went past the session
    assert target.mask == 0
    assert target.calls[-1] == "close"


def test_a_mask_that_cannot_be_cleared_is_said_once_and_close_does_not_raise():
    target = Target()
    src = source(target)
    src.open()

    def broken(addr: int, value: int) -> None:
        raise HeapguiError("debug probe X was disconnected while writing 0x20001000")

    target.memory.write32 = broken
    assert src.finish().frames == []
    src.close()
    assert len(src.warnings) == 1
    assert src.warnings[0].startswith("could not clear the enable mask at 0x20001000 (debug probe")
    assert "will wait forever" in src.warnings[0]


def test_polls_back_off_when_idle_and_run_flat_out_while_data_flows():
    target, clock = Target(), Clock()
    src = source(target, clock)
    src.open()
    for _ in range(9):
        src.read()
    # No pause before the first poll, then doubling pauses up to IDLE_PAUSE.
    assert clock.sleeps == [FIRST_PAUSE * 2**k for k in range(6)] + [IDLE_PAUSE] * 2
    clock.sleeps.clear()
    for _ in range(5):
        assert target.writer.try_write(31, b"\x00\x04\x00\x00\x00")
        src.read()
    assert clock.sleeps == [IDLE_PAUSE]  # the pause already due, then none while data flows


def test_a_buffer_kept_nearly_full_is_warned_about_once():
    target, clock = Target(), Clock()
    src = source(target, clock)
    src.open()
    for _ in range(30):
        while target.writer.try_write(31, bytes(7)):
            pass
        src.read()
        clock.now += 0.1
    assert src.fills[0] > 0.75
    assert len(src.warnings) == 1
    assert "stream core0: the buffer stayed over 75% full for 1 s" in src.warnings[0]
    assert "[stream.core0] size in layout.toml" in src.warnings[0]


def test_a_cleared_mask_means_the_target_was_reset():
    target, clock = Target(), Clock()
    src = source(target, clock)
    src.open()
    target.memory.write32(MASK, 0)
    clock.now += 1
    with pytest.raises(SourceLost, match="enable mask at 0x20001000 reads 0x00000000"):
        src.read()


def test_log_text_is_decoded_after_joining_frames_that_split_a_character(tmp_path):
    target = Target()
    session = CaptureSession(source(target), tmp_path / "heaptrace", fmt="tagged")
    session.start()
    for payload in ("caf\u00e9 \u2713\n".encode()[:4], "caf\u00e9 \u2713\n".encode()[4:8]):
        assert target.writer.try_write(0, payload)
    assert target.writer.try_write(1, b"\x1b[2Jerr\n")
    first = session.poll()
    assert target.writer.try_write(0, "caf\u00e9 \u2713\n".encode()[8:])
    second = session.poll()
    assert first.text[0] + second.text[0] == "caf\u00e9 \u2713\n"
    assert first.text[1] == "\x1b[2Jerr\n"  # escaped where it is shown (CLI, log view)
    session.stop()


def test_bad_start_options_are_refused():
    with pytest.raises(HeapguiError, match="unknown start mode 'warm'"):
        source(Target(), start="warm")
    with pytest.raises(HeapguiError, match="from reset has no backlog"):
        source(Target(), start=FROM_RESET, drain_backlog=True)


def test_a_stream_31_frame_that_is_no_record_is_counted_and_still_saved(tmp_path):
    target = Target()
    session = CaptureSession(source(target), tmp_path / "heaptrace", fmt="tagged")
    session.start()
    good, bad = b"\x00\x08\x00\x00\x00", b"\x07\x01"
    for payload in (good, bad, good):
        assert target.writer.try_write(31, payload)
    update = session.poll()
    assert [int(o) for o in update.records.offset] == [0, 7]
    assert update.counters.trace_skipped_bytes == 2
    summary = session.stop().summary
    assert (tmp_path / "heaptrace").read_bytes() == good + bad + good
    assert summary.ended != FAILED
