"""One cursor across every time plot, and the readout of the record under it.

The cursor is the workspace's (`Workspace.cursor`, a record number): the mouse
over any time plot moves it there, and every plot draws its line where the
workspace says, so the load, live-block, occupancy and trace-set plots always
point at the same record. Most plots share the load chart's x coordinate
(`timeline_x`: timestamps when captured, else record numbers); a plot of
several traces aligns them by record number (`by_record`).

A live capture has no trace in the workspace until it stops: the cursor
waits for it.
"""

from __future__ import annotations

import logging

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QColor

from heapgui.sizes import format_bytes, format_count
from heapgui.trace.curves import record_at
from heapgui.trace.load import Trace
from heapgui.trace.records import KIND_NAMES, Records
from heapgui.trace.stats import percent_of_heap
from heapgui.ui.axes import format_seconds
from heapgui.workspace import HeapSize, Workspace

logger = logging.getLogger(__name__)


def x_of_record(records: Records, record: int, by_record: bool = False) -> float:
    """Where a record is drawn on the time plots (the start of its step)."""
    if by_record:
        return float(record)
    position = min(max(record - records.first_index, 0), len(records) - 1)
    if records.timestamp is not None:
        return float(records.timestamp[position])
    return float(records.first_index + position)


def record_under(records: Records, x: float, by_record: bool = False) -> int:
    """The record number drawn at time-plot coordinate `x` (clipped to the trace)."""
    if by_record:
        return records.first_index + min(max(round(x) - records.first_index, 0), len(records) - 1)
    return records.first_index + record_at(records, x)


def operation(records: Records, position: int) -> str:
    """What the record did: "alloc 24 B", "grow 24 B → 40 B"."""
    kind = int(records.kind[position])
    text = f"{KIND_NAMES[kind]} {format_bytes(int(records.size[position]))}"
    if records.new_size[position]:
        text += f" → {format_bytes(int(records.new_size[position]))}"
    return text


def readout(
    trace: Trace, record: int, heap: HeapSize | None, seconds_per_tick: float | None = None
) -> str:
    """One line on the record under the cursor: its number, its time when the trace has
    timestamps, the bytes in use after it with their share of the heap, and what it did."""
    records = trace.records
    position = record - records.first_index
    if not 0 <= position < len(records):
        return ""
    parts = [f"Record {format_count(record)}"]
    if records.timestamp is not None:
        ticks = int(records.timestamp[position])
        parts.append(
            format_seconds(ticks * seconds_per_tick)
            if seconds_per_tick
            else f"tick {format_count(ticks)}"
        )
    in_use = int(trace.stats.timeline[position])
    share = f" ({percent_of_heap(in_use, heap.size):.2f}% of the heap)" if heap else ""
    parts.append(f"{format_bytes(in_use)} in use{share}")
    parts.append(operation(records, position))
    return " · ".join(parts)


class TimeCursor(QObject):
    """The workspace's cursor drawn as a vertical line on every attached time plot."""

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._lines: list[tuple[pg.InfiniteLine, bool]] = []  # with its plot's by_record
        workspace.cursor_changed.connect(self._draw)
        workspace.traces_changed.connect(lambda: self._draw(workspace.cursor))
        workspace.shown_changed.connect(lambda _index: self._draw(workspace.cursor))

    def attach(self, plot: pg.PlotItem, by_record: bool = False) -> pg.InfiniteLine:
        """Draw the cursor on `plot` and let the mouse over it move the cursor; `by_record`:
        the plot's x is the record number even when the trace has timestamps."""
        line = pg.InfiniteLine(angle=90, movable=False)
        line.setZValue(20)  # over the curves and the range shading
        line.hide()
        plot.addItem(line, ignoreBounds=True)
        self._lines.append((line, by_record))
        scene = plot.scene()
        scene.sigMouseMoved.connect(lambda pos: self._moved(plot, pos, by_record))
        self._draw(self._workspace.cursor)
        return line

    def lines(self) -> list[pg.InfiniteLine]:
        return [line for line, _ in self._lines]

    def set_colour(self, colour: QColor) -> None:
        for line, _ in self._lines:
            line.setPen(pg.mkPen(colour, width=1))

    def _moved(self, plot: pg.PlotItem, pos: QPointF, by_record: bool) -> None:
        records = self._records()
        if records is None or not plot.vb.sceneBoundingRect().contains(pos):
            return
        x = plot.vb.mapSceneToView(pos).x()
        self._workspace.move_cursor(record_under(records, x, by_record))

    def _records(self) -> Records | None:
        trace = self._workspace.trace
        if trace is None or trace.records is None or not len(trace.records):
            return None
        return trace.records

    def _draw(self, record: int | None) -> None:
        records = self._records()
        shown = record is not None and records is not None
        for line, by_record in self._lines:
            if shown:
                line.setValue(x_of_record(records, record, by_record))
            line.setVisible(shown)
