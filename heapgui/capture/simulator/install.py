"""Make simulated probes visible to pyocd's probe discovery, for demo mode and tests only.

The probe class is added to pyocd's table of probe plugins at run time and
removed again when the last simulated device is uninstalled; heapgui never
declares it as a pyocd entry point, so other pyocd users never see it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pyocd.probe.aggregator import PROBE_CLASSES

from heapgui.capture.simulator.device import SimulatedDevice, SimulatorConfig
from heapgui.capture.simulator.probe import SimulatedProbe

logger = logging.getLogger(__name__)

PROBE_TYPE = "heapgui-sim"


def install_simulator(device: SimulatedDevice | None = None, **config) -> SimulatedDevice:
    """Connect a simulated device (a new one built from `config` if none is given) to pyocd.

    pyocd then lists a probe for it, also as "heapgui-sim:<unique id>".
    """
    if device is None:
        device = SimulatedDevice(SimulatorConfig(**config))
    elif config:
        raise TypeError("pass either a device or configuration keywords, not both")
    present = SimulatedProbe.devices.get(device.unique_id)
    if present is not None and present is not device:
        raise ValueError(f"a simulated device with ID {device.unique_id!r} is already installed")
    SimulatedProbe.devices[device.unique_id] = device
    PROBE_CLASSES[PROBE_TYPE] = SimulatedProbe
    logger.info("simulated probe %s installed", device.unique_id)
    return device


def uninstall_simulator(device: SimulatedDevice | None = None) -> None:
    """Remove one simulated device, or all of them; pyocd forgets the probe type with the last."""
    if device is None:
        SimulatedProbe.devices.clear()
    else:
        SimulatedProbe.devices.pop(device.unique_id, None)
    if not SimulatedProbe.devices:
        PROBE_CLASSES.pop(PROBE_TYPE, None)


@contextmanager
def simulated_probe(device: SimulatedDevice | None = None, **config) -> Iterator[SimulatedDevice]:
    """`install_simulator` for the duration of a with block."""
    device = install_simulator(device, **config)
    try:
        yield device
    finally:
        uninstall_simulator(device)
