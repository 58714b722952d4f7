"""pyqtgraph set-up shared by the charts: fast curves, time plots and palette colours."""

from __future__ import annotations

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from heapgui.ui.axes import CountAxis, TimeAxis, fixed_width

logger = logging.getLogger(__name__)

DOWNSAMPLE_FACTOR = 1.0


def fast_curve(plot: pg.PlotItem, **options) -> pg.PlotDataItem:
    """A curve that stays fast at ten million points.

    Peak downsampling keeps each pixel's minimum and maximum, so one sample per
    pixel (pyqtgraph's default is five) already draws the exact envelope.
    """
    curve = plot.plot(autoDownsampleFactor=DOWNSAMPLE_FACTOR, **options)
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


def set_up_time_plot(
    plot: pg.PlotItem, title: str, y_label: str, left: pg.AxisItem | None = None
) -> None:
    """A plot over the records: the mouse zooms x only while y follows the visible data.

    The x axis writes records (or seconds, `TimeAxis.show_seconds`); the y axis is
    `left`, whole counts by default. Every time plot's y axis has the same width,
    so plots stacked in one column draw a record at the same pixel.
    """
    left = left if left is not None else CountAxis("left")
    plot.setAxisItems({"left": left, "bottom": TimeAxis("bottom")})
    left.setWidth(fixed_width(left))
    plot.setTitle(title)
    plot.setLabel("left", y_label)
    plot.setLabel("bottom", "record")
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMouseEnabled(x=True, y=False)
    plot.vb.setAutoVisible(y=True)


def colour_axes(plot: pg.PlotItem, text: QColor) -> None:
    """The left and bottom axes (lines and labels) in the text colour."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))


def fit_y(plot: pg.PlotItem) -> None:
    """Fit the y axis to the lowest and highest curve values in the visible x range (not
    to the heap line or zero, which flatten a zoomed-in detail). The A button undoes it.

    The curves' x values increase, so the visible part is found by bisection, not by
    a pass over millions of points.
    """
    low, high = plot.vb.viewRange()[0]
    top, bottom = None, None
    for curve in plot.listDataItems():
        if not isinstance(curve, pg.PlotDataItem):
            continue  # markers (the peak, failures) sit on the curves
        x, y = curve.getOriginalDataset()
        if x is None or not len(x):
            continue
        # A step holds from its point to the next one: the step in force at `low` counts.
        first = max(int(np.searchsorted(x, low, side="right")) - 1, 0)
        last = int(np.searchsorted(x, high, side="right"))
        shown = y[first:last]
        if len(shown):
            top = max(float(shown.max()), top if top is not None else -np.inf)
            bottom = min(float(shown.min()), bottom if bottom is not None else np.inf)
    if top is None:
        return
    if top == bottom:  # a flat stretch: one unit around it
        bottom, top = bottom - 0.5, top + 0.5
    plot.setYRange(bottom, top, padding=0.05)


def share_x_range(one: pg.PlotItem, other: pg.PlotItem) -> None:
    """Zooming or panning either plot moves the other to the same x range.

    pyqtgraph's `setXLink` aligns views by screen pixels, which is right for plots
    stacked in one column and wrong for a plot in another dock of another width.
    Setting the range a plot already has changes nothing, so the two stop there, also
    when their limits clip the range differently (each clip is kept on the next round).
    """
    for leader, follower in ((one, other), (other, one)):
        leader.vb.sigXRangeChanged.connect(
            lambda _vb, span, follower=follower: follower.setXRange(*span, padding=0)
        )
