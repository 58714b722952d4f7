"""Issue 12, item 2: the heap size says where it came from, and a guess never moves silently."""

from __future__ import annotations

from pathlib import Path

from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet

WORKLOAD = "workload-40k.framed"
HEAP_64K = 64 * 1024


def shown(window) -> tuple[str, str]:
    """The heap as the status bar and the statistics panel show it."""
    return window.status.heap_label.text(), window.stats_panel.summary.text()


def test_a_guessed_size_says_it_is_a_guess_everywhere_it_is_shown(window, samples):
    window.open_file(samples / WORKLOAD)
    label, summary = shown(window)
    assert label == "heap 65,536 B (guessed)"
    assert "Heap: 65,536 B (guessed)" in summary
    assert "guessed" in window.status.heap_label.toolTip()
    assert window.charts.heap_line.value() == HEAP_64K
    assert window.charts.heap_line.label.format == "heap 65,536 B (guessed)"


def test_a_typed_size_and_a_config_name_their_source(window, samples, tmp_path: Path):
    window.open_file(samples / WORKLOAD)
    window.layout_panel.size_edit.setText("100K")
    assert shown(window)[0] == "heap 102,400 B (typed)"
    assert "Heap: 102,400 B (typed)" in shown(window)[1]
    assert window.charts.heap_line.value() == 100 * 1024
    assert window.charts.heap_line.label.format == "heap 102,400 B (typed)"

    (tmp_path / "Drone.toml").write_text('[heap]\nsize = "48K"\npools = []\n')
    trace_file = tmp_path / "heaptrace"
    trace_file.write_bytes((samples / WORKLOAD).read_bytes())
    window.open_file(trace_file)
    assert shown(window)[0] == "heap 49,152 B (Drone.toml)"
    assert "Heap: 49,152 B (Drone.toml)" in shown(window)[1]
    assert "config" in window.status.heap_label.toolTip()


def growing_capture(tmp_path: Path) -> tuple[Records, Path]:
    """A capture whose first part fits 64K but whose end needs 128K (bytes by hand below)."""
    ops = [("alloc", 1000)] * 60 + [("alloc", 1000)] * 40  # 60,000 bytes, then 100,000
    records = Records.from_tuples(ops)
    path = tmp_path / "heaptrace"
    path.write_bytes(encode_framed(records))
    return records, path


def test_a_guess_that_moves_after_a_capture_stops_is_announced(window, tmp_path: Path):
    records, path = growing_capture(tmp_path)
    ws = window.workspace
    ws.open(None, [])  # a capture starts: nothing is open
    ws.follow_capture(Statistics.of(records.slice(0, 60)))
    assert shown(window)[0] == "heap 65,536 B (guessed)"
    window.statusBar().clearMessage()

    # The capture stops and its trace opens, as a stopped capture does in the window.
    trace = read_trace(path)
    window.opener.show(TraceSet.of([trace]), [path], None, f"Loaded {path}")
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Loaded {path}")
    assert "131,072 B (guessed)" in message and "was 65,536 B (guessed)" in message
    assert shown(window)[0] == "heap 131,072 B (guessed)"
    assert window.charts.heap_line.value() == 128 * 1024


def test_a_guess_that_grows_during_a_capture_is_announced(window):
    ws = window.workspace
    ws.open(None, [])
    ops = [("alloc", 1000)] * 100
    ws.follow_capture(Statistics.of(Records.from_tuples(ops[:10])))
    assert shown(window)[0] == "heap 16,384 B (guessed)"
    ws.follow_capture(Statistics.of(Records.from_tuples(ops)))
    message = window.statusBar().currentMessage()
    assert "131,072 B (guessed)" in message and "was 16,384 B (guessed)" in message


def test_a_typed_size_never_moves_on_its_own(window, samples):
    window.open_file(samples / WORKLOAD)
    window.layout_panel.size_edit.setText("20K")
    window.statusBar().clearMessage()
    window.workspace.follow_capture(Statistics.of(Records.from_tuples([("alloc", 90000)])))
    assert shown(window)[0] == "heap 20,480 B (typed)"
    assert window.statusBar().currentMessage() == ""
