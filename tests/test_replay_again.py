"""replay_again after a capacity edit equals a replay from scratch, field by field."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_replay import OP

from heapgui.layout import replay as replay_module
from heapgui.layout.pools import Pool
from heapgui.layout.replay import Replay, replay, replay_again
from heapgui.trace.records import Records
from heapgui.trace.workload import workload

BLOCKS = st.lists(st.sampled_from([4, 8, 12, 16, 24, 32]), min_size=1, max_size=5, unique=True)


def same(a: Replay, b: Replay) -> None:
    assert a.pools == b.pools
    for name in (
        "failed_event",
        "pool_peak",
        "pool_peak_record",
        "pool_overflow",
        "event_pool",
    ):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    for name in ("peak_bytes", "peak_requested", "peak_record", "unmatched", "skipped"):
        assert getattr(a, name) == getattr(b, name), name


@st.composite
def edits(draw):
    """A layout and a few more with the same blocks, capacities changed (0 stays 0)."""
    blocks = draw(BLOCKS)
    first = [Pool(b, draw(st.integers(0, 5))) for b in blocks]
    layouts = [first]
    for _ in range(draw(st.integers(1, 4))):
        layouts.append(
            [Pool(p.block, draw(st.integers(1, 6)) if p.capacity else 0) for p in layouts[-1]]
        )
    return layouts


def check(ops: list[tuple], layouts: list[list[Pool]]) -> None:
    records = Records.from_tuples(ops)
    previous = replay(records, layouts[0])
    for pools in layouts[1:]:
        again = replay_again(previous, pools)
        same(again, replay(records, pools))
        previous = again


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=60), edits())
def test_equals_a_full_replay(ops, layouts):
    check(ops, layouts)


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=80), edits())
def test_equals_a_full_replay_with_tiny_windows(ops, layouts):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replay_module, "FIRST_WINDOW", 2)
        mp.setattr(replay_module, "QUIET", 2)
        mp.setattr(replay_module, "LONGEST_QUIET", 4)
        mp.setattr(replay_module, "LAST_WINDOW", 3)  # also the windows resume scans in
        check(ops, layouts)


@pytest.mark.parametrize("seed", range(3))
def test_tight_edits_on_a_long_workload(seed):
    records = workload(
        5000, seed=seed, sizes=np.array([4, 8, 12, 16, 24, 32], np.uint32), mean_life=30.0
    )
    rng = np.random.default_rng(seed)
    # Pools 4 and 8 overflow all along; 16 and 32 are typed into, and fill later.
    layouts = [[Pool(4, 2), Pool(8, 2), Pool(16, 12), Pool(32, 20)]]
    for _ in range(6):
        layouts.append([Pool(4, 2), Pool(8, 2), Pool(16, int(rng.integers(4, 16))), Pool(32, 20)])
        layouts.append([*layouts[-1][:3], Pool(32, int(rng.integers(8, 24)))])
    resumed = []
    resume = replay_module._Replayer.resume  # noqa: SLF001 - watched, not changed

    def watched(self, previous, old_capacity):
        start = resume(self, previous, old_capacity)
        resumed.append(0 < start < len(self.step))
        return start

    with pytest.MonkeyPatch.context() as mp:
        # Long one-at-a-time stretches make every rebuild worth it: the rebuilt state is used.
        mp.setattr(replay_module, "QUIET", 1 << 20)
        mp.setattr(replay_module, "LAST_WINDOW", 700)  # resume scans several windows
        mp.setattr(replay_module._Replayer, "resume", watched)  # noqa: SLF001
        check(records.to_tuples(), layouts)
    assert any(resumed)


def test_other_blocks_are_replayed_whole():
    records = Records.from_tuples([("alloc", 4), ("alloc", 4), ("alloc", 8)])
    previous = replay(records, [Pool(4, 1), Pool(8, 2)])
    same(replay_again(previous, [Pool(8, 3)]), replay(records, [Pool(8, 3)]))
    same(
        replay_again(previous, [Pool(4, 0), Pool(8, 2)]), replay(records, [Pool(4, 0), Pool(8, 2)])
    )


def test_a_pool_filling_across_scan_windows():
    """Pool 8 reaches the new capacity only over several of resume's windows."""
    records = Records.from_tuples([("alloc", 4)] * 3 + [("alloc", 8)] * 5)
    previous = replay(records, [Pool(4, 1), Pool(8, 10)])  # two 4s overflow into 8
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replay_module, "LAST_WINDOW", 2)
        again = replay_again(previous, [Pool(4, 1), Pool(8, 5)])
    expected = replay(records, [Pool(4, 1), Pool(8, 5)])
    assert again.failed_event.tolist() == [6, 7]  # by hand: pool 8 holds 2 + 3 eights
    same(again, expected)
