"""The window during a live capture: its views follow the capture, then show its trace.

A capture replaces what is open: the statistics table and the charts render the
live statistics as they grow, a guessed heap size grows with them (through the
workspace, which announces it), and when the capture stops its trace opens as
if its heaptrace had been opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from heapgui.trace.load import Trace
from heapgui.trace.traceset import TraceSet
from heapgui.ui.docks import Arrangement, arrange
from heapgui.workspace.live import LiveTrace
from heapgui.workspace.loading import config_beside

if TYPE_CHECKING:
    from heapgui.ui.main_window import MainWindow

DEFAULT_SELECTED_SIZES = 3
"""Chart the sizes with the most peak bytes so the live chart is not empty."""


class LiveView(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        panel = window.capture_panel
        panel.start_action.triggered.connect(self.show_dock)
        panel.capture_started.connect(self._started)
        panel.live_updated.connect(self._updated)
        panel.capture_finished.connect(self._finished)
        panel.layout_snapshot.connect(self._snapshot)
        panel.message.connect(lambda text: window.statusBar().showMessage(text, 10000))

    def show_dock(self) -> None:
        """A capture starting switches to the Capture arrangement, as a debugger switches modes;
        the user's own arrangement stays when the capture form is already in it."""
        dock = self._window.capture_dock
        if dock.isHidden():
            arrange(self._window, Arrangement.CAPTURE)
        else:
            dock.raise_()  # a tab behind another

    @Slot(object)
    def _started(self, live: LiveTrace) -> None:
        """The views follow the capture from now on; the previous trace is let go."""
        window, ws = self._window, self._window.workspace
        self.show_dock()
        window.cancel_load()
        ws.open(None, [], config_beside(live.path.parent))
        ws.set_live(live)
        window.stats_panel.set_stats(live.stats, live=True)
        window.stats_panel.set_heap_size(ws.heap)
        window.charts.begin_live(live)
        window.status.show_capture(live.format)
        window.setWindowTitle(f"Capturing {live.path.name} — heapgui")

    @Slot(object, bool)
    def _updated(self, live: LiveTrace, slow: bool) -> None:
        window, ws = self._window, self._window.workspace
        if ws.traces is not None:
            return  # a file was opened meanwhile: the capture goes on, on disk only
        ws.follow_capture(live.stats)
        window.stats_panel.update_stats(live.stats, fit_columns=slow)
        window.charts.update_live()
        window.status.show_capture(live.format, live.records)
        if slow and not window.stats_panel.selected_sizes():
            window.stats_panel.select_top_sizes(DEFAULT_SELECTED_SIZES)

    @Slot(object)
    def _snapshot(self, trace: Trace) -> None:
        """The pool layout follows the capture: the panel sends a copy of it now and then."""
        if self._window.workspace.traces is None:
            self._window.layout_panel.set_trace(trace, None)

    @Slot(object)
    def _finished(self, live: LiveTrace) -> None:
        """The captured trace becomes the window's trace, as if its heaptrace had been opened."""
        window, ws = self._window, self._window.workspace
        if ws.traces is not None:
            return
        selected = window.stats_panel.selected_sizes()
        ws.set_live(None)
        traces = TraceSet.of([live.to_trace()])
        config = config_beside(live.path.parent)
        window.opener.show(traces, [live.path], config, f"Loaded {live.path}")
        window.charts.set_time_scale(live.core_clock, bool(live.timed))
        if selected:
            window.stats_panel.select_sizes(selected)
