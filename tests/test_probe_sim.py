"""The pyocd probe source against the simulated probe: pyocd's real Session, discovery and SWO."""

import os
import time

import pytest
from pyocd.core import exceptions
from pyocd.core.helpers import ConnectHelper
from pyocd.coresight.itm import ITM
from pyocd.coresight.tpiu import TPIU
from pyocd.probe.aggregator import PROBE_CLASSES
from pyocd.target import TARGET
from pyocd_oracle import pyocd_payloads

from heapgui.capture.itm import ItmDemux
from heapgui.capture.probe import (
    ProbeFailure,
    ProbeLost,
    ProbeSettings,
    ProbeSource,
    list_probes,
    list_target_types,
)
from heapgui.capture.simulator import SimulatedDevice, simulated_probe
from heapgui.trace.framed import FramedDecoder

CLOCK = 72_000_000
BAUD = 2_000_000
# Register addresses from the Armv7-M and Cortex-M4 TPIU manuals, not from the code under test.
DEMCR = 0xE000EDFC
DHCSR = 0xE000EDF0
ITM_TER = 0xE0000E00
ITM_TCR = 0xE0000E80
TPIU_ACPR = 0xE0040010
TPIU_SPPR = 0xE00400F0
TPIU_FFCR = 0xE0040304


@pytest.fixture
def device():
    with simulated_probe(byte_rate=100_000, seed=7) as dev:
        yield dev


def settings(dev: SimulatedDevice, **changes) -> ProbeSettings:
    values = dict(unique_id=dev.unique_id, core_clock=CLOCK, swo_baud=BAUD)
    values.update(changes)
    return ProbeSettings(**values)


def capture(source: ProbeSource, seconds: float) -> bytearray:
    data = bytearray()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data += source.read()
    return data


def halt_and_drain(source: ProbeSource) -> bytes:
    """Stop the firmware through pyocd, then read until the trace path is empty."""
    source.session.target.halt()
    data = bytearray()
    empty = 0
    while empty < 3:
        chunk = source.read()
        data += chunk
        empty = 0 if chunk else empty + 1
    return bytes(data)


def test_pyocd_lists_the_simulator_only_while_installed():
    assert "heapgui-sim" not in PROBE_CLASSES
    assert all(p.unique_id != "sim-listed" for p in list_probes())
    with simulated_probe(unique_id="sim-listed"):
        assert "heapgui-sim" in PROBE_CLASSES
        found = ConnectHelper.get_all_connected_probes(blocking=False, unique_id="sim-listed")
        assert [p.unique_id for p in found] == ["sim-listed"]
        assert "sim-listed" in [p.unique_id for p in list_probes()]
    assert "heapgui-sim" not in PROBE_CLASSES
    assert all(p.unique_id != "sim-listed" for p in list_probes())


def test_target_types_start_with_cortex_m_and_include_pyocds_builtins():
    types = list_target_types()
    assert types[0] == "cortex_m"
    assert set(TARGET) <= set(types)
    assert len(types) == len(set(types))


def test_open_discovers_the_target_and_leaves_it_running(device):
    cwd = os.getcwd()
    with ProbeSource(settings(device)) as source:
        target = source.session.target
        assert target.get_first_child_of_type(ITM) is not None
        assert target.get_first_child_of_type(TPIU) is not None
        assert target.cores[0].name == "Cortex-M4"
        assert source.session.options.get("connect_mode") == "attach"
        assert source.session.project_dir != cwd  # pyocd's own, see test_pyocd_trust
        assert not source.session.options.get("enable_swv")
        assert os.getcwd() == cwd
        assert not device.peek32(DHCSR) & (1 << 17)  # S_HALT
        assert capture(source, 0.2)  # a running firmware keeps tracing


def test_open_programs_itm_tpiu_and_demcr(device):
    with ProbeSource(settings(device)):
        assert device.peek32(ITM_TER) == (1 << 31) | (1 << 1) | (1 << 0)
        tcr = device.peek32(ITM_TCR)
        assert tcr & 0b111 == 0b111  # ITMENA, TSENA, SYNCENA
        assert tcr >> 16 & 0x7F != 0  # a trace bus ID
        assert device.peek32(TPIU_ACPR) == CLOCK // BAUD - 1
        assert device.peek32(TPIU_SPPR) == 2  # NRZ
        assert device.peek32(TPIU_FFCR) & 0x2 == 0  # formatter off
        assert device.peek32(DEMCR) & (1 << 24)  # TRCENA


def test_capture_holds_exactly_what_the_firmware_emitted(device):
    with ProbeSource(settings(device)) as source:
        swo = bytes(capture(source, 0.6)) + halt_and_drain(source)
    heaptrace = device.heaptrace
    assert len(heaptrace) > 20_000
    by_pyocd = pyocd_payloads(swo)
    assert by_pyocd[31] == heaptrace
    assert by_pyocd[0] == bytes(device.emitted[0])
    assert by_pyocd[0].startswith(b"boot\ntick 1\n")
    demux = ItmDemux()
    chunks = [demux.feed(swo[i : i + 4096]) for i in range(0, len(swo), 4096)] + [demux.finish()]
    assert b"".join(chunk.payload(31) for chunk in chunks) == heaptrace
    # The heap trace is well-formed framed data, interrupted records included.
    decoder = FramedDecoder(strict=True)
    records = len(decoder.feed(heaptrace)) + len(decoder.finish())
    assert records > 1000


def test_close_restores_the_firmwares_itm_settings():
    # The firmware had its own log port enabled before the debugger attached.
    with simulated_probe(itm_ter=0x1, itm_tcr=0x00010009, demcr=1 << 24) as dev:
        source = ProbeSource(settings(dev))
        source.open()
        assert dev.peek32(ITM_TER) != 0x1
        source.close()
        assert dev.peek32(ITM_TER) == 0x1
        assert dev.peek32(ITM_TCR) == 0x00010009
        source.close()  # a second close does nothing


def test_probe_returning_a_list_still_gives_bytes():
    with simulated_probe(swo_as_list=True) as dev, ProbeSource(settings(dev)) as source:
        data = capture(source, 0.2)
        assert data
        assert isinstance(source.read(), bytes)


def test_wrong_core_clock_gives_garbage(device):
    # The user's settings say 64 MHz, the board runs at 72 MHz: SWO is 12.5% too fast.
    with ProbeSource(settings(device, core_clock=64_000_000)) as source:
        swo = bytes(capture(source, 0.5)) + halt_and_drain(source)
    heaptrace = device.heaptrace
    assert len(heaptrace) > 10_000
    assert len(swo) > 10_000  # a UART at the wrong baud still reads bytes
    # In a real trace about one byte in seven is the port-31 header 0xFB.
    assert swo.count(0xFB) < len(swo) / 20
    port31 = pyocd_payloads(swo).get(31, b"")
    assert len(port31) < len(heaptrace) / 20
    assert heaptrace[:64] not in port31


def test_unplug_raises_probe_lost(device):
    with ProbeSource(settings(device)) as source:
        capture(source, 0.1)
        device.unplug()
        with pytest.raises(ProbeLost) as error:
            source.read()
    message = str(error.value)
    assert "\n" not in message
    assert "heapgui-sim-0" in message and "disconnected" in message


def test_source_reopens_after_the_probe_comes_back(device):
    source = ProbeSource(settings(device))
    source.open()
    device.unplug()
    with pytest.raises(ProbeLost):
        source.read()
    source.close()
    device.replug()
    with source:
        assert capture(source, 0.2)
        assert device.peek32(ITM_TER) == (1 << 31) | (1 << 1) | (1 << 0)


def test_silent_unplug_is_caught_by_the_health_check(device):
    with ProbeSource(settings(device), health_interval=0.05) as source:
        capture(source, 0.1)
        device.unplug(silent=True)
        start = time.monotonic()
        with pytest.raises(ProbeLost, match="disconnected"):
            while True:
                assert source.read() == b""
        assert time.monotonic() - start < 0.5


def test_target_reset_is_caught_by_the_health_check(device):
    with ProbeSource(settings(device), health_interval=0.05) as source:
        capture(source, 0.1)
        device.scs.dhcsr_control = 0  # a power-on reset clears C_DEBUGEN
        with pytest.raises(ProbeLost, match="left debug mode"):
            capture(source, 0.3)


@pytest.mark.parametrize(
    ("error", "on", "text"),
    [
        (exceptions.ProbeError("USB pipe stalled"), "swo_read", "probe error while reading SWO"),
        (exceptions.TransferTimeoutError("no ACK"), "dap", "target stopped answering"),
        (exceptions.TransferFaultError("FAULT"), "swo_read", "target stopped answering"),
        (OSError(5, "Input/output error"), "swo_read", "USB error while reading SWO"),
    ],
)
def test_probe_errors_mid_capture_become_one_line_failures(error, on, text):
    with simulated_probe() as dev:
        with ProbeSource(settings(dev), health_interval=0.05) as source:
            capture(source, 0.1)
            dev.inject(error, on=on)
            with pytest.raises(ProbeFailure) as failure:
                capture(source, 0.3)
    assert not isinstance(failure.value, ProbeLost)
    assert text in str(failure.value)
    assert "\n" not in str(failure.value)


def test_unknown_probe_is_reported():
    with pytest.raises(ProbeFailure, match="not connected"):
        ProbeSource(ProbeSettings("no-such-probe", CLOCK, BAUD)).open()


def test_baud_faster_than_the_clock_is_refused(device):
    with pytest.raises(ProbeFailure, match="exceeds the core clock"):
        ProbeSource(settings(device, swo_baud=2 * CLOCK)).open()


def test_prescaler_beyond_the_tpiu_is_refused_and_the_session_closed(device):
    # 72 MHz / 2000 baud needs a prescaler of 36000; the Cortex-M4 TPIU has 13 bits.
    source = ProbeSource(settings(device, swo_baud=2000))
    with pytest.raises(ProbeFailure, match="cannot divide"):
        source.open()
    assert source.session is None
    # pyocd powered the debug port down again: CSYSPWRUPACK and CDBGPWRUPACK are clear.
    assert device.dp.read_dp(0x4) & 0xA0000000 == 0


def test_connect_failure_is_one_line(device):
    device.inject(exceptions.ProbeError("USB timeout"), on="dap")
    with pytest.raises(ProbeFailure) as failure:
        ProbeSource(settings(device)).open()
    assert "USB timeout" in str(failure.value)
    assert "\n" not in str(failure.value)
