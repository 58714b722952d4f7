"""A pyocd `DebugProbe` whose far end is a `SimulatedDevice` instead of a USB adapter.

It works at the level of a CMSIS-DAP probe: raw DP and AP register transfers,
with pyocd's own DebugPort doing AP selection, power-up and error recovery,
and pyocd's MEM-AP code doing memory accesses through CSW/TAR/DRW. So a real
pyocd `Session` connects, discovers the ROM table and the ITM and TPIU, and
reads SWO through `swo_start`/`swo_read` exactly as with hardware.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import ClassVar

from pyocd.core import exceptions
from pyocd.probe.debug_probe import DebugProbe

from heapgui.capture.simulator.device import SimulatedDevice

logger = logging.getLogger(__name__)


class SimulatedProbe(DebugProbe):
    """One simulated probe per installed device (see `heapgui.capture.simulator.install`)."""

    devices: ClassVar[dict[str, SimulatedDevice]] = {}

    @classmethod
    def get_all_connected_probes(
        cls, unique_id: str | None = None, is_explicit: bool = False
    ) -> list[SimulatedProbe]:
        return [cls(device) for device in list(cls.devices.values()) if device.plugged]

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> SimulatedProbe | None:
        device = cls.devices.get(unique_id)
        return cls(device) if device is not None and device.plugged else None

    def __init__(self, device: SimulatedDevice) -> None:
        super().__init__()
        self.device = device
        self._is_open = False
        self._protocol: DebugProbe.Protocol | None = None
        self.clock = 0.0

    @property
    def vendor_name(self) -> str:
        return "heapgui"

    @property
    def product_name(self) -> str:
        return "simulated SWO probe"

    @property
    def supported_wire_protocols(self) -> list[DebugProbe.Protocol]:
        return [DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD]

    @property
    def unique_id(self) -> str:
        return self.device.unique_id

    @property
    def wire_protocol(self) -> DebugProbe.Protocol | None:
        return self._protocol

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def capabilities(self) -> set[DebugProbe.Capability]:
        return {DebugProbe.Capability.SWO}

    def open(self) -> None:
        self.device.check("dap")
        self._is_open = True

    def close(self) -> None:
        self._is_open = False

    def connect(self, protocol: DebugProbe.Protocol | None = None) -> None:
        self.device.check("dap")
        if protocol not in (None, DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD):
            raise exceptions.ProbeError(f"{protocol.name} is not supported by the simulated probe")
        self._protocol = DebugProbe.Protocol.SWD

    def disconnect(self) -> None:
        self._protocol = None

    def set_clock(self, frequency: float) -> None:
        self.clock = frequency

    def reset(self) -> None:
        self.assert_reset(True)
        self.assert_reset(False)

    def assert_reset(self, asserted: bool) -> None:
        self.device.check("dap")
        self.device.reset_asserted = asserted

    def is_reset_asserted(self) -> bool:
        return self.device.reset_asserted

    def _transfer(self) -> SimulatedDevice:
        """The device, after checking that a register transfer may happen now."""
        self.device.check("dap")
        if self._protocol is None:
            raise exceptions.ProbeError("simulated probe is not connected")
        self.device.advance()  # the core ran while the host was busy elsewhere
        return self.device

    def read_dp(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        device = self._transfer()
        with device.lock:
            value = device.dp.read_dp(addr)
        return value if now else lambda: value

    def write_dp(self, addr: int, data: int) -> None:
        device = self._transfer()
        with device.lock:
            device.dp.write_dp(addr, data)

    def read_ap(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        device = self._transfer()
        with device.lock:
            value = device.dp.read_ap(addr)
        return value if now else lambda: value

    def write_ap(self, addr: int, data: int) -> None:
        device = self._transfer()
        with device.lock:
            device.dp.write_ap(addr, data)

    def read_ap_multiple(
        self, addr: int, count: int = 1, now: bool = True
    ) -> Sequence[int] | Callable[[], Sequence[int]]:
        device = self._transfer()
        with device.lock:
            values = [device.dp.read_ap(addr) for _ in range(count)]
        return values if now else lambda: values

    def write_ap_multiple(self, addr: int, values: Sequence[int]) -> None:
        device = self._transfer()
        with device.lock:
            for value in values:
                device.dp.write_ap(addr, value)

    def swo_start(self, baudrate: float) -> None:
        self.device.check("dap")
        self.device.swo_start(baudrate)

    def swo_stop(self) -> None:
        self.device.check("dap")
        self.device.swo_stop()

    def swo_read(self) -> bytearray | list[int]:
        self.device.check("swo_read")
        data = self.device.swo_read()
        # Some pyocd probes hand back a list of ints; the simulator can too.
        return list(data) if self.device.config.swo_as_list else bytearray(data)
