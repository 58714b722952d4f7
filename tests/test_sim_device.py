"""The simulated target on its own: memory access through pyocd, ITM rules, SWO line, firmware."""

import time

import numpy as np
import pytest
from pyocd.core import exceptions
from pyocd.core.session import Session

from heapgui.capture.simulator import SimulatedDevice, SimulatorConfig, simulated_probe
from heapgui.capture.simulator.coresight import Tpiu
from heapgui.capture.simulator.firmware import Firmware
from heapgui.capture.simulator.line import formatter_frames, receive
from heapgui.capture.simulator.probe import SimulatedProbe
from heapgui.trace.framed import FramedDecoder
from heapgui.trace.records import ALLOC, DEALLOC, GROW, SHRINK

CLOCK = 72_000_000
BAUD = 2_000_000
# Addresses from the Armv7-M architecture and Cortex-M4 TRM.
DEMCR = 0xE000EDFC
DHCSR = 0xE000EDF0
ITM_TER = 0xE0000E00
ITM_TCR = 0xE0000E80
DWT_CTRL = 0xE0001000
TPIU_ACPR = 0xE0040010
TPIU_SPPR = 0xE00400F0
TPIU_FFCR = 0xE0040304
ITMENA, TSENA, SYNCENA = 1, 2, 4


def parse_itm(swo: bytes) -> tuple[dict[int, bytes], list[int], int]:
    """Payload per port, local timestamp deltas and sync count; fails on any other packet.

    A plain reading of the packet table in docs/heaptrace-formats.md section 1.
    """
    ports: dict[int, bytearray] = {}
    deltas: list[int] = []
    syncs = 0
    i = 0
    while i < len(swo):
        h = swo[i]
        if h == 0x00:
            j = i
            while swo[j] == 0:
                j += 1
            assert j - i >= 5 and swo[j] == 0x80, f"bad sync at {i}"
            syncs += 1
            i = j + 1
        elif h & 0x03:
            size = 1 << ((h & 0x03) - 1)
            assert not h & 0x04, f"hardware packet at {i}"
            ports.setdefault(h >> 3, bytearray()).extend(swo[i + 1 : i + 1 + size])
            i += 1 + size
        elif h & 0xCF == 0xC0:
            value, shift = 0, 0
            i += 1
            while True:
                value |= (swo[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not swo[i - 1] & 0x80:
                    break
            deltas.append(value)
        elif h & 0x8F == 0 and 0x10 <= h <= 0x60:
            deltas.append(h >> 4)
            i += 1
        else:
            raise AssertionError(f"unexpected header 0x{h:02X} at {i}")
    return {port: bytes(data) for port, data in ports.items()}, deltas, syncs


def configure(
    dev: SimulatedDevice, tcr: int = ITMENA | TSENA, ter: int = 0x80000003, demcr: int = 1 << 24
) -> None:
    """Set up trace the way a debugger does, writing the registers over the bus."""
    dev.bus.write(DEMCR, demcr)
    dev.bus.write(TPIU_SPPR, 2)
    dev.bus.write(TPIU_FFCR, 0)
    dev.bus.write(TPIU_ACPR, CLOCK // BAUD - 1)
    dev.bus.write(ITM_TCR, tcr)
    dev.bus.write(ITM_TER, ter)


def stream(dev: SimulatedDevice, seconds: float) -> bytes:
    dev.swo_start(BAUD)
    data = bytearray()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data += dev.swo_read()
        time.sleep(0.002)
    dev.bus.write(DHCSR, 0xA05F0003)  # halt, then let the trace path drain
    empty = 0
    while empty < 2:
        chunk = dev.swo_read()
        data += chunk
        empty = 0 if chunk else empty + 1
        time.sleep(0.01)
    return bytes(data)


def test_memory_access_through_pyocd(tmp_path):
    with simulated_probe(unique_id="sim-mem") as dev:
        probe = SimulatedProbe.get_probe_with_id("sim-mem")
        with Session(probe, project_dir=str(tmp_path), connect_mode="attach") as session:
            target = session.target
            target.write32(0x20000100, 0x11223344)
            target.write8(0x20000101, 0xAB)
            target.write16(0x20000102, 0xCDEF)
            assert dev.bus.memory[0x20000100] == 0xCDEFAB44
            assert target.read8(0x20000103) == 0xCD
            # A block across a 4 KiB page: pyocd splits it, TAR wraps inside a page.
            words = list(range(1000, 1000 + 64))
            target.write_memory_block32(0x20000FC0, words)
            assert [dev.bus.memory[0x20000FC0 + 4 * k] for k in range(64)] == words
            assert target.read_memory_block32(0x20000FC0, 64) == words
            with pytest.raises(exceptions.TransferFaultError):
                target.read32(0x30000000)
            assert target.read32(0x20000100) == 0xCDEFAB44  # sticky error was cleared
            # ITM registers are unreachable while DEMCR.TRCENA is clear.
            target.write32(ITM_TCR, 0x10005)
            target.write32(DEMCR, 0)
            assert target.read32(ITM_TCR) == 0
            target.write32(DEMCR, 1 << 24)
            assert target.read32(ITM_TCR) == 0x10005


def test_trace_needs_trcena_and_itmena():
    for demcr, tcr in ((0, ITMENA), (1 << 24, 0)):
        dev = SimulatedDevice(SimulatorConfig(byte_rate=200_000))
        configure(dev, tcr=tcr, demcr=demcr)
        assert stream(dev, 0.1) == b""
        assert dev.emitted == {}


def test_only_enabled_ports_are_emitted():
    dev = SimulatedDevice(SimulatorConfig(byte_rate=200_000))
    configure(dev, ter=0x1)
    ports, _, _ = parse_itm(stream(dev, 0.2))
    assert set(ports) == {0} == set(dev.emitted)
    assert ports[0].startswith(b"boot\n")


def test_stream_matches_emitted_and_timestamps_track_the_clock():
    dev = SimulatedDevice(SimulatorConfig(byte_rate=300_000, seed=3))
    configure(dev)
    ports, deltas, syncs = parse_itm(stream(dev, 0.4))
    assert ports[31] == dev.heaptrace
    assert ports[0] == bytes(dev.emitted[0])
    assert syncs == 0
    # Deltas add up to the firmware's clock at the last record (within a record's time).
    assert 0 < dev.encoder.cycle - sum(deltas) < 0.01 * CLOCK


def test_no_timestamps_without_tsena():
    dev = SimulatedDevice(SimulatorConfig(byte_rate=200_000))
    configure(dev, tcr=ITMENA)
    ports, deltas, _ = parse_itm(stream(dev, 0.1))
    assert deltas == []
    assert ports[31] == dev.heaptrace


def test_sync_packets_follow_the_dwt_sync_tap():
    # SYNCTAP = 1 taps CYCCNT bit 24: a sync every 2**24 cycles, 0.23 s at 72 MHz.
    dev = SimulatedDevice(SimulatorConfig(byte_rate=200_000))
    configure(dev, tcr=ITMENA | TSENA | SYNCENA)
    dev.bus.write(DWT_CTRL, 1 << 10 | 1)
    ports, _, syncs = parse_itm(stream(dev, 0.6))
    # The firmware clock ends a little after the last packet: allow one crossing there.
    assert syncs >= 2
    assert (int(dev.encoder.cycle) >> 24) - syncs in (0, 1)
    assert ports[31] == dev.heaptrace


def test_halted_core_stops_the_firmware():
    with simulated_probe(byte_rate=200_000) as dev:
        configure(dev)
        stream(dev, 0.1)  # leaves the core halted
        emitted = len(dev.heaptrace)
        time.sleep(0.05)
        assert dev.swo_read() == b""
        assert len(dev.heaptrace) == emitted


def test_uart_tolerates_three_percent_and_no_more():
    tpiu = Tpiu()
    tpiu.sppr, tpiu.ffcr, tpiu.acpr = Tpiu.SPPR_NRZ, 0, CLOCK // BAUD - 1
    data = bytes(np.random.default_rng(1).integers(0, 256, 5000, np.uint8))
    assert receive(data, tpiu, 1, CLOCK, BAUD * 1.025) == data
    fast = receive(data, tpiu, 1, CLOCK, BAUD * 1.1)
    assert abs(len(fast) - 1.1 * len(data)) < 2
    assert data[:16] not in fast


def test_manchester_output_is_garbage_to_a_uart():
    tpiu = Tpiu()  # reset state: Manchester
    tpiu.ffcr, tpiu.acpr = 0, CLOCK // BAUD - 1
    data = bytes(range(256)) * 4
    assert data[:16] not in receive(data, tpiu, 1, CLOCK, BAUD)


def test_formatter_frames_unwrap_to_the_data():
    data = bytes(np.random.default_rng(2).integers(0, 256, 100, np.uint8))
    frames = formatter_frames(data, trace_id=1)
    assert len(frames) % 16 == 0
    out = bytearray()
    for f in range(0, len(frames), 16):
        frame = frames[f : f + 16]
        assert frame[0] == 0x03  # ID change to trace ID 1
        for k in range(1, 15):
            byte = frame[k]
            if k % 2 == 0:  # even bytes keep their LSB in byte 15
                byte |= frame[15] >> (k // 2) & 1
            out.append(byte)
    assert bytes(out[: len(data)]) == data


def test_firmware_heap_trace_depends_on_the_seed_only():
    def heap(batches):
        fw = Firmware(seed=5, tick_interval=1e9)
        words = [fw.next_writes(n, 0.0, 1.0) for n in batches]
        return b"".join(w.value[w.port == 31].astype("<u4").tobytes() for w in words)

    whole = heap([6000])
    assert heap([1, 999, 3000, 2000]) == whole
    assert Firmware(seed=6, tick_interval=1e9).next_writes(10, 0.0, 1.0) != whole[:40]
    decoder = FramedDecoder(strict=True)
    records = decoder.feed(whole)
    assert len(records) == 6000
    assert set(np.unique(records.kind).tolist()) == {ALLOC, DEALLOC, GROW, SHRINK}


def test_firmware_ticks_every_interval():
    fw = Firmware(seed=1, core_clock=1000.0, tick_interval=1.0)
    # 5 wire bytes per heap write at 1 cycle per byte: 1000 cycles are 200 writes.
    writes = fw.next_writes(2000, 0.0, 1.0)
    text = bytes(writes.value[writes.port == 0].astype(np.uint8))
    heap_writes = int(np.count_nonzero(writes.port == 31))
    lines = text.decode().splitlines()
    assert lines[0] == "boot"
    assert lines[1:] == [f"tick {n}" for n in range(1, heap_writes * 5 // 1000 + 1)]


def test_fault_injection_rejects_unknown_operations():
    dev = SimulatedDevice()
    with pytest.raises(ValueError):
        dev.inject(exceptions.ProbeError("x"), on="flash")


def test_two_devices_cannot_share_an_id():
    with simulated_probe(unique_id="twin"):
        with pytest.raises(ValueError), simulated_probe(unique_id="twin"):
            pass
