"""Cortex-M4 debug components as a debugger sees them: ROM table, SCS, ITM, DWT, FPB, TPIU.

Identification registers carry the values of a real Cortex-M4 r0p1 so pyocd's
CoreSight discovery recognises each component. Registers that matter for
tracing (DEMCR, DHCSR, ITM TER/TCR, TPIU ACPR/SPPR/FFCR, DWT CTRL) behave as
the Armv7-M and TPIU manuals describe; the rest is plain storage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from heapgui.capture.simulator.bus import Peripheral, coresight_ids

logger = logging.getLogger(__name__)

ROM_TABLE_BASE = 0xE00FF000
SCS_BASE = 0xE000E000
ITM_BASE = 0xE0000000
DWT_BASE = 0xE0001000
FPB_BASE = 0xE0002000
TPIU_BASE = 0xE0040000

# CoreSight component classes (CIDR1 bits 7:4).
ROM_CLASS = 0x1
CORESIGHT_CLASS = 0x9
GENERIC_CLASS = 0xE

CPUID_CORTEX_M4 = 0x410FC241
DBGKEY = 0xA05F


def _rom_entry(component_base: int) -> int:
    """A present, 32-bit-format ROM table entry pointing at `component_base`."""
    return ((component_base - ROM_TABLE_BASE) & 0xFFFFF000) | 0x3


class RomTable(Peripheral):
    base = ROM_TABLE_BASE

    def __init__(self) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x4C4, ROM_CLASS)
        entries = [SCS_BASE, DWT_BASE, FPB_BASE, ITM_BASE, TPIU_BASE]
        for i, component in enumerate(entries):
            self.id_registers[4 * i] = _rom_entry(component)
        # An absent ETM entry, then the terminating zero.
        self.id_registers[4 * len(entries)] = 0xFFF42002
        self.id_registers[4 * len(entries) + 4] = 0
        self.id_registers[0xFCC] = 0x1  # MEMTYPE: system memory present


class Scs(Peripheral):
    """System control space: CPUID, the debug halting control and DEMCR."""

    base = SCS_BASE
    CPUID = 0xD00
    AIRCR = 0xD0C
    DFSR = 0xD30
    DHCSR = 0xDF0
    DCRSR = 0xDF4
    DCRDR = 0xDF8
    DEMCR = 0xDFC
    DEMCR_TRCENA = 1 << 24
    DEMCR_VC_CORERESET = 1 << 0
    AIRCR_VECTKEY = 0x05FA
    AIRCR_SYSRESETREQ = 1 << 2
    XPSR_REGSEL = 16
    XPSR_THUMB = 1 << 24
    # DHCSR bits
    C_DEBUGEN = 1 << 0
    C_HALT = 1 << 1
    C_STEP = 1 << 2
    C_MASKINTS = 1 << 3
    C_SNAPSTALL = 1 << 5
    S_REGRDY = 1 << 16
    S_HALT = 1 << 17
    S_RETIRE_ST = 1 << 24
    DHCSR_CONTROL = C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL
    DEMCR_WRITABLE = 0x010F07F1

    def __init__(self, cpuid: int = CPUID_CORTEX_M4) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x00C, GENERIC_CLASS)
        self.id_registers.update(
            {
                self.CPUID: cpuid,
                0x004: 0x00000001,  # ICTR: 64 interrupt lines
                0xD6C: 0x01111131,  # ID_ISAR3: SIMD (DSP) instructions present
                0xD90: 0x00000800,  # MPU_TYPE: 8 regions
                0xF40: 0x10110021,  # MVFR0: single-precision FPv4
                0xF44: 0x11000011,  # MVFR1
            }
        )
        self.dhcsr_control = 0
        self.demcr = 0
        self.dfsr = 0
        # Called for a system reset request; None: the request is stored and nothing happens.
        self.on_reset: Callable[[], None] | None = None

    @property
    def trcena(self) -> bool:
        return bool(self.demcr & self.DEMCR_TRCENA)

    @property
    def halted(self) -> bool:
        control = self.dhcsr_control
        return bool(control & self.C_DEBUGEN and control & self.C_HALT)

    def read_register(self, offset: int) -> int:
        if offset == self.DHCSR:
            status = self.S_REGRDY | (self.S_HALT if self.halted else self.S_RETIRE_ST)
            return self.dhcsr_control | status
        if offset == self.DEMCR:
            return self.demcr
        if offset == self.DFSR:
            return self.dfsr
        if offset == self.AIRCR:
            return 0xFA050000 | self.storage.get(offset, 0) & 0x700
        return super().read_register(offset)

    def write_register(self, offset: int, value: int) -> None:
        if offset == self.DHCSR:
            # Writes without the key are ignored, so software cannot take over debug.
            if value >> 16 == DBGKEY:
                was_halted = self.halted
                self.dhcsr_control = value & self.DHCSR_CONTROL
                if self.halted != was_halted:
                    logger.debug("simulated core %s", "halted" if self.halted else "running")
                    if self.halted:
                        self.dfsr |= 1  # HALTED
        elif offset == self.DEMCR:
            self.demcr = value & self.DEMCR_WRITABLE
        elif offset == self.DFSR:
            self.dfsr &= ~value  # write one to clear
        elif offset == self.AIRCR and value >> 16 == self.AIRCR_VECTKEY and self.on_reset:
            if value & self.AIRCR_SYSRESETREQ:
                self.on_reset()
        elif offset == self.DCRSR and value & 0x7F == self.XPSR_REGSEL:
            # Only xPSR is modelled: its Thumb bit is what pyOCD checks after a reset.
            super().write_register(self.DCRDR, self.XPSR_THUMB)
        else:
            super().write_register(offset, value)

    def system_reset(self) -> None:
        """The core restarts: running, unless DEMCR.VC_CORERESET stops it before its first
        instruction."""
        self.dhcsr_control &= ~self.C_HALT
        if self.demcr & self.DEMCR_VC_CORERESET:
            self.dhcsr_control |= self.C_DEBUGEN | self.C_HALT
            self.dfsr |= 1 << 3  # VCATCH


class Itm(Peripheral):
    """ITM registers; the stimulus packets themselves come from `heapgui.capture.simulator.itm`."""

    base = ITM_BASE
    needs_trcena = True
    TER = 0xE00
    TPR = 0xE40
    TCR = 0xE80
    LAR = 0xFB0
    LSR = 0xFB4
    TCR_WRITABLE = 0x007F0F1F
    TCR_ITMENA = 1 << 0
    TCR_TSENA = 1 << 1
    TCR_SYNCENA = 1 << 2

    def __init__(self, ter: int = 0, tcr: int = 0) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x001, GENERIC_CLASS)
        self.ter = ter
        self.tcr = tcr & self.TCR_WRITABLE

    @property
    def enabled(self) -> bool:
        return bool(self.tcr & self.TCR_ITMENA)

    @property
    def timestamps(self) -> bool:
        return bool(self.tcr & self.TCR_TSENA)

    @property
    def sync_enabled(self) -> bool:
        return bool(self.tcr & self.TCR_SYNCENA)

    @property
    def prescale_shift(self) -> int:
        """log2 of the local timestamp prescaler (TSPrescale: 1, 4, 16 or 64)."""
        return 2 * (self.tcr >> 8 & 0x3)

    def read_register(self, offset: int) -> int:
        if offset < 0x80:
            return 1  # STIMn.FIFOREADY: the debugger never sees a full FIFO
        if offset == self.TER:
            return self.ter
        if offset == self.TCR:
            return self.tcr
        if offset == self.LSR:
            return 0  # debugger accesses are never locked
        return super().read_register(offset)

    def write_register(self, offset: int, value: int) -> None:
        if offset == self.TER:
            self.ter = value
        elif offset == self.TCR:
            self.tcr = value & self.TCR_WRITABLE
        elif offset < 0x80:
            # A debugger write to a stimulus port would inject a packet; heapgui
            # never does that, so it is not modelled.
            logger.debug("ignored debugger write to ITM stimulus port %d", offset // 4)
        else:
            super().write_register(offset, value)


class Dwt(Peripheral):
    """DWT control: CYCCNTENA and SYNCTAP drive the ITM's periodic synchronisation packets."""

    base = DWT_BASE
    needs_trcena = True
    CTRL = 0x000
    CTRL_CYCCNTENA = 1 << 0
    CTRL_SYNCTAP_SHIFT = 10
    NUMCOMP = 4 << 28

    def __init__(self) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x002, GENERIC_CLASS)
        self.ctrl = 0

    @property
    def sync_period_log2(self) -> int | None:
        """log2 of the cycles between ITM syncs (24, 26 or 28), None when no sync tap is set."""
        tap = self.ctrl >> self.CTRL_SYNCTAP_SHIFT & 0x3
        if tap == 0 or not self.ctrl & self.CTRL_CYCCNTENA:
            return None
        return 22 + 2 * tap

    def read_register(self, offset: int) -> int:
        if offset == self.CTRL:
            return self.NUMCOMP | self.ctrl
        return super().read_register(offset)

    def write_register(self, offset: int, value: int) -> None:
        if offset == self.CTRL:
            self.ctrl = value & 0x0FFFFFFF
        else:
            super().write_register(offset, value)


class Fpb(Peripheral):
    """Flash patch and breakpoint unit: six code and two literal comparators, revision 1."""

    base = FPB_BASE
    FP_CTRL = 0x000

    def __init__(self) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x003, GENERIC_CLASS)
        self.enable = 0

    def read_register(self, offset: int) -> int:
        if offset == self.FP_CTRL:
            return 0x00000260 | self.enable
        return super().read_register(offset)

    def write_register(self, offset: int, value: int) -> None:
        if offset == self.FP_CTRL:
            if value & 0x2:  # KEY must be written as one
                self.enable = value & 0x1
        else:
            super().write_register(offset, value)


class Tpiu(Peripheral):
    """The Cortex-M4 TPIU: SWO in Manchester or NRZ (UART) mode, optional formatter."""

    base = TPIU_BASE
    needs_trcena = True
    ACPR = 0x010
    SPPR = 0x0F0
    FFSR = 0x300
    FFCR = 0x304
    ACPR_MASK = 0x1FFF  # 13-bit prescaler on the Cortex-M4
    SPPR_MANCHESTER = 1
    SPPR_NRZ = 2
    FFCR_ENFCONT = 1 << 1

    def __init__(self) -> None:
        super().__init__()
        self.id_registers = coresight_ids(0x9A1, CORESIGHT_CLASS)
        self.id_registers.update(
            {
                0x000: 0x1,  # SSPSR: only a 1-bit port
                0xFBC: 0x0,  # DEVARCH: none
                0xFC8: 0xCA1,  # DEVID: NRZ and Manchester SWO supported
                0xFCC: 0x11,  # DEVTYPE: trace sink, port
                self.FFSR: 0x8,  # FtNonStop
            }
        )
        # Reset values: Manchester, formatter in continuous mode.
        self.acpr = 0
        self.sppr = self.SPPR_MANCHESTER
        self.ffcr = 0x102

    @property
    def formatter_on(self) -> bool:
        return bool(self.ffcr & self.FFCR_ENFCONT)

    def read_register(self, offset: int) -> int:
        if offset == self.ACPR:
            return self.acpr
        if offset == self.SPPR:
            return self.sppr
        if offset == self.FFCR:
            return self.ffcr
        return super().read_register(offset)

    def write_register(self, offset: int, value: int) -> None:
        if offset == self.ACPR:
            self.acpr = value & self.ACPR_MASK
        elif offset == self.SPPR:
            self.sppr = value & 0x3
        elif offset == self.FFCR:
            self.ffcr = value & 0x3773
        else:
            super().write_register(offset, value)
