"""The simulated board as a capture source, through pyocd's real probe code path.

Demo mode and tests capture from it exactly as from a debug probe: the
simulator is installed for this process only while the source is open, and a
`ProbeSource` (SWO) or a `StreamProbe` (Drone Stream) talks to it by its
unique ID.
"""

from __future__ import annotations

import itertools
import logging
import os

from heapgui.capture.probe import ProbeSettings, ProbeSource
from heapgui.capture.simulator import (
    SimulatedDevice,
    SimulatorConfig,
    install_simulator,
    uninstall_simulator,
)
from heapgui.capture.simulator.stream_device import StreamBoard
from heapgui.capture.stream_probe import StreamProbe, StreamProbeSettings
from heapgui.capture.stream_source import ATTACH, StreamSource

logger = logging.getLogger(__name__)

DEFAULT_CLOCK = 72_000_000
DEFAULT_BAUD = 2_000_000
_serial = itertools.count()


class _Installed:
    """Installs `device` for pyOCD while the connection is open, and only then."""

    device: SimulatedDevice

    def open(self) -> None:
        install_simulator(self.device)
        try:
            super().open()  # type: ignore[misc]
        except BaseException:
            uninstall_simulator(self.device)
            raise

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            uninstall_simulator(self.device)

    @property
    def name(self) -> str:
        return f"simulated board {self.device.unique_id}"


class SimulatorSource(_Installed, ProbeSource):
    """A `ProbeSource` on a simulated device that exists only while the source is open."""

    def __init__(self, settings: ProbeSettings, device: SimulatedDevice) -> None:
        if settings.unique_id != device.unique_id:
            raise ValueError("the settings must name the simulated device's unique ID")
        super().__init__(settings)
        self.device = device


class SimulatedStreamProbe(_Installed, StreamProbe):
    """A `StreamProbe` on a simulated master board that exists only while it is open."""

    def __init__(self, device: StreamBoard) -> None:
        super().__init__(StreamProbeSettings(device.unique_id))
        self.device = device


def _unique(config: dict) -> dict:
    # Each source gets its own device ID, so captures never clash.
    config.setdefault("unique_id", f"heapgui-sim-{os.getpid()}-{next(_serial)}")
    return config


def simulator_source(
    core_clock: int | None = None, swo_baud: int | None = None, **config
) -> SimulatorSource:
    """A simulated board running at `core_clock` and a capture at `swo_baud`.

    `config` holds further `SimulatorConfig` fields (byte_rate, seed, ...).
    The board's clock is the one claimed, so the demo works with any
    Drone.toml.
    """
    clock = core_clock or DEFAULT_CLOCK
    baud = swo_baud or min(DEFAULT_BAUD, clock)
    device = SimulatedDevice(SimulatorConfig(core_clock=clock, **_unique(config)))
    return SimulatorSource(ProbeSettings(device.unique_id, clock, baud), device)


def simulated_stream_source(
    start: str = ATTACH, drain_backlog: bool = False, **config
) -> StreamSource:
    """Drone Stream from a simulated master board; `config` holds `SimulatorConfig` fields
    (stream_cores, stream_size, frame_rate, seed, ...)."""
    board = StreamBoard(SimulatorConfig(**_unique(config)))
    return StreamSource(SimulatedStreamProbe(board), board.stream_map, start, drain_backlog)
