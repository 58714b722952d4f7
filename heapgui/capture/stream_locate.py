"""Finding Drone Stream's enable mask and buffers: from the firmware ELF or from layout.toml.

In order of trust: the ELF's section headers,
which survive stripping; its linker symbols; and, without an ELF, drone's own
placement arithmetic over layout.toml, which is what `drone stream` does.
Whatever the source, the reader checks each `buffer_size` against the size found
here before trusting an address (expected_size_mismatch words that refusal).
"""

from __future__ import annotations

import re
from pathlib import Path

from heapgui.capture.elf import Elf32, read_elf32
from heapgui.capture.stream_map import StreamBuffer, StreamMap
from heapgui.errors import HeapguiError
from heapgui.layout.config import (
    MIN_STREAM_BUFFER,
    layout_sections,
    parse_values,
    ram_region,
    read_config_text,
)
from heapgui.layout.config_flexible import STREAM_MASK_SIZE, STREAM_RUNTIME_SIZE

_RT_SECTION = re.compile(r"\.stream_(.+)_rt")
_RT_SYMBOL = re.compile(r"STREAM_(.+)_RT_BASE")
MASK_SYMBOL = "GLOBAL_RT"
OLD_RT_SYMBOL = "RT"
"""September-November 2022: one `RT` per buffer, with the mask inside it."""


def expected_size_mismatch(buffer: StreamBuffer, found: int, source: str) -> str:
    """Why the addresses of `source` are not trusted: the target's `buffer_size` differs."""
    return (
        f"{source}: stream {buffer.name} at {buffer.runtime:#010x}: buffer_size reads {found},"
        f" expected {buffer.size}: the layout.toml or ELF does not match the flashed firmware"
    )


# --- layout.toml ----------------------------------------------------------------------------


class _Pointer:
    """drone-ld's fixed-section pointer in one RAM region: up from the origin when the
    region's first stack has a fixed size, otherwise down from its end."""

    def __init__(self, origin: int, size: int, up: bool) -> None:
        self.origin, self.end, self.up = origin, origin + size, up
        self.at = origin if up else self.end

    def take(self, size: int) -> int:
        """The start of the next `size` bytes; going down, a later block sits lower."""
        if self.up:
            self.at += size
            return self.at - size
        self.at -= size
        return self.at

    @property
    def used(self) -> int:
        return self.at - self.origin if self.up else self.end - self.at


def stream_map_from_layout(path: Path) -> StreamMap:
    """The addresses drone-ld gives `[stream]` and `[stream.<name>]` in `path`."""
    text, _ = read_config_text(path)
    sections = layout_sections(path, parse_values(path, text))
    if not sections.streams:
        raise HeapguiError(f"{path}: expected a [stream.<name>] table: no Drone Stream buffer")
    if sections.mask_ram is None:
        raise HeapguiError(
            f"{path}: stream: missing 'ram', the RAM region of the enable mask"
            ' (Drone master of November 2022 or later writes [stream] ram = "main")'
        )
    mask = None
    runtimes = {}
    for region in sections.rams:
        streams = [s for s in sections.streams if s.ram == region]
        if region != sections.mask_ram and not streams:
            continue
        origin, size = ram_region(path, sections.rams, region)
        stacks = [stack for ram, stack in sections.stacks if ram == region]
        pointer = _Pointer(origin, size, bool(stacks) and isinstance(stacks[0], int))
        for stack in stacks:
            if isinstance(stack, int):  # a share of the region lies on the other side
                pointer.take(stack)
        if region == sections.mask_ram:
            mask = pointer.take(STREAM_MASK_SIZE)
        for stream in streams:
            runtimes[stream.name] = pointer.take(STREAM_RUNTIME_SIZE + stream.size)
        if pointer.used > size:
            raise HeapguiError(
                f"{path}: ram.{region}: the fixed stacks and Drone Stream need {pointer.used}"
                f" bytes, more than the region's {size}"
            )
    assert mask is not None  # mask_ram names a region of sections.rams
    buffers = tuple(StreamBuffer(s.name, runtimes[s.name], s.size) for s in sections.streams)
    return StreamMap(mask, buffers, str(path))


# --- ELF ------------------------------------------------------------------------------------


def stream_map_from_elf(path: Path) -> StreamMap:
    """The addresses in firmware `path`: its section headers, else its symbols."""
    elf = read_elf32(path)
    _refuse_older_generation(elf)
    found = _from_sections(elf) or _from_symbols(elf)
    if found is None:
        raise HeapguiError(
            f"{path}: expected section .stream_rt or symbol {MASK_SYMBOL}: no Drone Stream in"
            " this firmware (does layout.toml have [stream], and the firmware a stream! macro?)"
        )
    return found


def _refuse_older_generation(elf: Elf32) -> None:
    """September-November 2022 kept the mask inside each 12-byte runtime: the same
    sizes, other meanings, so reading it as today's would write the wrong words."""
    if elf.section(".stream_rt") or elf.symbol(MASK_SYMBOL):
        return
    runtime_sections = {s.index: s for s in elf.sections if _RT_SECTION.fullmatch(s.name)}
    old = elf.symbol(OLD_RT_SYMBOL)
    if old is not None and old.section in runtime_sections:
        evidence = f"symbol {OLD_RT_SYMBOL} in {runtime_sections[old.section].name}"
    elif runtime_sections:
        evidence = f"section {next(iter(runtime_sections.values())).name}"
    else:
        return
    raise HeapguiError(
        f"{elf.path}: Drone Stream of September to November 2022 ({evidence}, no"
        f" {MASK_SYMBOL}): that generation keeps the enable mask inside each runtime and is"
        " not supported; rebuild with Drone master of November 2022 or later"
    )


def _from_sections(elf: Elf32) -> StreamMap | None:
    mask = elf.section(".stream_rt")
    if mask is None:
        return None
    _expect_size(elf, mask.name, mask.size, STREAM_MASK_SIZE)
    buffers = []
    for runtime in elf.sections:
        match = _RT_SECTION.fullmatch(runtime.name)
        if match is None:
            continue
        name = match[1]
        ring = elf.section(f".stream_{name}_buf")
        if ring is None:
            raise HeapguiError(
                f"{elf.path}: expected section .stream_{name}_buf beside {runtime.name}"
            )
        _expect_size(elf, runtime.name, runtime.size, STREAM_RUNTIME_SIZE)
        buffers.append(
            _buffer(elf, name, runtime.addr, ring.addr, ring.size, f"section {ring.name}")
        )
    return _stream_map(elf, mask.addr, buffers, "section headers")


def _from_symbols(elf: Elf32) -> StreamMap | None:
    mask = elf.symbol(MASK_SYMBOL) or elf.symbol("STREAM_RT_BASE")
    if mask is None:
        return None
    buffers = []
    for runtime in elf.symbols:
        match = _RT_SYMBOL.fullmatch(runtime.name)
        if match is None:
            continue
        key = match[1]
        base, end = (elf.symbol(f"STREAM_{key}_BUF_{edge}") for edge in ("BASE", "END"))
        if base is None or end is None or end.value < base.value:
            raise HeapguiError(
                f"{elf.path}: expected symbols STREAM_{key}_BUF_BASE and STREAM_{key}_BUF_END"
                f" (in that order) beside {runtime.name}"
            )
        buffers.append(
            _buffer(
                elf,
                key.lower(),
                runtime.value,
                base.value,
                end.value - base.value,
                f"symbols STREAM_{key}_BUF_BASE..END",
            )
        )
    return _stream_map(elf, mask.value, buffers, "symbols")


def _buffer(elf: Elf32, name: str, runtime: int, ring: int, size: int, what: str) -> StreamBuffer:
    """One buffer, checked to be laid out as this generation of Drone Stream lays it out."""
    if ring != runtime + STREAM_RUNTIME_SIZE:
        raise HeapguiError(
            f"{elf.path}: {what} at {ring:#010x}: expected the ring right after the"
            f" {STREAM_RUNTIME_SIZE}-byte runtime at {runtime:#010x}"
        )
    if size % 4 or size < MIN_STREAM_BUFFER:
        raise HeapguiError(
            f"{elf.path}: {what}: expected a ring of a multiple of 4 of at least"
            f" {MIN_STREAM_BUFFER} bytes, found {size}"
        )
    return StreamBuffer(name, runtime, size)


def _expect_size(elf: Elf32, name: str, found: int, expected: int) -> None:
    if found != expected:
        raise HeapguiError(f"{elf.path}: section {name}: expected {expected} bytes, found {found}")


def _stream_map(elf: Elf32, mask: int, buffers: list[StreamBuffer], how: str) -> StreamMap:
    if not buffers:
        raise HeapguiError(
            f"{elf.path}: expected a Drone Stream buffer beside the enable mask ({how})"
        )
    return StreamMap(mask, tuple(buffers), f"{elf.path} ({how})")
