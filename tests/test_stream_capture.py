"""Drone Stream captures from the simulated master board, through pyOCD's real memory path.

The references are independent of the reader: what the simulated cores
recorded as written, and the workload encoded directly with
`encode_tagged` (the firmware's frames must be exactly its records).
"""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from pyocd.core import exceptions

from heapgui.capture.session import FAILED, STOPPED, CaptureSession
from heapgui.capture.sim_source import simulated_stream_source
from heapgui.capture.simulator.firmware import boot_records, heap_block
from heapgui.capture.simulator.stream_firmware import simulated_stream_map
from heapgui.capture.stream_locate import stream_map_from_layout
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.capture.stream_source import FROM_RESET, StreamSource
from heapgui.errors import HeapguiError
from heapgui.trace.records import Records
from heapgui.trace.tagged import TaggedDecoder, encode_tagged


def run(session: CaptureSession, seconds: float, before_stop=None):
    """Poll for `seconds`, then stop; the updates' records, cores and text, and the summary."""
    session.start()
    records, cores, text = [], [], {}
    deadline = time.monotonic() + seconds
    update = None
    while time.monotonic() < deadline:
        update = session.poll()
        records.append(update.records)
        if update.cores is not None:
            cores.append(update.cores)
        for port, part in update.text.items():
            text[port] = text.get(port, "") + part
        if update.finished:
            break
    if update is None or not update.finished:
        if before_stop is not None:
            before_stop()
        update = session.stop()
        records.append(update.records)
        if update.cores is not None:
            cores.append(update.cores)
        for port, part in update.text.items():
            text[port] = text.get(port, "") + part
    joined = Records.concat(records)
    return joined, np.concatenate(cores) if cores else np.empty(0), text, update.summary


def workload_bytes(seed: int, at_least: int) -> bytes:
    """The simulated core's heap trace, made directly: boot allocations, then workload blocks."""
    rng = np.random.default_rng(seed)
    parts = [encode_tagged(boot_records())]
    while sum(map(len, parts)) < at_least:
        parts.append(encode_tagged(heap_block(rng)))
    return b"".join(parts)


def tagged_records(data: bytes) -> int:
    decoder = TaggedDecoder(strict=True)
    return len(decoder.feed(data)) + len(decoder.finish())


@pytest.mark.parametrize("start", ["attach", FROM_RESET])
def test_the_heaptrace_is_the_workload_from_its_first_allocation(tmp_path, start):
    source = simulated_stream_source(start=start, seed=7)
    board = source.target.device
    path = tmp_path / "heaptrace"
    records, _, text, summary = run(CaptureSession(source, path, fmt="tagged"), 0.6)
    data = path.read_bytes()
    assert summary.ended == STOPPED and summary.error is None
    assert len(data) > 10_000
    assert data == workload_bytes(7, len(data))[: len(data)]
    assert data == board.heaptrace  # everything written reached the file
    assert len(records) == summary.counters.records == tagged_records(data)
    assert summary.counters.heap_saved == len(data)
    assert text.get(0, "") == board.core_text(0).decode()
    assert "core0 boot\n" in text[0]
    assert board.mask == 0  # cleared at the end: the firmware is not left waiting
    if start == FROM_RESET:
        assert board.resets == 1 and board.firmware_stream.bootstrapped


def test_two_cores_are_merged_in_arrival_order_and_each_record_keeps_its_core(tmp_path):
    source = simulated_stream_source(start=FROM_RESET, stream_cores=2, seed=3)
    board = source.target.device
    path = tmp_path / "heaptrace"
    records, cores, text, summary = run(CaptureSession(source, path, fmt="tagged"), 0.6)
    data = path.read_bytes()
    assert summary.counters.fills[0][0] == "core0" and summary.counters.fills[1][0] == "core1"
    assert len(cores) == len(records)
    ends = np.append(records.offset[1:], len(data))
    for core in (0, 1):
        mine = b"".join(
            data[s:e]
            for s, e in zip(records.offset[cores == core], ends[cores == core], strict=True)
        )
        assert mine == board.core_heaptrace(core)
        assert mine == workload_bytes(3 + core, len(mine))[: len(mine)]
    # Both cores' log lines arrive whole although print! cut them into 64-byte frames.
    for core in (0, 1):
        assert f"core{core} tick 1: " in text[0] or f"core{core} boot\n" in text[0]
    assert "\ufffd" not in text[0]  # no UTF-8 character broken by a frame boundary


def test_a_stale_map_is_refused_and_the_target_is_left_alone(tmp_path):
    board_source = simulated_stream_source()
    board = board_source.target.device
    real = board.stream_map.buffers[0]
    stale = StreamMap(board.stream_map.mask, (StreamBuffer("core0", real.runtime, 1024),), "x.elf")
    source = StreamSource(board_source.target, stale)
    session = CaptureSession(source, tmp_path / "heaptrace", fmt="tagged")
    with pytest.raises(HeapguiError) as err:
        session.start()
    message = str(err.value)
    assert "\n" not in message
    assert "buffer_size at 0x20001004 is 260, but x.elf says 1024" in message
    assert board.mask == 0
    assert not (tmp_path / "heaptrace").exists()


def test_a_failing_probe_ends_the_capture_with_the_mask_cleared(tmp_path):
    source = simulated_stream_source()
    board = source.target.device
    session = CaptureSession(source, tmp_path / "heaptrace", fmt="tagged")

    def fail_soon():
        board.inject(exceptions.TransferFaultError("SWD FAULT"), on="dap")

    session.start()
    for _ in range(50):
        session.poll()
    fail_soon()
    update = session.poll()
    assert update.finished and update.summary.ended == FAILED
    assert "SWD FAULT" in str(update.summary.error)
    assert board.mask == 0
    assert (tmp_path / "heaptrace").read_bytes() == board.heaptrace


def test_an_unplugged_probe_says_the_mask_could_not_be_cleared(tmp_path):
    source = simulated_stream_source()
    board = source.target.device
    session = CaptureSession(source, tmp_path / "heaptrace", fmt="tagged")
    session.start()
    for _ in range(20):
        session.poll()
    board.unplug()
    update = session.poll()
    summary = update.summary
    assert summary is not None and summary.ended == FAILED
    assert board.mask != 0
    assert any("could not clear the enable mask at 0x20001000" in w for w in summary.warnings)
    assert all("\n" not in w for w in summary.warnings)


def test_a_target_reset_during_the_capture_ends_it_with_a_reason(tmp_path):
    source = simulated_stream_source()
    board = source.target.device
    session = CaptureSession(source, tmp_path / "heaptrace", fmt="tagged")
    session.start()
    session.poll()
    with board.lock:
        board._system_reset()  # the firmware reboots without a bootstrap block: mask 0
    deadline = time.monotonic() + 3
    update = session.poll()
    while not update.finished and time.monotonic() < deadline:
        update = session.poll()
    assert update.finished
    assert "the target was reset" in str(update.summary.error)


def test_stream_sessions_refuse_swo_formats_and_raw_files(tmp_path):
    with pytest.raises(HeapguiError, match="carries the tagged format, not framed"):
        CaptureSession(simulated_stream_source(), tmp_path / "h", fmt="framed")
    with pytest.raises(HeapguiError, match="raw SWO file needs a SWO capture"):
        CaptureSession(simulated_stream_source(), tmp_path / "h", tmp_path / "r", fmt="tagged")


def test_attach_can_drain_what_a_previous_host_left(tmp_path):
    source = simulated_stream_source(drain_backlog=True, seed=5)
    board = source.target.device
    stream_map = board.stream_map
    # A host that crashed: the mask is set and nobody read what the firmware wrote.
    with board.lock:
        board.bus.write(stream_map.mask, 1 << 31)
    time.sleep(0.02)
    board.advance()
    backlog = board.core_heaptrace(0)
    assert backlog
    path = tmp_path / "heaptrace"
    run(CaptureSession(source, path, fmt="tagged"), 0.2)
    assert path.read_bytes().startswith(backlog)
    assert path.read_bytes() == board.heaptrace


def test_the_simulated_layouts_follow_the_templates():
    one = simulated_stream_map(1, 260)
    assert one.mask == 0x20001000 and one.buffers[0].runtime == 0x20001004
    assert one.buffers[0].buffer == 0x20001010
    two = simulated_stream_map(2, 260)
    assert two.mask == 0x2003FFFC
    assert [b.runtime for b in two.buffers] == [0x2003FEEC, 0x2003FDDC]
    assert [b.buffer for b in two.buffers] == [0x2003FEF8, 0x2003FDE8]


def layout_toml(cores: int, size: int) -> str:
    """The simulated board's layout.toml, as drone master's stm32 and raspberrypi-pico write it."""
    if cores == 1:
        text = '[ram.main]\norigin = "0x20000000"\nsize = "20K"\n\n'
        text += '[stack.core0]\nram = "main"\nsize = "4K"\n\n'
    else:
        text = '[ram.main]\norigin = "0x20000000"\nsize = "256K"\n\n'
    text += '[heap.main]\nram = "main"\nsize = "50%"\npools = []\n\n[stream]\nram = "main"\n\n'
    for k in range(cores):
        primary = "init-primary = true\n" if k == 0 else ""
        text += f'[stream.core{k}]\nram = "main"\nsize = "{size}"\n{primary}\n'
    return text


@pytest.mark.parametrize(("cores", "size"), [(1, 260), (1, 4096), (2, 260)])
def test_the_layout_locator_finds_the_simulated_buffers(tmp_path, cores, size):
    """End to end: layout.toml arithmetic against the board's map, then a capture with it."""
    path = tmp_path / "layout.toml"
    path.write_text(layout_toml(cores, size))
    found = stream_map_from_layout(path)
    expected = simulated_stream_map(cores, size)
    assert (found.mask, found.buffers) == (expected.mask, expected.buffers)
    source = simulated_stream_source(stream_cores=cores, stream_size=size)
    records, _, _, summary = run(
        CaptureSession(StreamSource(source.target, found), tmp_path / "h", fmt="tagged"), 0.3
    )
    assert summary.error is None and len(records) > 100


def test_the_board_waits_when_nobody_reads():
    source = simulated_stream_source(frame_rate=100_000)
    board = source.target.device
    with board.lock:
        board.bus.write(board.stream_map.mask, 1 << 31)
    time.sleep(0.05)
    board.advance()
    rt = board.stream_map.buffers[0].runtime
    _, rc, wc = struct.unpack("<III", bytes(board.bus.ram[rt - 0x20000000 : rt - 0x20000000 + 12]))
    assert (wc - rc) % 260 > 260 - 11  # full: no room for another 9-byte frame
    assert board.waited > 0.03


def test_a_target_that_does_not_halt_at_reset_is_not_bootstrapped(tmp_path, monkeypatch):
    source = simulated_stream_source(start=FROM_RESET)
    board = source.target.device
    monkeypatch.setattr(board.scs, "DEMCR_VC_CORERESET", 0)  # a part without vector catch
    session = CaptureSession(source, tmp_path / "heaptrace", fmt="tagged")
    with pytest.raises(HeapguiError, match="did not halt at reset .*attach to it instead"):
        session.start()
    assert board.mask == 0
    buffer = board.stream_map.buffers[0].buffer - 0x20000000
    assert bytes(board.bus.ram[buffer : buffer + 4]) != bytes.fromhex("298BEAF4")
