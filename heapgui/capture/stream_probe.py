"""A pyOCD connection for Drone Stream: target RAM read and written while the core runs.

`StreamProbe` is the `StreamTarget` of a real probe: the same private,
script-free pyOCD session as the SWO capture (`PyocdLink`), with no SWO and
no ITM set-up, and memory accesses whose pyOCD and USB errors become one
line naming the probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pyocd.core import exceptions
from pyocd.core.session import Session
from pyocd.core.target import Target

from heapgui.capture.probe import ProbeFailure, PyocdLink
from heapgui.capture.targets import DEFAULT_TARGET
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class StreamProbeSettings:
    """A probe and target for Drone Stream; no clocks are needed, nothing is traced over SWO."""

    unique_id: str
    target_type: str = DEFAULT_TARGET
    swd_frequency: int = 1_000_000  # as for SWO captures; a faster clock reads more per poll
    connect_mode: str = "attach"
    pyocd_config: Path | None = None
    pyocd_script: Path | None = None


class _Memory:
    """`TargetMemory` through pyOCD's target, errors turned into one line."""

    def __init__(self, link: StreamProbe) -> None:
        self._link = link

    def read32(self, addr: int) -> int:
        return self._link.call(lambda t: t.read32(addr), f"reading 0x{addr:08X}")

    def read_block(self, addr: int, length: int) -> bytes:
        return bytes(
            self._link.call(lambda t: t.read_memory_block8(addr, length), f"reading 0x{addr:08X}")
        )

    def write32(self, addr: int, value: int) -> None:
        self._link.call(lambda t: t.write32(addr, value), f"writing 0x{addr:08X}")

    def write_block(self, addr: int, data: bytes) -> None:
        self._link.call(lambda t: t.write_memory_block8(addr, data), f"writing 0x{addr:08X}")


class StreamProbe(PyocdLink):
    """One probe's pyOCD session, for `StreamSource`."""

    def __init__(self, settings: StreamProbeSettings) -> None:
        super().__init__(settings)
        self._memory = _Memory(self)

    @property
    def memory(self) -> _Memory:
        return self._memory

    def call(self, action: Callable[[object], T], doing: str) -> T:
        """`action(target)`, with pyOCD's and USB's exceptions as one line each."""
        session = self._session
        if session is None:
            raise HeapguiError(f"{self.name} is not open")
        try:
            return action(session.target)
        except (exceptions.Error, OSError) as err:
            raise self._failure(err, doing) from None

    def reset_and_halt(self) -> None:
        """Reset and stop before the firmware's first instruction, or fail: writing the
        bootstrap block into a running firmware's buffers would corrupt them."""
        self.call(lambda t: t.reset_and_halt(), "resetting the target")
        state = self.call(lambda t: t.get_state(), "checking the target")
        if state != Target.State.HALTED:
            raise ProbeFailure(
                f"{self.name}: the target did not halt at reset (it is {state.name.lower()}), "
                f"so the capture cannot start from reset; attach to it instead"
            )

    def resume(self) -> None:
        self.call(lambda t: t.resume(), "resuming the target")

    def check_health(self) -> None:
        self._check_health()

    def _start(self, session: Session) -> None:
        logger.info("%s: connected for Drone Stream", self.name)
