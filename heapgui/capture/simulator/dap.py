"""The Arm debug access port of the simulated target: an SW-DP and one AHB-AP (MEM-AP).

pyocd talks to these registers exactly as it talks to a real Cortex-M4 through
a CMSIS-DAP probe: it selects the AP and register bank with DP SELECT, powers
up debug with CTRL/STAT, and reads memory through CSW/TAR/DRW with address
auto-increment. Errors follow SWD: a bus fault sets STICKYERR, and every AP
access answers FAULT until ABORT clears it.
"""

from __future__ import annotations

import logging

from pyocd.core import exceptions

from heapgui.capture.simulator.bus import BusFault, SystemBus
from heapgui.capture.simulator.coresight import ROM_TABLE_BASE

logger = logging.getLogger(__name__)

# DP registers (A[3:2]); the same address means different registers for reads and writes.
DP_DPIDR = 0x0  # read
DP_ABORT = 0x0  # write
DP_CTRL_STAT = 0x4
DP_SELECT = 0x8  # write
DP_RESEND = 0x8  # read
DP_RDBUFF = 0xC

CDBGPWRUPREQ = 1 << 28
CSYSPWRUPREQ = 1 << 30
CDBGRSTREQ = 1 << 26
STICKYORUN = 1 << 1
STICKYCMP = 1 << 4
STICKYERR = 1 << 5
WDATAERR = 1 << 7
CTRL_WRITABLE = CSYSPWRUPREQ | CDBGPWRUPREQ | CDBGRSTREQ | 0x00FFFF0D

ABORT_STKCMPCLR = 1 << 1
ABORT_STKERRCLR = 1 << 2
ABORT_WDERRCLR = 1 << 3
ABORT_ORUNERRCLR = 1 << 4

# MEM-AP registers
AP_CSW = 0x00
AP_TAR = 0x04
AP_DRW = 0x0C
AP_BD0 = 0x10
AP_CFG = 0xF4
AP_BASE = 0xF8
AP_IDR = 0xFC

CSW_SIZE = 0x7
CSW_ADDRINC = 0x30
CSW_DEVICEEN = 1 << 6
CSW_WRITABLE = CSW_SIZE | CSW_ADDRINC | 0x0F000000 | 1 << 29  # size, increment, HPROT, MSTRTYPE


class MemAp:
    """The Cortex-M4 AHB-AP: 8/16/32-bit transfers, auto-increment within 4 KiB."""

    IDR = 0x24770011
    CSW_RESET = 0x23000052

    def __init__(self, bus: SystemBus) -> None:
        self.bus = bus
        self.csw = self.CSW_RESET
        self.tar = 0

    def _size_bytes(self) -> int:
        return 1 << (self.csw & CSW_SIZE)

    def _lanes(self, addr: int) -> int:
        size = self._size_bytes()
        return ((1 << 8 * size) - 1) << 8 * (addr & (4 - size))

    def _advance(self) -> None:
        if self.csw & CSW_ADDRINC:
            # The increment never carries out of the 4 KiB page (TAR[11:0] wraps).
            self.tar = self.tar & ~0xFFF | (self.tar + self._size_bytes()) & 0xFFF

    def read(self, reg: int) -> int:
        """Raises BusFault for a data access the bus does not answer."""
        if reg == AP_CSW:
            return self.csw | CSW_DEVICEEN
        if reg == AP_TAR:
            return self.tar
        if reg == AP_DRW:
            value = self.bus.read32(self.tar)
            self._advance()
            return value
        if AP_BD0 <= reg < AP_BD0 + 0x10:
            return self.bus.read32(self.tar & ~0xF | reg - AP_BD0)
        if reg == AP_BASE:
            return ROM_TABLE_BASE | 0x3  # ADIv5 format, entry present
        if reg == AP_IDR:
            return self.IDR
        return 0  # CFG and reserved registers

    def write(self, reg: int, value: int) -> None:
        if reg == AP_CSW:
            csw = value & CSW_WRITABLE
            if csw & CSW_SIZE > 2:
                csw = csw & ~CSW_SIZE | 2  # unsupported sizes read back as word
            self.csw = csw
        elif reg == AP_TAR:
            self.tar = value & 0xFFFFFFFF
        elif reg == AP_DRW:
            self.bus.write(self.tar, value, self._lanes(self.tar))
            self._advance()
        elif AP_BD0 <= reg < AP_BD0 + 0x10:
            self.bus.write(self.tar & ~0xF | reg - AP_BD0, value)


class DebugPort:
    """An ADIv5 SW-DP (DPv1) in front of one MEM-AP at APSEL 0."""

    DPIDR = 0x2BA01477

    def __init__(self, ap: MemAp) -> None:
        self.ap = ap
        self.select = 0
        self.ctrl = 0
        self.sticky = 0
        self.rdbuff = 0

    @property
    def powered(self) -> bool:
        return bool(self.ctrl & CDBGPWRUPREQ)

    def read_dp(self, addr: int) -> int:
        if addr == DP_DPIDR:
            return self.DPIDR
        if addr == DP_CTRL_STAT:
            # Power and reset requests are acknowledged at once (each ACK is its REQ bit + 1).
            acks = (self.ctrl & (CSYSPWRUPREQ | CDBGPWRUPREQ | CDBGRSTREQ)) << 1
            return self.ctrl | acks | self.sticky
        if addr == DP_RDBUFF or addr == DP_RESEND:
            return self.rdbuff
        raise exceptions.TransferProtocolError(f"read of unknown DP register 0x{addr:X}")

    def write_dp(self, addr: int, value: int) -> None:
        if addr == DP_ABORT:
            if value & ABORT_STKERRCLR:
                self.sticky &= ~STICKYERR
            if value & ABORT_STKCMPCLR:
                self.sticky &= ~STICKYCMP
            if value & ABORT_WDERRCLR:
                self.sticky &= ~WDATAERR
            if value & ABORT_ORUNERRCLR:
                self.sticky &= ~STICKYORUN
        elif addr == DP_CTRL_STAT:
            self.ctrl = value & CTRL_WRITABLE
        elif addr == DP_SELECT:
            self.select = value
        else:
            raise exceptions.TransferProtocolError(f"write of unknown DP register 0x{addr:X}")

    def _ap_register(self, addr: int) -> int | None:
        """The selected AP's register for a transfer with A[3:2] from `addr`; None if no AP."""
        if self.sticky & STICKYERR:
            raise exceptions.TransferFaultError("SWD FAULT response: STICKYERR is set")
        if not self.powered:
            self.sticky |= STICKYERR
            raise exceptions.TransferFaultError("AP access with the debug domain powered down")
        if self.select >> 24 != 0:
            return None
        return self.select & 0xF0 | addr & 0xC

    def read_ap(self, addr: int) -> int:
        reg = self._ap_register(addr)
        if reg is None:
            return 0  # absent APs read as zero, IDR included
        try:
            self.rdbuff = self.ap.read(reg)
        except BusFault as fault:
            self.sticky |= STICKYERR
            raise exceptions.TransferFaultError(str(fault)) from None
        return self.rdbuff

    def write_ap(self, addr: int, value: int) -> None:
        reg = self._ap_register(addr)
        if reg is None:
            return
        try:
            self.ap.write(reg, value)
        except BusFault as fault:
            self.sticky |= STICKYERR
            raise exceptions.TransferFaultError(str(fault)) from None
