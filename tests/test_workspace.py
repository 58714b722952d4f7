"""The workspace model: one heap-size authority, and events that say what changed."""

from pathlib import Path

import pytest

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.problems import OVERSIZE_ALLOC
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.workspace import (
    HeapSize,
    HeapSource,
    Workspace,
    guess_notice,
    guessed_heap_size,
    parse_heap_size,
)
from heapgui.workspace.loading import load_trace, load_trace_set


def recorder(ws: Workspace) -> list[tuple]:
    seen: list[tuple] = []
    for name in ("traces_changed", "heap_size_changed", "layout_changed", "range_changed"):
        getattr(ws, name).connect(lambda *args, name=name: seen.append((name, *args)))
    return seen


def test_a_guessed_heap_is_the_power_of_two_above_the_largest_bound_in_the_set(seed, samples):
    traces = TraceSet.of([read_trace(samples / "workload-40k.framed"), read_trace(seed)])
    ws = Workspace()
    ws.open(traces, [])
    bounds = [max(t.stats.max_usage, t.stats.peak_usage, 1024) for t in traces.traces]
    expected = 1024
    while expected < max(bounds):
        expected *= 2
    assert ws.heap is not None
    assert (ws.heap.size, ws.heap.source) == (expected, HeapSource.GUESSED)
    assert ws.heap.describe().endswith("(guessed)")


def test_a_typed_size_is_kept_when_another_trace_opens_a_config_only_beside_it(
    seed, samples, tmp_path: Path
):
    toml = tmp_path / "Drone.toml"
    toml.write_text('[heap.main]\nsize = "20K"\npools = []\n')
    ws = Workspace()
    ws.use_config(load_config(toml))
    assert (ws.heap_size, ws.heap.source) == (20 * 1024, HeapSource.CONFIG)
    ws.open(TraceSet.of([read_trace(seed)]), [], load_config(toml))
    assert ws.heap.describe() == "20,480 B (Drone.toml)"
    # Another directory without a config: the old config described another firmware.
    workload = TraceSet.of([read_trace(samples / "workload-40k.framed")])
    ws.open(workload, [])
    assert ws.config is None and ws.heap.source is HeapSource.GUESSED
    ws.type_heap_size(12345)
    ws.open(TraceSet.of([read_trace(seed)]), [])
    assert (ws.heap_size, ws.heap.source) == (12345, HeapSource.TYPED)
    ws.use_config(None)
    assert (ws.heap_size, ws.heap.source) == (12345, HeapSource.TYPED)


def test_events_fire_once_per_real_change(seed):
    ws = Workspace()
    seen = recorder(ws)
    trace = read_trace(seed)
    ws.open(TraceSet.of([trace]), [])
    guessed = guessed_heap_size(trace.stats)
    assert [s[0] for s in seen] == ["traces_changed", "range_changed", "heap_size_changed"]
    seen.clear()
    ws.type_heap_size(guessed)  # same size, new source: the source is part of the value
    ws.type_heap_size(guessed)
    ws.select_range((9, 3))
    ws.select_range((3, 9))
    assert [s[0] for s in seen] == ["heap_size_changed", "range_changed"]
    assert ws.range == (3, 9)


def test_heap_size_text_is_parsed_once_with_its_limits():
    assert parse_heap_size("0x400") == 1024
    with pytest.raises(HeapguiError, match="heap size"):
        parse_heap_size("0")
    with pytest.raises(HeapguiError, match="2\\^32"):
        parse_heap_size("4096M")


def test_a_guess_follows_a_growing_capture_but_a_config_never_moves(tmp_path: Path):
    ws = Workspace()
    seen = recorder(ws)
    ws.open(None, [])
    assert ws.heap is None
    live = Statistics()
    sizes = []
    for block in (700, 3000, 20000):
        live.update(Records.from_tuples([("alloc", block)]))
        ws.follow_capture(live)
        sizes.append(ws.heap_size)
    # Brute force: the smallest power of two (at least 1K) above everything allocated so far.
    assert sizes == [1024, 4096, 32768]
    assert [name for name, *_ in seen].count("heap_size_changed") == 3
    toml = tmp_path / "Drone.toml"
    toml.write_text('[heap.main]\nsize = "8K"\npools = []\n')
    ws.use_config(load_config(toml))
    ws.follow_capture(live)
    assert ws.heap.describe() == "8,192 B (Drone.toml)"


def test_a_guess_that_moves_is_announced_with_both_sizes():
    guessed = HeapSize(64 * 1024, HeapSource.GUESSED)
    bigger = HeapSize(128 * 1024, HeapSource.GUESSED)
    config = HeapSize(64 * 1024, HeapSource.CONFIG, "Drone.toml")
    notice = guess_notice(guessed, bigger)
    assert "131,072 B (guessed)" in notice and "65,536 B (guessed)" in notice
    assert "65,536 B (Drone.toml)" in guess_notice(config, guessed)  # the config is gone
    assert guess_notice(None, guessed) == ""  # the first guess is shown, not news
    assert guess_notice(guessed, guessed) == ""
    assert guess_notice(guessed, config) == ""  # the user's own choice
    assert guess_notice(bigger, HeapSize(1, HeapSource.TYPED)) == ""


# ---- the load jobs ----------------------------------------------------------------------------


def oversize_trace(path: Path) -> list[tuple]:
    ops = [("alloc", 64), ("alloc", 5000), ("alloc", 64), ("dealloc", 5000), ("dealloc", 64)]
    path.write_bytes(encode_framed(Records.from_tuples(ops)))
    return ops


def test_a_trace_loads_with_the_config_beside_it_which_refuses_larger_blocks(tmp_path: Path):
    ops = oversize_trace(tmp_path / "heaptrace")
    (tmp_path / "Drone.toml").write_text('[heap.main]\nsize = "4K"\npools = []\n')
    progress: list[float] = []
    loaded = load_trace(tmp_path / "heaptrace", progress.append, lambda: False)
    assert loaded.config is not None and loaded.config.heap().size == 4096
    assert loaded.trace.stats.heap_limit == 4096
    assert loaded.trace.stats.problems.total(OVERSIZE_ALLOC) == 1
    # By hand: the 5000-byte block cannot be served by a 4K heap, so it is left out.
    assert [(r.size, r.max_load) for r in loaded.trace.stats.rows()] == [(64, 2)]
    assert len(loaded.trace.stats.timeline) == len(ops)
    assert not loaded.chosen_format and progress and progress == sorted(progress)
    ws = Workspace()
    ws.open(TraceSet.of([loaded.trace]), [loaded.path], loaded.config)
    assert ws.heap.describe() == "4,096 B (Drone.toml)"


def test_without_a_config_nothing_is_refused_and_the_workspace_guesses(tmp_path: Path):
    oversize_trace(tmp_path / "heaptrace")
    loaded = load_trace(tmp_path / "heaptrace", lambda f: None, lambda: False, fmt="framed")
    assert loaded.config is None and loaded.chosen_format
    assert loaded.trace.stats.heap_limit is None
    assert [(r.size, r.max_load) for r in loaded.trace.stats.rows()] == [(64, 2), (5000, 1)]
    ws = Workspace()
    ws.open(TraceSet.of([loaded.trace]), [loaded.path])
    assert ws.heap.describe() == "8,192 B (guessed)"  # 5128 bytes at the peak: 8K holds them


def test_a_set_shares_the_config_beside_its_first_trace(tmp_path: Path, seed):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    oversize_trace(first / "heaptrace")
    (second / "heaptrace").write_bytes(seed.read_bytes())
    (first / "Drone.toml").write_text('[heap.main]\nsize = "4K"\npools = []\n')
    progress: list[float] = []
    paths = [first / "heaptrace", second / "heaptrace"]
    loaded = load_trace_set(paths, progress.append, lambda: False)
    assert loaded.paths == paths and loaded.config is not None
    assert [t.stats.heap_limit for t in loaded.traces.traces] == [4096, 4096]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    with pytest.raises(HeapguiError, match="no trace files"):
        load_trace_set([], progress.append, lambda: False)


def test_a_broken_config_does_not_stop_the_trace(tmp_path: Path):
    oversize_trace(tmp_path / "heaptrace")
    (tmp_path / "Drone.toml").write_text("[heap.main\n")
    loaded = load_trace(tmp_path / "heaptrace", lambda f: None, lambda: False)
    assert loaded.config is None and loaded.trace.stats.heap_limit is None


def test_views_never_see_new_traces_with_the_old_heap(seed, tmp_path: Path):
    """A view planning a layout on traces_changed must not plan against a stale heap."""
    toml = tmp_path / "Drone.toml"
    toml.write_text('[heap.main]\nsize = "20K"\npools = []\n')
    ws = Workspace()
    ws.open(TraceSet.of([read_trace(seed)]), [])
    seen: list[str] = []
    ws.traces_changed.connect(lambda: seen.append(ws.heap.describe()))
    ws.open(TraceSet.of([read_trace(seed)]), [], load_config(toml))
    assert seen == ["20,480 B (Drone.toml)"]


def test_the_workspace_owns_the_planning_and_its_caches(seed, samples):
    ws = Workspace()
    one = TraceSet.of([read_trace(seed)])
    planning = ws.plan_for(one)
    assert ws.planning is planning and ws.plan_for(one) is planning  # the caches are kept
    expected = {}
    for trace in one.traces:
        for row in trace.stats.rows():
            expected[row.size] = max(expected.get(row.size, 0), row.max_load)
    assert dict(planning.traces.max_loads()) == expected
    other = TraceSet.of([read_trace(samples / "workload-40k.framed")])
    assert ws.plan_for(other) is not planning
    assert ws.plan_for(None).traces is None
