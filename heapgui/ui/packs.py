"""Help → Install Target Pack…: download a part's CMSIS pack for pyocd, with progress.

The download runs as a background `Task`, so the window stays responsive;
closing the dialog stops waiting for it (cmsis-pack-manager gives up at its
next progress tick).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from heapgui.capture.packs import PackCache, PackInstall, install_target_pack
from heapgui.ui.loader import Task

logger = logging.getLogger(__name__)

PROGRESS_STEPS = 1000
INTRO = (
    "pyOCD knows many targets built in; others come from the vendor's CMSIS device pack. "
    "Type the part number of your microcontroller: heapgui downloads the pack index (once) "
    "and the pack, into the cache pyOCD uses."
)


class PackDialog(QDialog):
    """Part number in, pack installed; every outcome is shown in the dialog itself."""

    installed = Signal(object)  # PackInstall

    def __init__(
        self,
        parent: QWidget | None = None,
        part: str = "",
        cache_factory: Callable[[], PackCache] = PackCache,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Install Target Pack")
        self._cache_factory = cache_factory
        self._task: Task | None = None

        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)
        self.part_edit = QLineEdit(part, self)
        self.part_edit.setPlaceholderText("e.g. STM32F407VG, nRF52840_xxAA, LPC55S69")
        self.part_edit.setAccessibleName("Part number")
        self.part_edit.returnPressed.connect(self.install)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Installation status")

        self.install_button = QPushButton("&Install", self)
        self.install_button.setDefault(True)
        self.install_button.clicked.connect(self.install)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.install_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Part number:", self.part_edit)
        column = QVBoxLayout(self)
        column.addWidget(intro)
        column.addLayout(form)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def busy(self) -> bool:
        return self._task is not None and self._task.active

    @Slot()
    def install(self) -> None:
        if self.busy():
            return
        part = self.part_edit.text().strip()
        # The job runs in the task's thread: it gets the part and the cache, never the dialog.
        task = Task(partial(_install, part, self._cache_factory))
        task.progressed.connect(self._progressed)
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._ended)
        self._task = task
        self.install_button.setEnabled(False)
        self.part_edit.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first download reports its size
        self.progress.show()
        self.status.setText(f"Looking for the pack of {part}…" if part else "")
        logger.info("installing the CMSIS pack for %r", part)
        task.start()

    @Slot(float)
    def _progressed(self, fraction: float) -> None:
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(round(fraction * PROGRESS_STEPS))

    @Slot(object)
    def _succeeded(self, result: PackInstall) -> None:
        self._ended()
        self.progress.setValue(PROGRESS_STEPS)
        targets = ", ".join(result.target_types)
        self.status.setText(
            f"Installed {', '.join(result.packs)}. New target types: {targets}. "
            "Choose one in the capture panel."
        )
        logger.info("installed %s", ", ".join(result.packs))
        self.installed.emit(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._ended()
        self.progress.hide()
        self.status.setText(f"Not installed: {message}")
        logger.warning("pack installation failed: %s", message)

    @Slot()
    def _ended(self) -> None:
        self.install_button.setEnabled(True)
        self.part_edit.setEnabled(True)

    def done(self, result: int) -> None:
        """Closing (Close, Esc, the window's X) stops waiting for a download; nothing it
        finishes later reaches the dialog."""
        if self._task is not None:
            self._task.cancel()
        super().done(result)


def _install(part: str, cache_factory: Callable[[], PackCache], progress, cancelled) -> PackInstall:
    return install_target_pack(part, progress, cancelled, cache_factory())


def show_pack_dialog(parent: QWidget, part: str = "") -> PackDialog:
    """Non-modal, so a capture and the charts go on while the pack downloads."""
    dialog = PackDialog(parent, part)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
