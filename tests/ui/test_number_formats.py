"""Every number written one way: one byte formatter and one count formatter, in every view.

The formatters are checked against figures written out by hand; the window is
checked by reading back every label, table cell and chart label it shows for
the workload sample and looking for any other spelling of a number.
"""

from __future__ import annotations

import re

import pytest
from layout_project import WORKLOAD
from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QApplication, QLabel, QTableView

from heapgui.report import bytes_of_heap, counted, human
from heapgui.sizes import format_bytes, format_count


@pytest.mark.parametrize(
    ("size", "written"),
    [
        (0, "0 B"),
        (2, "2 B"),
        (1024, "1,024 B"),
        (65_536, "65,536 B"),
        (2**32 - 1, "4,294,967,295 B"),
    ],
)
def test_bytes_are_exact_grouped_and_in_b(size, written):
    assert format_bytes(size) == written


@pytest.mark.parametrize(("number", "written"), [(0, "0"), (999, "999"), (40_000, "40,000")])
def test_counts_are_grouped(number, written):
    assert format_count(number) == written


def test_plurals_agree_with_their_number():
    assert counted(1, "pool") == "1 pool"
    assert counted(8, "pool") == "8 pools"
    assert counted(40_000, "record", format_count) == "40,000 records"


def test_a_share_of_the_heap_has_drones_two_decimals():
    assert bytes_of_heap(34_868, 65_536) == "34,868 B (53.20%)"  # 53.2043…%
    assert bytes_of_heap(1, 3) == "1 B (33.33%)"


def test_a_rounded_figure_only_follows_the_exact_one():
    assert human(1000) == "1,000 B"
    assert human(45_172) == "45,172 B (44.1 KiB)"
    assert human(3 * 1024 * 1024) == "3,145,728 B (3.0 MiB)"


OTHER_SPELLINGS = [
    (re.compile(r"(?<![\d.,])\d{4,}(?![\d.])"), "a number of four or more digits without grouping"),
    (re.compile(r"\d\s*[KM] ?B?\b(?! ?iB)"), 'drone\'s "1K" spelling outside a config'),
    (re.compile(r"\d bytes\b"), '"bytes" instead of "B"'),
]


def _texts(window) -> list[str]:
    """What the window writes: its visible labels, table cells, and the charts' labels."""
    texts = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    for table in window.findChildren(QTableView):
        if not table.isVisible():
            continue
        model: QAbstractItemModel = table.model()
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                texts.append(str(model.index(row, column).data(Qt.ItemDataRole.DisplayRole)))
    charts = window.charts
    texts += [charts.peak_label.toPlainText(), charts.heap_line.label.format]
    return [re.sub(r"<[^>]+>", "", text) for text in texts if text]  # rich text: the words only


def test_the_window_writes_every_number_one_way(window, samples):
    window.resize(1280, 800)
    window.show()
    window.open_file(samples / WORKLOAD)
    for _ in range(4):
        QApplication.processEvents()
    texts = _texts(window)
    assert any("34,868 B" in text for text in texts)  # the peak, read back: the check sees text
    for text in texts:
        for pattern, what in OTHER_SPELLINGS:
            assert not pattern.search(text), f"{what}: {text!r}"
