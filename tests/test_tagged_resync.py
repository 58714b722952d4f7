"""Resynchronising `tagged` traces after single-byte damage, measured against the truth.

The truth is where every encoded record lies after the damage; nothing here
comes from the decoder. A record counts as found when the decoder returns a
record of the true kind at the true offset (a flipped size byte still changes
its size: that record is damaged, neither lost nor invented).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from heapgui.trace.records import Records
from heapgui.trace.tagged import TaggedDecoder, encode_tagged
from heapgui.trace.workload import workload

LENGTH = (5, 5, 9, 9)  # tag byte, then one or two 32-bit sizes
DAMAGE_POINTS = 40
ACTIONS = ("flip", "insert", "delete")


def damage(
    data: bytes, offsets: np.ndarray, action: str, rng: random.Random, points: int = DAMAGE_POINTS
):
    """Damage `data` at `points` random places, each 500 bytes (80 records) or more
    from the next; returns it and the moved offsets."""
    out = bytearray(data)
    moved = offsets.copy()
    places = sorted(rng.sample(range(0, len(data) - 500, 1000), points), reverse=True)
    for at in places:  # from the end, so earlier places keep their offsets
        at += rng.randrange(500)
        if action == "flip":
            out[at] ^= 1 << rng.randrange(8)
        elif action == "insert":
            out[at:at] = bytes([rng.randrange(256)])
            moved[offsets >= at] += 1
        else:
            del out[at]
            moved[offsets > at] -= 1
            moved[offsets == at] = -1  # that record's tag is gone
    return bytes(out), moved


def decode(data: bytes, cuts: list[int] = ()) -> tuple[Records, TaggedDecoder]:
    decoder = TaggedDecoder()
    bounds = [0, *cuts, len(data)]
    parts = [decoder.feed(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    parts.append(decoder.finish())
    return Records.concat(parts), decoder


@pytest.mark.parametrize("action", ACTIONS)
def test_single_byte_damage_costs_few_records_and_invents_few(action):
    """One damaged byte once cost about 100 records and added about 100 made-up ones."""
    points = lost = invented = 0
    for seed in (1, 2):
        records = workload(20_000, seed=seed)
        lengths = np.array(LENGTH)[records.kind]
        offsets = np.cumsum(lengths) - lengths
        data, moved = damage(encode_tagged(records), offsets, action, random.Random(seed))
        decoded, decoder = decode(data)

        truth = set(zip(records.kind.tolist(), moved.tolist(), strict=True))
        found = list(zip(decoded.kind.tolist(), decoded.offset.tolist(), strict=True))
        real = sum(1 for record in found if record in truth)
        points += DAMAGE_POINTS
        lost += len(records) - real
        invented += len(found) - real
        # Every byte is in an accepted record or counted as skipped.
        accepted = int(np.array(LENGTH)[decoded.kind].sum())
        assert decoder.skipped_bytes == len(data) - accepted
        assert decoder.record_bytes == accepted
    assert lost <= 2 * points, f"{lost} records lost at {points} damage points"
    # What is left: mostly two allocations read out of phase right at an inserted
    # byte, which join the true records again before anything can be doubted.
    assert invented <= points * 3 // 4, f"{invented} records made up at {points} damage points"


@pytest.mark.parametrize("action", ACTIONS)
def test_damaged_trace_in_chunks_decodes_as_a_whole(action):
    records = workload(3000, seed=7)
    lengths = np.array(LENGTH)[records.kind]
    offsets = np.cumsum(lengths) - lengths
    data, _ = damage(encode_tagged(records), offsets, action, random.Random(8), points=10)
    whole, d1 = decode(data)
    rng = random.Random(9)
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randrange(1, 40)))
        chunked, d2 = decode(data, cuts)
        assert chunked.to_tuples() == whole.to_tuples()
        assert chunked.offset.tolist() == whole.offset.tolist()
        assert [p.to_json() for p in d2.problems] == [p.to_json() for p in d1.problems]
    one_byte, _ = decode(data, list(range(1, len(data))))
    assert one_byte.offset.tolist() == whole.offset.tolist()


def test_clean_traces_with_any_sizes_decode_exactly():
    """Doubting records must never change a clean trace, whatever its sizes."""
    rng = np.random.default_rng(3)
    for sizes in ([0], [0, 1, 2, 3], [256, 512, 1024], [1 << 24, 1 << 25, 0xFFFFFFFF], [0x0300]):
        kind = rng.choice(4, 2000, p=[0.4, 0.4, 0.1, 0.1])
        size = rng.choice(sizes, 2000)
        records = Records.build(kind, size, np.where(kind >= 2, rng.choice(sizes, 2000), 0), 0)
        decoded, decoder = decode(encode_tagged(records))
        assert decoded.to_tuples() == records.to_tuples(), sizes
        assert list(decoder.problems) == []


def test_bursts_of_buffer_allocations_decode_exactly():
    """Allocations of 256-byte multiples in a row look like records read out of phase,
    and one byte later read as allocations of 1: a clean trace must still win."""
    base = workload(3000, seed=2).to_tuples()
    rng = random.Random(1)
    for _ in range(200):
        ops = list(base)
        for _ in range(5):
            size = rng.choice([256, 512, 768, 1024, 1280, 2048, 4096])
            at = rng.randrange(len(ops))
            ops[at:at] = [("alloc", size)] * rng.randrange(3, 12)
        records = Records.from_tuples(ops)
        decoded, decoder = decode(encode_tagged(records))
        assert decoded.to_tuples() == records.to_tuples()
        assert list(decoder.problems) == []
