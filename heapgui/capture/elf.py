"""A small reader for the section headers and symbols of a 32-bit little-endian ELF.

Enough to find Drone Stream's sections and linker symbols in a Cortex-M
firmware image: nothing is loaded, relocated or disassembled. Every refusal is
one line naming the file, the byte offset and what was expected there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from heapgui.errors import HeapguiError
from heapgui.layout.config_files import read_regular_file

MAGIC = b"\x7fELF"
ELFCLASS32 = 1
ELFDATA2LSB = 1
SHT_SYMTAB = 2
SHT_NOBITS = 8
SHN_XINDEX = 0xFFFF

ELF_HEADER = struct.Struct("<16sHHIIIIIHHHHHH")
"""e_ident, e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize,
e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx."""
SECTION_HEADER = struct.Struct("<10I")
"""sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign,
sh_entsize."""
SYMBOL = struct.Struct("<IIIBBH")
"""st_name, st_value, st_size, st_info, st_other, st_shndx."""


@dataclass(frozen=True)
class ElfSection:
    index: int
    name: str
    type: int
    addr: int
    offset: int
    size: int
    link: int


@dataclass(frozen=True)
class ElfSymbol:
    name: str
    value: int
    size: int
    section: int
    """Index of the section the symbol is defined in (st_shndx)."""


@dataclass(frozen=True)
class Elf32:
    path: Path
    sections: list[ElfSection]
    symbols: list[ElfSymbol]
    """`.symtab`'s symbols, empty when the file is stripped."""

    def section(self, name: str) -> ElfSection | None:
        return next((s for s in self.sections if s.name == name), None)

    def symbol(self, name: str) -> ElfSymbol | None:
        return next((s for s in self.symbols if s.name == name), None)


def read_elf32(path: Path) -> Elf32:
    """The section headers and `.symtab` of `path`; HeapguiError when it is no such ELF."""
    data, _ = read_regular_file(path)
    return _Reader(path, data).elf()


class _Reader:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data

    def fail(self, offset: int, expected: str, found: str = "") -> HeapguiError:
        found = f", found {found}" if found else ""
        return HeapguiError(f"{self.path}: byte {offset}: expected {expected}{found}")

    def need(self, offset: int, length: int, what: str) -> None:
        if offset + length > len(self.data):
            raise self.fail(
                offset, f"{what} ({length} bytes)", f"the end of the file at byte {len(self.data)}"
            )

    def elf(self) -> Elf32:
        data = self.data
        if data[:4] != MAGIC:
            raise self.fail(0, "an ELF file (7f 45 4c 46)", data[:4].hex(" ") or "an empty file")
        self.need(0, ELF_HEADER.size, "an ELF32 header")
        ident, *fields = ELF_HEADER.unpack_from(data)
        if ident[4] != ELFCLASS32:
            found = "class 2 (ELF64)" if ident[4] == 2 else f"class {ident[4]}"
            raise self.fail(4, "a 32-bit ELF (class 1), as Cortex-M firmware is", found)
        if ident[5] != ELFDATA2LSB:
            found = "2 (big-endian)" if ident[5] == 2 else str(ident[5])
            raise self.fail(5, "little-endian data (1)", found)
        shoff, shentsize, shnum, shstrndx = fields[5], fields[10], fields[11], fields[12]
        if shoff == 0:
            raise self.fail(32, "the offset of the section headers", "0 (no section headers)")
        if shentsize < SECTION_HEADER.size:
            raise self.fail(46, f"a section header size of {SECTION_HEADER.size}", str(shentsize))
        raw = self._section_header(shoff, shentsize, 0)
        if shnum == 0:  # more than 0xff00 sections: the count lives in section 0's size
            shnum = raw[5]
        if shstrndx == SHN_XINDEX:
            shstrndx = raw[6]
        self.need(shoff, shnum * shentsize, f"{shnum} section headers")
        headers = [self._section_header(shoff, shentsize, i) for i in range(shnum)]
        if not 0 < shstrndx < shnum:
            raise self.fail(50, f"the index of the section name table below {shnum}", str(shstrndx))
        names = self._contents(headers[shstrndx], shoff + shstrndx * shentsize, "section names")
        sections = [
            ElfSection(
                i,
                self._string(names, h[0], shoff + i * shentsize, "a section name"),
                h[1],
                h[3],
                h[4],
                h[5],
                h[6],
            )
            for i, h in enumerate(headers)
        ]
        return Elf32(self.path, sections, self._symbols(sections, shoff, shentsize))

    def _section_header(self, shoff: int, shentsize: int, index: int) -> tuple[int, ...]:
        offset = shoff + index * shentsize
        self.need(offset, SECTION_HEADER.size, f"section header {index}")
        return SECTION_HEADER.unpack_from(self.data, offset)

    def _contents(self, header: tuple[int, ...], where: int, what: str) -> bytes:
        """The bytes of a section that must be in the file; `where` is its header's offset."""
        if header[1] == SHT_NOBITS:
            raise self.fail(where + 4, f"{what} stored in the file", "a section without bytes")
        offset, size = header[4], header[5]
        if offset + size > len(self.data):
            raise self.fail(
                where + 16, f"{what} inside the file", f"bytes {offset}..{offset + size}"
            )
        return self.data[offset : offset + size]

    def _string(self, table: bytes, index: int, where: int, what: str) -> str:
        end = table.find(b"\0", index)
        if index >= len(table) or end < 0:
            raise self.fail(where, f"{what} inside its string table", f"offset {index}")
        return table[index:end].decode("utf-8", "replace")

    def _symbols(self, sections: list[ElfSection], shoff: int, shentsize: int) -> list[ElfSymbol]:
        symtab = next((s for s in sections if s.type == SHT_SYMTAB), None)
        if symtab is None:
            return []
        where = shoff + symtab.index * shentsize
        if not 0 < symtab.link < len(sections):
            raise self.fail(where + 24, "the index of the symbol names", str(symtab.link))
        strtab = sections[symtab.link]
        names = self._contents(
            self._section_header(shoff, shentsize, strtab.index),
            shoff + strtab.index * shentsize,
            "symbol names",
        )
        table = self._contents(
            self._section_header(shoff, shentsize, symtab.index), where, "the symbol table"
        )
        count = len(table) // SYMBOL.size
        symbols = []
        for i, (name, value, size, _info, _other, shndx) in enumerate(
            SYMBOL.iter_unpack(table[: count * SYMBOL.size])
        ):
            at = symtab.offset + i * SYMBOL.size
            symbols.append(
                ElfSymbol(self._string(names, name, at, "a symbol name"), value, size, shndx)
            )
        return symbols
