"""The main window end to end: loading, table, charts, drops, recent files, errors, exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from brute import live_at, live_series, peak
from PySide6.QtCore import QLibraryInfo, QMimeData, QPoint, QPointF, Qt, QUrl, QVersionNumber
from PySide6.QtGui import QAction, QColor, QDragEnterEvent, QDropEvent, QIcon, QImage, QPalette
from PySide6.QtWidgets import QApplication, QToolButton

from heapgui.trace.load import Cancelled, read_trace
from heapgui.trace.problems import QUIRK_HINT
from heapgui.ui.loader import Task, running_threads
from heapgui.ui.main_window import MainWindow, versions
from heapgui.ui.settings import recent_files
from heapgui.ui.stats_model import COLUMNS, SORT_ROLE
from heapgui.workspace import HeapSize, HeapSource

WORKLOAD = "workload-40k.framed"


@pytest.fixture(scope="module")
def expected(samples) -> dict:
    return json.loads((samples / "workload-40k.expected.json").read_text())


def table(win: MainWindow) -> list[tuple[int, int, int]]:
    model = win.stats_panel.model
    return [
        tuple(model.index(r, c).data(SORT_ROLE) for c in range(3)) for r in range(model.rowCount())
    ]


def expected_rows(expected: dict) -> list[tuple[int, int, int]]:
    return [(s["size"], s["max_load"], s["total"]) for s in expected["sizes"]]


def test_open_sample_fills_table_and_load_chart(window, samples, expected):
    window.open_file(samples / WORKLOAD)
    assert table(window) == expected_rows(expected)
    x, y = window.charts.load_curve.getData()
    assert len(x) > 0
    assert int(y.max()) == peak(window.trace.records)
    # 64K: no config beside it, so the workspace guesses, and says so.
    assert window.workspace.heap == HeapSize(expected["heap_size"], HeapSource.GUESSED)
    assert "framed" in window.format_label.text()
    assert "40,000 records" in window.records_label.text()
    assert window.banner.isHidden()
    summary = window.stats_panel.summary.text()
    assert f"{expected['max_usage']:,} B ({expected['max_usage'] / 65536 * 100:.2f}%)" in summary


def test_threaded_load_reports_progress_and_finishes(qtbot, errors, samples, expected):
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.trace_loaded, timeout=30_000):
        win.open_file(samples / WORKLOAD)
        assert win.loading()
        assert win.progress.isVisible() or not win.isVisible()
    assert table(win) == expected_rows(expected)
    assert not win.loading() and win.progress.isHidden()
    qtbot.waitUntil(lambda: not running_threads(), timeout=10_000)
    assert errors == []


def test_cancelled_load_keeps_the_previous_trace(qtbot, errors, samples, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitActive(win):
        win.activateWindow()
    with qtbot.waitSignal(win.trace_loaded, timeout=30_000):
        win.open_file(samples / "seed-example.framed")
    before = table(win)
    other = tmp_path / "other.framed"
    other.write_bytes((samples / WORKLOAD).read_bytes())
    loaded: list[bool] = []
    win.trace_loaded.connect(lambda: loaded.append(True))
    win.open_file(other)
    qtbot.keyClick(win, Qt.Key.Key_Escape)  # Esc is the cancel shortcut
    assert not win.loading()
    qtbot.waitUntil(lambda: not running_threads(), timeout=30_000)
    QApplication.processEvents()
    assert loaded == [] and errors == []
    assert table(win) == before
    assert win.trace_path == samples / "seed-example.framed"
    assert win.progress.isHidden() and win.cancel_button.isHidden()


def test_a_job_that_sees_the_cancel_flag_reports_cancelled(qtbot, inline_tasks):
    def job(progress, cancelled):
        raise Cancelled("stopped")

    task = Task(job)
    with qtbot.waitSignal(task.cancelled):
        task.start()
    assert not task.active


def test_bad_file_shows_one_line_and_keeps_the_trace(window, errors, samples, tmp_path, expected):
    window.open_file(samples / WORKLOAD)
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"junk: this is a text file, not a heap trace\n" * 100)
    for path in (bad, tmp_path, tmp_path / "missing.framed"):
        window.open_file(path)
        message = errors[-1]
        assert str(path) in message
        assert "\n" not in message and "Traceback" not in message
        assert table(window) == expected_rows(expected)
        assert window.trace_path == samples / WORKLOAD
        assert message in window.statusBar().currentMessage()
    assert len(errors) == 3


def drag_enter(mime: QMimeData) -> QDragEnterEvent:
    """A drag entering the window; Qt 6.12 takes its position as QPointF and deprecates QPoint."""
    modern = QLibraryInfo.version() >= QVersionNumber(6, 12)
    position = QPointF(50, 50) if modern else QPoint(50, 50)
    return QDragEnterEvent(
        position,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )


def test_drop_opens_the_file(window, samples, expected):
    web = QMimeData()
    web.setUrls([QUrl("https://example.org/heaptrace")])
    refused = drag_enter(web)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(samples / WORKLOAD))])
    enter = drag_enter(mime)
    QApplication.sendEvent(window, enter)  # Qt only delivers a drop to the drag's target
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, event)
    assert event.isAccepted()
    assert table(window) == expected_rows(expected)


def test_recent_files_persist_for_a_new_window(qtbot, window, samples):
    window.open_file(samples / "seed-example.framed")
    window.open_file(samples / WORKLOAD)
    window.close()
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    names = [str((samples / n).resolve()) for n in (WORKLOAD, "seed-example.framed")]
    assert recent_files() == names
    fresh.recent_menu.aboutToShow.emit()
    actions = fresh.recent_menu.actions()
    assert [a.toolTip() for a in actions] == names
    actions[1].trigger()
    assert fresh.trace_path == Path(names[1])


def test_geometry_persists(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    # The offscreen screen is 800x600 and restoring clamps a window to its screen.
    window.resize(700, 500)
    window.layout_dock.hide()
    window.close()
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    fresh.show()
    qtbot.waitExposed(fresh)
    assert (fresh.width(), fresh.height()) == (700, 500)
    assert fresh.layout_dock.isHidden() and not fresh.stats_dock.isHidden()


def test_firmware_quirk_banner(window, samples):
    window.open_file(samples / "firmware-quirk.framed")
    assert not window.banner.isHidden()
    assert "firmware quirk" in window.banner.label.text()
    assert QUIRK_HINT.split(":")[0] in window.banner.toolTip()
    assert "problem" in window.problems_label.text()
    window.banner.dismiss()
    assert window.banner.isHidden()
    window.show_banner_action.trigger()
    assert not window.banner.isHidden()


def test_exports(window, samples, tmp_path, expected):
    window.open_file(samples / WORKLOAD)
    window.export_statistics(tmp_path / "stats.csv")
    lines = (tmp_path / "stats.csv").read_text().splitlines()
    assert lines[0].split(",") == [c.title for c in COLUMNS]
    got = [tuple(int(v) for v in line.split(",")[:3]) for line in lines[1:]]
    assert got == expected_rows(expected)
    window.export_statistics(tmp_path / "stats.json")
    data = json.loads((tmp_path / "stats.json").read_text())
    assert [(s["size"], s["max_load"], s["total"]) for s in data["sizes"]] == expected_rows(
        expected
    )
    assert data["max_usage"] == expected["max_usage"]
    assert data["peak_usage"] == peak(window.trace.records)
    window.export_chart(tmp_path / "chart.png")
    image = QImage(str(tmp_path / "chart.png"))
    assert image.width() > 100 and image.height() > 100
    window.export_chart(tmp_path / "chart.svg")
    assert "<svg" in (tmp_path / "chart.svg").read_text()


def test_selected_sizes_get_live_curves(window, samples):
    window.open_file(samples / WORKLOAD)
    records = window.trace.records
    window.stats_panel.select_sizes([24, 512])
    assert window.stats_panel.selected_sizes() == [24, 512]
    for size in (24, 512):
        x, y = window.charts.size_curve(size).getOriginalDataset()
        series = np.array(live_series(records, size))
        # Each point is the count after its record; between points the count holds.
        assert (y == series[x]).all()
        changes = np.flatnonzero(np.diff(series)) + 1
        assert set(changes.tolist()) <= set(x.tolist())
    assert window.charts.size_curve(2) is None


def test_clicking_the_load_chart_lists_what_was_live(qtbot, window, samples):
    window.show()
    qtbot.waitExposed(window)
    window.open_file(samples / WORKLOAD)
    charts = window.charts
    target = 12_345
    view = charts.load_plot.vb
    scene_point = view.mapViewToScene(QPointF(target, 1000.0))
    widget_point = charts.graphics.mapFromScene(scene_point)
    with qtbot.waitSignal(charts.inspected) as blocker:
        qtbot.mouseClick(charts.graphics.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    position = blocker.args[0]
    assert abs(position - target) <= 60  # a pixel spans ~40 records at this width
    text = charts.inspect_label.text()
    assert f"Record {position:,}" in text
    live = live_at(window.trace.records, position)
    for size, count in live.items():
        assert f"{size:,} B × {count:,}" in text


def test_heap_size_from_the_layout_panel(window, samples):
    window.open_file(samples / WORKLOAD)
    window.layout_panel.size_edit.setText("128K")
    assert window.workspace.heap == HeapSize(128 * 1024, HeapSource.TYPED)
    assert window.charts.heap_line.value() == 128 * 1024
    percent = window.stats_panel.model.index(0, len(COLUMNS) - 1).data(SORT_ROLE)
    assert percent == pytest.approx(2 * 115 / (128 * 1024) * 100)


def test_config_beside_the_trace_sets_the_heap(window, samples, tmp_path):
    (tmp_path / "Drone.toml").write_text('[heap]\nsize = "48K"\npools = []\n')
    trace_file = tmp_path / "heaptrace"
    trace_file.write_bytes((samples / WORKLOAD).read_bytes())
    window.open_file(trace_file)
    assert window.workspace.heap == HeapSize(48 * 1024, HeapSource.CONFIG, "Drone.toml")


def test_about_names_every_version():
    names = versions()
    for key in ("heapgui", "Qt", "PySide6", "pyqtgraph", "numpy", "pyocd", "Python"):
        assert names[key]


def test_accessible_names_and_tooltips(window):
    for widget in (
        window.stats_panel.table,
        window.stats_panel.filter_edit,
        window.charts.graphics,
        window.progress,
        window.cancel_button,
    ):
        assert widget.accessibleName()
        assert widget.toolTip()


def test_dark_theme_reaches_the_charts(window, qapp):
    from heapgui.ui.theme import apply_theme

    try:
        apply_theme(qapp, "dark")
        QApplication.processEvents()
        base = window.charts.palette().color(window.charts.palette().ColorRole.Base)
        assert base.lightnessF() < 0.5
        assert window.charts.graphics.backgroundBrush().color() == base
    finally:
        apply_theme(qapp, "system")


def _icon_contrast(icon: QIcon, background: QColor, mode: QIcon.Mode) -> float:
    """How far the icon's drawn pixels are, on average, from `background`: the largest
    difference of one channel (0-1), so a saturated colour counts as well as a light one."""
    image = icon.pixmap(16, 16, mode).toImage()
    drawn = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 128
    ]
    assert drawn, "the icon draws nothing"
    far = [
        max(
            abs(c.redF() - background.redF()),
            abs(c.greenF() - background.greenF()),
            abs(c.blueF() - background.blueF()),
        )
        for c in drawn
    ]
    return sum(far) / len(far)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_icon_stays_visible_in_either_theme(qtbot, inline_tasks, qapp, theme):
    """Fusion's play, stop and close icons are black: on the dark theme they vanished. The
    window is made after the start-up theme, as the app does, then the theme is switched."""
    from heapgui.ui.theme import apply_theme

    apply_theme(qapp, "system")
    window = MainWindow()
    qtbot.addWidget(window)
    icons = {a.text(): a.icon() for a in window.findChildren(QAction) if not a.icon().isNull()}
    icons |= {
        b.accessibleName() or b.toolTip(): b.icon()
        for b in window.findChildren(QToolButton)
        if not b.icon().isNull()
    }
    assert {"&Start capture", "S&top capture", "Dismiss heap size notice"} <= set(icons)
    try:
        apply_theme(qapp, theme)
        QApplication.processEvents()
        background = qapp.palette().color(QPalette.ColorRole.Window)
        for name, icon in icons.items():
            # Black on the dark window is 0.19; the green tick, the least of the rest, 0.30.
            assert _icon_contrast(icon, background, QIcon.Mode.Normal) > 0.25, name
    finally:
        apply_theme(qapp, "system")


def test_read_trace_matches_the_expected_sample(samples, expected):
    # The window shows the core's numbers; make sure the core read the sample the same way.
    trace = read_trace(samples / WORKLOAD, heap_size=expected["heap_size"])
    assert [(r.size, r.max_load, r.total) for r in trace.stats.rows()] == expected_rows(expected)


def test_copy_layout_from_the_edit_menu(qtbot, window, samples):
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.open_file(samples / WORKLOAD)
    text = window.layout_panel.layout_text()
    assert text.startswith("[heap]")
    QApplication.clipboard().clear()
    window.copy_layout_action.trigger()
    assert QApplication.clipboard().text() == text
    QApplication.clipboard().clear()
    window.stats_panel.table.setFocus()
    qtbot.keyClick(
        window.stats_panel.table,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert QApplication.clipboard().text() == text


def test_view_menu_toggles_panels(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    texts = [a.text() for a in window.view_menu.actions()]
    assert {"Statistics", "Pool layout", "Main toolbar"} <= set(texts)
    toggle = next(a for a in window.view_menu.actions() if a.text() == "Statistics")
    toggle.trigger()
    assert window.stats_dock.isHidden()
    toggle.trigger()
    assert window.stats_dock.isVisible()
