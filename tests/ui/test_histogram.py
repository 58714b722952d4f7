"""The allocation histogram: linear by default, every used size visible, colour only for
the sizes selected (their curves' colours)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from heapgui.trace.framed import encode_framed
from heapgui.trace.records import Records
from heapgui.ui.stats_model import SIZE_ROLE
from heapgui.ui.theme import series_colour


def _open(window, tmp_path, ops: list[tuple[str, int]]) -> None:
    path = tmp_path / "made.framed"
    path.write_bytes(encode_framed(Records.from_tuples(ops)))
    window.resize(1280, 800)
    window.show()
    window.open_file(path)


def test_one_allocation_among_thousands_has_a_visible_bar(window, tmp_path):
    ops = [("alloc", 16)] * 5000 + [("alloc", 200)] + [("alloc", 48)] * 300
    _open(window, tmp_path, ops)
    charts = window.charts
    assert not charts.log_check.isChecked()  # linear by default
    widths = dict(zip(charts.histogram.sizes(), charts.histogram.bars.opts["width"], strict=True))
    assert widths[16] == 5000 and widths[48] == 300  # the counts themselves
    plot_width = charts.hist_plot.vb.width()
    view_width = charts.hist_plot.vb.viewRange()[0][1]
    assert widths[200] / view_width * plot_width >= 1.0  # at least a pixel, not 1/5000 of it
    assert widths[200] < widths[48]  # and still the shortest


def test_only_selected_sizes_are_coloured(window, tmp_path):
    ops = [("alloc", 16)] * 50 + [("alloc", 200)] * 5 + [("alloc", 48)] * 30
    _open(window, tmp_path, ops)
    window.stats_panel.select_sizes([48])
    charts = window.charts
    palette = charts.palette()
    colours = {
        size: brush.color().name()
        for size, brush in zip(
            charts.histogram.sizes(), charts.histogram.bars.opts["brushes"], strict=True
        )
    }
    grey = palette.color(QPalette.ColorRole.Mid).name()
    assert colours[16] == colours[200] == grey
    assert colours[48] == series_colour(0, palette).name() != grey
    assert np.allclose(charts.histogram.bars.opts["width"], [50, 30, 5])


def test_the_table_is_the_legend_and_no_legend_covers_the_curves(window, tmp_path):
    ops = [("alloc", 16)] * 50 + [("alloc", 200)] * 5 + [("alloc", 48)] * 30
    _open(window, tmp_path, ops)
    window.stats_panel.select_sizes([48, 200])
    charts, model = window.charts, window.stats_panel.model
    assert charts.live_plot.legend is None
    swatches = {
        model.index(row, 0).data(SIZE_ROLE): model.index(row, 0).data(
            Qt.ItemDataRole.DecorationRole
        )
        for row in range(model.rowCount())
    }
    assert swatches[16] is None
    for size in (48, 200):
        curve_colour = charts.size_curve(size).opts["pen"].color().name()
        assert swatches[size].name() == curve_colour
