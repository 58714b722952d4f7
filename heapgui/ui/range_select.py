"""Choosing records A..B on a time plot, as heaptrack's "Filter In On Selection".

Shift-drag across any time plot selects the records under the drag; a plain
drag still pans and the wheel still zooms. The workspace's range
(`Workspace.range`, both ends included) is drawn as a shaded band on every
attached plot, so the statistics table, the histogram and the layout's demand
visibly cover what is shaded.

pyqtgraph gives a drag to the view box under it; the plots are built in
several modules (the occupancy chart is the validation panel's), so the
selector wraps each view box's drag handler rather than asking for a
ViewBox subclass everywhere.
"""

from __future__ import annotations

import logging

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor

from heapgui.trace.records import Records
from heapgui.ui.cursor import record_under, x_of_record
from heapgui.workspace import Workspace
from heapgui.workspace.window import RecordRange

logger = logging.getLogger(__name__)

BAND_ALPHA = 50
SELECT_MODIFIER = Qt.KeyboardModifier.ShiftModifier


def band(records: Records, chosen: RecordRange, by_record: bool = False) -> tuple[float, float]:
    """The x span the records `chosen` are drawn over: from the first one's step to the end
    of the last one's (the next record's x), or the trace's last x."""
    first, last = chosen
    end = records.first_index + len(records) - 1
    return (
        x_of_record(records, first, by_record),
        x_of_record(records, min(last + 1, end), by_record),
    )


class RangeSelector(QObject):
    """Shift-drag on an attached plot selects a record range; every plot shades it."""

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._bands: list[tuple[pg.LinearRegionItem, bool]] = []  # with its plot's by_record
        self._dragging = False
        workspace.range_changed.connect(self._draw)
        workspace.shown_changed.connect(lambda _index: self._draw(workspace.range))

    def attach(self, plot: pg.PlotItem, by_record: bool = False) -> pg.LinearRegionItem:
        """Shade the range on `plot`, and select one there by Shift-drag; `by_record`: the
        plot's x is the record number even when the trace has timestamps."""
        shade = pg.LinearRegionItem(movable=False)
        shade.setZValue(-5)  # under the curves
        shade.hide()
        plot.addItem(shade, ignoreBounds=True)
        self._bands.append((shade, by_record))
        vb = plot.vb
        panning = vb.mouseDragEvent
        vb.mouseDragEvent = lambda ev, axis=None: self._drag(vb, ev, axis, panning, by_record)
        self._draw(self._workspace.range)
        return shade

    def bands(self) -> list[pg.LinearRegionItem]:
        return [shade for shade, _ in self._bands]

    def set_colour(self, colour: QColor) -> None:
        fill = QColor(colour)
        fill.setAlpha(BAND_ALPHA)
        for shade in self.bands():
            shade.setBrush(pg.mkBrush(fill))
            for line in shade.lines:
                line.setPen(pg.mkPen(fill, width=1))  # faint edges: the cursor is the line

    def _drag(self, vb: pg.ViewBox, ev, axis, panning, by_record: bool) -> None:
        selecting = ev.button() == Qt.MouseButton.LeftButton and (
            self._dragging or ev.modifiers() & SELECT_MODIFIER
        )
        records = self._records()
        if not selecting or records is None or axis is not None:
            panning(ev, axis)
            return
        ev.accept()
        first = record_under(records, vb.mapToView(ev.buttonDownPos()).x(), by_record)
        last = record_under(records, vb.mapToView(ev.pos()).x(), by_record)
        chosen = (min(first, last), max(first, last))
        self._dragging = not ev.isFinish()
        if self._dragging:
            self._shade(records, chosen)  # follows the mouse; chosen when let go
        else:
            self._workspace.select_range(chosen)
            self._draw(self._workspace.range)

    def _records(self) -> Records | None:
        trace = self._workspace.trace
        if trace is None or trace.records is None or not len(trace.records):
            return None
        return trace.records

    def _draw(self, chosen: RecordRange | None) -> None:
        records = self._records()
        if chosen is None or records is None:
            for shade in self.bands():
                shade.hide()
            return
        self._shade(records, chosen)

    def _shade(self, records: Records, chosen: RecordRange) -> None:
        for shade, by_record in self._bands:
            shade.setRegion(band(records, chosen, by_record))
            shade.show()
