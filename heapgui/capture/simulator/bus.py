"""The simulated target's memory system: a sparse word store plus memory-mapped registers.

Only what a debugger touches is modelled. Ordinary memory is a dict of words
(unwritten words read 0); peripherals claim 4 KiB-aligned windows and decide
for themselves what a read or write of one of their registers does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

WORD_MASK = 0xFFFFFFFF


class BusFault(Exception):
    """An access the bus does not answer (unmapped address); the MEM-AP reports a fault."""

    def __init__(self, addr: int) -> None:
        super().__init__(f"bus fault at 0x{addr:08X}")
        self.addr = addr


class Peripheral:
    """A block of registers; unmodelled offsets behave as plain storage.

    `id_registers` maps offsets to read-only values (CoreSight CIDR/PIDR and the
    like). Subclasses override `read_register`/`write_register` for registers
    with behaviour and call the base class for the rest.
    """

    base: int = 0
    size: int = 0x1000
    # ITM, DWT and TPIU registers are unreachable until DEMCR.TRCENA is set.
    needs_trcena: bool = False

    def __init__(self) -> None:
        self.storage: dict[int, int] = {}
        self.id_registers: dict[int, int] = {}

    def read_register(self, offset: int) -> int:
        if offset in self.id_registers:
            return self.id_registers[offset]
        return self.storage.get(offset, 0)

    def write_register(self, offset: int, value: int) -> None:
        if offset in self.id_registers:
            return
        self.storage[offset] = value

    def peek(self, offset: int) -> int:
        """The register's value without side effects, for tests and inspection."""
        return self.read_register(offset)


def coresight_ids(part: int, component_class: int, revision: int = 0) -> dict[int, int]:
    """PIDR0-4 and CIDR0-3 of an Arm component (JEP106 0x3B, 4 continuation codes)."""
    pidr = {
        0xFE0: part & 0xFF,
        0xFE4: 0xB0 | (part >> 8) & 0x0F,  # JEP106 bits 3:0 = 0xB
        0xFE8: (revision << 4) | 0x08 | 0x03,  # JEDEC flag, JEP106 bits 6:4 = 3
        0xFEC: 0x00,
        0xFD0: 0x04,  # four continuation codes, one 4 KiB block
    }
    cidr = {0xFF0: 0x0D, 0xFF4: (component_class << 4), 0xFF8: 0x05, 0xFFC: 0xB1}
    return {**pidr, **cidr}


class SystemBus:
    """Routes word accesses to peripherals or the sparse memory, faulting outside `regions`."""

    def __init__(
        self,
        regions: list[tuple[int, int]],
        peripherals: list[Peripheral],
        trace_enabled: Callable[[], bool],
        ram: tuple[int, int] | None = None,
    ) -> None:
        self._regions = regions
        self._peripherals = {p.base: p for p in peripherals}
        self._trace_enabled = trace_enabled
        self.memory: dict[int, int] = {}
        # Firmware that works on bytes (Drone Stream's rings) gets RAM as one bytearray.
        self.ram_base, ram_size = ram if ram is not None else (0, 0)
        self.ram = bytearray(ram_size)

    def _ram_offset(self, addr: int) -> int | None:
        offset = addr - self.ram_base
        return offset if 0 <= offset <= len(self.ram) - 4 else None

    def _decode(self, addr: int) -> Peripheral | None:
        peripheral = self._peripherals.get(addr & ~0xFFF)
        if peripheral is not None:
            return peripheral
        answered = any(start <= addr < start + length for start, length in self._regions)
        if not answered and self._ram_offset(addr) is None:
            raise BusFault(addr)
        return None

    def read32(self, addr: int) -> int:
        addr &= ~3
        peripheral = self._decode(addr)
        if peripheral is None:
            offset = self._ram_offset(addr)
            if offset is not None:
                return int.from_bytes(self.ram[offset : offset + 4], "little")
            return self.memory.get(addr, 0)
        if peripheral.needs_trcena and not self._trace_enabled():
            return 0
        return peripheral.read_register(addr - peripheral.base) & WORD_MASK

    def write(self, addr: int, value: int, lanes: int = WORD_MASK) -> None:
        """Write the bytes of `value` selected by the `lanes` bit mask into the word at `addr`."""
        addr &= ~3
        peripheral = self._decode(addr)
        if peripheral is None:
            offset = self._ram_offset(addr)
            old = self.read32(addr)
            new = (old & ~lanes | value & lanes) & WORD_MASK
            if offset is not None:
                self.ram[offset : offset + 4] = new.to_bytes(4, "little")
            else:
                self.memory[addr] = new
            return
        if peripheral.needs_trcena and not self._trace_enabled():
            return
        offset = addr - peripheral.base
        if lanes != WORD_MASK:
            # Sub-word register writes merge with the current value, as on an AHB slave.
            value = peripheral.peek(offset) & ~lanes | value & lanes
        peripheral.write_register(offset, value & WORD_MASK)

    def peek32(self, addr: int) -> int:
        """A word as stored, bypassing side effects and the TRCENA gate."""
        addr &= ~3
        peripheral = self._peripherals.get(addr & ~0xFFF)
        if peripheral is None:
            offset = self._ram_offset(addr)
            if offset is not None:
                return int.from_bytes(self.ram[offset : offset + 4], "little")
            return self.memory.get(addr, 0)
        return peripheral.peek(addr - peripheral.base)
