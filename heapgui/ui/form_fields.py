"""Small builders for the capture form's fields, so every row looks and shrinks alike."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from heapgui.errors import HeapguiError

MAX_HZ = 2**31 - 1
NOT_SET = "not set"
FIELD_MIN_WIDTH = 80  # px


def narrow(widget: QWidget) -> QWidget:
    """Let a field shrink with a narrow dock instead of widening it to its longest text."""
    widget.setMinimumWidth(FIELD_MIN_WIDTH)
    if isinstance(widget, QComboBox):
        widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        widget.setMinimumContentsLength(8)
    return widget


def hertz_spin(parent: QWidget, suffix: str, tip: str, name: str) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(0, MAX_HZ)
    spin.setSingleStep(1000)
    spin.setGroupSeparatorShown(True)
    spin.setSuffix(suffix)
    spin.setSpecialValueText(NOT_SET)
    spin.setToolTip(tip)
    spin.setAccessibleName(name)
    narrow(spin)
    return spin


def add_row(form: QFormLayout, text: str, main: QWidget, *extra: QWidget) -> None:
    """A form row of `main` and buttons; the label's mnemonic focuses `main`.

    (QFormLayout gives a row holding a layout no buddy, so its label would show the "&".)
    """
    label = QLabel(text, main.parentWidget())
    label.setBuddy(main)
    row = QHBoxLayout()
    row.addWidget(main, 1)
    for widget in extra:
        row.addWidget(widget)
    form.addRow(label, row)


def choice_combo(parent: QWidget, items: tuple, tip: str, name: str) -> QComboBox:
    combo = QComboBox(parent)
    for data, label, item_tip in items:
        combo.addItem(label, data)
        combo.setItemData(combo.count() - 1, item_tip, Qt.ItemDataRole.ToolTipRole)
    combo.setToolTip(tip)
    combo.setAccessibleName(name)
    narrow(combo)
    return combo


def browse_button(parent: QWidget, tip: str) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(parent.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    return button


def open_into(edit: QLineEdit, caption: str, filters: str) -> None:
    """Ask for an existing file, starting from the one in `edit`, and put its path there."""
    name, _ = QFileDialog.getOpenFileName(edit, caption, edit.text(), filters)
    if name:
        edit.setText(name)


def chosen_path(edit: QLineEdit, what: str) -> Path:
    """The path typed or chosen in `edit`; an empty field is an error naming `what`."""
    text = edit.text().strip()
    if not text:
        raise HeapguiError(f"choose {what}")
    return Path(text).expanduser()
