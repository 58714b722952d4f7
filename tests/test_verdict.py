"""Verdicts on edited layouts: the fast path equals a full replay, and both equal a plain loop.

The oracle is the allocator's rule written out one record at a time (first
fit in ascending block order, a stack of pools per size for frees), counting
failures, the first failed record and overflows, independently of
heapgui.layout.pool_replay.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.layout.generate import generate
from heapgui.layout.pools import Pool, demand
from heapgui.layout.verdict import EditChecker, layout_fragmentation
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet


def plain_first_fit(ops: list[tuple], pools: list[Pool]) -> tuple[list[int], int]:
    """(failed records, overflows) of one trace."""
    order = sorted((p for p in pools if p.capacity), key=lambda p: p.block)
    used = [0] * len(order)
    stacks: dict[int, list[int]] = {}
    failed: list[int] = []
    overflows = 0

    def take(record: int, size: int) -> None:
        nonlocal overflows
        if size == 0:
            return
        fits = [k for k, p in enumerate(order) if p.block >= size]
        for k in fits:
            if used[k] < order[k].capacity:
                used[k] += 1
                overflows += k != fits[0]
                stacks.setdefault(size, []).append(k)
                return
        failed.append(record)

    def free(size: int) -> None:
        if stacks.get(size):
            used[stacks[size].pop()] -= 1

    for i, op in enumerate(ops):
        if op[0] != "alloc":
            free(op[1])
        if op[0] == "alloc":
            take(i, op[1])
        elif op[0] != "dealloc":
            take(i, op[2])
    return failed, overflows


def as_set(*ops_lists: list[tuple]) -> TraceSet:
    traces = []
    for k, ops in enumerate(ops_lists):
        records = Records.from_tuples(ops)
        traces.append(Trace(f"t{k}", "framed", records, Statistics.of(records)))
    return TraceSet.of(traces)


sizes = st.sampled_from([1, 4, 6, 8, 12, 16, 20, 24, 30, 32])
op = st.one_of(
    st.tuples(st.just("alloc"), sizes),
    st.tuples(st.just("alloc"), sizes),
    st.tuples(st.just("dealloc"), sizes),
    st.tuples(st.sampled_from(["grow", "shrink"]), sizes, sizes),
)
traces = st.lists(op, min_size=1, max_size=60)
pool = st.builds(Pool, st.sampled_from([4, 8, 12, 16, 24, 32, 40, 10]), st.integers(0, 6))
layouts = st.lists(pool, min_size=1, max_size=5, unique_by=lambda p: p.block)


@settings(max_examples=300, deadline=None)
@given(st.lists(traces, min_size=1, max_size=3), st.lists(layouts, min_size=1, max_size=6))
def test_fast_verdict_equals_full_replay_and_the_plain_loop_over_edits(ops_lists, edits):
    checker = EditChecker(as_set(*ops_lists))
    heap = 1 << 12
    for pools in edits:  # one checker across edits: its cached peaks must stay right
        got = checker.verdict(heap, pools)
        assert got == checker.full(heap, pools)
        oracle = [plain_first_fit(ops, pools) for ops in ops_lists]
        assert got.failures == sum(len(f) for f, _ in oracle)
        assert got.overflows == sum(o for _, o in oracle)
        assert got.replay_holds == (got.failures == 0)
        first = next(((k, f[0]) for k, (f, _) in enumerate(oracle) if f), None)
        assert (
            (got.first_failure.trace, got.first_failure.failure.record) == first
            if first
            else (got.first_failure is None)
        )
        for marked, (failed, _) in zip(got.failed_records, oracle, strict=True):
            assert marked.tolist() == failed
        assert got.reserved == sum(p.block * p.capacity for p in pools)


def test_a_drone_layout_is_decided_without_a_replay():
    ops = [("alloc", 4)] * 3 + [("dealloc", 4)] * 3 + [("alloc", 12)] * 2
    checker = EditChecker(as_set(ops))
    checker.prepare()
    got = checker.quick(1024, [Pool(4, 3), Pool(12, 2)], compute=False)
    assert got is not None and got.holds and not got.replayed
    # One block less than the peak: only a replay can say what happens.
    assert checker.quick(1024, [Pool(4, 2), Pool(12, 2)]) is None
    tight = checker.verdict(1024, [Pool(4, 2), Pool(12, 2)])
    assert tight.replayed and tight.holds and tight.overflows == 1


def test_pools_over_the_heap_do_not_hold():
    checker = EditChecker(as_set([("alloc", 4)]))
    got = checker.verdict(16, [Pool(4, 5)])
    assert got.replay_holds and got.over_heap == 4 and not got.holds


def test_layout_fragmentation_is_drones_measure_with_first_fit():
    rows = [(2, 1), (12, 3), (28, 1), (32, 1), (128, 1)]  # 2 is served as 4
    pools = [Pool(128, 1), Pool(12, 4), Pool(32, 2), Pool(64, 0)]
    assert layout_fragmentation(rows, pools) == (12 - 4) * 1 + (32 - 28) * 1
    assert layout_fragmentation(rows, [Pool(32, 9)]) is None  # 128 has no block
    assert layout_fragmentation(rows, [Pool(128, 9), Pool(12, 0)]) == 124 + 116 * 3 + 100 + 96


def test_verdict_is_exact_on_the_workload_sample(samples):
    trace = read_trace(samples / "workload-40k.framed", fmt="framed", heap_size=65536)
    traces = TraceSet.of([trace])
    checker = EditChecker(traces)
    optimum = generate(demand(traces.max_loads()), 65536, 6)
    rng = np.random.default_rng(7)
    ways = set()
    for cut in (1.0, 0.9, 0.5, 0.3, 0.1, 0.05):
        # Cut capacities at random: some edits keep every pool above its peak, some do not.
        pools = [Pool(p.block, int(p.capacity * rng.uniform(cut, 1.0))) for p in optimum.pools]
        got = checker.verdict(65536, pools)
        assert got == checker.full(65536, pools)
        ways.add(got.replayed)
    assert ways == {False, True}
