"""The status bar's account of what is shown, and the problems banner, from the workspace.

Format, records, the heap size with where it came from, and the problems: the
decoder's, an empty capture, or a peak above the heap. A problem that depends on
the heap size is re-judged whenever the workspace's heap size changes.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow

from heapgui.report import counted
from heapgui.sizes import format_count
from heapgui.trace.load import Trace
from heapgui.trace.problems import usage_hints
from heapgui.ui.banner import ProblemBanner
from heapgui.workspace import HeapSize, HeapSource, Workspace

HEAP_TIPS = {
    HeapSource.CONFIG: "The heap size is the chosen heap's in the config file named in brackets",
    HeapSource.TYPED: "The heap size was typed in the layout panel",
    HeapSource.GUESSED: (
        "No config names the heap size, so it is guessed: the next power of two above "
        "drone's bound for the trace. Type the real size in the layout panel, or choose "
        "a config there"
    ),
}


def problem_hints(trace: Trace, heap_size: int | None) -> list[str]:
    """The decoder's problems, plus an empty capture or a peak above the heap."""
    stats = trace.stats
    return trace.hints() + usage_hints(
        trace.bytes_read, stats.peak_usage, stats.peak_record, heap_size
    )


class TraceStatus:
    """Permanent status-bar labels and the banner; `refresh` renders them from the workspace."""

    def __init__(self, window: QMainWindow, banner: ProblemBanner, workspace: Workspace) -> None:
        self._workspace = workspace
        self._banner = banner
        self._banner_hints: list[str] | None = None
        self.format_label = QLabel(window)
        self.format_label.setToolTip("Trace format, detected from the file's first bytes")
        self.records_label = QLabel(window)
        self.records_label.setToolTip("Decoded records: allocations, deallocations, resizes")
        self.heap_label = QLabel(window)
        self.heap_label.setToolTip("The heap size and where it came from")
        self.problems_label = QLabel(window)
        bar = window.statusBar()
        for label in (self.format_label, self.records_label, self.heap_label):
            label.setAccessibleName(label.toolTip())
            bar.addPermanentWidget(label)
        self.problems_label.setAccessibleName("Problems")
        bar.addPermanentWidget(self.problems_label)
        self.show_banner_action = QAction("Show &problems", window)
        self.show_banner_action.setToolTip("Show the problems banner again")
        self.show_banner_action.setStatusTip(self.show_banner_action.toolTip())
        self.show_banner_action.triggered.connect(self.show_banner)

    def refresh(self, chosen_format: bool = False) -> None:
        """Render the trace shown and the heap size; unchanged problems stay dismissed.
        `chosen_format`: the trace was opened with File → Open As."""
        self.show_heap(self._workspace.heap)
        trace = self._workspace.trace
        if trace is None:
            self.format_label.setText("No trace")
            self.records_label.setText("")
            self.problems_label.setText("")
            self.show_banner_action.setEnabled(False)
            return
        chosen = " (chosen)" if chosen_format else ""
        self.format_label.setText(f"Format: {trace.format}{chosen}")
        self.records_label.setText(counted(len(trace.records), "record", format_count))
        hints = problem_hints(trace, self._workspace.heap_size)
        if hints != self._banner_hints:
            self._banner_hints = hints
            self._banner.set_hints(hints)
        self.problems_label.setText(
            f"⚠ {len(hints)} problem{'s' if len(hints) != 1 else ''}" if hints else "No problems"
        )
        self.problems_label.setToolTip("\n".join(hints) or "The trace decoded cleanly")
        self.show_banner_action.setEnabled(bool(hints))

    def forget_dismissal(self) -> None:
        """A newly shown trace shows its problems again, even the same ones."""
        self._banner_hints = None

    def show_capture(self, fmt: str, records: int | None = None) -> None:
        """A live capture: no problems to judge yet, the records so far."""
        self._banner.set_hints([])
        self._banner_hints = None
        self.format_label.setText(f"Live capture ({fmt})")
        self.records_label.setText(
            "" if records is None else f"{counted(records, 'record', format_count)} · capturing"
        )
        self.problems_label.setText("")
        self.show_banner_action.setEnabled(False)

    def show_banner(self) -> None:
        trace = self._workspace.trace
        if trace is not None:
            self._banner.set_hints(problem_hints(trace, self._workspace.heap_size))

    def show_heap(self, heap: HeapSize | None) -> None:
        self.heap_label.setText("" if heap is None else f"heap {heap.describe()}")
        self.heap_label.setToolTip(
            "The heap size and where it came from" if heap is None else HEAP_TIPS[heap.source]
        )
