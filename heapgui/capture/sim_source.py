"""The simulated board as a byte source, through pyocd's real probe code path.

Demo mode and tests capture from it exactly as from a debug probe: the
simulator is installed for this process only while the source is open, and a
`ProbeSource` talks to it by its unique ID.
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

logger = logging.getLogger(__name__)

DEFAULT_CLOCK = 72_000_000
DEFAULT_BAUD = 2_000_000
_serial = itertools.count()


class SimulatorSource(ProbeSource):
    """A `ProbeSource` on a simulated device that exists only while the source is open."""

    def __init__(self, settings: ProbeSettings, device: SimulatedDevice) -> None:
        if settings.unique_id != device.unique_id:
            raise ValueError("the settings must name the simulated device's unique ID")
        super().__init__(settings)
        self.device = device

    @property
    def name(self) -> str:
        return f"simulated board {self.device.unique_id}"

    def open(self) -> None:
        install_simulator(self.device)
        try:
            super().open()
        except BaseException:
            uninstall_simulator(self.device)
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            uninstall_simulator(self.device)


def simulator_source(
    core_clock: int | None = None, swo_baud: int | None = None, **config
) -> SimulatorSource:
    """A simulated board running at `core_clock` and a capture at `swo_baud`.

    `config` holds further `SimulatorConfig` fields (byte_rate, seed, ...).
    The board's clock is the one claimed, so the demo works with any
    Drone.toml; each source gets its own device ID, so captures never clash.
    """
    clock = core_clock or DEFAULT_CLOCK
    baud = swo_baud or min(DEFAULT_BAUD, clock)
    config.setdefault("unique_id", f"heapgui-sim-{os.getpid()}-{next(_serial)}")
    device = SimulatedDevice(SimulatorConfig(core_clock=clock, **config))
    return SimulatorSource(ProbeSettings(device.unique_id, clock, baud), device)
