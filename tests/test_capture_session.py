"""The capture session: exact files, statistics and dates, clean stops, faults and reconnects."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from capture_runs import Pieces, Run, dated_stream, poll_until_finished
from oracles import brute_stats
from pyocd.core import exceptions
from pyocd_oracle import pyocd_payloads
from swo_server import SwoServer, free_port

from heapgui.capture.byte_source import SourceLost
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.capture.probe import ProbeFailure, ProbeLost, ProbeSettings
from heapgui.capture.session import FAILED, SOURCE_ENDED, STOPPED, CaptureSession, CaptureUpdate
from heapgui.capture.sim_source import SimulatorSource
from heapgui.capture.simulator import SimulatedDevice, SimulatorConfig
from heapgui.capture.simulator.probe import SimulatedProbe
from heapgui.capture.sources import SourceSettings, make_source
from heapgui.errors import HeapguiError
from heapgui.trace.framed import FramedDecoder, encode_framed
from heapgui.trace.legacy import encode_legacy
from heapgui.trace.records import Records
from heapgui.trace.tagged import encode_tagged
from heapgui.trace.workload import workload

CLOCK = 72_000_000
BAUD = 2_000_000
# Register addresses from the Armv7-M manual, not from the code under test.
ITM_TER = 0xE0000E00
ITM_TCR = 0xE0000E80


def poll_for(session: CaptureSession, run: Run, seconds: float, records: int = 200) -> None:
    """Poll for `seconds`, and on until `records` have arrived: on a loaded machine the
    simulated board may take longer than that to send its first records."""
    start = time.monotonic()
    while time.monotonic() - start < seconds or len(run.records) < records:
        assert time.monotonic() - start < 20.0, f"only {len(run.records)} records in 20 s"
        assert not run.add(session.poll()).finished, run.last.error


def halt_and_drain(session: CaptureSession, run: Run) -> None:
    """Stop the simulated firmware through pyocd, then poll until the trace path is empty."""
    session.source.session.target.halt()
    quiet = 0
    while quiet < 3:
        before = session.demux.stats.bytes_in
        run.add(session.poll())
        quiet = quiet + 1 if session.demux.stats.bytes_in == before else 0


def assert_stats_match_the_file(session: CaptureSession, run: Run, heaptrace: bytes) -> None:
    """Session records and statistics equal a one-shot decode of the saved file."""
    decoder = FramedDecoder()
    whole = Records.concat([decoder.feed(heaptrace), decoder.finish()])
    got = run.records
    assert got.first_index == 0
    for column in ("kind", "size", "new_size", "offset"):
        assert np.array_equal(getattr(got, column), getattr(whole, column)), column
    expected = brute_stats(whole.to_tuples())
    stats = session.stats
    assert [(r.size, r.max_load, r.total, r.live) for r in stats.rows()] == expected["rows"]
    assert stats.max_usage == expected["max_usage"]
    assert stats.peak_usage == expected["peak"]
    assert stats.peak_record == expected["peak_record"]
    assert run.timeline.tolist() == expected["timeline"]
    assert run.last.counters.records == len(whole)


def sim_source(**config) -> SimulatorSource:
    config.setdefault("byte_rate", 200_000)
    device = SimulatedDevice(SimulatorConfig(core_clock=CLOCK, **config))
    return SimulatorSource(ProbeSettings(device.unique_id, CLOCK, BAUD), device)


# The simulated board through pyocd ---------------------------------------------


def test_sim_capture_saves_exactly_what_the_firmware_emitted(tmp_path):
    # The firmware had its own log port enabled before the debugger attached.
    source = sim_source(
        seed=5, unique_id="session-exact", itm_ter=0x1, itm_tcr=0x00010009, demcr=1 << 24
    )
    device = source.device
    session = CaptureSession(source, tmp_path / "heaptrace", tmp_path / "raw.swo")
    run = Run()
    session.start()
    poll_for(session, run, 0.6)
    halt_and_drain(session, run)
    final = run.add(session.stop())

    heaptrace = (tmp_path / "heaptrace").read_bytes()
    assert len(heaptrace) > 20_000
    assert heaptrace == device.heaptrace
    raw = (tmp_path / "raw.swo").read_bytes()
    by_pyocd = pyocd_payloads(raw)
    assert by_pyocd[31] == heaptrace
    assert run.text(0) == by_pyocd[0].decode() == device.emitted[0].decode()
    assert run.text(0).startswith("boot\ntick 1\n")

    summary = final.summary
    assert final.finished and final.error is None
    assert summary.ended == STOPPED
    assert summary.counters.heap_bytes == len(heaptrace)
    assert summary.counters.bytes_received == len(raw)
    assert summary.counters.overflows == summary.counters.skipped_bytes == 0
    assert summary.problems == []
    assert_stats_match_the_file(session, run, heaptrace)

    ticks = run.timestamps
    assert (np.diff(ticks) >= 0).all()
    # The firmware ran ~0.6 s at 72 MHz; its timestamps count core clock cycles.
    assert 0.3 * CLOCK < ticks[-1] <= summary.counters.ticks < 2 * CLOCK

    # A clean stop gives the firmware its ITM settings back.
    assert device.peek32(ITM_TER) == 0x1
    assert device.peek32(ITM_TCR) == 0x00010009
    assert device.unique_id not in SimulatedProbe.devices

    # Stopping again changes nothing.
    again = session.stop()
    assert again.summary is summary and len(again.records) == 0
    assert session.poll().summary is summary


@pytest.mark.parametrize(
    ("fault", "error_type", "text"),
    [
        ("unplug", ProbeLost, "was disconnected"),
        (exceptions.ProbeError("USB pipe stalled"), ProbeFailure, "USB pipe stalled"),
        (exceptions.TransferTimeoutError("no ACK"), ProbeFailure, "stopped answering"),
    ],
)
def test_faults_stop_the_capture_with_everything_received_saved(tmp_path, fault, error_type, text):
    source = sim_source(seed=9)
    device = source.device
    session = CaptureSession(source, tmp_path / "heaptrace")
    run = Run()
    session.start()
    poll_for(session, run, 0.3)
    if fault == "unplug":
        device.unplug()
    else:
        # "dap" faults surface at the next health check, SWO read faults at once.
        on = "dap" if isinstance(fault, exceptions.TransferError) else "swo_read"
        device.inject(fault, on=on)
    final = poll_until_finished(session, run)

    assert isinstance(final.error, error_type)
    message = str(final.error)
    assert text in message and "\n" not in message
    summary = final.summary
    assert summary.ended == FAILED
    heaptrace = (tmp_path / "heaptrace").read_bytes()
    assert len(heaptrace) > 5000
    assert len(heaptrace) == summary.counters.heap_bytes
    assert device.heaptrace.startswith(heaptrace)
    assert_stats_match_the_file(session, run, heaptrace)
    assert device.unique_id not in SimulatedProbe.devices

    # Reconnect without restarting the process: a new session on the same board.
    device.replug()
    again = CaptureSession(SimulatorSource(source.settings, device), tmp_path / "second")
    second = Run()
    again.start()
    poll_for(again, second, 0.3)
    done = second.add(again.stop())
    assert done.error is None and done.summary.ended == STOPPED
    assert done.counters.heap_bytes == len((tmp_path / "second").read_bytes()) > 1000
    assert done.counters.records > 100


def test_probe_spec_reaches_an_installed_board(tmp_path):
    from heapgui.capture.simulator import simulated_probe

    with simulated_probe(unique_id="by-spec", byte_rate=100_000) as device:
        source = make_source("probe:by-spec", SourceSettings(CLOCK, BAUD))
        session = CaptureSession(source, tmp_path / "heaptrace")
        run = Run()
        with session:
            poll_for(session, run, 0.3)
            halt_and_drain(session, run)
        assert session.summary.ended == STOPPED
        assert (tmp_path / "heaptrace").read_bytes() == device.heaptrace


# Record dates ---------------------------------------------------------------------


def interrupted_framed(records: Records, every: int) -> tuple[bytes, list[list[int]]]:
    """Framed words with record i interrupted after its first word by record i + 1, for
    every `every`-th i; returns the bytes and each record's word positions in the output."""
    words = np.frombuffer(encode_framed(records), "<u4")
    length = np.where(records.kind >= 2, 3, 2)
    start = np.cumsum(length) - length
    own = [list(range(s, s + n)) for s, n in zip(start.tolist(), length.tolist(), strict=True)]
    order: list[int] = []
    i = 0
    while i < len(records):
        if i % every == every - 1 and i + 1 < len(records):
            order += own[i][:1] + own[i + 1] + own[i][1:]
            i += 2
        else:
            order += own[i]
            i += 1
    where = np.empty(len(words), np.int64)
    where[order] = np.arange(len(words))
    return words[order].tobytes(), [where[w].tolist() for w in own]


@pytest.mark.parametrize("piece", [7, 64, 1000])
def test_records_are_dated_by_the_packet_that_completed_them(tmp_path, piece):
    records = workload(3000, seed=4)
    data, positions = interrupted_framed(records, every=10)
    swo, byte_tick = dated_stream(data, seed=piece)
    session = CaptureSession(Pieces(swo, piece), tmp_path / "heaptrace", date_wait=60)
    run = Run()
    session.start()
    final = poll_until_finished(session, run)
    assert final.summary.ended == SOURCE_ENDED and final.error is None
    assert (tmp_path / "heaptrace").read_bytes() == data

    got = run.records
    assert len(got) == len(records)
    ticks = run.timestamps
    assert (np.diff(ticks) >= 0).all()
    first_word = {4 * p[0]: p for p in positions}
    interrupted = 0
    for offset, tick in zip(got.offset.tolist(), ticks.tolist(), strict=True):
        words = first_word[offset]
        opened, completed = byte_tick[4 * words[0] + 3], byte_tick[4 * words[-1] + 3]
        if words == list(range(words[0], words[0] + len(words))):
            assert tick == completed, offset
        else:
            # Documented approximation: dated when the record interrupting it completed.
            interrupted += 1
            assert opened <= tick <= completed, offset
    split = sum(p != list(range(p[0], p[0] + len(p))) for p in positions)
    assert interrupted == split > 250


@pytest.mark.parametrize(
    ("fmt", "encode", "step"),
    [("tagged", encode_tagged, (5, 5, 9, 9)), ("legacy", encode_legacy, (6, 6, 10, 10))],
)
def test_other_formats_are_dated_by_their_last_byte(tmp_path, fmt, encode, step):
    records = workload(2000, seed=6)
    data = encode(records)
    swo, byte_tick = dated_stream(data, seed=1)
    session = CaptureSession(Pieces(swo, 333), tmp_path / "heaptrace", fmt=fmt, date_wait=60)
    run = Run()
    session.start()
    poll_until_finished(session, run)
    got = run.records
    assert got.to_tuples() == records.to_tuples()
    # Records lie back to back: each ends where the next begins.
    ends = np.cumsum(np.take(step, records.kind))
    assert run.timestamps.tolist() == byte_tick[ends - 1].tolist()


def test_a_stream_without_timestamps_dates_records_zero(tmp_path):
    records = workload(500, seed=2)
    swo = ItmEncoder().stimulus(31, encode_framed(records), 4)
    session = CaptureSession(Pieces(swo, 500), tmp_path / "heaptrace", date_wait=0)
    run = Run()
    session.start()
    poll_until_finished(session, run)
    assert len(run.records) == len(records)
    assert not run.timestamps.any()
    # Released as soon as decoded, not at the end.
    assert len(run.updates[0].records) > 0


def test_records_wait_for_their_timestamp(tmp_path):
    records = workload(50, seed=3)
    data = encode_framed(records)
    swo, _ = dated_stream(data, seed=0)
    # Cut the stream right after the first record's last word, before its timestamp.
    cut = swo.index(ItmEncoder().stimulus(31, data[4:8])) + 5
    session = CaptureSession(Pieces(swo[:cut], len(swo)), tmp_path / "h", date_wait=60)
    run = Run()
    session.start()
    run.add(session.poll())
    assert len(run.last.records) == 0  # decoded but not dated yet
    final = run.add(session.stop())
    assert len(final.records) == 1  # the end of the stream dates the tail


def test_updates_merge_into_one_batch(tmp_path):
    records = workload(2000, seed=11)
    data = encode_framed(records)
    swo, _ = dated_stream(data, seed=2)
    swo += ItmEncoder().stimulus(0, "log ✓\n".encode(), 1)
    session = CaptureSession(Pieces(swo, 301), tmp_path / "heaptrace", date_wait=60)
    run = Run()
    session.start()
    poll_until_finished(session, run)
    batch = CaptureUpdate.merge(run.updates)
    assert batch.records.first_index == 0
    assert batch.records.to_tuples() == records.to_tuples()
    assert np.array_equal(batch.records.timestamp, run.timestamps)
    assert np.array_equal(batch.timeline, run.timeline)
    assert batch.text == {0: "log ✓\n"}
    assert batch.summary is run.last.summary and batch.counters == run.last.counters
    # Every update, even an empty one, carries dates and its place in the trace.
    for update in run.updates:
        assert update.records.timestamp is not None
    later = session.poll()
    assert later.records.first_index == len(records) and later.records.timestamp.size == 0


# Text ports -----------------------------------------------------------------------


def test_log_text_survives_split_characters_and_bad_bytes(tmp_path):
    enc = ItmEncoder()
    text = "héllo ✓ wörld\n".encode()
    swo = enc.stimulus(0, text, 1) + enc.stimulus(1, b"err \xff\n", 1)
    session = CaptureSession(Pieces(swo, 3), tmp_path / "heaptrace")
    run = Run()
    session.start()
    poll_until_finished(session, run)
    assert run.text(0) == "héllo ✓ wörld\n"
    assert run.text(1) == "err \ufffd\n"
    assert (tmp_path / "heaptrace").read_bytes() == b""


# Counters -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_cover_the_last_second(tmp_path):
    records = workload(4000, seed=8)
    data = encode_framed(records)
    swo = ItmEncoder().stimulus(31, data, 4)  # 5 SWO bytes per 4-byte write
    clock = FakeClock()
    session = CaptureSession(Pieces(swo, 1000), tmp_path / "heaptrace", clock=clock, date_wait=0)
    session.start()
    for _ in range(30):
        clock.now += 0.1
        update = session.poll()
    assert update.counters.bytes_received == 30_000
    assert update.counters.elapsed == pytest.approx(3.0)
    assert update.counters.byte_rate == pytest.approx(10_000)
    # 800 bytes of framed words a poll, 8 bytes a two-word record, 12 a three-word one.
    assert 800 < update.counters.record_rate < 1000
    assert update.counters.heap_bytes == 24_000
    session.stop()


# TCP and files ----------------------------------------------------------------------


def test_tcp_capture_equals_the_demultiplexed_sample(samples, tmp_path):
    swo = (samples / "capture.swo").read_bytes()
    server = SwoServer(swo)
    source = make_source(f"tcp:127.0.0.1:{server.port}")
    session = CaptureSession(source, tmp_path / "heaptrace", tmp_path / "raw.swo")
    run = Run()
    session.start()
    final = poll_until_finished(session, run)
    server.join()
    assert isinstance(final.error, SourceLost)
    assert "closed the connection" in str(final.error)
    assert final.summary.ended == FAILED
    port31 = (samples / "capture.port31").read_bytes()
    assert (tmp_path / "heaptrace").read_bytes() == port31
    assert (tmp_path / "raw.swo").read_bytes() == swo
    assert run.text(0) == (samples / "capture.port0").read_text()
    assert final.counters.heap_bytes == len(port31)
    assert_stats_match_the_file(session, run, port31)


def test_a_source_that_cannot_open_leaves_old_files_alone(tmp_path):
    old = tmp_path / "heaptrace"
    old.write_bytes(b"previous capture")
    session = CaptureSession(make_source(f"tcp:127.0.0.1:{free_port()}"), old)
    with pytest.raises(HeapguiError, match="cannot connect"):
        session.start()
    assert old.read_bytes() == b"previous capture"


def test_an_unwritable_file_closes_the_source(tmp_path):
    source = Pieces(b"", 10)
    session = CaptureSession(source, tmp_path / "missing" / "heaptrace")
    with pytest.raises(HeapguiError, match="missing/heaptrace"):
        session.start()
    assert source.opened == source.closed == 1


@pytest.mark.parametrize("existing", [True, False])
def test_a_raw_file_that_cannot_open_leaves_the_heap_trace_alone(tmp_path, existing):
    heaptrace = tmp_path / "heaptrace"
    if existing:
        heaptrace.write_bytes(b"previous capture")
    source = Pieces(b"", 10)
    session = CaptureSession(source, heaptrace, tmp_path / "missing" / "raw.swo")
    with pytest.raises(HeapguiError, match="missing/raw.swo"):
        session.start()
    assert source.opened == source.closed == 1
    if existing:
        assert heaptrace.read_bytes() == b"previous capture"
    else:
        assert not heaptrace.exists()


def test_heap_trace_and_raw_stream_cannot_share_a_file(tmp_path):
    heaptrace = tmp_path / "heaptrace"
    heaptrace.write_bytes(b"previous capture")
    (tmp_path / "symlink").symlink_to(heaptrace)
    os.link(heaptrace, tmp_path / "hardlink")
    for raw in (
        heaptrace,
        tmp_path / "." / "heaptrace",
        tmp_path / "symlink",
        tmp_path / "hardlink",
    ):
        with pytest.raises(HeapguiError, match=f"^{raw}: .*same file as the heap trace"):
            CaptureSession(Pieces(b"", 1), heaptrace, raw)
    assert heaptrace.read_bytes() == b"previous capture"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_raw_file_reports_what_reached_it(samples, tmp_path):
    swo = (samples / "capture.swo").read_bytes()
    session = CaptureSession(Pieces(swo, 4096), tmp_path / "heaptrace", "/dev/full")
    session.start()
    run = Run()
    final = poll_until_finished(session, run)
    assert str(final.error) == "/dev/full: cannot save the capture: No space left on device"
    heaptrace = (tmp_path / "heaptrace").read_bytes()
    # The heap trace of the first piece reached its file; the raw stream lost that piece.
    assert 0 < len(heaptrace) < 4096
    assert (samples / "capture.port31").read_bytes().startswith(heaptrace)
    c = final.counters
    assert (c.bytes_received, c.raw_saved) == (4096, 0)
    assert c.heap_saved == c.heap_bytes == len(heaptrace)
    assert len(run.records) == c.records > 0  # the views got the records of the last read
    assert (
        f"saved {len(heaptrace)} bytes of heap trace ({c.records} records) in "
        f"{tmp_path / 'heaptrace'}; only 0 of 4096 SWO bytes in /dev/full, 4096 bytes lost;"
    ) in final.summary.describe()


def test_a_session_runs_once(tmp_path):
    session = CaptureSession(Pieces(b"", 10), tmp_path / "heaptrace")
    with pytest.raises(HeapguiError, match="not started"):
        session.poll()
    session.start()
    session.stop()
    with pytest.raises(HeapguiError, match="already started"):
        session.start()


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(HeapguiError, match="unknown trace format 'raw'"):
        CaptureSession(Pieces(b"", 1), tmp_path / "h", fmt="raw")
