"""The fragmentation chart's pool axis: whole pool counts only."""

import pytest

from heapgui.ui.frag_chart import FragmentationChart


@pytest.mark.parametrize(("low", "high"), [(0.5, 5.5), (0.5, 2.5), (0.5, 32.5), (2.9, 3.1)])
def test_pool_ticks_are_whole_numbers(qtbot, low, high):
    chart = FragmentationChart()
    qtbot.addWidget(chart)
    axis = chart.getPlotItem().getAxis("bottom")
    levels = axis.tickValues(low, high, 800)
    ticks = [v for _, values in levels for v in values]
    assert ticks, levels
    assert all(float(v).is_integer() and low <= v <= high for v in ticks), ticks
