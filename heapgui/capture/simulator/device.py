"""A whole simulated board: Cortex-M4 debug hardware, trace hardware, firmware and faults.

`SimulatedDevice` is what sits at the far end of a simulated probe. It paces
the firmware by wall-clock time: each `swo_read` runs the firmware for the
time since the previous one at `byte_rate` wire bytes per second, and the SWO
pin delivers at most what its baud rate carries in that time. The firmware
stalls while the core is halted or the backlog is full.

Everything the ITM put into packets is recorded per port in `emitted`, so a
test can compare a capture with what the firmware really sent.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import usb.core
from pyocd.core import exceptions

from heapgui.capture.simulator.bus import SystemBus
from heapgui.capture.simulator.coresight import Dwt, Fpb, Itm, RomTable, Scs, Tpiu
from heapgui.capture.simulator.dap import DebugPort, MemAp
from heapgui.capture.simulator.firmware import HEAP_PORT, WIRE_BYTES_PER_RECORD, Firmware
from heapgui.capture.simulator.itm import ItmEmitter
from heapgui.capture.simulator.line import receive, swo_baud

logger = logging.getLogger(__name__)

# Flash, SRAM, peripherals and the private peripheral bus answer; the rest faults.
MEMORY_REGIONS = [
    (0x00000000, 0x00100000),
    (0x08000000, 0x00100000),
    (0x20000000, 0x00020000),
    (0x40000000, 0x20000000),
    (0xE0000000, 0x00100000),
]
BATCH_TIME = 0.005  # seconds of firmware run time generated at least per batch
OPERATIONS = ("dap", "swo_read")


@dataclass
class SimulatorConfig:
    """How the simulated board is built and behaves.

    `core_clock` is the board's real clock: when the capture settings claim a
    different one, the TPIU runs at the wrong baud and the probe reads garbage.
    `byte_rate` is the SWO bytes per second the firmware produces while
    running (several MB/s work if the baud rate carries them: 10 bits a byte).
    `seed` fixes the heap trace; `tick_interval` is the seconds of firmware
    time between "tick" lines; `interrupt_share` is the share of records
    interrupted by the next one; `quirk` encodes sizes like drone-core
    0.12-0.14. `itm_ter`/`itm_tcr`/`demcr` are what the firmware set up before
    a debugger attached. `backlog` bounds the bytes waiting in the trace path
    before the firmware stalls on a full ITM FIFO, so a `byte_rate` above what
    the baud rate carries slows the firmware down instead of losing data.
    `record_emitted` keeps every emitted payload byte in `emitted` (turn it off
    for long demos). `swo_as_list` makes `swo_read` return a list of ints, as
    some pyocd probes do.

    The Drone master board (`StreamBoard`) reads `stream_cores` (1 as drone's
    stm32 template, 2 as raspberrypi-pico's), `stream_size` (each buffer's
    bytes) and `frame_rate` (frames per second each core writes when the
    buffer has room), and `seed`.
    """

    unique_id: str = "heapgui-sim-0"
    core_clock: float = 72_000_000
    byte_rate: float = 100_000
    seed: int = 0
    tick_interval: float = 0.5
    interrupt_share: float = 0.02
    quirk: bool = False
    itm_ter: int = 0
    itm_tcr: int = 0
    demcr: int = 0
    backlog: int = 65536
    record_emitted: bool = True
    swo_as_list: bool = False
    stream_cores: int = 1
    stream_size: int = 260
    frame_rate: float = 20_000


@dataclass
class _Fault:
    operation: str
    error: Exception
    remaining: int


class SimulatedDevice:
    """The target board behind a `SimulatedProbe`; thread-safe for inspection from tests."""

    def __init__(
        self, config: SimulatorConfig | None = None, ram: tuple[int, int] | None = None
    ) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        self.scs = Scs()
        self.scs.demcr = cfg.demcr & Scs.DEMCR_WRITABLE
        self.itm = Itm(cfg.itm_ter, cfg.itm_tcr)
        self.dwt = Dwt()
        self.tpiu = Tpiu()
        peripherals = [RomTable(), self.scs, self.itm, self.dwt, Fpb(), self.tpiu]
        self.bus = SystemBus(MEMORY_REGIONS, peripherals, lambda: self.scs.trcena, ram)
        self.dp = DebugPort(MemAp(self.bus))
        self.firmware = Firmware(
            cfg.seed, cfg.core_clock, cfg.tick_interval, cfg.interrupt_share, cfg.quirk
        )
        self.encoder = ItmEmitter(self.scs, self.itm, self.dwt)
        self.emitted: dict[int, bytearray] = {}
        self.lock = threading.RLock()
        self.reset_asserted = False
        self.plugged = True
        self._silent = False
        self._faults: list[_Fault] = []
        self._rx_baud: float | None = None
        self._last = 0.0
        self._firmware_due = 0.0
        self._wire_due = 0.0
        self._pending = bytearray()

    @property
    def unique_id(self) -> str:
        return self.config.unique_id

    @property
    def heaptrace(self) -> bytes:
        """Every payload byte the ITM sent on port 31: the heaptrace file of this run."""
        with self.lock:
            return bytes(self.emitted.get(HEAP_PORT, b""))

    def advance(self) -> None:
        """Run the firmware up to now; called before every debug access (SWO firmware: at reads)."""

    def peek32(self, addr: int) -> int:
        """A word of target memory or a register as stored, without going through the probe."""
        with self.lock:
            return self.bus.peek32(addr)

    # Faults -----------------------------------------------------------------

    def unplug(self, silent: bool = False) -> None:
        """Pull the probe's USB cable.

        Afterwards every probe call raises ProbeDisconnected, or with `silent`
        SWO reads return nothing and register accesses fail with a USB error,
        as with probes that only report an unplug as silence.
        """
        with self.lock:
            self.plugged = False
            self._silent = silent
            self._rx_baud = None

    def replug(self) -> None:
        with self.lock:
            self.plugged = True
            self._silent = False

    def inject(self, error: Exception, on: str = "swo_read", count: int = 1) -> None:
        """Make the next `count` probe operations of kind `on` ("dap", "swo_read") raise `error`."""
        if on not in OPERATIONS:
            raise ValueError(f"unknown operation {on!r}: expected one of {OPERATIONS}")
        with self.lock:
            self._faults.append(_Fault(on, error, count))

    def check(self, operation: str) -> None:
        """Raise the fault due for a probe `operation`, if any."""
        with self.lock:
            if not self.plugged:
                if not self._silent:
                    raise exceptions.ProbeDisconnected("debug probe was disconnected")
                if operation != "swo_read":
                    raise usb.core.USBError(
                        "No such device (it may have been disconnected)", errno=errno.ENODEV
                    )
            for fault in self._faults:
                if fault.operation == operation:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    raise fault.error

    # SWO --------------------------------------------------------------------

    def swo_start(self, baud: float) -> None:
        with self.lock:
            self._rx_baud = float(baud)
            self._last = time.monotonic()
            self._wire_due = 0.0

    def swo_stop(self) -> None:
        with self.lock:
            self._rx_baud = None

    def swo_read(self) -> bytes:
        """What the probe's SWO receiver got since the previous read."""
        with self.lock:
            if self._rx_baud is None or not self.plugged:
                return b""
            now = time.monotonic()
            elapsed, self._last = now - self._last, now
            cfg = self.config
            # A batch may overshoot the backlog; only a longer queue means a full FIFO.
            backlog = max(cfg.backlog, 2 * cfg.byte_rate * BATCH_TIME)
            if not (self.scs.halted or self.reset_asserted) and len(self._pending) < backlog:
                # A reader that stops polling stalls the firmware once the backlog is full.
                self._firmware_due = min(self._firmware_due + elapsed * cfg.byte_rate, backlog)
                self._run_firmware()
            wire_rate = swo_baud(cfg.core_clock, self.tpiu.acpr) / 10
            # An idle line cannot bank time for later bytes.
            self._wire_due = min(self._wire_due + elapsed * wire_rate, len(self._pending))
            count = int(self._wire_due)
            self._wire_due -= count
            sent = bytes(self._pending[:count])
            del self._pending[:count]
            trace_id = self.itm.tcr >> 16 & 0x7F
            return receive(sent, self.tpiu, trace_id, cfg.core_clock, self._rx_baud)

    def _run_firmware(self) -> None:
        cfg = self.config
        cycles_per_byte = cfg.core_clock / cfg.byte_rate
        # Batches of at least BATCH_TIME keep the per-batch overhead small at high rates.
        least = max(16, int(cfg.byte_rate * BATCH_TIME / WIRE_BYTES_PER_RECORD))
        while self._firmware_due > 0:
            records = int(self._firmware_due / WIRE_BYTES_PER_RECORD) + 1
            start = self.encoder.cycle
            writes = self.firmware.next_writes(
                min(max(records, least), 1 << 16), start, cycles_per_byte
            )
            data, accepted = self.encoder.emit(writes, cycles_per_byte)
            self._pending += data
            self._firmware_due -= (self.encoder.cycle - start) / cycles_per_byte
            if self.config.record_emitted and len(accepted):
                self._record(accepted.port, accepted.payload_bytes(), accepted.size)

    def _record(self, ports: np.ndarray, payload: np.ndarray, sizes: np.ndarray) -> None:
        owner = np.repeat(ports, sizes.astype(np.int64))
        for port in np.unique(ports).tolist():
            self.emitted.setdefault(port, bytearray()).extend(payload[owner == port].tobytes())
