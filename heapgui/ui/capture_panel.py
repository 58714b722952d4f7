"""The capture panel, for every source: source form, Start/Stop, rate meter, the firmware's log.

Batches from the capture worker are only queued when they arrive; a display
timer (`DISPLAY_INTERVAL`) hands them to the `LiveTrace` and announces the
result with `live_updated`, about once a second marked slow for the views
that cost more (the pool layout). So the window redraws a fixed ten times a
second at any data rate, and never once per record. The statistics come
counted with the batches: nothing here counts them again.

The capture is the workspace's: `Workspace.set_live` publishes it when the
source is open (the views follow `capture_changed`); it stays there, whole,
after it ended.

A capture that stops on a fault keeps everything received: the panel says
why in its status line, the window holds the data, and Start connects again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from heapgui.capture.session import STREAM, CaptureCounters, CaptureUpdate
from heapgui.capture.sources import PROBE, SIM
from heapgui.capture.stream_source import NEAR_FULL
from heapgui.errors import HeapguiError
from heapgui.report import counted
from heapgui.sizes import format_bytes, format_count
from heapgui.ui.capture_worker import CaptureRequest, CaptureRun
from heapgui.ui.log_console import LogConsole
from heapgui.ui.source_form import SourceForm
from heapgui.workspace.live import LiveTrace
from heapgui.workspace.model import Workspace

LOG_MIN_HEIGHT = 60  # px
DISPLAY_INTERVAL = 100  # ms between view refreshes while capturing: 10 Hz
SLOW_EVERY = round(1000 / DISPLAY_INTERVAL)  # display ticks per slow refresh: about 1 s
LAYOUT_GROWTH = 1.25
"""The pool layout follows once the trace has grown by a quarter: its cost stays linear."""
LAYOUT_RECORDS = 2_000_000
"""Beyond this the pool layout waits for Stop: re-planning a bigger trace while capturing
costs the capture throughput, GUI latency and memory (the planner's arrays) that a layout
refreshed every few seconds is not worth."""


def ask_overwrite(parent: QWidget, paths: list[Path]) -> bool:
    names = "\n".join(str(p) for p in paths)
    answer = QMessageBox.question(
        parent,
        "Overwrite?",
        f"The capture replaces these files:\n{names}",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def _lost(request: CaptureRequest, error: HeapguiError) -> bool:
    """The probe or board went away, so Start means reconnecting."""
    if request.source.kind not in (PROBE, SIM):
        return False
    from heapgui.capture.probe import ProbeLost  # imported by the capture already

    return isinstance(error, ProbeLost)


SWO_PROBLEMS_TIP = (
    "Overflows: the ITM dropped packets (trace faster than the SWO line). Skipped: SWO "
    "bytes that were not valid ITM packets (wrong baud rate or noise)."
)
STREAM_PROBLEMS_TIP = (
    "How full each Drone Stream buffer was at the last poll. A buffer that stays nearly "
    "full makes the firmware wait for the host, which changes the trace's timing: give it "
    "a larger [stream.<name>] size in layout.toml."
)


def _fill(name: str, fill: float, records: int) -> str:
    """A buffer's fill level and records, flagged when the firmware is probably waiting."""
    text = f"{name}: {counted(records, 'record', format_count)}, {fill:.0%} full"
    return f"<b>⚠ {text}</b>" if fill >= NEAR_FULL else text


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class CapturePanel(QWidget):
    """Starts and stops captures from every source (probe SWO, TCP, replay, simulator,
    Drone Stream); the live capture is published to the workspace, and the window
    follows it through the signals."""

    capture_started = Signal(object)
    """The source is open; the `LiveTrace` that will grow (also `workspace.live`)."""
    live_updated = Signal(object, bool)
    """The `LiveTrace` took new data; the flag marks a slow tick (about once a second)."""
    capture_finished = Signal(object)
    """The capture ended (stopped, source ended or failed); the `LiveTrace` holds all of it."""
    layout_snapshot = Signal(object)
    """A `Trace` of the capture so far (a view, nothing recounted), for the pool layout."""
    message = Signal(str)
    """A line for the status bar."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setAccessibleName("Capture panel")
        self.confirm_overwrite = ask_overwrite  # replaced in tests: never block on a dialog
        self._run: CaptureRun | None = None
        self._live: LiveTrace | None = None
        self._connected_run: CaptureRun | None = None  # the run `_live` belongs to
        self._pending: list[CaptureUpdate] = []
        self._ticks = 0
        self._snapshot_records = 0  # records in the last layout snapshot
        self.display_timer = QTimer(self)
        self.display_timer.setInterval(DISPLAY_INTERVAL)
        self.display_timer.timeout.connect(self._refresh)

        self.form = SourceForm(self)
        pix = QStyle.StandardPixmap
        self.start_action = QAction(
            self.style().standardIcon(pix.SP_MediaPlay), "&Start capture", self
        )
        self.start_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.start_action.setToolTip("Connect to the source and capture a heap trace (F5)")
        self.start_action.triggered.connect(self.start)
        self.stop_action = QAction(
            self.style().standardIcon(pix.SP_MediaStop), "S&top capture", self
        )
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.setToolTip("Stop the capture; everything received stays saved (Shift+F5)")
        self.stop_action.triggered.connect(self.stop)
        for action in (self.start_action, self.stop_action):
            action.setStatusTip(action.toolTip())
        buttons = QHBoxLayout()
        for action in (self.start_action, self.stop_action):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setAccessibleName(action.text().replace("&", ""))
            buttons.addWidget(button)

        self.state_label = QLabel("Ready.", self)
        self.state_label.setWordWrap(True)
        self.state_label.setAccessibleName("Capture state")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rate_label = self._label(
            "", "Data rate", "SWO bytes and heap records per second, over the last second"
        )
        self.counts_label = self._label(
            "", "Capture totals", "SWO bytes received and heap records decoded so far"
        )
        self.problems_label = self._label("", "Stream problems", SWO_PROBLEMS_TIP)
        self.elapsed_label = self._label("", "Elapsed time", "Time since the capture started")
        status = QGridLayout()
        status.addWidget(self.rate_label, 0, 0)
        status.addWidget(self.elapsed_label, 0, 1, Qt.AlignmentFlag.AlignRight)
        status.addWidget(self.counts_label, 1, 0, 1, 2)
        status.addWidget(self.problems_label, 2, 0, 1, 2)

        # The settings fold away while capturing (they are locked then) to give the log room.
        self.settings_button = QToolButton(self)
        self.settings_button.setText("Settings")
        self.settings_button.setCheckable(True)
        self.settings_button.setChecked(True)
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setAutoRaise(True)
        self.settings_button.setToolTip("Show or hide the capture settings")
        self.settings_button.setAccessibleName("Show capture settings")
        self.settings_button.toggled.connect(self._fold_settings)
        self._fold_settings(True)

        self.console = LogConsole(self)
        self.console.setMinimumHeight(LOG_MIN_HEIGHT)
        log_box = QGroupBox("Target log", self)
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(4, 4, 4, 4)
        log_layout.addWidget(self.console)

        content = QWidget(self)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.addWidget(self.form)
        layout.addLayout(status)
        layout.addWidget(log_box, 1)
        # The settings scroll rather than force their height on the window when the dock is
        # short; Start, Stop and what they said stay above them, in view at any height.
        scroll = QScrollArea(self)
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(self.fontMetrics().height() * 3)  # a dock may be short
        buttons.insertWidget(0, self.settings_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 0)
        outer.addLayout(buttons)
        outer.addWidget(self.state_label)
        outer.addWidget(scroll, 1)
        self._show_counters(None)
        self._set_running(False)

    @Slot(bool)
    def _fold_settings(self, shown: bool) -> None:
        self.form.setVisible(shown)
        self.settings_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _label(self, text: str, name: str, tip: str = "") -> QLabel:
        """A one-line figure that changes every tick without asking the window for a new layout."""
        label = QLabel(text, self)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        label.setAccessibleName(name)
        label.setToolTip(tip)
        return label

    # -- public API ----------------------------------------------------------------

    @property
    def live(self) -> LiveTrace | None:
        """The capture being shown (kept after it ended, until the next one starts)."""
        return self._live

    def running(self) -> bool:
        return self._run is not None

    @Slot()
    def start(self) -> bool:
        """Check the form, ask before replacing files, start; False (reason shown) if not."""
        return self._start(ask=True)

    def _start(self, ask: bool) -> bool:
        if self._run is not None:
            return False
        try:
            request = self.form.request()
        except HeapguiError as exc:
            self._say(f"⚠ {exc}")
            return False
        existing = [p for p in (request.heaptrace_path, request.raw_path) if p and p.exists()]
        if existing and ask and not self.confirm_overwrite(self, existing):
            self._say("Nothing captured: the output file was kept.")
            return False
        run = CaptureRun(request)
        run.connected.connect(self._connected)
        run.batch.connect(self._batch_arrived)
        run.failed.connect(self._failed)
        self._run = run
        self._pending = []
        self._set_running(True)
        self._say(f"Connecting to {request.source}…")
        run.start()
        return True

    @Slot()
    def stop(self) -> None:
        """Ask the capture to end; the views keep everything received."""
        if self._run is None:
            return
        self._run.stop()
        self.stop_action.setEnabled(False)
        self._say("Stopping…")

    def start_demo(self, directory: Path) -> bool:
        """The simulated board into `directory`/heaptrace, started at once (heapgui --demo).

        It speaks the transport the form shows: SWO unless Drone Stream was chosen.
        """
        directory.mkdir(parents=True, exist_ok=True)
        self.form.select_source(SIM)
        # The simulated board knows its own buffers; a layout.toml prefilled from
        # the working folder describes the user's firmware, not this one.
        self.form.buffers_edit.clear()
        self.form.set_output(directory / "heaptrace")
        return self._start(ask=False)

    # -- the capture's signals ---------------------------------------------------------

    @Slot(str, object)
    def _connected(self, name: str, core_clock: float | None) -> None:
        self._connected_run = self._run
        request = self._run.request
        self._live = LiveTrace(request.heaptrace_path, request.fmt, core_clock)
        self.console.clear_log()
        self.settings_button.setChecked(False)
        self._ticks = 0
        self._snapshot_records = 0
        self.display_timer.start()
        self._say(f"Capturing from {name}")
        self.workspace.set_live(self._live)
        self.capture_started.emit(self._live)

    @Slot(object)
    def _batch_arrived(self, update: CaptureUpdate) -> None:
        self._pending.append(update)
        if update.finished:
            self._refresh()

    @Slot(str, str)
    def _failed(self, message: str, access_help: str) -> None:
        run, self._run = self._run, None
        self._set_running(False)
        if run is not None and self._connected_run is run:
            # Broke after connecting: what arrived is saved and shown; the error stays visible.
            self._refresh()
            self._end(run.request)
        self._say(f"⚠ {message}" + (f"\n{access_help}" if access_help else ""))
        self.message.emit(message)

    @Slot()
    def _refresh(self) -> None:
        """The display tick: hand the queued batches over, tell the views, show the counters."""
        live = self._live
        if live is None or not self._pending:
            return
        update = CaptureUpdate.merge(self._pending)
        self._pending = []
        live.take(update)
        self.console.append_text(update.text)
        self._show_counters(update.counters, live.core_records)
        self._ticks += 1
        slow = live.finished or self._ticks % SLOW_EVERY == 0
        self.live_updated.emit(live, slow)
        if slow and not live.finished:
            self._snapshot(live)
        if live.finished and self._run is not None:
            run, self._run = self._run, None
            self._end(run.request)

    def _snapshot(self, live: LiveTrace) -> None:
        """The capture so far for the pool layout, once the trace has grown enough."""
        if not live.records or live.records < self._snapshot_records * LAYOUT_GROWTH:
            return
        if self._snapshot_records >= LAYOUT_RECORDS:
            return
        self._snapshot_records = live.records
        self.layout_snapshot.emit(live.layout_trace())

    def _end(self, request: CaptureRequest) -> None:
        live = self._live
        self.display_timer.stop()
        self.console.flush()
        self._set_running(False)
        summary = live.summary
        lost = False
        message = ""
        # A Drone Stream mask that could not be cleared, a buffer kept full: said either way.
        warnings = "".join(f"\n⚠ {w}" for w in summary.warnings) if summary is not None else ""
        if summary is not None and summary.error is not None:
            lost = _lost(request, summary.error)
            again = "Reconnect it and press Start (F5)." if lost else "Press Start (F5) to retry."
            self._say(f"⚠ {summary.error}; {summary.saved()}. {again}{warnings}")
            message = f"Capture stopped: {summary.error}"
        elif summary is not None:
            self._say(f"Done: {summary.describe()}{warnings}")
            message = f"Capture {summary.ended}: saved {summary.heaptrace_path}"
        self.start_action.setText("&Reconnect" if lost else "&Start capture")
        self.capture_finished.emit(live)
        if message:
            self.message.emit(message)  # after the window has taken the trace over

    # -- looks -----------------------------------------------------------------------

    def _set_running(self, running: bool) -> None:
        self.form.set_editable(not running)
        self.start_action.setEnabled(not running)
        self.stop_action.setEnabled(running)

    def _say(self, text: str) -> None:
        self.state_label.setText(text)

    def _show_counters(
        self, counters: CaptureCounters | None, core_records: list[int] | None = None
    ) -> None:
        c = counters or CaptureCounters()
        self.rate_label.setText(
            f"<b>{c.byte_rate / 1e3:,.1f}</b> kB/s · <b>{c.record_rate:,.0f}</b> rec/s"
        )
        self.counts_label.setText(
            f"{format_bytes(c.bytes_received)} · {counted(c.records, 'record', format_count)}"
        )
        trace_skipped = (
            f" · {c.trace_skipped_bytes:,} trace bytes skipped" if c.trace_skipped_bytes else ""
        )
        if c.transport == STREAM:
            records = (core_records or []) + [0] * len(c.fills)
            fills = (_fill(n, f, r) for (n, f), r in zip(c.fills, records, strict=False))
            self.problems_label.setText(" · ".join(fills) + trace_skipped)
            self.problems_label.setToolTip(STREAM_PROBLEMS_TIP)
        else:
            self.problems_label.setText(
                f"{c.overflows:,} overflows · {c.skipped_bytes:,} skipped bytes" + trace_skipped
            )
            self.problems_label.setToolTip(SWO_PROBLEMS_TIP)
        self.elapsed_label.setText(_elapsed(c.elapsed))
