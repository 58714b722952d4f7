"""Where the docks go and how much room they take: the time charts keep the window.

Two arrangements, like Qt Creator's modes: *Analysis* (the statistics beside the
charts, the pool layout under them) and *Capture* (the capture form and the
statistics beside the charts). Side docks are as wide as their content. The time
charts keep at least `CHART_SHARE` of the window's height and each time plot at
least `MIN_PLOT_HEIGHT` pixels, so no dock, banner or small window squeezes them
into a strip; a dock with less room than it would like scrolls instead.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QScrollArea,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from heapgui.ui.charts import ChartsPanel
    from heapgui.ui.main_window import MainWindow

CHART_SHARE = 0.55
"""The least share of the window's height the time charts get."""
MIN_PLOT_HEIGHT = 120
"""The least height of a time plot's data area, in pixels."""
SIDE_SHARE = 0.46
"""The most of the window's width a side dock is given when it is fitted to its content."""
STATE_VERSION = 2
"""Saved dock states older than this (before the charts kept their room) are not restored."""

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
HORIZONTAL, VERTICAL = Qt.Orientation.Horizontal, Qt.Orientation.Vertical


class Arrangement(Enum):
    ANALYSIS = "Analysis"
    CAPTURE = "Capture"


class ChartColumn(QWidget):
    """The strips that explain what is shown (they hide when there is nothing to say) above
    the charts. The strips wrap their text, and the main window's layout does not ask wrapped
    text its height: the column asks it, or the strips would take it from the charts."""

    def __init__(self, strips: list[QWidget], charts: QWidget, parent: QWidget) -> None:
        super().__init__(parent)
        self._strips = strips
        self._charts = charts
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        for strip in strips:
            column.addWidget(strip)
            strip.installEventFilter(self)  # shown, hidden or rewrapped: measure again
        column.addWidget(charts, 1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.LayoutRequest):
            self.keep_strips_room()
        return False

    def keep_strips_room(self) -> None:
        """The least height for the strips shown, at this width, and the charts' least."""
        if not self.isVisible():
            return  # the width is not known yet: the first resize comes back here
        column = self.layout()
        margins = column.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        least = self._charts.minimumSizeHint().height() + margins.top() + margins.bottom()
        for strip in self._strips:
            if strip.isVisibleTo(self):
                wrapped = strip.heightForWidth(width)
                least += max(wrapped, strip.minimumSizeHint().height()) + column.spacing()
        self.setMinimumHeight(least)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.keep_strips_room()


def scrolled(panel: QWidget) -> QScrollArea:
    """`panel` in a frameless scroll area: a short dock scrolls it rather than taking the
    charts' height to show all of it."""
    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(panel)
    area.setAccessibleName(panel.accessibleName())
    return area


def keep_chart_room(window: MainWindow) -> None:
    """The charts keep their share of `window`'s height, each time plot its least height.

    Called on every resize: the charts' minimum grows with the window, so the
    docks and the banner give way, never the charts. In a window too small for
    both (under about 740 pixels) the plots share what the charts' share leaves.
    """
    charts = window.charts
    plots = (charts.load_plot, charts.live_plot)
    room = math.ceil(CHART_SHARE * window.height())
    for plot in plots:
        plot.vb.setMinimumHeight(MIN_PLOT_HEIGHT)
    least = _scene_least(charts)
    if least > room:
        per_plot = max(0, (room - (least - len(plots) * MIN_PLOT_HEIGHT)) // len(plots))
        for plot in plots:
            plot.vb.setMinimumHeight(per_plot)
        least = _scene_least(charts)
    charts.graphics.setMinimumHeight(max(least, room))
    window.chart_page.keep_strips_room()


def _scene_least(charts: ChartsPanel) -> int:
    """The plots' least height (titles, axes, least data areas): the scene's, which the view
    does not pass on to the widget layout by itself."""
    charts.graphics.ci.layout.invalidate()  # it caches the hint from before a change
    scene_least = charts.graphics.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
    return math.ceil(scene_least) + 2 * charts.graphics.frameWidth()


def table_width(table: QTableView) -> int:
    """The width that shows every column of `table` whole, with its frame and scroll bar."""
    header = table.horizontalHeader()
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    widths = [max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in shown]
    if widths and header.stretchLastSection():
        # A stretched last section never gets narrower than the default section size.
        widths[-1] = max(widths[-1], header.defaultSectionSize())
    columns = sum(widths)
    # Room for the vertical scroll bar too: a trace with more sizes than rows shown needs it.
    scroll_bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    return columns + scroll_bar + 2 * table.frameWidth()


def side_width(window: MainWindow) -> int:
    """What the side column's visible docks need, within `SIDE_SHARE` of the window."""
    panel = window.stats_panel
    margins = panel.layout().contentsMargins()
    wanted = table_width(panel.table) + margins.left() + margins.right()
    return min(wanted, round(SIDE_SHARE * window.width()))


def fit_side_column(window: MainWindow, grow_only: bool = False) -> None:
    """The side column as wide as its content; `grow_only` never narrows what the user set."""
    width = side_width(window)
    if grow_only and window.stats_dock.width() >= width:
        return
    window.resizeDocks([window.stats_dock], [width], HORIZONTAL)


def place_docks(window: MainWindow) -> None:
    """Every dock in its area, in its order; which ones show is the arrangement's choice.

    The statistics (and a set's comparison, as a tab) beside the charts; the pool
    layout under both, with the capture form as a tab of it: their forms and tables
    are wide, and a statistics table of a few rows has no use for the full height.
    The validation sits beside the layout it judges, not over it. A dock tabbed
    while hidden leaves no empty tab bar.
    """
    docks = [
        window.stats_dock,
        window.capture_dock,
        window.traceset_dock,
        window.layout_dock,
        window.validate_dock,
    ]
    for dock in docks:
        window.removeDockWidget(dock)
        dock.setFloating(False)
    window.addDockWidget(LEFT, window.stats_dock)
    window.addDockWidget(BOTTOM, window.layout_dock)
    window.setCorner(Qt.Corner.BottomLeftCorner, BOTTOM)
    window.setCorner(Qt.Corner.TopLeftCorner, LEFT)
    # Split before tabbing: a dock split off a tabbed one would join its tabs instead.
    window.addDockWidget(BOTTOM, window.validate_dock)
    window.splitDockWidget(window.layout_dock, window.validate_dock, HORIZONTAL)
    window.validate_dock.hide()
    for dock, beside, area in (
        (window.capture_dock, window.layout_dock, BOTTOM),
        (window.traceset_dock, window.stats_dock, LEFT),
    ):
        window.addDockWidget(area, dock)
        dock.hide()
        window.tabifyDockWidget(beside, dock)


def arrange(window: MainWindow, arrangement: Arrangement) -> None:
    """Show the arrangement's docks where they belong, each sized to its content.

    Analysis: the statistics and the pool layout. Capture: the capture form in front
    of the pool layout (a tab away: it follows the capture), the statistics beside.
    """
    place_docks(window)
    capturing = arrangement is Arrangement.CAPTURE
    shown: dict[QDockWidget, bool] = {
        window.stats_dock: True,
        window.layout_dock: True,
        window.capture_dock: capturing,
        # A trace set's comparison belongs to analysing it; validation shows on demand.
        window.traceset_dock: not capturing and is_set(window),
        window.validate_dock: False,
    }
    for dock, visible in shown.items():
        dock.setVisible(visible)
    window.stats_dock.raise_()
    (window.capture_dock if capturing else window.layout_dock).raise_()
    fit_side_column(window)
    # As tall as the panel in front asks; the charts' minimum holds it back when it asks more.
    front = window.capture_panel if capturing else window.layout_panel
    window.resizeDocks([window.layout_dock], [front.sizeHint().height()], VERTICAL)


def show_heap_size_field(window: MainWindow) -> None:
    """The layout panel's size field, shown and focused, for the real heap size."""
    window.heap_notice.hide()
    window.layout_dock.show()
    window.layout_dock.raise_()
    field = window.layout_panel.size_edit
    field.setFocus()
    field.selectAll()


def is_set(window: MainWindow) -> bool:
    traces = window.workspace.traces
    return traces is not None and len(traces) > 1
