"""Replay: hand-computed cases, and the vectorised replay against a plain sequential oracle."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heapgui.layout import pool_replay as replay_module
from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
from heapgui.trace.workload import workload


def oracle(ops: list[tuple], pools: list[Pool]) -> dict:
    """The allocator rule in a plain loop: per-size LIFO stacks of pool indices."""
    order = sorted(range(len(pools)), key=lambda k: pools[k].block)
    occ = [0] * len(pools)
    peak = [0] * len(pools)
    peak_at = [-1] * len(pools)
    stacks: dict[int, list[int]] = {}
    failed, unmatched, skipped, overflows = [], 0, 0, 0
    reserved = requested = 0
    best = (0, 0, -1)
    event_pool = []

    def take(i: int, size: int) -> None:
        nonlocal overflows, reserved, requested, skipped, best
        if size == 0:
            skipped += 1
            event_pool.append(-1)
            return
        fits = [k for k in order if pools[k].block >= size and pools[k].capacity > 0]
        free = [k for k in fits if occ[k] < pools[k].capacity]
        if not free:
            failed.append((i, size))
            event_pool.append(-1)
            return
        k = free[0]
        overflows += k != fits[0]
        occ[k] += 1
        stacks.setdefault(size, []).append(k)
        reserved += pools[k].block
        requested += size
        if occ[k] > peak[k]:
            peak[k], peak_at[k] = occ[k], i
        if reserved > best[0]:
            best = (reserved, requested, i)
        event_pool.append(k)

    def free(size: int) -> None:
        nonlocal unmatched, reserved, requested
        if size == 0:
            event_pool.append(-1)
            return
        stack = stacks.get(size)
        if not stack:
            unmatched += 1
            event_pool.append(-1)
            return
        k = stack.pop()
        occ[k] -= 1
        reserved -= pools[k].block
        requested -= size
        event_pool.append(k)

    for i, op in enumerate(ops):
        if op[0] == "alloc":
            take(i, op[1])
        elif op[0] == "dealloc":
            free(op[1])
        else:
            free(op[1])
            take(i, op[2])
    return {
        "failed": failed,
        "peak": peak,
        "peak_record": peak_at,
        "overflows": overflows,
        "unmatched": unmatched,
        "skipped": skipped,
        "peak_bytes": best[0],
        "wasted": best[0] - best[1],
        "peak_at": best[2],
        "event_pool": event_pool,
    }


def check(ops: list[tuple], pools: list[Pool]) -> None:
    got = replay(Records.from_tuples(ops), pools)
    want = oracle(ops, pools)
    assert [(f.record, f.size) for f in got.failures()] == want["failed"]
    assert got.pool_peak.tolist() == want["peak"]
    assert got.pool_peak_record.tolist() == want["peak_record"]
    assert got.overflows == want["overflows"]
    assert (got.unmatched, got.skipped) == (want["unmatched"], want["skipped"])
    assert (got.peak_bytes, got.wasted_at_peak) == (want["peak_bytes"], want["wasted"])
    assert got.peak_record == want["peak_at"]
    assert got.event_pool.tolist() == want["event_pool"]


def test_hand_computed_overflow_chain_and_failure():
    pools = [Pool(8, 1), Pool(4, 2), Pool(16, 1)]  # served as 4x2, 8x1, 16x1
    ops = [
        ("alloc", 4),
        ("alloc", 4),
        ("alloc", 3),
        ("alloc", 1),
        ("alloc", 2),
        ("dealloc", 1),
        ("alloc", 12),
        ("dealloc", 4),
        ("alloc", 5),
    ]
    r = replay(Records.from_tuples(ops), pools)
    # 4, 4 fill the 4-pool; 3 overflows to 8, 1 to 16; 2 finds everything full.
    # dealloc 1 frees the 16-block, which 12 takes; dealloc 4 frees a 4-block;
    # 5 needs 8 or more: both full, so it fails.
    assert [(f.record, f.size, f.time) for f in r.failures()] == [(4, 2, None), (8, 5, None)]
    assert r.overflows == 2
    assert r.pool_peak.tolist() == [1, 2, 1]  # in the layout's own order
    assert r.pool_peak_record.tolist() == [2, 1, 3]
    # Peak: 4+4+8+16 = 32 block bytes for 4+4+3+1 = 12 asked, first at record 3.
    assert (r.peak_bytes, r.wasted_at_peak, r.peak_record) == (32, 20, 3)
    assert not r.holds
    assert r.occupancy(2).tolist() == [0, 0, 0, 1, 1, 0, 1, 1, 1]


def test_grow_frees_before_taking_and_unmatched_is_skipped():
    pools = [Pool(4, 1), Pool(8, 1)]
    ops = [
        ("alloc", 4),
        ("grow", 4, 8),
        ("shrink", 8, 4),
        ("dealloc", 4),
        ("dealloc", 4),
        ("alloc", 0),
        ("alloc", 9),
    ]
    r = replay(Records.from_tuples(ops), pools)
    assert r.failed_record.tolist() == [6] and r.failed_size.tolist() == [9]
    assert (r.unmatched, r.skipped, r.overflows) == (1, 1, 0)
    check(ops, pools)


def test_failed_allocation_takes_no_block_and_its_free_is_skipped():
    pools = [Pool(4, 1)]
    ops = [("alloc", 4), ("alloc", 4), ("dealloc", 4), ("dealloc", 4), ("alloc", 4)]
    r = replay(Records.from_tuples(ops), pools)
    assert r.failed_record.tolist() == [1]
    assert r.unmatched == 1
    assert r.pool_peak.tolist() == [1]


def test_lifo_returns_overflowed_blocks_first():
    pools = [Pool(4, 1), Pool(8, 4)]
    # Second 4 overflows into 8; freeing a 4 frees that (newest) block, so the
    # next 4 overflows again while the 4-pool stays full.
    ops = [("alloc", 4), ("alloc", 4), ("dealloc", 4), ("alloc", 4)]
    r = replay(Records.from_tuples(ops), pools)
    assert r.event_pool.tolist() == [0, 1, 1, 1]
    assert r.overflows == 2


def test_timestamps_and_first_index_name_the_record():
    records = Records.from_tuples([("alloc", 8), ("alloc", 8)], first_index=100)
    records.timestamp = np.array([5000, 7000], np.uint64)
    f = replay(records, [Pool(8, 1)]).failures()
    assert [(x.record, x.size, x.time) for x in f] == [(101, 8, 7000)]


def test_an_allocation_no_pool_serves_fails_even_if_statistics_leave_it_out():
    """Statistics counted for a 4K heap drop the 5000-byte allocation; a verdict may not."""
    ops = [("alloc", 5000), ("dealloc", 5000), ("alloc", 4)]
    r = replay(Records.from_tuples(ops), [Pool(4, 1)])
    assert [(f.record, f.size) for f in r.failures()] == [(0, 5000)]
    assert (r.skipped, r.unmatched) == (0, 1)


def test_capacity_zero_pools_and_empty_layouts():
    check([("alloc", 4), ("alloc", 8), ("dealloc", 4)], [Pool(4, 0), Pool(8, 1)])
    check([("alloc", 4), ("dealloc", 4)], [])
    r = replay(Records.from_tuples([("alloc", 4)]), [Pool(4, 0), Pool(8, 1)])
    assert r.overflows == 0 and r.pool_peak.tolist() == [0, 1]


SIZE = st.sampled_from([0, 1, 3, 4, 5, 8, 12, 16, 17, 32])
OP = st.one_of(
    st.tuples(st.sampled_from(["alloc", "alloc", "alloc", "dealloc", "dealloc"]), SIZE),
    st.tuples(st.sampled_from(["grow", "shrink"]), SIZE, SIZE),
)
POOLS = st.lists(
    st.builds(Pool, st.sampled_from([4, 8, 12, 16, 24]), st.integers(0, 4)), max_size=5
)


@pytest.fixture
def tiny_windows(monkeypatch):
    """Windows of a few events, so hypothesis's short traces cross every path."""
    monkeypatch.setattr(replay_module, "FIRST_WINDOW", 4)
    monkeypatch.setattr(replay_module, "QUIET", 3)
    monkeypatch.setattr(replay_module, "LONGEST_QUIET", 6)


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=60), POOLS)
def test_matches_the_sequential_oracle(ops, pools):
    check(ops, pools)


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=80), POOLS)
def test_matches_the_oracle_with_tiny_windows(ops, pools):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replay_module, "FIRST_WINDOW", 2)
        mp.setattr(replay_module, "QUIET", 2)
        mp.setattr(replay_module, "LONGEST_QUIET", 4)
        check(ops, pools)


@pytest.mark.parametrize("seed", range(4))
def test_tight_layouts_on_a_long_workload(seed, tiny_windows):
    """Overflow chains, stacks holding overflowed blocks across windows, failures."""
    records = workload(
        3000, seed=seed, sizes=np.array([4, 8, 12, 16, 24, 32], np.uint32), mean_life=30.0
    )
    pools = [Pool(4, 6), Pool(8, 3), Pool(16, 5), Pool(32, 4)]
    check(records.to_tuples(), pools)


def test_workload_sample_with_its_own_peaks_holds(samples):
    trace = read_trace(samples / "workload-40k.framed", heap_size=65536)
    rows = trace.stats.rows()
    pools = [Pool(-(-r.size // 4) * 4, r.max_load) for r in rows]
    r = replay(trace.records, pools)
    assert r.holds and r.overflows == 0
    assert r.pool_peak.tolist() == [row.max_load for row in rows]
    check(trace.records.to_tuples()[:6000], [Pool(p.block, p.capacity * 2 // 3) for p in pools])
