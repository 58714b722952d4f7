"""Every trace's heap in use, one curve each, in the trace-set view.

The traces of a set are captures of different runs, so their curves are
aligned at their starts: by record (the n-th allocation of each run), or,
when every trace kept its timestamps (a raw .swo capture), by the time since
its first record. The legend is outside the data: the view's list of traces
puts a swatch of each curve's colour before its name (`swatch`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from heapgui.trace.curves import record_numbers
from heapgui.trace.records import Records
from heapgui.trace.traceset import TraceSet
from heapgui.ui.axes import ByteAxis
from heapgui.ui.plotting import colour_axes, fast_curve, set_up_time_plot
from heapgui.ui.theme import series_colour

MIN_HEIGHT = 140


def timed(traces: TraceSet) -> bool:
    """Whether every trace of the set with records kept their timestamps."""
    return all(t.records.timestamp is not None for _, t in traces if t.records is not None)


def since_start(records: Records) -> np.ndarray:
    """Each record's timestamp counted from the trace's first record."""
    return records.timestamp - records.timestamp[0]


def swatch(index: int, palette: QPalette) -> str:
    """A square in the colour of trace `index`'s curve, for rich text."""
    return f'<span style="color: {series_colour(index, palette).name()}">■</span>'


class TraceSetChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Heap in use of every trace")
        self.setMinimumHeight(MIN_HEIGHT)
        self.plot_item = self.getPlotItem()
        set_up_time_plot(self.plot_item, "Heap in use, by record", "bytes in use", ByteAxis("left"))
        self._curves: list[pg.PlotDataItem] = []
        self._apply_palette()

    def set_traces(self, traces: TraceSet | None, by_time: bool = False) -> None:
        """One curve per trace; `by_time` (every trace timed, `timed`) aligns their starts in
        time, else their records."""
        for curve in self._curves:
            self.plot_item.removeItem(curve)
        self._curves = []
        by_time = by_time and traces is not None and timed(traces)
        self.plot_item.setTitle("Heap in use, by time" if by_time else "Heap in use, by record")
        self.plot_item.setLabel(
            "bottom", "timestamp ticks since each trace's first record" if by_time else "record"
        )
        if traces is None:
            return
        longest = 1
        for name, trace in traces:
            if trace.records is None or not len(trace.records):
                continue
            x = since_start(trace.records) if by_time else record_numbers(trace.records)
            curve = fast_curve(self.plot_item, name=name, stepMode="right")
            curve.setData(x, trace.stats.timeline)
            self._curves.append(curve)
            longest = max(longest, int(x[-1]) + 1)
        self.plot_item.setLimits(xMin=-longest * 0.01, xMax=longest * 1.01)
        self.plot_item.vb.disableAutoRange(axis=pg.ViewBox.XAxis)  # clipping needs it off
        self.plot_item.setXRange(0, longest, padding=0.01)
        self._apply_series_colours()

    def curves(self) -> list[pg.PlotDataItem]:
        return list(self._curves)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        # PlotWidget changes its palette while it is being built, before our items exist.
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_curves"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        colour_axes(self.plot_item, text)
        self.plot_item.titleLabel.setText(self.plot_item.titleLabel.text, color=text)
        self._apply_series_colours()

    def _apply_series_colours(self) -> None:
        for k, curve in enumerate(self._curves):
            curve.setPen(pg.mkPen(series_colour(k, self.palette()), width=1))
