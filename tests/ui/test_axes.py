"""Axis ticks written as people read them, aligned time plots, and heap use drawn as steps."""

from __future__ import annotations

import numpy as np
import pytest
from brute import live_series
from pyqtgraph.graphicsItems.PlotCurveItem import PlotCurveItem

from heapgui.trace.load import read_trace
from heapgui.ui.axes import ByteAxis, CountAxis, TimeAxis
from heapgui.ui.charts import ChartsPanel
from heapgui.ui.frag_chart import FragmentationChart
from heapgui.ui.occupancy_chart import OccupancyChart

KIB, MIB = 1024, 1024 * 1024


def major_labels(axis, low: float, high: float, pixels: float = 400) -> list[str]:
    """The labels of the major ticks an axis of `pixels` shows for [low, high]."""
    spacing, values = axis.tickValues(low, high, pixels)[0]
    return axis.tickStrings(values, axis.scale, spacing)


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        (0, 64 * KIB, ["0", "16 KiB", "32 KiB", "48 KiB", "64 KiB"]),
        (0, 3 * MIB, ["0", "1 MiB", "2 MiB", "3 MiB"]),
        (0, 1.5 * MIB, ["0", "0.5 MiB", "1.0 MiB", "1.5 MiB"]),
        (0, 100, ["0", "32 B", "64 B", "96 B"]),
        # Zoomed in far: no unit's two decimals tell the ticks apart, so whole bytes.
        (1_000_000, 1_000_100, ["1,000,000 B", "1,000,032 B", "1,000,064 B", "1,000,096 B"]),
    ],
)
def test_byte_ticks(qtbot, low, high, labels):
    assert major_labels(ByteAxis("left"), low, high) == labels


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        (0, 40_000, ["0", "10,000", "20,000", "30,000", "40,000"]),
        (1_000_000, 1_000_600, ["1,000,000", "1,000,200", "1,000,400", "1,000,600"]),
        (0, 2, ["0", "1", "2"]),  # never 0.5 of a record
        (10.2, 12.7, ["11", "12"]),
    ],
)
def test_record_ticks(qtbot, low, high, labels):
    axis = TimeAxis("bottom")
    assert major_labels(axis, low, high) == labels
    every = [v for _, values in axis.tickValues(low, high, 400) for v in values]
    assert every and all(float(v).is_integer() for v in every)


@pytest.mark.parametrize(
    ("seconds", "labels"),
    [
        (2.5, ["0", "0.5 s", "1.0 s", "1.5 s", "2.0 s", "2.5 s"]),
        (0.0025, ["0", "0.5 ms", "1.0 ms", "1.5 ms", "2.0 ms", "2.5 ms"]),
        (40e-6, ["0", "10 µs", "20 µs", "30 µs", "40 µs"]),
    ],
)
def test_time_ticks_in_seconds(qtbot, seconds, labels):
    clock = 48e6  # the data stays in clock ticks; the axis writes seconds
    axis = TimeAxis("bottom")
    axis.show_seconds(1 / clock)
    assert major_labels(axis, 0, seconds * clock, pixels=600) == labels
    axis.show_seconds(None)
    assert major_labels(axis, 0, 40_000) == ["0", "10,000", "20,000", "30,000", "40,000"]


def test_count_ticks_are_whole_and_grouped(qtbot):
    axis = CountAxis("left")
    assert major_labels(axis, 0, 25_000) == ["0", "5,000", "10,000", "15,000", "20,000", "25,000"]
    assert all(float(v).is_integer() for _, vs in axis.tickValues(0, 3, 400) for v in vs)


def test_histogram_counts_read_whole_in_either_scale(qtbot, samples):
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    axis = charts.hist_plot.getAxis("bottom")
    charts.log_check.setChecked(False)
    assert major_labels(axis, 0, 5_000_000) == [
        "0",
        "1,000,000",
        "2,000,000",
        "3,000,000",
        "4,000,000",
        "5,000,000",
    ]
    charts.log_check.setChecked(True)  # powers of ten: 10, 100, 1000 allocations
    labels = [
        label
        for spacing, values in axis.tickValues(0.5, 3.5, 400)
        for label in axis.tickStrings(values, 1.0, spacing)
    ]
    assert {"10¹", "10²", "10³"} <= set(labels) and not any("e+" in t for t in labels)


def test_pool_axis_has_whole_ticks(qtbot):
    chart = FragmentationChart()
    qtbot.addWidget(chart)
    axis = chart.getPlotItem().getAxis("bottom")
    assert major_labels(axis, 0.5, 3.5) == ["1", "2", "3"]


def test_time_plots_start_at_the_same_pixel(qtbot, samples):
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.resize(1000, 600)
    charts.show()
    charts.set_trace(read_trace(samples / "workload-40k.framed", heap_size=64 * KIB))
    charts.show_sizes([1024])
    qtbot.wait(50)
    load, live = charts.load_plot.vb, charts.live_plot.vb
    assert load.sceneBoundingRect().left() == live.sceneBoundingRect().left()
    # A plot in another panel (pool occupancy) gets the same axis width.
    occupancy = OccupancyChart()
    qtbot.addWidget(occupancy)
    occupancy.show()
    qtbot.wait(50)
    width = charts.load_plot.getAxis("left").width()
    assert occupancy.getPlotItem().getAxis("left").width() == width


def drawn_level(curve, at: float) -> float:
    """The y a step curve draws at `at`: the horizontal segment over that x."""
    item: PlotCurveItem = curve.curve
    x, y = item.getData()
    px, py = PlotCurveItem._generateStepModeData(item.opts["stepMode"], x, y, None)
    for k in range(len(px) - 1):
        if px[k] <= at < px[k + 1] and py[k] == py[k + 1]:
            return float(py[k])
    raise AssertionError(f"no step over x = {at}")


def test_heap_use_and_live_blocks_hold_until_the_next_record(qtbot, samples):
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    trace = read_trace(samples / "seed-example.framed", heap_size=4 * KIB)
    charts.set_trace(trace)
    charts.show_sizes([12])
    timeline = trace.stats.timeline
    live = live_series(trace.records, 12)
    first_change = int(charts.size_curve(12).curve.getData()[0][0])
    for record in range(len(timeline) - 1):
        assert drawn_level(charts.load_curve, record + 0.5) == timeline[record], record
        if record >= first_change:
            assert drawn_level(charts.size_curve(12), record + 0.5) == live[record], record
    assert np.array_equal(charts.load_curve.curve.getData()[1], timeline)
