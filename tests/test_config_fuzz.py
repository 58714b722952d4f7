"""Fuzzing the config reader with a fixed seed: only a one-line HeapguiError may escape, and
whatever it accepts must agree with an independent reading (tomllib plus the size rules of
docs/heaptrace-formats.md section 5), so no mutation is ever parsed silently wrong.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from config_texts import (
    COMMAS_ANYWHERE_POOLS,
    COMMENTED_POOLS,
    DRONE_012,
    DRONE_012_POOLS,
    DRONE_014,
    DRONE_FLEXIBLE_STACK,
    DRONE_POOLS_ROUNDING,
    LAYOUT,
    LAYOUT_FIXED,
)

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.layout.config_write import plan_write
from heapgui.layout.pools import Pool

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib's origin, the same parser, for Python 3.10
    import tomli as tomllib

SEEDS = [
    ("Drone.toml", DRONE_012),
    ("Drone.toml", DRONE_014),
    ("Drone.toml", DRONE_012.replace(DRONE_012_POOLS, COMMENTED_POOLS)),
    ("Drone.toml", DRONE_012.replace(DRONE_012_POOLS, COMMAS_ANYWHERE_POOLS)),
    ("layout.toml", LAYOUT),
    ("layout.toml", LAYOUT_FIXED),
    ("layout.toml", DRONE_FLEXIBLE_STACK),
    ("layout.toml", DRONE_POOLS_ROUNDING),
]

# Values a mutation puts where a value was: edges of the 32-bit target, of i64, and wrong types.
VALUES = [
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1" * 40,
    "1e9",
    "nan",
    "inf",
    "true",
    "1979-05-27",
    "[]",
    "{}",
    "[1, 2]",
    '{ block = "4" }',
    '{ block = "4", block = "8" }',
    '{ ram = "main" }',
    '""',
    '"0x"',
    '"0x0x10"',
    '"00o17"',
    '"4G"',
    '"4096M"',
    '"4194304K"',
    '"4194303K"',
    '"0xFFFFFFFF"',
    '"0x100000000"',
    '"040000000000"',
    '"99999999999999999999K"',
    '" 4 "',
    '"4 K"',
    '"%"',
    '"0%"',
    '"-0%"',
    '"1e40%"',
    '"nan%"',
    '"inf%"',
    '"200%"',
    '"\\u0000"',
    '"\\u0663"',
]

ASSIGNMENT = re.compile(r"(=\s*)([^,}\]\r\n#]+?)(\s*(?:[,}\]#]|\r?\n|$))")


def mutate(text: str, rng: random.Random) -> str:
    """One to three edits of the kinds that turn a config into a subtly wrong one."""
    for _ in range(rng.randint(1, 3)):
        lines = text.splitlines(keepends=True) or [""]
        i = rng.randrange(len(lines))
        kind = rng.randrange(9)
        if kind <= 2:  # a value replaced by an edge case
            spots = list(ASSIGNMENT.finditer(text))
            if spots:
                m = rng.choice(spots)
                text = text[: m.start(2)] + rng.choice(VALUES) + text[m.end(2) :]
        elif kind == 3:
            del lines[i]
            text = "".join(lines)
        elif kind == 4:
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
            text = "".join(lines)
        elif kind == 5:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif kind == 6:
            at = rng.randrange(len(text) + 1)
            # A character inserted, or put in place of the one there.
            char = rng.choice(["\ufeff", "\r\n", "\r", "\x00", "[", "]", '"', "#", "\ud800"])
            text = text[:at] + char + text[at + rng.randrange(2) :]
        elif kind == 7:
            text = "\ufeff" + text if rng.random() < 0.5 else text.replace("\n", "\r\n", 3)
        else:
            text = text[: rng.randrange(len(text) + 1)]
    return text


LIMIT = 2**32
SIZE = re.compile(r"(?:0[xX]([0-9a-fA-F]+)|0([0-7]+)|([0-9]+))([KkMm]?)")


class Rejected(Exception):
    """The reference reading refuses the file."""


def ref_size(value: object) -> int:
    """A size as section 5 and sizes.py's docstring define it, independently re-implemented."""
    if isinstance(value, bool):
        raise Rejected
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        m = SIZE.fullmatch(value.strip())
        if not m:
            raise Rejected
        hex_digits, octal_digits, decimal_digits, suffix = m.groups()
        number = (
            int(hex_digits, 16)
            if hex_digits
            else int(octal_digits, 8)
            if octal_digits
            else int(decimal_digits)
        )
        number *= {"": 1, "k": 1024, "m": 1024 * 1024}[suffix.lower()]
    else:
        raise Rejected
    if not 0 <= number < LIMIT:
        raise Rejected
    return number


def ref_key(table: dict, key: str) -> object:
    if key not in table:
        raise Rejected
    return table[key]


def ref_drone(plain: dict) -> tuple[dict, tuple | None]:
    """Heaps as {name: (size, [(block, capacity)])} and (reset-freq, baud-rate) of a Drone.toml."""
    heaps = {}
    heap = plain.get("heap")
    if heap is not None:
        if not isinstance(heap, dict):
            raise Rejected
        if "size" in heap or "pools" in heap:
            if any(isinstance(v, dict) for v in heap.values()):
                raise Rejected
            tables = {"main": heap}
        elif all(isinstance(v, dict) for v in heap.values()):
            tables = heap
        else:
            raise Rejected
        for name, table in tables.items():
            size = ref_size(ref_key(table, "size"))
            pools = ref_key(table, "pools")
            if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
                raise Rejected
            heaps[name] = (
                size,
                [(ref_size(ref_key(p, "block")), ref_size(ref_key(p, "capacity"))) for p in pools],
            )
    log = plain.get("log")
    swo = log.get("swo") if isinstance(log, dict) else None
    if swo is None:
        return heaps, None
    if not isinstance(swo, dict):
        raise Rejected
    values = tuple(ref_key(swo, key) for key in ("reset-freq", "baud-rate"))
    if not all(type(v) is int and 0 < v < LIMIT for v in values):
        raise Rejected
    return heaps, values


def reference(text: str, kind: str) -> object:
    """What the file must read as, or Rejected; layout.toml only down to its blocks."""
    plain = tomllib.loads(text.removeprefix("\ufeff"))
    if kind == "Drone.toml":
        return ref_drone(plain)
    heaps = plain.get("heap", {})
    if not isinstance(heaps, dict) or not all(isinstance(t, dict) for t in heaps.values()):
        raise Rejected
    return {
        name: [ref_size(ref_key(p, "block")) for p in ref_key(table, "pools")]
        for name, table in heaps.items()
    }


def ours(path: Path, kind: str) -> object:
    config = load_config(path)
    if kind == "Drone.toml":
        heaps = {
            name: (h.size, [(p.block, p.capacity) for p in h.pools])
            for name, h in config.heaps.items()
        }
        swo = (config.swo.reset_freq, config.swo.baud_rate) if config.swo else None
        return heaps, swo
    for heap in config.heaps.values():
        assert heap.size < LIMIT and all(p.capacity < LIMIT for p in heap.pools)
    # The reader sorts pools by block as drone does.
    return {name: sorted(p.block for p in h.pools) for name, h in config.heaps.items()}


def check_one(path: Path, kind: str, data: bytes) -> None:
    path.write_bytes(data)
    try:
        text = data.decode("utf-8")
        expected = reference(text, kind)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, Rejected):
        expected = Rejected
    except (ValueError, TypeError, KeyError):  # the layout sketch above met a wrong type
        expected = None
    try:
        got = ours(path, kind)
    except HeapguiError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{path}"), message
        got = Rejected
    if expected is None:
        return
    if kind == "layout.toml":
        if got is Rejected:
            return  # percentages can make a valid-looking layout.toml not fit its RAM
        if expected is not Rejected:
            expected = {name: sorted(blocks) for name, blocks in expected.items()}
    assert got == expected, text


def test_config_reader_survives_mutations(tmp_path):
    rng = random.Random(20261204)
    cases = 0
    for round_ in range(400):
        for name, seed in SEEDS:
            text = mutate(seed, rng)
            data = text.encode("utf-8", "surrogatepass")
            if rng.random() < 0.05:  # stray bytes that are not UTF-8 at all
                at = rng.randrange(len(data) + 1)
                data = data[:at] + bytes([rng.randrange(128, 256)]) + data[at:]
            folder = tmp_path / str(round_ % 4)
            folder.mkdir(exist_ok=True)
            check_one(folder / name, name, data)
            cases += 1
    assert cases == 400 * len(SEEDS)


def test_writer_survives_mutations(tmp_path):
    """Writing a mutated file's own layout, or another one: a one-line refusal, or a file
    whose heap reads back as written and whose other values are untouched."""
    rng = random.Random(7)
    other = [Pool(4, 64), Pool(32, 24)]  # 1K
    planned = 0
    for _ in range(300):
        name, seed = rng.choice(SEEDS)
        path = tmp_path / name
        path.write_bytes(mutate(seed, rng).encode("utf-8", "surrogatepass"))
        try:
            config = load_config(path)
        except HeapguiError:
            continue
        for heap in config.heaps.values():
            for size, pools in ((heap.size, heap.pools), (1024, other)):
                try:
                    plan = plan_write(path, heap.name, size, pools)
                except HeapguiError as error:
                    assert "\n" not in str(error)
                    continue
                planned += 1
                if name == "Drone.toml":
                    check_drone_rewrite(plan, size, pools)
    assert planned >= 100


def check_drone_rewrite(plan, size: int, pools: list[Pool]) -> None:
    heaps, swo = ref_drone(tomllib.loads(plan.new_text.removeprefix("\ufeff")))
    assert heaps.pop(plan.heap_name) == (size, [(p.block, p.capacity) for p in pools if p.capacity])
    old_heaps, old_swo = ref_drone(tomllib.loads(plan.old_text.removeprefix("\ufeff")))
    del old_heaps[plan.heap_name]
    assert (heaps, swo) == (old_heaps, old_swo)  # the rest is untouched
