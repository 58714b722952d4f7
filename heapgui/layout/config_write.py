"""Writing a pool layout into Drone.toml / layout.toml without disturbing the rest.

Two steps, so a front end can show the change before making it:

    plan = plan_write(path, "main", size, pools)   # reads, computes text + diff
    apply_write(plan)                               # checks, backs up, replaces

Only the chosen heap's `size` and `pools` values change; tomlkit keeps every
other byte (comments, blank lines, key order, other sections, each line's own
line ending). The new pools are formatted the way `drone heap generate` prints
them, in the file's commonest line ending, with the comments of the pools that
stay (heapgui.layout.pool_comments).
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.items import InlineTable

from heapgui.errors import HeapguiError
from heapgui.layout.config import (
    BOM,
    DEFAULT_HEAP,
    ConfigKind,
    Fingerprint,
    HeapSpec,
    Pool,
    config_from_text,
    is_single_heap,
    parse_document,
    read_config_text,
    resolve_heap_name,
)
from heapgui.layout.config_files import (
    changed_on_disk,
    check_replaceable,
    current_file,
    replace_file,
)
from heapgui.layout.config_flexible import percent_counts
from heapgui.layout.pool_comments import PoolComments, pool_comments
from heapgui.sizes import BELOW_2_32, MAX_SIZE, format_bytes, format_size

logger = logging.getLogger(__name__)

HeaderStyle = Literal["auto", "single", "named"]
"""`single` is Drone 0.12-0.13's `[heap]`; `named` is `[heap.<name>]`; `auto` picks
`[heap]` for the main heap of a Drone.toml and `[heap.<name>]` otherwise."""

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class WritePlan:
    """A computed rewrite of one config file, not yet applied."""

    path: Path
    kind: ConfigKind
    heap_name: str
    old_text: str
    new_text: str
    diff: str
    summary: str
    fingerprint: Fingerprint

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text


def render_heap_section(
    heap_name: str,
    size: int,
    pools: Sequence[Pool],
    kind: ConfigKind = "drone",
    header_style: HeaderStyle = "auto",
    *,
    ram: str | None = None,
) -> str:
    """The heap section as drone prints it, e.g. `[heap]`, `size = "10K"`, `pools = [ ... ]`.

    Pools with capacity 0 are left out; layout.toml pools use `count = "P%"` and
    its heaps need `ram`, the RAM region they live in.
    """
    pools = checked_pools(heap_name, size, pools)
    if header_style == "auto":
        header_style = "single" if kind == "drone" and heap_name == DEFAULT_HEAP else "named"
    if header_style == "single":
        if kind != "drone" or heap_name != DEFAULT_HEAP:
            raise HeapguiError(
                f"[heap] without a name only holds a Drone.toml's main heap, "
                f"not {kind} heap {heap_name!r}"
            )
        header = "[heap]"
    else:
        header = f"[heap.{heap_key(heap_name)}]"
    lines = [header]
    if ram is not None:
        lines.append(f"ram = {tomlkit.string(ram).as_string()}")
    lines.append(f'size = "{format_size(size)}"')
    lines.append(f"pools = {pools_text(pools, kind, size, multiline=True)}")
    return "\n".join(lines) + "\n"


def heap_key(name: str) -> str:
    """The heap's name as a TOML key, quoted when it is not a bare key."""
    return name if _BARE_KEY.fullmatch(name) else tomlkit.string(name).as_string()


def checked_pools(heap_name: str, size: int, pools: Sequence[Pool]) -> list[Pool]:
    """Pools without the empty ones, refusing what drone would refuse or misread."""
    result = []
    previous = 0
    for pool in pools:
        block, capacity = int(pool.block), int(pool.capacity)
        if block <= 0 or capacity < 0:
            raise HeapguiError(
                f"heap {heap_name}: pool {block} x {capacity}: expected a positive "
                f"block size and a non-negative capacity"
            )
        if block <= previous:
            raise HeapguiError(
                f"heap {heap_name}: pools must be in ascending block order with "
                f"distinct blocks (found {block} after {previous})"
            )
        previous = block
        if capacity:
            result.append(Pool(block, capacity))
    if size > MAX_SIZE:
        raise HeapguiError(f"heap {heap_name}: size {size}: {BELOW_2_32}")
    used = sum(pool.block * pool.capacity for pool in result)
    if used != size:
        raise HeapguiError(
            f"heap {heap_name}: pools add up to {format_bytes(used)} but size is "
            f"{format_bytes(size)}; "
            f"drone requires them to match"
        )
    return result


def pools_text(
    pools: Sequence[Pool],
    kind: ConfigKind,
    heap_size: int,
    *,
    multiline: bool,
    nl: str = "\n",
    comments: PoolComments | None = None,
) -> str:
    """The pools array: multi-line like drone's output, or on one line.

    layout.toml counts are written as shares of the heap (`percent_counts`):
    drone master misreads fixed counts into pools larger than their heap.

    `comments` (multi-line only) come back beside the pools whose block they annotate.
    """
    if kind == "drone":
        items = [f'{{ block = "{format_size(p.block)}", capacity = {p.capacity} }}' for p in pools]
    else:
        shares = percent_counts(heap_size, [(p.block, p.capacity) for p in pools])
        items = [
            f'{{ block = "{format_size(p.block)}", count = "{share}" }}'
            for p, share in zip(pools, shares, strict=True)
        ]
    if not multiline:
        return "[" + ", ".join(items) + "]"
    notes = comments or PoolComments()
    lines = ["[", notes.opening or nl]
    for pool, item in zip(pools, items, strict=True):
        lines += notes.before.get(pool.block, [])
        lines.append(f"    {item}," + notes.after.get(pool.block, nl))
    lines += notes.closing
    lines.append("]")
    return "".join(lines)


def dominant_newline(text: str) -> str:
    """The line ending most lines of `text` use, for the lines a rewrite adds."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def plan_write(
    path: Path | str,
    heap_name: str | None,
    size: int,
    pools: Sequence[Pool],
) -> WritePlan:
    """Read `path` and compute its text with heap `heap_name` set to `size` and `pools`.

    A heap missing from the file is added at its end. Values that already mean
    the same numbers keep their spelling, so rewriting an unchanged layout
    changes nothing. Nothing is written; see apply_write. A file that
    apply_write would refuse (not regular, read-only, hard-linked) is refused here
    already, before a diff is shown.
    """
    path = Path(path)
    old_text, fingerprint = read_config_text(path)
    try:
        st = os.stat(path)
    except OSError as exc:  # gone since it was read
        raise HeapguiError(f"{path}: cannot read: {exc.strerror}") from None
    check_replaceable(path, st)
    old = config_from_text(path, old_text)
    name = resolve_heap_name(old.heaps, heap_name)
    pools = checked_pools(name, size, pools)
    doc = parse_document(path, old_text)
    nl = dominant_newline(old_text)
    heap_table: Any = doc.get("heap")
    if heap_table is not None and is_single_heap(heap_table):
        if name != DEFAULT_HEAP:
            raise HeapguiError(
                f"{path}: no heap named {name!r}: a [heap] with size and pools "
                f"(Drone 0.12-0.13) holds only the main heap"
            )
        target = heap_table
    else:
        target = heap_table.get(name) if heap_table is not None else None
    notes = []
    if target is None:
        new_text, notes = _added_section(path, old_text, doc, old.kind, name, size, pools, nl)
    else:
        previous = old.heaps[name]
        # Percentages re-resolve against the size, so pools stay as written only
        # when the size stays too.
        same_size = previous.size == size and not previous.estimated
        if not same_size:
            target["size"] = format_size(size)
        if not same_size or previous.pools != pools:
            multiline = not isinstance(target, InlineTable)
            comments = pool_comments(target["pools"]) if multiline else None
            text = pools_text(pools, old.kind, size, multiline=multiline, nl=nl, comments=comments)
            target["pools"] = parse_document(path, f"pools = {text}{nl}")["pools"]
        # parse_document skipped a byte order mark; the file keeps it.
        new_text = BOM * old_text.startswith(BOM) + doc.as_string()
    written = config_from_text(path, new_text).heaps.get(name)
    if written is None or written.size != size or written.pools != pools:
        # A guard against tomlkit surprises: never offer a file that reads back differently.
        raise HeapguiError(f"{path}: the rewritten heap {name} does not read back as written")
    diff = "".join(
        # A last line without a line break would run into the next line of the diff.
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"{path} (on disk)",
            tofile=f"{path} (new)",
        )
    )
    summary = _summary(name, old.heaps.get(name), size, pools, notes)
    logger.info("%s: %s", path, summary)
    return WritePlan(path, old.kind, name, old_text, new_text, diff, summary, fingerprint)


def _added_section(
    path: Path,
    old_text: str,
    doc: Any,
    kind: ConfigKind,
    name: str,
    size: int,
    pools: list[Pool],
    nl: str,
) -> tuple[str, list[str]]:
    """The file with a new heap section appended, and what the user still has to add."""
    notes = []
    ram = None
    if kind == "layout":
        # drone needs the heap's RAM region; the one holding .data is the usual home.
        plain = doc.unwrap()
        rams = list(plain.get("ram", {}))
        data = plain.get("data")
        data_ram = data.get("ram") if isinstance(data, dict) else None
        first = rams[0] if rams else None
        ram = data_ram if isinstance(data_ram, str) and data_ram in rams else first
        if ram is None:
            raise HeapguiError(f"{path}: no [ram] region to place a new heap {name} in")
        notes.append(f"placed in RAM region {ram}")
        style: HeaderStyle = "named"
    elif "heap" in doc:
        style = "named"
    else:
        # Drone 0.14 is the release whose [linker] names a platform; it wants [heap.main].
        linker = doc.get("linker")
        style = "named" if isinstance(linker, dict) and "platform" in linker else "auto"
    if kind == "drone" and name != DEFAULT_HEAP:
        notes.append("Drone 0.14 needs an origin for extra heaps: add it")
    section = render_heap_section(name, size, pools, kind, style, ram=ram)
    body = old_text if not old_text or old_text.endswith(("\n", "\r")) else old_text + nl
    separator = nl if body.strip() else ""
    return body + separator + section.replace("\n", nl), notes


def _summary(
    name: str, old: HeapSpec | None, size: int, pools: list[Pool], notes: list[str]
) -> str:
    """One line such as `heap main: size 10K -> 12K; pools 5 -> 4` or `heap main: no change`."""
    if old is None:
        parts = [f"new heap, size {format_size(size)}, {_pools_count(len(pools))}", *notes]
        return f"heap {name}: " + "; ".join(parts)
    parts = []
    approx = "~" if old.estimated else ""
    if old.size != size or old.estimated:
        parts.append(f"size {approx}{format_size(old.size)} -> {format_size(size)}")
    if len(old.pools) != len(pools):
        parts.append(f"pools {len(old.pools)} -> {len(pools)}")
    elif old.pools != pools:
        changed = sum(a != b for a, b in zip(old.pools, pools, strict=True))
        parts.append(f"{changed} of {_pools_count(len(pools))} changed")
    return f"heap {name}: " + ("; ".join(parts) if parts else "no change")


def _pools_count(count: int) -> str:
    return f"{count} pool" if count == 1 else f"{count} pools"


def apply_write(plan: WritePlan) -> Path:
    """Replace the file with `plan.new_text`, keeping the old file as `<name>.bak`.

    Refuses when the file's content differs from what plan_write read, checked
    once more right before the rename (heapgui.layout.config_files). An
    unchanged plan writes nothing.
    """
    read = plan.fingerprint.sha256
    if not plan.changed:
        if hashlib.sha256(current_file(plan.path)[0]).hexdigest() != read:
            raise changed_on_disk(plan.path)
        return plan.path
    bak = replace_file(plan.path, read, plan.new_text.encode("utf-8"))
    logger.info("%s: wrote heap %s (backup in %s)", plan.path, plan.heap_name, bak.name)
    return plan.path
