"""Linked time views (issue 12): one cursor, one record range, record links, fit Y.

Expected figures come from plain loops over the records (tests/range_oracle.py,
the sums below), never from the code under test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_run import run
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from range_oracle import brute_window

from heapgui.trace.load import Trace
from heapgui.trace.records import Records
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.ui import range_stats
from heapgui.ui.axes import format_seconds
from heapgui.ui.charts import READOUT_HINT
from heapgui.ui.cursor import readout
from heapgui.ui.histogram import MIN_BAR_SHARE
from heapgui.ui.main_window import MainWindow
from heapgui.ui.stats_model import SORT_ROLE
from heapgui.workspace import HeapSize, HeapSource

WORKLOAD = "workload-40k.framed"
SEED = "seed-example.framed"


def table(win: MainWindow) -> list[tuple[int, int, int, int]]:
    """(size, max load, total, live) per row, as the table shows them."""
    model = win.stats_panel.model
    return [
        tuple(int(model.index(r, c).data(SORT_ROLE)) for c in range(4))
        for r in range(model.rowCount())
    ]


def histogram(win: MainWindow) -> dict[int, int]:
    """Bar length per size label (linear scale)."""
    bars = win.charts.histogram.bars.opts
    return dict(zip(win.charts.histogram.sizes(), np.asarray(bars["width"]).tolist(), strict=True))


def loaded(win: MainWindow, qtbot, path) -> MainWindow:
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.open_file(path)
    QApplication.processEvents()
    return win


def viewport_point(plot, x: float, y: float, view) -> QPoint:
    """Where data point (x, y) of `plot` is on the screen of `view` (a GraphicsView)."""
    scene = plot.vb.mapViewToScene(QPointF(x, y))
    return view.mapFromScene(scene)


def send_mouse(view, kind: QEvent.Type, at: QPoint, buttons, modifiers) -> None:
    """A real mouse event on the view's viewport (QTest's moves carry no buttons)."""
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind, QPointF(at), view.viewport().mapToGlobal(QPointF(at)), button, buttons, modifiers
    )
    QApplication.sendEvent(view.viewport(), event)


def hover(view, plot, x: float) -> None:
    """The mouse over `plot` at `x`, zoomed in first so that a pixel is a fraction of a record."""
    plot.setXRange(x - 5, x + 5, padding=0)
    QApplication.processEvents()
    low, high = plot.vb.viewRange()[1]
    at = viewport_point(plot, x, (low + high) / 2, view)
    send_mouse(
        view, QEvent.Type.MouseMove, at, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )


def test_one_cursor_across_every_time_plot(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    charts = win.charts
    lines = win.linked.cursor.lines()
    occupancy = win.validate_panel.chart
    assert len(lines) == 4  # load, live blocks, pool occupancy, trace set

    hover(charts.graphics, charts.load_plot, 12_345.2)
    assert win.workspace.cursor == 12_345
    assert all(line.isVisible() and line.value() == 12_345 for line in lines)
    assert not any(band.isVisible() for band in win.linked.selector.bands())

    hover(charts.graphics, charts.live_plot, 30_000.4)  # another plot moves them all
    assert win.workspace.cursor == 30_000
    assert [line.value() for line in lines] == [30_000] * 4

    win.show_validation()
    QApplication.processEvents()
    hover(occupancy, occupancy.getPlotItem(), 7_000)
    assert win.workspace.cursor == 7_000
    assert [line.value() for line in lines] == [7_000] * 4

    win.traceset_dock.show()
    QApplication.processEvents()
    traceset = win.traceset_view.chart
    hover(traceset, traceset.plot_item, 21_000)
    assert win.workspace.cursor == 21_000
    assert [line.value() for line in lines] == [21_000] * 4


def test_a_timed_trace_keeps_the_trace_set_plot_by_record(window, qtbot):
    """The time plots' x is the timestamp; the trace-set plot's is the record number."""
    records = Records.from_tuples([("alloc", 8), ("alloc", 16), ("dealloc", 8), ("alloc", 24)])
    records.timestamp = np.array([100, 250, 400, 1000], np.uint64)
    trace = Trace("timed", "framed", records, Statistics.of(records))
    window.workspace.open(TraceSet(["timed"], [trace]), [])
    window.workspace.move_cursor(2)
    load, live, occupancy, traceset = window.linked.cursor.lines()
    assert (load.value(), live.value(), occupancy.value(), traceset.value()) == (400, 400, 400, 2)
    window.workspace.select_range((1, 2))
    bands = [band.getRegion() for band in window.linked.selector.bands()]
    assert bands == [(250, 1000)] * 3 + [(1, 3)]  # record 2 lasts until record 3


def test_occupancy_follows_the_zoom(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    win.charts.load_plot.setXRange(10_000, 12_000, padding=0)
    occupancy = win.validate_panel.chart.getPlotItem()
    low, high = occupancy.vb.viewRange()[0]
    assert (round(low), round(high)) == (10_000, 12_000)
    occupancy.setXRange(30_000, 31_000, padding=0)  # and the other way round
    low, high = win.charts.load_plot.vb.viewRange()[0]
    assert (round(low), round(high)) == (30_000, 31_000)
    # Limits that clip the range differently do not make the two set each other for ever.
    occupancy.setLimits(xMin=0, xMax=20_000)
    win.charts.load_plot.setXRange(25_000, 35_000, padding=0)
    assert occupancy.vb.viewRange()[0][1] <= 20_000


def test_hover_readout_names_record_bytes_share_and_operation(window, qtbot, samples):
    win = loaded(window, qtbot, samples / SEED)
    ops = win.trace.records.to_tuples()
    # Bytes in use after record 13 by a plain sum: allocations add, deallocations take away.
    in_use = 0
    for op in ops[:14]:
        in_use += op[1] if op[0] == "alloc" else -op[1]
    assert ops[13] == ("alloc", 28)
    heap = win.workspace.heap.size
    hover(win.charts.graphics, win.charts.load_plot, 13)
    assert win.charts.readout_label.text() == (
        f"Record 13 · {in_use} B in use ({in_use / heap * 100:.2f}% of the heap) · alloc 28 B"
    )


def test_shift_drag_selects_the_records_under_it(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    charts = win.charts
    plot, view = charts.load_plot, charts.graphics
    plot.setXRange(0, 40_000, padding=0)
    y = sum(plot.vb.viewRange()[1]) / 2
    start, end = viewport_point(plot, 10_000, y, view), viewport_point(plot, 20_000, y, view)
    shift, left = Qt.KeyboardModifier.ShiftModifier, Qt.MouseButton.LeftButton
    send_mouse(view, QEvent.Type.MouseButtonPress, start, left, shift)
    for step in range(1, 11):
        at = start + (end - start) * (step / 10)
        send_mouse(view, QEvent.Type.MouseMove, at, left, shift)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, shift)
    first, last = win.workspace.range
    # One pixel is about 50 records at this zoom.
    assert abs(first - 10_000) < 150 and abs(last - 20_000) < 150
    assert plot.vb.viewRange()[0] == pytest.approx([0, 40_000])  # the drag did not pan
    assert win.linked.chip.isVisible()


@pytest.mark.parametrize("chosen", [(10_000, 19_999), (0, 0), (39_000, 39_999), (25_000, 25_010)])
def test_range_filter_matches_a_loop_over_the_records(window, qtbot, samples, chosen):
    win = loaded(window, qtbot, samples / WORKLOAD)
    trace = win.trace
    win.charts.log_check.setChecked(False)
    win.workspace.select_range(chosen)
    first, last = chosen
    oracle = brute_window(trace.records.to_tuples(), trace.stats.heap_limit, first, last + 1)
    assert table(win) == [tuple(row) for row in oracle["rows"]]
    totals = {size: total for size, _, total, _ in oracle["rows"]}
    stub = MIN_BAR_SHARE * max(max(totals.values()), 1)  # the least bar a used size gets
    assert histogram(win) == {s: max(t, stub) if t else 0 for s, t in totals.items()}
    summary = win.stats_panel.summary.text()
    assert f"{oracle['peak']:,} B (" in summary
    assert f'Records <a href="record:{first}">{first:,}</a>' in summary
    # The pool layout plans for the same phase: its demand is the range's max loads.
    planned = dict(win.layout_panel.traces().max_loads())
    assert {k: v for k, v in planned.items() if v} == {
        size: most for size, most, _, _ in oracle["rows"] if most
    }


def test_a_long_trace_builds_its_index_in_a_task(window, qtbot, samples, monkeypatch):
    monkeypatch.setattr(range_stats, "INLINE_RECORDS", 0)
    win = loaded(window, qtbot, samples / WORKLOAD)
    trace = win.trace
    win.workspace.select_range((5_000, 6_000))
    oracle = brute_window(trace.records.to_tuples(), trace.stats.heap_limit, 5_000, 6_001)
    assert table(win) == [tuple(row) for row in oracle["rows"]]


def test_the_chip_and_esc_clear_the_range(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    whole = table(win)
    win.stats_panel.select_sizes([24, 256])
    win.workspace.select_range((100, 2_000))
    chip = win.linked.chip
    assert chip.isVisible() and chip.label.text() == "records 100–2,000"
    assert "--range 100:2001" in chip.toolTip()
    assert table(win) != whole
    assert win.stats_panel.selected_sizes() == [24, 256]  # the selection survives
    assert all(band.isVisible() for band in win.linked.selector.bands())

    qtbot.mouseClick(chip.clear_button, Qt.MouseButton.LeftButton)
    assert win.workspace.range is None and not chip.isVisible()
    assert table(win) == whole
    assert not any(band.isVisible() for band in win.linked.selector.bands())

    win.workspace.select_range((100, 2_000))
    win.activateWindow()
    qtbot.keyClick(win.charts, Qt.Key.Key_Escape)
    assert win.workspace.range is None
    assert table(win) == whole


def test_the_histogram_follows_the_table_filter_and_toggles_sizes(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    win.stats_panel.filter_edit.setText(">=200")
    shown = win.charts.histogram.sizes()
    assert shown and all(size >= 200 for size in shown)
    assert shown == [row[0] for row in table(win) if row[0] >= 200]

    win.stats_panel.select_sizes([])
    hist = win.charts.hist_plot
    row = shown.index(512)
    at = viewport_point(hist, 0.5, row, win.charts.graphics)
    qtbot.mouseClick(win.charts.graphics.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert win.stats_panel.selected_sizes() == [512]
    qtbot.mouseClick(win.charts.graphics.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert win.stats_panel.selected_sizes() == []


def test_the_peak_in_the_summary_is_a_link_to_its_record(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    peak = int(np.argmax(win.trace.stats.timeline))  # the first record at the highest load
    win.charts.load_plot.setXRange(0, 2_000, padding=0)
    assert f'<a href="record:{peak}">' in win.stats_panel.summary.text()
    win.stats_panel.summary.linkActivated.emit(f"record:{peak}")
    low, high = win.charts.load_plot.vb.viewRange()[0]
    assert (low + high) / 2 == pytest.approx(peak)
    assert high - low == pytest.approx(2_000)
    assert win.workspace.cursor == peak


def test_fit_y_fits_the_visible_load(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    plot = win.charts.load_plot
    plot.setXRange(20_000, 20_100, padding=0)
    timeline = win.trace.stats.timeline
    # Steps: the one in force at 20,000 and every one starting up to 20,100.
    low, high = int(timeline[20_000:20_101].min()), int(timeline[20_000:20_101].max())
    win.linked.fit_action.trigger()
    bottom, top = plot.vb.viewRange()[1]
    assert bottom <= low and high <= top
    assert top - bottom < (high - low) * 1.2 + 1
    # The action comes first in the plot's menu, before pyqtgraph's own.
    assert plot.vb.menu.actions()[0] is win.linked.fit_action


def test_the_readout_gives_the_time_of_a_timed_record():
    records = Records.from_tuples([("alloc", 8), ("grow", 8, 1024), ("dealloc", 1024)])
    records.timestamp = np.array([0, 2_500_000, 3_000_000], np.uint64)
    trace = Trace("timed", "framed", records, Statistics.of(records))
    heap = HeapSize(4096, HeapSource.TYPED)
    # 2.5 million ticks of a 100 MHz clock: 25 ms; 1,024 of 4,096 bytes: 25%.
    assert readout(trace, 1, heap, 1e-8) == (
        "Record 1 · 25 ms · 1,024 B in use (25.00% of the heap) · grow 8 B → 1,024 B"
    )
    assert (
        readout(trace, 1, None) == "Record 1 · tick 2,500,000 · 1,024 B in use · grow 8 B → 1,024 B"
    )
    assert readout(trace, 3, heap) == ""  # past the end: nothing to say


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (1.5, "1.5 s"), (0.025, "25 ms"), (12.5e-6, "12.5 µs"), (3e-9, "3 ns")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_esc_during_a_load_cancels_the_load_and_keeps_the_range(
    window, qtbot, samples, monkeypatch
):
    win = loaded(window, qtbot, samples / WORKLOAD)
    win.workspace.select_range((100, 200))
    cancelled = []
    monkeypatch.setattr(win.opener, "cancel", lambda: cancelled.append(True))
    win.opener.cancel_shortcut.setEnabled(True)  # as while a file loads
    win.activateWindow()
    qtbot.keyClick(win.charts, Qt.Key.Key_Escape)
    assert cancelled == [True]
    assert win.workspace.range == (100, 200)


def test_the_table_headers_say_when_they_cover_a_range(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    model = win.stats_panel.model
    tip = Qt.ItemDataRole.ToolTipRole
    assert "whole trace" in model.headerData(2, Qt.Orientation.Horizontal, tip)
    win.workspace.select_range((100, 2_000))
    assert "within the record range" in model.headerData(2, Qt.Orientation.Horizontal, tip)
    assert "end of the record range" in model.index(0, 3).data(tip)


def test_opening_another_trace_forgets_the_cursor_and_the_range(window, qtbot, samples):
    win = loaded(window, qtbot, samples / WORKLOAD)
    win.workspace.select_range((100, 200))
    win.workspace.move_cursor(150)
    assert win.charts.readout_label.text().startswith("Record 150 ·")
    win.open_file(samples / SEED)
    assert win.charts.readout_label.text() == READOUT_HINT
    assert not any(line.isVisible() for line in win.linked.cursor.lines())
    assert not win.linked.chip.isVisible()
    assert len(table(win)) == 5  # the seed example's whole table


def test_a_ranges_json_export_is_what_stats_range_prints(window, qtbot, samples, tmp_path, capsys):
    """File ▸ Export covers what the table shows: with records 10,000-19,999 selected, the
    same document as `heapgui-cli stats --range 10000:20000 --json` (half-open there)."""
    win = loaded(window, qtbot, samples / WORKLOAD)
    win.workspace.select_range((10_000, 19_999))
    saved = tmp_path / "range.json"
    win.export_statistics(saved)
    code, printed, err = run(
        capsys, "stats", "-f", samples / WORKLOAD, "-s", "64K", "--range", "10000:20000", "--json"
    )
    assert (code, err) == (0, "")
    exported = json.loads(saved.read_text())
    assert exported == json.loads(printed)
    assert exported["range"] == {"start": 10_000, "stop": 20_000}
    win.workspace.select_range(None)  # cleared: the whole trace again, as plain `stats --json`
    win.export_statistics(saved)
    assert "range" not in json.loads(saved.read_text())
