"""The charts get the window: plot areas measured at common screen sizes, docks sized to
their content, arrangements, Reset layout, and dock geometry kept across sessions."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QTabBar, QToolButton

from heapgui.capture.sources import SIM
from heapgui.ui.main_window import MainWindow

MIN_PLOT_HEIGHT = 120
CHART_SHARE = 0.55
SIZES = [(1280, 800), (1600, 1000)]


def settle(window: MainWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    window.show()
    for _ in range(4):
        QApplication.processEvents()


def plot_heights(window: MainWindow) -> dict[str, float]:
    """The pixels each time plot's data area really gets on screen."""
    charts = window.charts
    return {
        name: plot.vb.sceneBoundingRect().height()
        for name, plot in (("load", charts.load_plot), ("live", charts.live_plot))
    }


def front_tab(window: MainWindow, dock) -> str:
    """The title of the tab in front, in the tab group that holds `dock` (Qt may keep a
    one-tab bar of an earlier arrangement around, which is no group)."""
    for bar in window.findChildren(QTabBar):
        titles = [bar.tabText(i) for i in range(bar.count())]
        if bar.isVisible() and dock.windowTitle() in titles and len(titles) > 1:
            return bar.tabText(bar.currentIndex())
    return ""


def time_chart_share(window: MainWindow) -> float:
    return window.charts.graphics.height() / window.height()


@pytest.mark.parametrize("size", SIZES)
def test_the_time_charts_get_the_room(window, samples, size):
    window.open_file(samples / "workload-40k.framed")
    settle(window, size)
    heights = plot_heights(window)
    assert min(heights.values()) >= MIN_PLOT_HEIGHT, heights
    assert time_chart_share(window) >= CHART_SHARE - 0.01
    # A quarter of the window's width at least: the statistics table and the histogram
    # column share the rest.
    assert window.charts.load_plot.vb.sceneBoundingRect().width() >= size[0] * 0.25


@pytest.mark.parametrize("size", SIZES)
def test_the_problems_banner_never_squeezes_the_charts_away(window, samples, tmp_path, size):
    window.open_file(samples / "firmware-quirk.framed")
    settle(window, size)
    assert window.banner.isVisible()
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT
    assert time_chart_share(window) >= CHART_SHARE - 0.01 - window.banner.height() / size[1]


def test_growing_the_layout_dock_cannot_take_the_charts_room(window, samples):
    window.open_file(samples / "workload-40k.framed")
    settle(window, SIZES[0])
    window.resizeDocks([window.layout_dock], [2000], Qt.Orientation.Vertical)
    QApplication.processEvents()
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT


@pytest.mark.parametrize("size", SIZES)
def test_the_statistics_dock_is_as_wide_as_its_table(window, samples, size):
    window.open_file(samples / "workload-40k.framed")
    settle(window, size)
    table = window.stats_panel.table
    header = table.horizontalHeader()
    # Each column's width as Qt measures its header and cells, whatever the dock's width.
    columns = sum(
        max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in range(header.count())
    )
    assert window.stats_dock.width() <= columns + 60  # the frame, a scroll bar, margins
    assert window.stats_dock.width() <= 0.46 * size[0]
    assert table.horizontalScrollBar().maximum() == 0  # every column shows whole
    assert window.stats_dock.height() < 0.8 * size[1]  # not the full height for a few rows


def test_reset_layout_brings_back_the_analysis_arrangement(qtbot, window, samples):
    window.open_file(samples / "workload-40k.framed")
    settle(window, SIZES[0])
    window.stats_dock.hide()
    window.capture_dock.show()
    window.resizeDocks([window.layout_dock], [600], Qt.Orientation.Vertical)
    window.reset_layout_action.trigger()
    QApplication.processEvents()
    assert window.stats_dock.isVisible() and window.layout_dock.isVisible()
    assert not window.capture_dock.isVisible()
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT


def test_the_capture_arrangement_puts_the_capture_form_in_front_of_the_layout(window):
    settle(window, SIZES[0])
    window.capture_arrangement_action.trigger()
    QApplication.processEvents()
    assert window.capture_dock.isVisible() and window.stats_dock.isVisible()
    # The layout is a tab away: it follows the capture.
    assert window.layout_dock in window.tabifiedDockWidgets(window.capture_dock)
    assert front_tab(window, window.layout_dock) == "Capture"
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT
    window.analysis_arrangement_action.trigger()
    QApplication.processEvents()
    assert window.capture_dock.isHidden() and window.layout_dock.isVisible()


def test_dock_geometry_persists(qtbot, window):
    settle(window, (780, 580))  # the offscreen screen is 800x600: restoring clamps to it
    window.capture_arrangement_action.trigger()
    QApplication.processEvents()
    width, height = window.stats_dock.width(), window.capture_dock.height()
    window.close()
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    fresh.show()
    QApplication.processEvents()
    assert fresh.capture_dock.isVisible() and front_tab(fresh, fresh.capture_dock) == "Capture"
    assert abs(fresh.stats_dock.width() - width) <= 2
    assert abs(fresh.capture_dock.height() - height) <= 2


def test_a_dismissed_banner_gives_its_room_back(window, samples):
    window.open_file(samples / "firmware-quirk.framed")
    settle(window, SIZES[0])
    with_banner = window.chart_page.minimumHeight()
    window.banner.dismiss()
    QApplication.processEvents()
    assert window.chart_page.minimumHeight() < with_banner
    window.show_banner_action.trigger()
    QApplication.processEvents()
    assert window.chart_page.minimumHeight() == with_banner


def test_validation_shows_beside_the_layout_it_judges(window, samples):
    window.open_file(samples / "workload-40k.framed")
    settle(window, SIZES[0])
    window.show_validation()
    QApplication.processEvents()
    layout, validation = window.layout_dock, window.validate_dock
    assert layout.isVisible() and validation.isVisible()  # both at once, not tabs
    assert validation not in window.tabifiedDockWidgets(layout)
    assert validation.x() >= layout.x() + layout.width()  # to its right
    assert abs(validation.y() - layout.y()) < 5
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT


@pytest.mark.parametrize(("size", "least_rows"), [((1280, 800), 2), ((1600, 1000), 5)])
def test_the_layout_docks_height_goes_to_the_pool_table(window, samples, size, least_rows):
    """The fragmentation chart sits beside the table, so the dock's few pixels are rows: the
    panel fits without scrolling and the table shows whole rows (8 pools here)."""
    window.open_file(samples / "workload-40k.framed")
    settle(window, size)
    panel = window.layout_panel
    area = window.layout_dock.widget()
    assert not area.verticalScrollBar().isVisible()  # nothing of the panel is out of sight
    strip, table = panel.strip, panel.table
    left_of = lambda widget: widget.mapTo(panel, QPoint(0, 0)).x()  # noqa: E731
    assert strip.isVisible() and left_of(strip) >= left_of(table) + table.width()  # beside
    row = table.verticalHeader().defaultSectionSize()
    assert table.viewport().height() // row >= least_rows
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT


def test_start_and_its_errors_stay_in_view_in_a_short_capture_dock(window, samples, tmp_path):
    """At 1280×800 the capture settings do not fit the dock: they scroll, while Start, Stop
    and the line that says why Start refused stay above them, whole and visible."""
    window.open_file(samples / "workload-40k.framed")
    settle(window, SIZES[0])
    window.capture_arrangement_action.trigger()
    QApplication.processEvents()
    panel = window.capture_panel
    panel.form.select_source(SIM)
    panel.form.set_output(tmp_path / "missing" / "heaptrace")
    assert not panel.start()
    QApplication.processEvents()
    assert "does not exist" in panel.state_label.text()
    start = next(
        b for b in panel.findChildren(QToolButton) if b.defaultAction() is panel.start_action
    )
    for widget in (start, panel.state_label):
        assert widget.isVisible()
        assert widget.visibleRegion().boundingRect() == widget.rect(), widget  # not cut off
    settings = panel.form.parentWidget().parentWidget().parentWidget()  # the scroll area
    assert isinstance(settings, QScrollArea) and settings.verticalScrollBar().isVisible()
    assert min(plot_heights(window).values()) >= MIN_PLOT_HEIGHT
