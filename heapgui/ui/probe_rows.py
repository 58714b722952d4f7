"""The capture form's debug-probe rows: probe, target type, SWD clock, and why a probe is hidden.

Listing probes and target types imports pyocd (most of a second) and reads
the USB bus, so both run as background `Task`s, started only when the user
asks for probes. A probe that is plugged in but that this user may not open
is invisible to pyOCD: the listing then also says so, with the udev commands
that fix it (`probe_access_problem`).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QStringListModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QLabel,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.ui.capture_worker import quit_when_done
from heapgui.ui.form_fields import add_row, narrow
from heapgui.ui.loader import Task

logger = logging.getLogger(__name__)


class ProbeRows(QObject):
    """The probe rows of a form, and the listings that fill them."""

    listed = Signal()
    """The probe list was filled (or the listing failed); for tests and status lines."""

    def __init__(self, parent: QWidget, form: QFormLayout) -> None:
        super().__init__(parent)
        self._probe_task: Task | None = None
        self._target_task: Task | None = None
        self._targets_loaded = False

        self.probe_combo = QComboBox(parent)
        self.probe_combo.setPlaceholderText("Press Refresh to list probes")
        self.probe_combo.setToolTip("The debug probe to capture from")
        self.probe_combo.setAccessibleName("Debug probe")
        narrow(self.probe_combo)
        self.refresh_button = QToolButton(parent)
        self.refresh_button.setIcon(
            parent.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
        )
        self.refresh_button.setToolTip("List the connected debug probes again")
        self.refresh_button.setAccessibleName("Refresh the probe list")
        self.refresh_button.clicked.connect(self.refresh)
        add_row(form, "&Probe:", self.probe_combo, self.refresh_button)
        self.access_label = QLabel(parent)
        self.access_label.setWordWrap(True)
        self.access_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.access_label.setAccessibleName("Probe permissions")
        form.addRow(self.access_label)
        self.access_row = form.rowCount() - 1

        self.target_combo = QComboBox(parent)
        self.target_combo.setEditable(True)
        self.target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_combo.lineEdit().setPlaceholderText("cortex_m (generic)")
        self.target_combo.setToolTip(
            "pyOCD target type: type to search the built-in targets and installed CMSIS packs; "
            "empty means generic Cortex-M"
        )
        self.target_combo.setAccessibleName("Target type")
        narrow(self.target_combo)
        self.target_model = QStringListModel(parent)
        self.target_combo.setModel(self.target_model)
        completer = QCompleter(self.target_model, self.target_combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.target_combo.setCompleter(completer)
        form.addRow("&Target:", self.target_combo)

        self.swd_spin = QSpinBox(parent)
        self.swd_spin.setRange(0, 100_000)
        self.swd_spin.setSingleStep(500)
        self.swd_spin.setGroupSeparatorShown(True)
        self.swd_spin.setSuffix(" kHz")
        self.swd_spin.setSpecialValueText("default (1 MHz)")
        self.swd_spin.setToolTip("SWD clock frequency")
        self.swd_spin.setAccessibleName("SWD frequency")
        narrow(self.swd_spin)
        form.addRow("S&WD:", self.swd_spin)
        self._form = form
        self._shown = True
        self.access_help = ""
        """The udev help shown (empty when every probe plugged in may be opened)."""

    def show_access_help(self, text: str) -> None:
        self.access_help = text
        self.access_label.setText(f"⚠ {text}" if text else "")
        self.show(self._shown)

    def show(self, shown: bool) -> None:
        """The form shows the probe rows or not; the help row only when there is help."""
        self._shown = shown
        self._form.setRowVisible(self.access_row, shown and bool(self.access_help))

    def listed_before(self) -> bool:
        return self._probe_task is not None

    def busy(self) -> bool:
        """A probe or target listing is still running."""
        return any(t is not None and t.active for t in (self._probe_task, self._target_task))

    @Slot()
    def refresh(self) -> None:
        """List the probes (and, the first time, the target types) without blocking the GUI."""
        if self._probe_task is not None and self._probe_task.active:
            return
        self.probe_combo.clear()
        self.probe_combo.setPlaceholderText("Looking for probes…")
        self.refresh_button.setEnabled(False)
        task = Task(quit_when_done(_list_probes))
        task.succeeded.connect(self._probes_found)
        task.failed.connect(self._probes_failed)
        self._probe_task = task
        task.start()
        if not self._targets_loaded and self._target_task is None:
            targets = Task(quit_when_done(_list_target_types))
            targets.succeeded.connect(self._targets_found)
            targets.failed.connect(lambda message: logger.warning("%s", message))
            self._target_task = targets
            targets.start()

    @Slot(object)
    def _probes_found(self, listing: tuple[list, str | None, str]) -> None:
        probes, failure, access_help = listing
        self.refresh_button.setEnabled(True)
        for probe in probes:
            self.probe_combo.addItem(f"{probe.description} ({probe.unique_id})", probe.unique_id)
        if failure is not None:
            self.probe_combo.setPlaceholderText("Cannot list probes")
            self.probe_combo.setToolTip(failure)
        else:
            self.probe_combo.setPlaceholderText("No debug probe found" if not probes else "")
        self.show_access_help(access_help)
        self.listed.emit()

    @Slot(str)
    def _probes_failed(self, message: str) -> None:
        self.refresh_button.setEnabled(True)
        self.probe_combo.setPlaceholderText("Cannot list probes")
        self.probe_combo.setToolTip(message)
        self.listed.emit()

    @Slot(object)
    def _targets_found(self, names: list[str]) -> None:
        self._targets_loaded = True
        text = self.target_combo.currentText()
        self.target_model.setStringList(names)
        self.target_combo.setEditText(text)


def _list_probes(progress, cancelled) -> tuple[list, str | None, str]:
    """The probes pyOCD sees, why it could not look (or None), and the udev help ("" if none).

    A probe this user may not open is missing from pyOCD's list, or makes
    the listing fail: the USB bus tells which probes are plugged in but refused.
    """
    from heapgui.capture.diagnostics import probe_access_problem
    from heapgui.capture.probe import list_probes  # pyocd: imported in the worker thread

    try:
        probes, failure = list_probes(), None
    except HeapguiError as exc:
        probes, failure = [], str(exc)
    return probes, failure, probe_access_problem() or ""


def _list_target_types(progress, cancelled) -> list[str]:
    from heapgui.capture.probe import list_target_types

    return list_target_types()
