"""Kept blocks and minimum capacities against brute force over every set of blocks.

The oracle does not partition: it tries every set of word-multiple blocks up
to the largest size or kept block, keeps those that hold every kept block,
serve every size and number at most the pool count, and measures each with
first fit. The optimizer must find the least fragmentation among them, and
refuse exactly when there is none.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kept_oracle import WORD, brute_kept, first_fit_fragmentation

from heapgui.errors import HeapguiError
from heapgui.layout.generate import LayoutDoesNotFit, generate, kept_partitioner
from heapgui.layout.kept import Kept, check_kept, parse_kept
from heapgui.layout.plan import plan_layout
from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet

demands = st.dictionaries(
    st.integers(1, 10).map(lambda k: k * WORD), st.integers(1, 5), min_size=1, max_size=6
).map(lambda d: sorted(d.items()))
kept_sets = st.dictionaries(
    st.integers(1, 11).map(lambda k: k * WORD), st.integers(0, 4), max_size=3
).map(lambda d: [Kept(b, c) for b, c in sorted(d.items())])


@settings(max_examples=300, deadline=None)
@given(demands, kept_sets, st.integers(1, 6))
def test_kept_optimum_is_the_brute_force_minimum(rows, kept, pools):
    expected = brute_kept(rows, [k.block for k in kept], pools)
    if expected is None:
        with pytest.raises(HeapguiError):
            kept_partitioner(rows, pools, kept)
        return
    part = kept_partitioner(rows, pools, kept).partition(pools)
    blocks = [p.block for p in part.pools]
    assert part.fragmentation == expected
    assert first_fit_fragmentation(rows, blocks) == expected  # the figure is the pools' own
    assert {k.block for k in kept} <= set(blocks)
    assert len(blocks) <= pools and blocks == sorted(set(blocks))
    least = {k.block: max(k.min_capacity, 1) for k in kept}
    for pool in part.pools:
        # Capacity: the max loads of the sizes first fit sends there, at least the kept minimum.
        below = max([b for b in blocks if b < pool.block], default=0)
        served = sum(c for s, c in rows if below < s <= pool.block)
        assert pool.capacity == max(served, least.get(pool.block, 0))


@settings(max_examples=100, deadline=None)
@given(demands, st.integers(1, 6))
def test_no_kept_blocks_is_the_plain_optimum(rows, pools):
    plain = kept_partitioner(rows, pools).partition(pools)
    assert plain.fragmentation == brute_kept(rows, [], pools)


def test_minimum_capacity_counts_against_the_heap_but_not_as_fragmentation():
    rows = [(4, 1), (12, 3), (28, 1), (32, 1), (128, 1)]  # the seed's demand: 232 bytes
    kept = [Kept(64, 100)]
    part = kept_partitioner(rows, 3, kept).partition(3)
    assert [p.block for p in part.pools] == [12, 64, 128]
    # 12 × 4 + 64 × 100 + 128 × 1 by hand; fragmentation only from traced sizes.
    assert part.bytes == 48 + 6400 + 128
    assert part.fragmentation == 8 + 36 + 32
    layout = generate(rows, 10240, 3, kept=kept)
    assert 10240 - 12 < layout.total_bytes <= 10240  # drone's spread leaves less than a block
    assert layout.fragmentation == 76
    assert dict((p.block, p.capacity) for p in layout.pools)[64] >= 100
    with pytest.raises(
        LayoutDoesNotFit, match="with kept blocks 64:100: it needs a heap of at least 6,576 B"
    ):
        generate(rows, 6000, 3, kept=kept)


def test_a_kept_block_no_size_reaches_gets_a_pool_from_the_spread():
    rows = [(4, 1), (12, 3)]
    layout = generate(rows, 10240, 3, kept=[Kept(256)])
    pools = {p.block: p.capacity for p in layout.pools}
    assert set(pools) == {4, 12, 256}
    assert pools[256] >= 1 and layout.fragmentation == 0
    assert layout.partition.groups == ((0, 0), (1, 1), (2, 1))  # the 256 pool: no traced size


@pytest.mark.parametrize(
    ("kept", "pools", "message"),
    [
        ([Kept(8), Kept(16), Kept(24)], 2, "3 kept blocks need at least 3 pools"),
        (
            [Kept(8)],
            1,
            "the kept block takes the only pool, leaving none for the traced sizes above 8",
        ),
        ([Kept(6)], 3, "multiple of the word size"),
        ([Kept(8), Kept(8, 2)], 3, "kept block 8 is given twice"),
    ],
)
def test_impossible_requests_are_refused(kept, pools, message):
    with pytest.raises(HeapguiError, match=message):
        generate([(4, 1), (12, 3)], 10240, pools, kept=kept)


def test_kept_blocks_need_a_trace():
    with pytest.raises(HeapguiError, match="need a trace"):
        generate([], 10240, 3, kept=[Kept(8)])


@pytest.mark.parametrize(
    ("spec", "kept"), [("64", Kept(64)), ("1K:16", Kept(1024, 16)), ("0x40:0", Kept(64))]
)
def test_parse_kept(spec, kept):
    assert parse_kept(spec) == kept


@pytest.mark.parametrize("spec", ["", "64:", "64:x", "64:-1", "abc", "64:1.5"])
def test_parse_kept_refuses(spec):
    with pytest.raises(HeapguiError, match="--keep"):
        parse_kept(spec)


def test_check_kept_sorts():
    assert check_kept([Kept(64), Kept(8, 3)]) == (Kept(8, 3), Kept(64))


def _set(ops: list[tuple]) -> TraceSet:
    records = Records.from_tuples(ops)
    return TraceSet.of([Trace("t", "framed", records, Statistics.of(records, 1 << 20))])


def test_headroom_raises_the_traced_counts_and_the_minimum_is_a_floor():
    traces = _set([("alloc", 4)] * 10 + [("alloc", 12)] * 3)
    kept = [Kept(12, 5), Kept(64, 2)]
    layout = plan_layout(traces, 1 << 20, 3, headroom=50, spread="peak", kept=kept)
    part = layout.partition
    # ceil(10 × 1.5) = 15; max(ceil(3 × 1.5), 5) = 5; the empty 64 pool: its minimum, 2.
    assert [(p.block, p.capacity) for p in part.pools] == [(4, 15), (12, 5), (64, 2)]
