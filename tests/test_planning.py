"""The planning core (heapgui.workspace.planning) and the fewest-pools search, without Qt.

References are independent: the demand comes from the sample's expected file, the
least bytes per pool count from a brute force over every split (tests/oracles.py),
and the fewest pools that fit from a plain scan.
"""

from __future__ import annotations

import json
import random

import pytest
from oracles import brute_partition

from heapgui.errors import HeapguiError
from heapgui.layout.generate import LayoutDoesNotFit, fewest_pools
from heapgui.trace.load import read_trace
from heapgui.trace.traceset import TraceSet
from heapgui.workspace.heap import parse_heap_size
from heapgui.workspace.planning import DRONE, TIMELINE, Planning, PlanRequest

WORD = 4


@pytest.fixture(scope="module")
def workload(samples):
    return read_trace(samples / "workload-40k.framed")


@pytest.fixture(scope="module")
def expected_demand(samples) -> list[tuple[int, int]]:
    """drone's demand from the expected file: sizes rounded up to words, max loads summed."""
    rows = json.loads((samples / "workload-40k.expected.json").read_text())["sizes"]
    merged: dict[int, int] = {}
    for row in rows:
        aligned = -(-row["size"] // WORD) * WORD
        merged[aligned] = merged.get(aligned, 0) + row["max_load"]
    return sorted(merged.items())


def least_bytes(demand: list[tuple[int, int]], pools: int) -> int:
    return sum(s * c for s, c in demand) + brute_partition(demand, pools)


# ---- the one fewest-pools search ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(200))
def test_fewest_pools_is_the_first_count_that_fits(seed):
    rng = random.Random(seed)
    low, high = rng.randint(1, 5), rng.randint(1, 12)
    costs = {p: rng.randint(0, 100) for p in range(low, high + 1)}
    heap = rng.randint(0, 100)
    scan = [p for p in range(low, high + 1) if costs[p] <= heap]
    assert fewest_pools(costs.__getitem__, heap, low, high) == (scan[0] if scan else None)


@pytest.mark.parametrize("seed", range(200))
def test_fewest_pools_bisects_a_cost_that_never_grows(seed):
    rng = random.Random(seed)
    low, high = 1, rng.randint(1, 40)
    cost, costs = 1000, {}
    for p in range(low, high + 1):
        cost -= rng.choice((0, 0, rng.randint(0, 60)))
        costs[p] = cost
    heap = rng.randint(costs[high] - 50, 1000)
    asked: list[int] = []

    def bytes_for(p: int) -> int:
        asked.append(p)
        return costs[p]

    scan = [p for p in range(low, high + 1) if costs[p] <= heap]
    assert fewest_pools(bytes_for, heap, low, high, monotone=True) == (scan[0] if scan else None)
    assert len(asked) <= high.bit_length() + 2  # a bisection, not a scan


# ---- Planning on the workload sample ----------------------------------------------------------


def test_planning_demand_is_the_expected_files(workload, expected_demand):
    planning = Planning(TraceSet.of([workload]))
    assert planning.partitioner is not None
    assert planning.partitioner.demand == expected_demand


def test_drone_layout_needs_the_brute_force_least_bytes(workload, expected_demand):
    planning = Planning(TraceSet.of([workload]))
    for pools in range(1, len(expected_demand) + 1):
        needed = least_bytes(expected_demand, pools)
        layout = planning.layout(PlanRequest(needed, pools))
        assert layout.partition is not None
        assert layout.partition.bytes == needed
        assert layout.total_bytes <= needed  # the heap, spread over the pools
        with pytest.raises(LayoutDoesNotFit) as caught:
            planning.layout(PlanRequest(needed - 1, pools))
        fits = [p for p in range(1, 33) if least_bytes(expected_demand, p) <= needed - 1]
        assert caught.value.needed == needed
        assert caught.value.fits_with == (fits[0] if fits else None)


@pytest.mark.parametrize("method", [DRONE, TIMELINE])
@pytest.mark.parametrize("headroom", [0.0, 25.0])
def test_the_job_and_the_quick_path_agree(workload, method, headroom):
    """The GUI's inline answer and the background job (the CLI's path) give one layout."""
    heap = 128 * 1024
    request = PlanRequest(heap, 4, method, headroom)
    planning = Planning(TraceSet.of([workload]))
    planned = planning.plan(request, want_layout=True, want_heaps=True)
    assert planned.no_fit is None and planned.layout is not None
    assert planning.layout(request) == planned.layout
    assert planned.layout.heap_size == heap and planned.layout.total_bytes <= heap
    # Minimum heaps: what each method needs before spreading, at most the heap when it fits.
    heaps = planned.heaps
    assert heaps is not None and heaps.pools == 4
    assert planned.layout.partition.bytes == (heaps.timeline if method == TIMELINE else heaps.drone)


def test_timeline_no_fit_names_the_fewest_pools_that_fit(workload):
    planning = Planning(TraceSet.of([workload]))
    by_pools = {
        p: planning.plan(PlanRequest(1 << 20, p, TIMELINE), True, True).heaps.timeline
        for p in range(1, 11)
    }
    heap = by_pools[5]
    planned = planning.plan(PlanRequest(heap, 2, TIMELINE), want_layout=True, want_heaps=False)
    scan = [p for p in range(2, 11) if by_pools[p] <= heap]
    assert planned.layout is None and planned.no_fit is not None
    assert planned.no_fit.fits_with == scan[0]


def test_keep_caches_heaps_and_ignores_a_replaced_set(workload):
    planning = Planning(TraceSet.of([workload]))
    request = PlanRequest(64 * 1024, 3)
    assert planning.heaps(request) is None
    planned = planning.plan(request, want_layout=False, want_heaps=True)
    assert planning.heaps(request) is None  # the job touched no cache
    planning.keep(planned)
    assert planning.heaps(request) == planned.heaps
    # A job for another set (the user opened a new trace meanwhile) leaves this one alone.
    other = Planning(TraceSet.of([workload]))
    stale = other.plan(PlanRequest(64 * 1024, 5), want_layout=False, want_heaps=True)
    planning.keep(stale)
    assert planning.heaps(PlanRequest(64 * 1024, 5)) is None
    # A layout job without heaps comes back with the heaps known for its pool count.
    layout_only = planning.plan(request, want_layout=True, want_heaps=False)
    assert planning.keep(layout_only).heaps == planned.heaps


def test_without_traces_the_layout_is_drones_starter():
    planning = Planning(None)
    layout = planning.layout(PlanRequest(10 * 1024, 8))
    assert planning.partitioner is None and planning.fragmentation_by_pools() == []
    assert layout.partition is None and layout.total_bytes <= 10 * 1024
    assert [p.block for p in layout.pools] == sorted(p.block for p in layout.pools)


def test_fragmentation_by_pools_is_the_brute_force_least(workload, expected_demand):
    got = Planning(TraceSet.of([workload])).fragmentation_by_pools()
    assert got[: len(expected_demand)] == [
        brute_partition(expected_demand, p) for p in range(1, len(expected_demand) + 1)
    ]


# ---- the one heap-size parser --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("10K", 10240), ("0x2800", 10240), ("10240", 10240), ("4294967295", 2**32 - 1)],
)
def test_heap_sizes_parse(text, size):
    assert parse_heap_size(text) == size


@pytest.mark.parametrize("text", ["0", "", "4G", "-1", "4294967296", "ten"])
def test_bad_heap_sizes_are_refused_in_one_line(text):
    with pytest.raises(HeapguiError) as caught:
        parse_heap_size(text)
    assert "\n" not in str(caught.value)
