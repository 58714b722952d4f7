"""Clicking the load chart: what was live right after a record, counted off the GUI thread."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from heapgui.sizes import format_bytes, format_count
from heapgui.trace.curves import live_rows, record_at, statistics_until, timeline_x
from heapgui.trace.load import Trace
from heapgui.trace.stats import Statistics, percent_of_heap
from heapgui.ui.cursor import operation
from heapgui.ui.loader import Task


class RecordInspector(QObject):
    """A line at the clicked record on `plot` and the live blocks after it in `label`."""

    inspected = Signal(int)
    """A record was inspected (its position in the trace); the text is in `label`."""

    def __init__(self, plot: pg.PlotItem, parent: QWidget) -> None:
        super().__init__(parent)
        self._plot = plot
        self._trace: Trace | None = None
        self._task: Task | None = None
        self.heap_size = 0
        self.label = QLabel(parent)
        self.label.hide()  # until a record is clicked: the chart hint says how
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Record inspector")
        self.label.setToolTip("What was allocated right after the clicked record")
        self.line = pg.InfiniteLine(angle=90, movable=False)
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)
        plot.scene().sigMouseClicked.connect(self._clicked)

    def set_trace(self, trace: Trace | None) -> None:
        self._cancel()
        self._trace = trace
        self.line.hide()
        self.label.clear()
        self.label.hide()

    def _clicked(self, event) -> None:
        trace = self._trace
        if trace is None or not len(trace.records) or event.button() != Qt.MouseButton.LeftButton:
            return
        if not self._plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = self._plot.vb.mapSceneToView(event.scenePos()).x()
        self.inspect_record(record_at(trace.records, x))

    def inspect_record(self, position: int) -> None:
        """Show what was live right after the record at `position` (0-based in the trace)."""
        trace = self._trace
        if trace is None or not 0 <= position < len(trace.records):
            return
        self._cancel()
        records = trace.records
        self.line.setValue(float(timeline_x(records.slice(position, position + 1))[0]))
        self.line.show()
        self.label.setText(f"Record {format_count(records.first_index + position)}: computing…")
        self.label.show()

        def job(progress, cancelled):
            return statistics_until(records, position)

        task = Task(job)  # unparented: dropped with the next click
        task.succeeded.connect(lambda stats: self._show(trace, position, stats))
        task.failed.connect(self.label.setText)
        self._task = task
        task.start()

    def _show(self, trace: Trace, position: int, stats: Statistics) -> None:
        records = trace.records
        in_use = int(trace.stats.timeline[position])
        live = ", ".join(
            f"{format_bytes(r.size)} × {format_count(r.live)}" for r in live_rows(stats)
        )
        heap = self.heap_size
        percent = f" ({percent_of_heap(in_use, heap):.2f}% of heap)" if heap else ""
        record = format_count(records.first_index + position)
        self.label.setText(
            f"<b>Record {record}</b> ({operation(records, position)}): "
            f"{format_bytes(in_use)} in use{percent}. Live blocks: {live or 'none'}"
        )
        self.inspected.emit(position)

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
