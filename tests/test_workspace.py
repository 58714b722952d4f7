"""The workspace model: one heap-size authority, and events that say what changed."""

from pathlib import Path

import pytest

from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.trace.load import read_trace
from heapgui.trace.traceset import TraceSet
from heapgui.workspace import HeapSource, Workspace, guessed_heap_size, parse_heap_size


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


def test_a_config_or_a_typed_size_is_kept_when_another_trace_opens(seed, samples, tmp_path: Path):
    toml = tmp_path / "Drone.toml"
    toml.write_text('[heap.main]\nsize = "20K"\npools = []\n')
    ws = Workspace()
    ws.use_config(load_config(toml))
    assert (ws.heap_size, ws.heap.source) == (20 * 1024, HeapSource.CONFIG)
    ws.open(TraceSet.of([read_trace(seed)]), [])
    assert ws.heap.describe() == "20K (Drone.toml)"
    ws.type_heap_size(12345)
    ws.open(TraceSet.of([read_trace(samples / "workload-40k.framed")]), [])
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
