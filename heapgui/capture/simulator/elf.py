"""A minimal ELF32 (ARM, little endian) image describing Drone Stream's RAM, for the
simulated master firmware and for tests of heapgui.capture.stream_locate.

The image carries no code: only NOLOAD (SHT_NOBITS) sections at the addresses
drone-ld would give `.stream_rt`, `.stream_<name>_rt` and `.stream_<name>_buf`,
and/or the symbols `GLOBAL_RT` and the linker script's `STREAM_*` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from heapgui.capture.elf import (
    ELF_HEADER,
    ELFCLASS32,
    ELFDATA2LSB,
    MAGIC,
    SECTION_HEADER,
    SHT_NOBITS,
    SHT_SYMTAB,
    SYMBOL,
)
from heapgui.capture.stream_map import StreamMap
from heapgui.layout.config_flexible import STREAM_MASK_SIZE, STREAM_RUNTIME_SIZE

EM_ARM = 40
ET_EXEC = 2
EF_ARM_EABI_VER5 = 0x05000000
SHT_STRTAB = 3
SHF_WRITE, SHF_ALLOC = 1, 2
SHN_ABS = 0xFFF1
STB_GLOBAL = 1
STT_NOTYPE, STT_OBJECT = 0, 1


@dataclass(frozen=True)
class Section:
    """A NOLOAD RAM section: an address and a size, no bytes in the file."""

    name: str
    addr: int
    size: int


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int = 0
    section: str | None = None
    """The section it is defined in; None makes it absolute, as in a stripped image."""
    kind: int = STT_NOTYPE


class _Strings:
    """A string table being built: NUL first, each name once."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.offsets: dict[str, int] = {"": 0}

    def add(self, name: str) -> int:
        if name not in self.offsets:
            self.offsets[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.offsets[name]


def elf_image(sections: Sequence[Section], symbols: Sequence[Symbol]) -> bytes:
    """The bytes of an ELF32 with `sections` (NOBITS) and, if any, a `.symtab` of `symbols`."""
    shstrtab, strtab = _Strings(), _Strings()
    index = {s.name: i for i, s in enumerate(sections, start=1)}
    # Section headers, without sh_name yet: (name, type, flags, addr, offset, size, link, info,
    # align, entsize); the tables with bytes go after the ELF header, in this order.
    headers: list[list] = [["", 0, 0, 0, 0, 0, 0, 0, 0, 0]]
    headers += [
        [s.name, SHT_NOBITS, SHF_WRITE | SHF_ALLOC, s.addr, 0, s.size, 0, 0, 4, 0] for s in sections
    ]
    body = bytearray()
    offset = ELF_HEADER.size
    if symbols:
        table = bytearray(SYMBOL.size)  # symbol 0 is the null symbol
        for symbol in symbols:
            shndx = SHN_ABS if symbol.section is None else index[symbol.section]
            info = (STB_GLOBAL << 4) | symbol.kind
            table += SYMBOL.pack(strtab.add(symbol.name), symbol.value, symbol.size, info, 0, shndx)
        strtab_index = len(headers) + 1
        # sh_info: the first global symbol follows the null symbol, the only local one.
        headers.append(
            [".symtab", SHT_SYMTAB, 0, 0, offset, len(table), strtab_index, 1, 4, SYMBOL.size]
        )
        body += table
        offset += len(table)
        headers.append([".strtab", SHT_STRTAB, 0, 0, offset, len(strtab.data), 0, 0, 1, 0])
        body += strtab.data
        offset += len(strtab.data)
    headers.append([".shstrtab", SHT_STRTAB, 0, 0, 0, 0, 0, 0, 1, 0])
    for header in headers:
        header[0] = shstrtab.add(header[0])
    headers[-1][4:6] = [offset, len(shstrtab.data)]
    body += shstrtab.data
    offset += len(shstrtab.data)
    padding = -offset % 4
    shoff = offset + padding
    ident = MAGIC + bytes([ELFCLASS32, ELFDATA2LSB, 1]) + bytes(9)  # 1: EV_CURRENT
    header = ELF_HEADER.pack(
        ident, ET_EXEC, EM_ARM, 1, 0, 0, shoff, EF_ARM_EABI_VER5,
        ELF_HEADER.size, 32, 0, SECTION_HEADER.size, len(headers), len(headers) - 1,
    )  # fmt: skip
    return (
        header + bytes(body) + bytes(padding) + b"".join(SECTION_HEADER.pack(*h) for h in headers)
    )


def stream_sections(stream_map: StreamMap) -> list[Section]:
    """drone-ld's sections for `stream_map`: the mask, then each runtime and its ring."""
    sections = [Section(".stream_rt", stream_map.mask, STREAM_MASK_SIZE)]
    for buffer in stream_map.buffers:
        sections.append(Section(f".stream_{buffer.name}_rt", buffer.runtime, STREAM_RUNTIME_SIZE))
        sections.append(Section(f".stream_{buffer.name}_buf", buffer.buffer, buffer.size))
    return sections


def stream_symbols(stream_map: StreamMap, *, in_sections: bool = True) -> list[Symbol]:
    """`GLOBAL_RT` and the linker script's `STREAM_*` symbols for `stream_map`."""

    def where(name: str) -> str | None:
        return name if in_sections else None

    symbols = [
        Symbol("GLOBAL_RT", stream_map.mask, STREAM_MASK_SIZE, where(".stream_rt"), STT_OBJECT),
        Symbol("STREAM_RT_BASE", stream_map.mask, 0, where(".stream_rt")),
    ]
    for buffer in stream_map.buffers:
        key, rt, buf = (
            buffer.name.upper(),
            f".stream_{buffer.name}_rt",
            f".stream_{buffer.name}_buf",
        )
        symbols += [
            Symbol(f"STREAM_{key}_RT_BASE", buffer.runtime, 0, where(rt)),
            Symbol(f"STREAM_{key}_BUF_BASE", buffer.buffer, 0, where(buf)),
            Symbol(f"STREAM_{key}_BUF_END", buffer.buffer + buffer.size, 0, where(buf)),
        ]
    return symbols


def write_stream_elf(
    path: Path, stream_map: StreamMap, *, sections: bool = True, symbols: bool = True
) -> None:
    """Write an ELF describing `stream_map` with its sections and/or its symbols."""
    image = elf_image(
        stream_sections(stream_map) if sections else [],
        stream_symbols(stream_map, in_sections=sections) if symbols else [],
    )
    Path(path).write_bytes(image)
