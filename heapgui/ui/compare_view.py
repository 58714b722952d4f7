"""The optimum, the edited layout and the config's layout side by side.

For each: its pools, fragmentation, the bytes it reserves against the heap,
whether it holds on the trace set and the overflows into larger pools (the
allocation-speed side of fewer pools). The verdicts come from the layout
panel's `VerdictRunner`; a column says "checking…" until its verdict arrives.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from heapgui.layout.pools import Pool
from heapgui.layout.verdict import Verdict
from heapgui.sizes import format_bytes, format_count
from heapgui.ui.verdict_text import (
    CHECKING,
    first_failure_words,
    fragmentation_words,
    reserved_words,
)

OPTIMUM, EDITED, CONFIG = "optimum", "edited", "config"
COLUMNS = (OPTIMUM, EDITED, CONFIG)
ROWS = ("Pools", "Fragmentation", "Reserved", "Verdict", "Overflows", "First failure")
ROW_TIPS = (
    "Block:capacity of each pool",
    "drone's measure: bytes lost inside blocks at the traced peak loads, and share of the heap",
    "Block × capacity over every pool, against the heap size",
    "Whether a replay of every trace with drone's allocator rule finds a free block for every "
    "allocation, and the pools fit the heap",
    "Allocations that fell through to a larger pool because their own was full: fewer pools "
    "overflow less but fragment more",
    "The first allocation that found no free block",
)


def pools_words(pools: tuple[Pool, ...]) -> str:
    shown = [f"{format_count(p.capacity)} × {format_bytes(p.block)}" for p in pools if p.capacity]
    return ", ".join(shown) or "—"


class CompareView(QTableWidget):
    """One column per layout, one row per figure."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(len(ROWS), len(COLUMNS), parent)
        self.setAccessibleName("Layout comparison")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setVerticalHeaderLabels(list(ROWS))
        for row, tip in enumerate(ROW_TIPS):
            self.verticalHeaderItem(row).setToolTip(tip)
        self.setHorizontalHeaderLabels(["Optimum", "Edited", "Config"])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in range(len(COLUMNS)):
            self.set_absent(COLUMNS[column], "")

    def text(self, key: str, row: int) -> str:
        item = self.item(row, COLUMNS.index(key))
        return item.text() if item is not None else ""

    def set_title(self, key: str, title: str) -> None:
        self.setHorizontalHeaderItem(COLUMNS.index(key), QTableWidgetItem(title))

    def set_absent(self, key: str, why: str) -> None:
        """No such layout (no config, no optimum): `why` in place of its figures."""
        self._fill(key, [why] + ["—"] * (len(ROWS) - 1))

    def set_checking(self, key: str, pools: tuple[Pool, ...]) -> None:
        self._fill(key, [pools_words(pools)] + [CHECKING] * (len(ROWS) - 1))

    def set_verdict(self, key: str, verdict: Verdict, several: bool) -> None:
        if verdict.holds:
            state = "✔ Holds"
        else:
            reasons = [f"{verdict.failures:,} failed"] if verdict.failures else []
            reasons += ["over the heap"] if verdict.over_heap else []
            state = f"✘ Fails ({', '.join(reasons)})"
        self._fill(
            key,
            [
                pools_words(verdict.pools),
                fragmentation_words(verdict),
                reserved_words(verdict),
                state,
                f"{verdict.overflows:,}",
                first_failure_words(verdict, several) or "—",
            ],
        )

    def _fill(self, key: str, texts: list[str]) -> None:
        column = COLUMNS.index(key)
        for row, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.setItem(row, column, item)


class CompareDialog(QDialog):
    """The comparison in a window of its own, kept up to date while it is open."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare layouts")
        self.view = CompareView(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.view)
        box.addWidget(buttons)
        self.resize(900, 260)
