"""Byte sources other than the probe: source names, TCP against a local server, file replay."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pyocd.core.options import OPTIONS_INFO
from swo_server import SwoServer, free_port

from heapgui.capture.byte_source import ByteSource, SourceEnded, SourceLost
from heapgui.capture.itm_encode import ItmEncoder
from heapgui.capture.probe import ProbeSettings, ProbeSource
from heapgui.capture.sim_source import SimulatorSource, simulator_source
from heapgui.capture.simulator import simulated_probe
from heapgui.capture.sources import (
    SourceSettings,
    SourceSpec,
    make_source,
    parse_source,
)
from heapgui.capture.swo_replay import PIECE, ReplaySource
from heapgui.capture.tcp import PRESETS_BY_NAME, TCP_PRESETS, TcpSource
from heapgui.errors import HeapguiError


def read_all(source: ByteSource, limit: float = 20.0) -> tuple[bytes, BaseException]:
    """Read until the source raises; returns the bytes and what it raised."""
    data = bytearray()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            data += source.read()
        except (HeapguiError, SourceEnded) as stop:
            return bytes(data), stop
    raise AssertionError("the source never ended")


# Source names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("probe", SourceSpec("probe")),
        ("probe:0240000034544e45", SourceSpec("probe", unique_id="0240000034544e45")),
        ("tcp:10.0.0.5:3443", SourceSpec("tcp", host="10.0.0.5", port=3443)),
        ("tcp:3344", SourceSpec("tcp", host="localhost", port=3344)),
        ("tcp::2332", SourceSpec("tcp", host="localhost", port=2332)),
        ("tcp:[::1]:3443", SourceSpec("tcp", host="::1", port=3443)),
        ("tcp:pyocd", SourceSpec("tcp", host="localhost", port=3443)),
        ("tcp:jlink", SourceSpec("tcp", host="localhost", port=2332)),
        ("tcp:lab-pc:openocd", SourceSpec("tcp", host="lab-pc", port=3344)),
        ("replay:dir/capture.swo", SourceSpec("replay", path=Path("dir/capture.swo"))),
        ("replay:C:/x.swo", SourceSpec("replay", path=Path("C:/x.swo"))),
        ("sim", SourceSpec("sim")),
    ],
)
def test_source_names_parse(text, expected):
    assert parse_source(text) == expected


@pytest.mark.parametrize(
    "text", ["usb", "", "tcp:", "tcp:host:0", "tcp:host:65536", "tcp:host:port", "replay:", "sim:1"]
)
def test_bad_source_names_are_one_line_errors(text):
    with pytest.raises(HeapguiError) as error:
        parse_source(text)
    assert repr(text) in str(error.value)
    assert "\n" not in str(error.value)


def test_specs_print_back_as_names():
    for text in ("probe", "probe:abc", "tcp:lab-pc:3443", "tcp:[::1]:3443", "replay:a.swo", "sim"):
        assert parse_source(str(parse_source(text))) == parse_source(text)


def test_presets_match_the_debuggers_defaults():
    assert [p.name for p in TCP_PRESETS] == ["pyocd", "openocd", "jlink", "orbuculum"]
    # pyocd's own option table is the reference for its raw SWV server.
    assert PRESETS_BY_NAME["pyocd"].port == OPTIONS_INFO["swv_raw_port"].default
    assert PRESETS_BY_NAME["jlink"].port == 2332
    assert PRESETS_BY_NAME["orbuculum"].port == 3443
    assert all(p.label and p.how for p in TCP_PRESETS)


def test_every_source_follows_the_interface(tmp_path):
    sources = [
        TcpSource("localhost", 1),
        ReplaySource(tmp_path / "x.swo"),
        ProbeSource(ProbeSettings("x", 72_000_000, 2_000_000)),
        simulator_source(),
    ]
    assert all(isinstance(s, ByteSource) for s in sources)


def test_factory_builds_each_kind(tmp_path):
    swo = tmp_path / "a.swo"
    tcp = make_source("tcp:lab-pc:jlink")
    assert isinstance(tcp, TcpSource) and (tcp.host, tcp.port) == ("lab-pc", 2332)
    assert tcp.name == "SWO stream lab-pc:2332"
    assert not make_source(f"replay:{swo}").paced
    assert not make_source(f"replay:{swo}", SourceSettings(72_000_000, replay_pace="fast")).paced
    assert make_source(f"replay:{swo}", SourceSettings(swo_baud=2_000_000)).paced
    assert make_source(f"replay:{swo}", SourceSettings(replay_pace="1e6")).paced
    with pytest.raises(HeapguiError, match="replay pace 'slow'"):
        make_source(f"replay:{swo}", SourceSettings(replay_pace="slow"))
    sim = make_source("sim", SourceSettings(64_000_000, 4_000_000, simulator={"seed": 3}))
    assert isinstance(sim, SimulatorSource)
    assert sim.device.config.core_clock == 64_000_000
    assert sim.device.config.seed == 3
    assert sim.settings.swo_baud == 4_000_000


def test_probe_needs_the_swo_clocks():
    with pytest.raises(HeapguiError, match="core clock and the SWO baud rate"):
        make_source("probe:abc", SourceSettings(swo_baud=2_000_000))


def test_probe_without_id_takes_the_only_one():
    with simulated_probe(unique_id="the-only-probe"):
        source = make_source("probe", SourceSettings(72_000_000, 2_000_000, "cortex_m", 4_000_000))
    assert isinstance(source, ProbeSource)
    assert source.settings.unique_id == "the-only-probe"
    assert source.settings.swd_frequency == 4_000_000


def test_probe_takes_the_pyocd_files_the_user_names(tmp_path):
    config, script = tmp_path / "board.yaml", tmp_path / "hooks.py"
    config.write_text("")
    script.write_text("")
    settings = SourceSettings(72_000_000, 2_000_000, pyocd_config=config, pyocd_script=script)
    source = make_source("probe:abc", settings)
    assert (source.settings.pyocd_config, source.settings.pyocd_script) == (config, script)
    assert (
        make_source("probe:abc", SourceSettings(72_000_000, 2_000_000)).settings.pyocd_script
        is None
    )
    with pytest.raises(HeapguiError, match=f"^{tmp_path / 'none.py'}: no such pyOCD user script$"):
        make_source("probe:abc", replace(settings, pyocd_script=tmp_path / "none.py"))


def test_probe_without_id_refuses_to_guess():
    with simulated_probe(unique_id="probe-a"), simulated_probe(unique_id="probe-b"):
        with pytest.raises(HeapguiError, match="several debug probes.*probe-a.*probe-b"):
            make_source("probe", SourceSettings(72_000_000, 2_000_000))


def test_simulator_is_installed_only_while_open():
    source = simulator_source(byte_rate=50_000)
    source.open()
    try:
        assert source.device.unique_id in {p.unique_id for p in _probes()}
        assert read_for(source, 0.2)
    finally:
        source.close()
    assert source.device.unique_id not in {p.unique_id for p in _probes()}
    source.close()  # twice is fine


def _probes():
    from heapgui.capture.probe import list_probes

    return list_probes()


def read_for(source: ByteSource, seconds: float) -> bytes:
    data = bytearray()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data += source.read()
    return bytes(data)


# TCP ----------------------------------------------------------------------------


def test_tcp_delivers_the_stream_then_reports_the_disconnect(samples):
    swo = (samples / "capture.swo").read_bytes()
    server = SwoServer(swo)
    source = TcpSource("127.0.0.1", server.port)
    source.open()
    try:
        data, stop = read_all(source)
    finally:
        source.close()
    server.join()
    assert data == swo
    assert isinstance(stop, SourceLost)
    assert str(stop) == f"SWO stream 127.0.0.1:{server.port}: the debugger closed the connection"


def test_tcp_reset_keeps_what_came_before(samples):
    swo = (samples / "capture.swo").read_bytes()
    server = SwoServer(swo, piece=4096, reset=True)
    with_source = TcpSource("127.0.0.1", server.port)
    with_source.open()
    try:
        data, stop = read_all(with_source)
    finally:
        with_source.close()
    server.join()
    assert isinstance(stop, SourceLost)
    assert "connection failed" in str(stop) or "closed the connection" in str(stop)
    # A reset may discard bytes still in flight, never reorder or invent them.
    assert swo.startswith(data)


def test_tcp_idle_read_returns_nothing_soon():
    server = SwoServer(b"", hold=True)
    source = TcpSource("127.0.0.1", server.port)
    source.open()
    try:
        start = time.monotonic()
        assert source.read() == b""
        assert time.monotonic() - start < 0.5
    finally:
        source.close()
        server.release()
    server.join()
    assert server.client_left.is_set()


def test_tcp_refused_is_one_line():
    port = free_port()
    source = TcpSource("127.0.0.1", port)
    with pytest.raises(HeapguiError) as error:
        source.open()
    message = str(error.value)
    assert f"cannot connect to SWO stream 127.0.0.1:{port}" in message
    assert "refused" in message.lower()
    assert "\n" not in message
    source.close()


def test_tcp_refused_on_a_preset_port_names_the_debugger():
    source = TcpSource("127.0.0.1", 2332, connect_timeout=1)
    try:
        source.open()
    except HeapguiError as error:
        assert "J-Link GDB Server" in str(error)
    else:  # something really serves that port here
        source.close()


# Replay -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_replay_fast_delivers_the_file_then_ends(samples, tmp_path):
    swo = (samples / "capture.swo").read_bytes()
    source = make_source(f"replay:{samples / 'capture.swo'}", SourceSettings(replay_pace="fast"))
    source.open()
    data, stop = read_all(source)
    source.close()
    assert data == swo
    assert isinstance(stop, SourceEnded)


def test_replay_of_a_missing_file_is_one_line(tmp_path):
    source = ReplaySource(tmp_path / "none.swo")
    with pytest.raises(HeapguiError, match="none.swo: No such file"):
        source.open()


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
@pytest.mark.parametrize("what", ["core_clock", "byte_rate"])
def test_replay_refuses_a_pace_that_is_no_positive_number(tmp_path, what, value):
    with pytest.raises(HeapguiError, match=f"must be a positive number, got {value}$"):
        ReplaySource(tmp_path / "x.swo", **{what: value})


def test_replay_at_a_byte_rate_paces_by_the_clock(samples):
    swo = (samples / "capture.swo").read_bytes()
    clock = FakeClock()
    rate = 10_000.0
    source = ReplaySource(samples / "capture.swo", byte_rate=rate, clock=clock)
    source.open()
    delivered = bytearray()
    for t in (0.0, 0.3, 1.0, 1.0, 2.5, 5.4):
        clock.now = t
        delivered += source.read()
        # Whole pieces, each due when the line has carried its last byte.
        due = min(int(t * rate) // PIECE * PIECE, len(swo))
        assert bytes(delivered) == swo[:due]
    clock.now = 100.0
    delivered += source.read()
    assert bytes(delivered) == swo
    with pytest.raises(SourceEnded):
        source.read()
    source.close()


def test_replay_at_the_recorded_pace_follows_the_timestamps(tmp_path):
    # A stream with known dates: 2000 four-byte writes on port 31, one every 1000 ticks.
    writes = 2000
    payload = np.arange(writes * 4, dtype=np.uint32).astype(np.uint8).tobytes()
    stream = ItmEncoder().stimulus(31, payload, 4, deltas=np.full(writes, 1000))
    # Each write is 5 bytes of packet and 3 of timestamp (1000 needs two 7-bit groups).
    assert len(stream) == writes * 8
    path = tmp_path / "dated.swo"
    path.write_bytes(stream)
    clock = FakeClock()
    core_clock = 1_000_000  # 1000 ticks = 1 ms
    source = ReplaySource(path, core_clock=core_clock, clock=clock)
    source.open()
    delivered = bytearray()
    for ms in (0, 100, 511, 512, 1024, 1500, 1999):
        clock.now = ms / 1000
        delivered += source.read()
        # A piece is due at the date of its last timestamp packet: write k ends at byte 8k.
        due = 0
        for end in range(PIECE, len(stream) + PIECE, PIECE):
            end = min(end, len(stream))
            if (end // 8) * 1000 <= ms * 1000:
                due = end
        assert len(delivered) == due, ms
    clock.now = 2.0
    delivered += source.read()
    assert bytes(delivered) == stream
    source.close()


def test_replay_in_real_time_takes_the_recorded_time(samples):
    # capture.swo spans 21 231 549 ticks: 0.295 s at 72 MHz.
    source = ReplaySource(samples / "capture.swo", core_clock=72_000_000)
    source.open()
    start = time.monotonic()
    data, stop = read_all(source)
    took = time.monotonic() - start
    source.close()
    assert isinstance(stop, SourceEnded)
    assert data == (samples / "capture.swo").read_bytes()
    assert took >= 0.25
