"""Layouts: the seed's exact layout, the exact optimizer against brute force, drone's spread."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_partition

from heapgui.errors import HeapguiError
from heapgui.layout.distribute import starter_layout, weights
from heapgui.layout.generate import LayoutDoesNotFit, generate
from heapgui.layout.pools import Partitioner, Pool, demand, first_fit

SEED_ROWS = [(1, 1), (12, 3), (28, 1), (32, 1), (128, 1)]
SEED_LAYOUT = [(4, 201), (12, 222), (28, 115), (32, 83), (128, 7)]


def test_seed_demand_and_layout():
    d = demand(SEED_ROWS)
    assert d == [(4, 1), (12, 3), (28, 1), (32, 1), (128, 1)]
    layout = generate(d, 10240, 5)
    assert [(p.block, p.capacity) for p in layout.pools] == SEED_LAYOUT
    assert layout.fragmentation == 0
    assert layout.total_bytes == 10240


def test_demand_merges_aligned_sizes_and_drops_zero():
    assert demand([(0, 5), (1, 2), (3, 1), (4, 1), (5, 7)]) == [(4, 4), (8, 7)]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 400), st.integers(1, 30)), min_size=1, max_size=9),
    st.integers(1, 10),
)
def test_partition_is_the_true_minimum(rows, pools):
    d = demand(rows)
    part = Partitioner(d, 32).partition(pools)
    assert part.fragmentation == brute_partition(d, pools)
    # The pools really are the reported partition: recompute its fragmentation.
    assert len(part.pools) == min(pools, len(d))
    frag = 0
    for (a, b), pool in zip(part.groups, part.pools, strict=True):
        assert pool.block == d[b][0]
        assert pool.capacity == sum(c for _, c in d[a : b + 1])
        frag += sum((pool.block - s) * c for s, c in d[a : b + 1])
    assert frag == part.fragmentation


def test_fragmentation_never_grows_with_more_pools():
    rng = random.Random(5)
    d = demand([(rng.randrange(1, 5000), rng.randrange(1, 50)) for _ in range(60)])
    p = Partitioner(d, 32)
    fr = [p.fragmentation(k) for k in range(1, 33)]
    assert fr == sorted(fr, reverse=True)


def test_weights():
    assert weights(1) == [1.0]
    w = weights(5)
    assert abs(sum(w) - 1.0) < 1e-12
    assert w[0] == w[4] < w[1] == w[3] < w[2]


def test_layout_fills_the_heap_and_holds_the_demand():
    rng = random.Random(9)
    d = demand([(rng.randrange(1, 3000), rng.randrange(1, 20)) for _ in range(40)])
    for pools in (1, 3, 8, 32):
        layout = generate(d, 1 << 20, pools)
        assert layout.total_bytes <= 1 << 20
        assert (1 << 20) - layout.total_bytes < min(p.block for p in layout.pools)
        part = layout.partition
        assert part is not None
        for before, after in zip(part.pools, layout.pools, strict=True):
            assert after.block == before.block and after.capacity >= before.capacity


def test_does_not_fit_names_the_size_needed_and_the_pools_that_fit():
    d = [(4, 10), (8, 10), (1000, 1)]  # 1120 bytes in 3 pools, 1160 in 2, 21 x 1000 in 1
    with pytest.raises(LayoutDoesNotFit) as err:
        generate(d, 1130, 1)
    assert err.value.needed == 21000
    assert err.value.fits_with == 3
    assert "21,000 B" in str(err.value) and "3 pools would fit" in str(err.value)
    with pytest.raises(HeapguiError, match="pool count"):
        generate(d, 1130, 0)


def test_starter_layout_without_trace():
    layout = generate([], 10240, 5)
    assert layout.partition is None and layout.fragmentation == 0
    pools = starter_layout(10240, 5)
    assert [p.block for p in pools] == sorted({p.block for p in pools})
    assert all(p.block % 4 == 0 for p in pools)
    assert pools[0].block == 4 and pools[-1].block == 512  # H/20 = 512
    assert sum(p.bytes for p in pools) <= 10240
    assert 10240 - sum(p.bytes for p in pools) < 4
    assert starter_layout(1000, 1) == [Pool(4, 250)]


@given(
    st.lists(st.tuples(st.integers(1, 64), st.integers(0, 3)), max_size=8),
    st.lists(st.integers(1, 80), max_size=12),
)
def test_first_fit_sends_each_size_to_the_smallest_block_that_holds_it(pools, sizes):
    """Against a scan of every pool: the least block at or above the size, among pools that
    have blocks; pools of equal blocks take the first listed."""
    layout = [Pool(block * 4, capacity) for block, capacity in pools]
    served = first_fit(layout, sizes)
    expected: list[list[int]] = [[] for _ in layout]
    for i, size in enumerate(sizes):
        fits = [(p.block, k) for k, p in enumerate(layout) if p.capacity and p.block >= size]
        if fits:
            expected[min(fits)[1]].append(i)
    assert served == expected
