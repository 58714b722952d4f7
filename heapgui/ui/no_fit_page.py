"""The page shown in place of the pool table when there is no layout, and why.

For a layout that does not fit it offers the two ways out: the least heap
that holds the traces, and the fewest pools that fit the heap.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from heapgui.layout.generate import LayoutDoesNotFit
from heapgui.sizes import format_bytes


class NoFitPage(QWidget):
    """Why there is no layout; for one that does not fit, buttons to make it fit."""

    size_chosen = Signal("qint64")
    """The user asked for the heap size that holds the traces."""
    pools_chosen = Signal(int)
    """The user asked for the fewest pools that fit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("No layout")
        self._needed = 0
        self._fits_with: int | None = None
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Why there is no layout")
        self.use_needed_button = QPushButton()
        self.use_needed_button.setToolTip("Set the heap size to the least that holds the trace")
        self.use_needed_button.clicked.connect(self._use_needed_size)
        self.use_fitting_button = QPushButton()
        self.use_fitting_button.setToolTip("Set the pool count to the fewest pools that fit")
        self.use_fitting_button.clicked.connect(self._use_fitting_pools)
        text = QVBoxLayout()
        text.addWidget(self.label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_needed_button)
        buttons.addWidget(self.use_fitting_button)
        buttons.addStretch(1)
        text.addLayout(buttons)
        text.addStretch(1)
        row = QHBoxLayout(self)
        row.addWidget(icon)
        row.addLayout(text, 1)

    def show_message(self, message: str) -> None:
        """Why there is no layout, with no way out offered."""
        self.label.setText(message)
        self.use_needed_button.hide()
        self.use_fitting_button.hide()

    def show_no_fit(self, exc: LayoutDoesNotFit) -> None:
        self._needed = exc.needed
        self._fits_with = exc.fits_with
        message = str(exc)
        self.show_message(message[:1].upper() + message[1:] + ".")
        self.use_needed_button.setText(f"Use a heap of {format_bytes(exc.needed)}")
        self.use_needed_button.show()
        if exc.fits_with is not None:
            self.use_fitting_button.setText(f"Use {exc.fits_with} pools")
            self.use_fitting_button.show()

    @Slot()
    def _use_needed_size(self) -> None:
        self.size_chosen.emit(self._needed)

    @Slot()
    def _use_fitting_pools(self) -> None:
        if self._fits_with is not None:
            self.pools_chosen.emit(self._fits_with)
