"""Target RAM for the Drone Stream tests: a bytearray at an address, read and written by probe."""

from __future__ import annotations

import struct

BASE = 0x20000000


RT = BASE + 0x1004


MASK = BASE + 0x1000


class Ram:
    """`TargetMemory` over a bytearray, as the simulated board's RAM is."""

    def __init__(self, size: int = 0x3000) -> None:
        self.data = bytearray(size)

    def read32(self, addr: int) -> int:
        return struct.unpack_from("<I", self.data, addr - BASE)[0]

    def read_block(self, addr: int, length: int) -> bytes:
        return bytes(self.data[addr - BASE : addr - BASE + length])

    def write32(self, addr: int, value: int) -> None:
        struct.pack_into("<I", self.data, addr - BASE, value)

    def write_block(self, addr: int, data: bytes) -> None:
        self.data[addr - BASE : addr - BASE + len(data)] = data
