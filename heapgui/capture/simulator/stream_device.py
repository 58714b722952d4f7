"""The simulated board with Drone master firmware: the heap trace in RAM, read over SWD.

`StreamBoard` is a `SimulatedDevice` whose firmware writes Drone Stream
instead of SWO. The host reaches its RAM only through pyOCD's memory calls on
the simulated MEM-AP, as it would a real board's. Before every debug access
the cores run for the wall-clock time since the previous one, so a host
that polls slowly really makes them wait. A system reset request
(AIRCR.SYSRESETREQ) restarts the firmware, halting first when the host set
DEMCR.VC_CORERESET; the firmware boots when the core next runs, which is when
it looks for the host's bootstrap block.
"""

from __future__ import annotations

import logging
import time

from heapgui.capture.simulator.device import SimulatedDevice, SimulatorConfig
from heapgui.capture.simulator.stream_firmware import StreamFirmware, simulated_stream_map
from heapgui.capture.stream_map import StreamMap

logger = logging.getLogger(__name__)

RAM = (0x20000000, 0x42000)  # RP2040's 264K, which also holds the stm32 layout


class StreamBoard(SimulatedDevice):
    """A board running Drone master firmware with `config.stream_cores` buffers."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        super().__init__(config, ram=RAM)
        cfg = self.config
        self.stream_map: StreamMap = simulated_stream_map(cfg.stream_cores, cfg.stream_size)
        self.firmware_stream = StreamFirmware(
            self.stream_map,
            self.bus.ram,
            self.bus.ram_base,
            cfg.seed,
            cfg.frame_rate,
            cfg.record_emitted,
        )
        self.scs.on_reset = self._system_reset
        self._boot_pending = False
        self._clock = time.monotonic()
        self.resets = 0
        self.firmware_stream.boot(self._clock)  # power on: no bootstrap block, mask 0

    @property
    def heaptrace(self) -> bytes:
        """Every stream-31 payload the cores wrote since the last boot, core after core."""
        with self.lock:
            return b"".join(bytes(core.heap) for core in self.firmware_stream.cores)

    def core_heaptrace(self, core: int) -> bytes:
        with self.lock:
            return bytes(self.firmware_stream.cores[core].heap)

    def core_text(self, core: int) -> bytes:
        with self.lock:
            return bytes(self.firmware_stream.cores[core].text)

    @property
    def waited(self) -> float:
        """Seconds the cores spent waiting for room in their buffers, summed."""
        with self.lock:
            return self.firmware_stream.waited

    @property
    def mask(self) -> int:
        with self.lock:
            return self.firmware_stream.mask

    def advance(self) -> None:
        with self.lock:
            now = time.monotonic()
            firmware = self.firmware_stream
            if self.scs.halted or self.reset_asserted:
                firmware.pause(now)
                return
            if self._boot_pending:
                self._boot_pending = False
                firmware.boot(now)
                logger.debug("simulated firmware booted (bootstrap %s)", firmware.bootstrapped)
            firmware.run_until(now)

    def swo_read(self) -> bytes:
        self.advance()
        return b""  # master firmware has no SWO

    def _system_reset(self) -> None:
        self.resets += 1
        self._boot_pending = True
        self.scs.system_reset()
        self.firmware_stream.pause(time.monotonic())
