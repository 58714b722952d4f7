"""A simulated debug probe and Cortex-M4 target for demo mode and tests.

`SimulatedDevice` runs drone 0.12-0.14 firmware that traces over SWO;
`stream_device.StreamBoard` runs drone master firmware that writes Drone
Stream buffers in RAM.

pyocd's real Session, discovery and SWO calls run against it; only the far
end of the USB cable is simulated. Install it with `install_simulator` (never
registered for other pyocd users).
"""

from heapgui.capture.simulator.device import SimulatedDevice, SimulatorConfig
from heapgui.capture.simulator.install import (
    PROBE_TYPE,
    install_simulator,
    simulated_probe,
    uninstall_simulator,
)
from heapgui.capture.simulator.probe import SimulatedProbe

__all__ = [
    "PROBE_TYPE",
    "SimulatedDevice",
    "SimulatedProbe",
    "SimulatorConfig",
    "install_simulator",
    "simulated_probe",
    "uninstall_simulator",
]
