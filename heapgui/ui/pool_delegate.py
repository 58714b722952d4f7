"""Editors for the pool table: capacities committed as they are typed, blocks when done.

A capacity commits on every keystroke so the verdict follows the typing (the
editor merges the keystrokes of one cell into one undo step). A block
commits only when editing ends: the pools are re-sorted by block, and the
digits typed on the way ("1", "12" on the way to "128") are not blocks the
user means.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QSpinBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from heapgui.layout.pools import WORD_SIZE
from heapgui.ui.layout_model import BLOCK

Index = QModelIndex | QPersistentModelIndex
LARGEST = 2**31 - 1  # a spin box holds a C int


class PoolDelegate(QStyledItemDelegate):
    def createEditor(  # noqa: N802 - Qt override
        self, parent: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> QWidget:
        spin = QSpinBox(parent)
        spin.setFrame(False)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        if index.column() == BLOCK:
            spin.setRange(WORD_SIZE, LARGEST - LARGEST % WORD_SIZE)
            spin.setSingleStep(WORD_SIZE)
            spin.setAccessibleName("Block")
        else:
            spin.setRange(0, LARGEST)
            spin.setAccessibleName("Capacity")
            spin.valueChanged.connect(lambda _value, s=spin: self.commitData.emit(s))
        return spin

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802 - Qt override
        assert isinstance(editor, QSpinBox)
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(value, int) and value != editor.value():
            # Quietly: this is the model's value coming back, not a keystroke.
            editor.blockSignals(True)
            editor.setValue(min(value, editor.maximum()))
            editor.blockSignals(False)

    def setModelData(  # noqa: N802 - Qt override
        self, editor: QWidget, model: QAbstractItemModel, index: Index
    ) -> None:
        assert isinstance(editor, QSpinBox)
        editor.interpretText()
        if index.data(Qt.ItemDataRole.EditRole) != editor.value():
            model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)
