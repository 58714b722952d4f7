"""Reading heap layouts and SWO settings from `Drone.toml` and `layout.toml`.

Three shapes are understood (see section 5 of docs/heaptrace-formats.md):

- `Drone.toml`, Drone 0.12-0.13: one `[heap]` table with `size` and
  `pools = [{ block, capacity }]`; it is the heap named "main".
- `Drone.toml`, Drone 0.14: `[heap.main]` plus extra `[heap.<name>]` tables.
- `layout.toml`, Drone master: `[heap.<name>]` with `ram`, `size` and
  `pools = [{ block, count }]`; sizes and counts may be percentages, which are
  resolved the way drone-config does (heapgui.layout.config_flexible).

Writing lives in heapgui.layout.config_write. Every error is a one-line
HeapguiError that starts with the file's path.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.toml_document import TOMLDocument

from heapgui.errors import HeapguiError
from heapgui.sizes import parse_size

logger = logging.getLogger(__name__)

DRONE_TOML = "Drone.toml"
LAYOUT_TOML = "layout.toml"
DEFAULT_HEAP = "main"

ConfigKind = Literal["drone", "layout"]


class Pool(NamedTuple):
    """`capacity` blocks of `block` bytes (layout.toml calls the capacity `count`)."""

    block: int
    capacity: int


@dataclass(frozen=True)
class HeapSpec:
    """One heap with absolute numbers.

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
    doc = parse_document(path, text)
    kind = config_kind(path, doc)
    plain = doc.unwrap()
    if kind == "layout":
        # Imported here: config_flexible needs this module's types.
        from heapgui.layout.config_flexible import layout_heaps

        heaps = layout_heaps(path, plain, data_size)
    else:
        heaps = drone_heaps(path, plain)
    return HeapConfig(path, kind, heaps, swo_settings(path, plain), fingerprint)


def read_config_text(path: Path) -> tuple[str, Fingerprint]:
    """The file's text and its fingerprint, taken from the same open file."""
    try:
        with open(path, "rb") as file:
            data = file.read()
            st = os.fstat(file.fileno())
    except OSError as exc:
        raise HeapguiError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HeapguiError(f"{path}: byte {exc.start}: expected UTF-8 text") from None
    fingerprint = Fingerprint(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())
    return text, fingerprint


def parse_document(path: Path, text: str) -> TOMLDocument:
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        # tomlkit's message already ends with "at line L col C"; keep only the reason.
        reason = str(exc).split(" at line ")[0]
        raise HeapguiError(
            f"{path}: line {exc.line}, column {exc.col}: expected valid TOML ({reason})"
        ) from None


def config_kind(path: Path, doc: TOMLDocument) -> ConfigKind:
    """By file name, else by content: layout.toml has `[ram]`, Drone.toml `[memory]`."""
    if path.name == LAYOUT_TOML:
        return "layout"
    if path.name == DRONE_TOML:
        return "drone"
    return "layout" if "ram" in doc and "memory" not in doc else "drone"


def drone_heap_tables(path: Path, plain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Heap name -> its table, for both the 0.12-0.13 and the 0.14 shape."""
    heap = plain.get("heap")
    if heap is None:
        return {}
    if not isinstance(heap, dict):
        raise HeapguiError(f"{path}: heap: expected a table")
    if "size" in heap or "pools" in heap:
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


def drone_heaps(path: Path, plain: dict[str, Any]) -> dict[str, HeapSpec]:
    heaps = {}
    for name, table in drone_heap_tables(path, plain).items():
        where = f"heap.{name}"
        size = size_value(path, f"{where}.size", required(path, table, "size", where))
        pools = [
            Pool(
                size_value(path, f"{where}.pools[{i}].block", required(path, pool, "block", w)),
                count_value(path, f"{w}.capacity", required(path, pool, "capacity", w)),
            )
            for i, pool, w in pool_tables(path, table, where)
        ]
        heaps[name] = HeapSpec(name, size, pools)
    return heaps


def pool_tables(path: Path, table: dict[str, Any], where: str) -> list[tuple[int, Any, str]]:
    """(index, pool table, "heap.x.pools[i]") for each pool, checking the shape."""
    pools = required(path, table, "pools", where)
    if not isinstance(pools, list):
        raise HeapguiError(f"{path}: {where}.pools: expected an array of tables")
    result = []
    for i, pool in enumerate(pools):
        w = f"{where}.pools[{i}]"
        if not isinstance(pool, dict):
            raise HeapguiError(f"{path}: {w}: expected a table like {{ block = \"4\", ... }}")
        result.append((i, pool, w))
    return result


def required(path: Path, table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise HeapguiError(f"{path}: {where}: missing {key!r}")
    return table[key]


def size_value(path: Path, where: str, value: Any) -> int:
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
    return result


def count_value(path: Path, where: str, value: Any) -> int:
    """A block count: drone writes an integer; a size-like string is accepted too."""
    return size_value(path, where, value)


def swo_settings(path: Path, plain: dict[str, Any]) -> SwoSettings | None:
    swo = plain.get("log", {}).get("swo") if isinstance(plain.get("log"), dict) else None
    if swo is None:
        return None
    if not isinstance(swo, dict):
        raise HeapguiError(f"{path}: log.swo: expected a table")
    values = []
    for key in ("reset-freq", "baud-rate"):
        value = required(path, swo, key, "log.swo")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise HeapguiError(f"{path}: log.swo.{key}: expected a positive integer (Hz)")
        values.append(value)
    return SwoSettings(*values)
