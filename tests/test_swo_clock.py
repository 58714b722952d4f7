"""The capture form's clock check says what pyOCD's TPIU set-up will say, before Start."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pyocd.coresight.tpiu import TPIU

from heapgui.capture.swo_clock import swo_clock_problem


class _Registers:
    """The access port of a TPIU that supports SWO in UART mode: it keeps what is written."""

    def __init__(self) -> None:
        self.written: dict[int, int] = {}

    def read32(self, address: int) -> int:
        return TPIU.DEVID_NRZ_MASK if address == TPIU.DEVID else self.written.get(address, 0)

    def write32(self, address: int, value: int) -> None:
        self.written[address] = value


def pyocd_accepts(core_clock: int, swo_baud: int) -> bool:
    """pyOCD's own TPIU code, run on a register file: True when it sets the divider."""
    registers = _Registers()
    tpiu = TPIU(registers, None, 0)
    tpiu.init()
    if not tpiu.set_swo_clock(swo_baud, core_clock):
        return False
    # It writes the divider masked to 16 bits: a larger one would be a different rate.
    return registers.written[TPIU.ACPR] == core_clock // swo_baud - 1


@settings(max_examples=400, deadline=None)
@given(
    core_clock=st.integers(1, 500_000_000),
    swo_baud=st.one_of(st.integers(1, 30_000_000), st.integers(1, 5_000)),
)
def test_the_check_agrees_with_pyocds_tpiu(core_clock, swo_baud):
    if swo_baud > core_clock:
        assert "exceeds the core clock" in swo_clock_problem(core_clock, swo_baud)
        return
    assert (swo_clock_problem(core_clock, swo_baud) is None) == pyocd_accepts(core_clock, swo_baud)


def test_the_usual_drone_clocks_pass_and_a_bad_baud_names_the_nearest():
    assert swo_clock_problem(72_000_000, 2_000_000) is None  # Drone.toml's defaults
    assert swo_clock_problem(48_000_000, 3_000_000) is None
    problem = swo_clock_problem(72_000_000, 5_000_000)  # 72 / 14 = 5.14 M: 2.9% off, fine
    assert problem is None
    problem = swo_clock_problem(72_000_000, 5_300_000)  # 72 / 13 = 5.54 M: 4.5% off
    assert "within 3%" in problem and "5,538,461 baud" in problem
    assert "must be positive" in swo_clock_problem(0, 2_000_000)
