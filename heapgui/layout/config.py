"""Reading heap layouts and SWO settings from `Drone.toml` and `layout.toml`.

Three shapes are understood, one per Drone generation:

- `Drone.toml`, Drone 0.12-0.13: one `[heap]` table with `size` and
  `pools = [{ block, capacity }]`; it is the heap named "main".
- `Drone.toml`, Drone 0.14: `[heap.main]` plus extra `[heap.<name>]` tables.
- `layout.toml`, Drone master: `[heap.<name>]` with `ram`, `size` and
  `pools = [{ block, count }]`; sizes and counts may be percentages, which are
  resolved the way drone-config does (heapgui.layout.config_flexible). Its
  `[stream]` mixes the plain key `ram` (where the enable mask lives) with
  `[stream.<name>]` buffer tables; both take room from their region.

Values are read with tomllib, a strict TOML 1.0 reader like drone's; tomlkit,
which keeps formatting, serves the writer (heapgui.layout.config_write). Every
error is a one-line HeapguiError that starts with the file's path.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError
from tomlkit.toml_document import TOMLDocument

from heapgui.errors import HeapguiError
from heapgui.layout.config_files import read_regular_file
from heapgui.layout.config_flexible import (
    Amount,
    Share,
    heap_sizes,
    overrun,
    parse_amount,
    pool_counts,
)
from heapgui.layout.pools import Pool
from heapgui.sizes import BELOW_2_32, MAX_SIZE, parse_size

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib's origin, a dependency on Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

_TOMLLIB_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")

DRONE_TOML = "Drone.toml"
LAYOUT_TOML = "layout.toml"
DEFAULT_HEAP = "main"
BOM = "\ufeff"
"""Sizes and counts are 32-bit on the target."""

ConfigKind = Literal["drone", "layout"]


@dataclass(frozen=True)
class HeapSpec:
    """One heap with absolute numbers (layout.toml's pool `count` is the capacity).

    `estimated` is True when a layout.toml percentage depends on the size of
    the linked .data/.bss, which a config file cannot know; the numbers then
    assume that section is empty, so they are an upper bound.
    """

    name: str
    size: int
    pools: list[Pool]
    estimated: bool = False


@dataclass(frozen=True)
class SwoSettings:
    """`[log.swo]`: the core clock SWO is derived from, and the SWO baud rate."""

    reset_freq: int
    baud_rate: int


@dataclass(frozen=True)
class Fingerprint:
    """What the file looked like when it was read, to detect later edits."""

    mtime_ns: int
    size: int
    sha256: str


@dataclass(frozen=True)
class HeapConfig:
    """A parsed configuration file."""

    path: Path
    kind: ConfigKind
    heaps: dict[str, HeapSpec]
    swo: SwoSettings | None = None
    fingerprint: Fingerprint | None = field(default=None, compare=False)

    def heap(self, name: str | None = None) -> HeapSpec:
        """The heap called `name`; None means "main", or the only heap there is."""
        if not self.heaps:
            raise HeapguiError(f"{self.path}: no [heap] section")
        chosen = resolve_heap_name(self.heaps, name)
        if chosen not in self.heaps:
            available = ", ".join(self.heaps)
            raise HeapguiError(f"{self.path}: no heap named {chosen!r} (available: {available})")
        return self.heaps[chosen]


def resolve_heap_name(heaps: dict[str, Any], name: str | None) -> str:
    """Default heap choice shared by reading and writing."""
    if name is not None:
        return name
    if DEFAULT_HEAP not in heaps and len(heaps) == 1:
        return next(iter(heaps))
    return DEFAULT_HEAP


def find_config(directory: Path | str) -> Path | None:
    """Drone.toml or layout.toml in `directory` (Drone.toml wins), or None."""
    for name in (DRONE_TOML, LAYOUT_TOML):
        candidate = Path(directory) / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | str, *, data_size: int | None = None) -> HeapConfig:
    """Parse `path` into heaps with absolute sizes and the SWO settings.

    `data_size` (bytes of .data + .bss) only matters for layout.toml heaps
    whose size is a percentage of the RAM region that also holds .data.
    """
    path = Path(path)
    text, fingerprint = read_config_text(path)
    return config_from_text(path, text, fingerprint, data_size=data_size)


def config_from_text(
    path: Path,
    text: str,
    fingerprint: Fingerprint | None = None,
    *,
    data_size: int | None = None,
) -> HeapConfig:
    """load_config on text already read; `path` names the file in errors and picks the kind."""
    plain = parse_values(path, text)
    kind = config_kind(path, plain)
    heaps = _layout_heaps(path, plain, data_size) if kind == "layout" else _drone_heaps(path, plain)
    return HeapConfig(path, kind, heaps, _swo_settings(path, plain), fingerprint)


def read_config_text(path: Path) -> tuple[str, Fingerprint]:
    """The file's text and its fingerprint, taken from the same open file.

    Only a regular file is read: a FIFO would block and a device has no end.
    A leading UTF-8 byte order mark stays in the text (parse_document skips it)
    so that a rewrite keeps it.
    """
    data, st = read_regular_file(path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise HeapguiError(f"{path}: byte 0: expected UTF-8 text, found a UTF-16 byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HeapguiError(f"{path}: byte {exc.start}: expected UTF-8 text") from None
    fingerprint = Fingerprint(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())
    return text, fingerprint


def parse_document(path: Path, text: str) -> TOMLDocument:
    try:
        return tomlkit.parse(text.removeprefix(BOM))
    except ParseError as exc:
        # tomlkit's message already ends with "at line L col C"; keep only the reason.
        reason = str(exc).split(" at line ")[0]
        raise HeapguiError(
            f"{path}: line {exc.line}, column {exc.col}: expected valid TOML ({reason})"
        ) from None
    except TOMLKitError as exc:
        # Some of tomlkit's refusals (a key twice in an inline table) carry no position.
        raise HeapguiError(f"{path}: expected valid TOML ({exc})") from None


def parse_values(path: Path, text: str) -> dict[str, Any]:
    """The file's values as a strict TOML 1.0 reader sees them.

    tomlkit, which the writer needs to keep formatting, accepts some text that
    TOML 1.0 (and so drone) refuses, such as a line break inside an inline
    table; the values come from tomllib so heapgui never reads a file
    differently from drone.
    """
    try:
        return tomllib.loads(text.removeprefix(BOM))
    except tomllib.TOMLDecodeError as exc:
        where = _TOMLLIB_POSITION.search(str(exc))
        reason = str(exc)[: where.start()] if where else str(exc)
        at = f"line {where[1]}, column {where[2]}: " if where else ""
        raise HeapguiError(f"{path}: {at}expected valid TOML ({reason})") from None


def config_kind(path: Path, doc: Mapping[str, Any]) -> ConfigKind:
    """By file name, else by content: layout.toml has `[ram]`, Drone.toml `[memory]`."""
    if path.name == LAYOUT_TOML:
        return "layout"
    if path.name == DRONE_TOML:
        return "drone"
    return "layout" if "ram" in doc and "memory" not in doc else "drone"


def is_single_heap(heap: Mapping[str, Any]) -> bool:
    """True for Drone 0.12-0.13's lone `[heap]` (keys right in it), not `[heap.<name>]`."""
    return "size" in heap or "pools" in heap


def _drone_heap_tables(path: Path, plain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Heap name -> its table, for both the 0.12-0.13 and the 0.14 shape."""
    heap = plain.get("heap")
    if heap is None:
        return {}
    if not isinstance(heap, dict):
        raise HeapguiError(f"{path}: heap: expected a table")
    if is_single_heap(heap):
        nested = [key for key, value in heap.items() if isinstance(value, dict)]
        if nested:
            raise HeapguiError(
                f"{path}: heap: expected either [heap] with size and pools (Drone 0.12-0.13)"
                f" or [heap.<name>] tables (Drone 0.14), found both ([heap.{nested[0]}])"
            )
        return {DEFAULT_HEAP: heap}
    tables = {}
    for name, table in heap.items():
        if not isinstance(table, dict):
            raise HeapguiError(f"{path}: heap.{name}: expected a table")
        tables[name] = table
    return tables


def _drone_heaps(path: Path, plain: dict[str, Any]) -> dict[str, HeapSpec]:
    heaps = {}
    for name, table in _drone_heap_tables(path, plain).items():
        where = f"heap.{name}"
        size = _size_value(path, f"{where}.size", _required(path, table, "size", where))
        pools = [
            Pool(
                _size_value(path, f"{w}.block", _required(path, pool, "block", w)),
                _size_value(path, f"{w}.capacity", _required(path, pool, "capacity", w)),
            )
            for pool, w in _pool_tables(path, table, where)
        ]
        heaps[name] = HeapSpec(name, size, pools)
    return heaps


def _pool_tables(path: Path, table: dict[str, Any], where: str) -> list[tuple[Any, str]]:
    """(pool table, "heap.x.pools[i]") for each pool, checking the shape."""
    pools = _required(path, table, "pools", where)
    if not isinstance(pools, list):
        raise HeapguiError(f"{path}: {where}.pools: expected an array of tables")
    result = []
    for i, pool in enumerate(pools):
        w = f"{where}.pools[{i}]"
        if not isinstance(pool, dict):
            raise HeapguiError(f'{path}: {w}: expected a table like {{ block = "4", ... }}')
        result.append((pool, w))
    return result


def _required(path: Path, table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise HeapguiError(f"{path}: {where}: missing {key!r}")
    return table[key]


def _size_value(path: Path, where: str, value: Any) -> int:
    """A size written as a string ("10K", "0x400", "0400") or as an integer."""
    if isinstance(value, bool):
        raise HeapguiError(f"{path}: {where}: expected a size, found {value!r}")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        try:
            result = parse_size(value)
        except HeapguiError as exc:
            raise HeapguiError(f"{path}: {where}: {exc}") from None
    else:
        raise HeapguiError(f"{path}: {where}: expected a size string or integer")
    if result < 0:
        raise HeapguiError(f"{path}: {where}: expected a non-negative size, found {value!r}")
    if result > MAX_SIZE:
        raise HeapguiError(f"{path}: {where}: {BELOW_2_32}, found {value!r}")
    return result


def _amount_value(path: Path, where: str, value: Any) -> Amount:
    """layout.toml's flexible value: a size or count, or a percentage string."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            return parse_amount(value)
        except HeapguiError as exc:
            raise HeapguiError(f"{path}: {where}: {exc}") from None
    return _size_value(path, where, value)


def _named_tables(path: Path, plain: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    """`[key.<name>]` tables (or `[key]` with inline tables), checked to be tables."""
    tables = plain.get(key, {})
    if not isinstance(tables, dict):
        raise HeapguiError(f"{path}: {key}: expected a table")
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise HeapguiError(f"{path}: {key}.{name}: expected a table")
    return tables


class StreamSpec(NamedTuple):
    """One `[stream.<name>]` buffer: its RAM region and ring size in bytes."""

    name: str
    ram: str
    size: int


class LayoutSections(NamedTuple):
    """The placed sections of a layout.toml that come before the heaps, in file order."""

    rams: dict[str, dict[str, Any]]
    stacks: list[tuple[str, Amount]]
    """(RAM region, size) of each `[stack.<name>]`."""
    mask_ram: str | None
    """`[stream] ram`: the region of Drone Stream's 4-byte enable mask, if any."""
    streams: list[StreamSpec]


def layout_sections(path: Path, plain: dict[str, Any]) -> LayoutSections:
    """The RAM regions, stacks and Drone Stream sections of a parsed layout.toml."""
    rams = _named_tables(path, plain, "ram")
    stacks = [
        _placed_size(path, t, f"stack.{n}", rams)
        for n, t in _named_tables(path, plain, "stack").items()
    ]
    mask_ram, tables = _stream_tables(path, plain, rams)
    streams = []
    for name, table in tables.items():
        where = f"stream.{name}"
        ram = _region_name(path, _required(path, table, "ram", where), f"{where}.ram", rams)
        size = _stream_size(path, f"{where}.size", _required(path, table, "size", where))
        streams.append(StreamSpec(name, ram, size))
    return LayoutSections(rams, stacks, mask_ram, streams)


def _stream_tables(
    path: Path, plain: dict[str, Any], rams: dict[str, Any]
) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """`[stream]` on Drone master: the plain key `ram` (the enable mask's region)
    beside one `[stream.<name>]` table per buffer."""
    stream = plain.get("stream", {})
    if not isinstance(stream, dict):
        raise HeapguiError(f"{path}: stream: expected a table")
    mask_ram = None
    tables = {}
    for key, value in stream.items():
        if isinstance(value, dict):
            tables[key] = value
        elif key == "ram":
            mask_ram = _region_name(path, value, "stream.ram", rams)
        else:
            raise HeapguiError(
                f"{path}: stream.{key}: expected a [stream.{key}] table; [stream] itself"
                " holds only ram, the RAM region of the enable mask"
            )
    return mask_ram, tables


MIN_STREAM_BUFFER = 260
"""drone_stream::MIN_BUFFER_SIZE: drone refuses a smaller `[stream.<name>] size`."""


def _stream_size(path: Path, where: str, value: Any) -> int:
    """A stream buffer's size: fixed, word-aligned and at least drone's minimum."""
    size = _amount_value(path, where, value)
    if not isinstance(size, int):
        raise HeapguiError(f"{path}: {where}: expected a fixed size, not a share")
    if size % 4 or size < MIN_STREAM_BUFFER:
        raise HeapguiError(
            f"{path}: {where}: expected a multiple of 4 of at least {MIN_STREAM_BUFFER} bytes,"
            f" found {value!r}"
        )
    return size


def ram_region(path: Path, rams: dict[str, Any], name: str) -> tuple[int, int]:
    """(origin, size) of `[ram.<name>]`, checked to lie below 2^32."""
    table, where = rams[name], f"ram.{name}"
    origin = _size_value(path, f"{where}.origin", _required(path, table, "origin", where))
    size = _size_value(path, f"{where}.size", _required(path, table, "size", where))
    if origin + size > MAX_SIZE + 1:
        raise HeapguiError(
            f"{path}: {where}: expected the region to end by 2^32, found origin"
            f" {origin:#x} + size {size}"
        )
    return origin, size


class _LayoutHeap(NamedTuple):
    ram: str
    size: Amount
    pools: list[tuple[int, Amount]]


def _placed_size(
    path: Path, table: dict[str, Any], where: str, rams: dict[str, Any]
) -> tuple[str, Amount]:
    """(RAM region, size) of a layout.toml section, the region checked against [ram]."""
    ram = _region_name(path, _required(path, table, "ram", where), f"{where}.ram", rams)
    return ram, _amount_value(path, f"{where}.size", _required(path, table, "size", where))


def _region_name(path: Path, ram: Any, where: str, rams: dict[str, Any]) -> str:
    if not isinstance(ram, str) or ram not in rams:
        available = ", ".join(rams) or "none"
        raise HeapguiError(
            f"{path}: {where}: expected a RAM region from [ram] (available: {available}),"
            f" found {ram!r}"
        )
    return ram


def _layout_heaps(path: Path, plain: dict[str, Any], data_size: int | None) -> dict[str, HeapSpec]:
    """Heaps of a layout.toml, with sizes and counts resolved the way drone-config does."""
    rams, stacks, mask_ram, streams = layout_sections(path, plain)
    heaps = {}
    for name, table in _named_tables(path, plain, "heap").items():
        where = f"heap.{name}"
        pools = [
            (
                _size_value(path, f"{w}.block", _required(path, pool, "block", w)),
                _amount_value(path, f"{w}.count", _required(path, pool, "count", w)),
            )
            for pool, w in _pool_tables(path, table, where)
        ]
        heaps[name] = _LayoutHeap(*_placed_size(path, table, where, rams), pools)
    data = plain.get("data")
    data_ram = data.get("ram") if isinstance(data, dict) else None
    specs = {}
    for ram in dict.fromkeys(heap.ram for heap in heaps.values()):
        names = [name for name, heap in heaps.items() if heap.ram == ram]
        where = f"ram.{ram}"
        ram_size = _size_value(path, f"{where}.size", _required(path, rams[ram], "size", where))
        holds_data = data_ram == ram
        try:
            sizes = heap_sizes(
                ram_size,
                [size for r, size in stacks if r == ram],
                [stream.size for stream in streams if stream.ram == ram],
                [(heaps[name].size, len(heaps[name].pools)) for name in names],
                (data_size or 0) if holds_data else None,
                holds_mask=mask_ram == ram,
            )
        except HeapguiError as exc:
            raise HeapguiError(f"{path}: {where}: {exc}") from None
        for name, size in zip(names, sizes, strict=True):
            try:
                counts = pool_counts(size, heaps[name].pools)
            except HeapguiError as exc:
                raise HeapguiError(f"{path}: heap.{name}: {exc}") from None
            if over := overrun(size, counts):
                logger.warning(
                    "%s: heap.%s: on the device these pools take %s bytes more than the"
                    " %s-byte heap: drone subtracts fixed counts, not their bytes, before"
                    " sharing out the percentages; give every pool a count, or every pool"
                    " a percentage",
                    path,
                    name,
                    f"{over:,}",
                    f"{size:,}",
                )
            # An unknown .data size (taken as 0) makes a share of its region an upper bound.
            estimated = holds_data and data_size is None and isinstance(heaps[name].size, Share)
            specs[name] = HeapSpec(name, size, [Pool(b, c) for b, c in counts], estimated)
    return {name: specs[name] for name in heaps}


def _swo_settings(path: Path, plain: dict[str, Any]) -> SwoSettings | None:
    swo = plain.get("log", {}).get("swo") if isinstance(plain.get("log"), dict) else None
    if swo is None:
        return None
    if not isinstance(swo, dict):
        raise HeapguiError(f"{path}: log.swo: expected a table")
    values = []
    for key, unit in (("reset-freq", "Hz"), ("baud-rate", "baud")):
        value = _required(path, swo, key, "log.swo")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE:
            raise HeapguiError(
                f"{path}: log.swo.{key}: expected a positive integer ({unit}) below 2^32"
            )
        values.append(value)
    return SwoSettings(*values)
