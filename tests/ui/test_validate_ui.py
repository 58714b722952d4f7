"""Validation, the layout methods and the minimum-heap comparison against independent loops.

References: a plain first-fit allocator loop (tests/ui/allocator.py), the
statistics loop in tests/ui/brute.py, drone's demand from the sample's
expected statistics with a brute-force partition (tests/oracles.py), and a
brute-force timeline minimum over every split of the size classes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from allocator import class_live_counts, first_fit, timeline_minimum
from brute import replay as brute_replay
from oracles import brute_partition
from PySide6.QtCore import Qt

from heapgui.layout.pool_replay import replay
from heapgui.layout.pools import Pool, demand
from heapgui.trace.framed import encode_framed
from heapgui.trace.load import read_trace
from heapgui.trace.records import Records
from heapgui.trace.traceset import TraceSet
from heapgui.ui import layout_planner
from heapgui.ui.layout_model import HEADERS as LAYOUT_HEADERS
from heapgui.ui.layout_model import VALUE_ROLE as LAYOUT_VALUE
from heapgui.ui.layout_panel import LayoutPanel
from heapgui.ui.loader import running_threads
from heapgui.ui.occupancy_chart import FULL
from heapgui.ui.pool_use_model import HEADERS, PEAK, VALUE_ROLE, PoolUseModel
from heapgui.ui.validate_panel import CONFIG, PROPOSED, ValidatePanel
from heapgui.workspace import Workspace
from heapgui.workspace.loading import config_beside

WORKLOAD = "workload-40k.framed"
HEAP_64K = 65536
SMALL_LAYOUT = [Pool(64, 100), Pool(2048, 4)]
"""Deliberately too small for the workload: 64-byte blocks run out, larger sizes overflow."""
SMALL_TOML = """\
[heap]
size = "64K"
pools = [
    { block = "64", capacity = 100 },
    { block = "2K", capacity = 4 },
]
"""


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, samples: Path) -> Path:
    """The workload next to a Drone.toml whose layout is too small for it."""
    shutil.copyfile(samples / WORKLOAD, tmp_path / WORKLOAD)
    (tmp_path / "Drone.toml").write_text(SMALL_TOML)
    return tmp_path


@pytest.fixture(scope="module")
def workload(samples: Path):
    return read_trace(samples / WORKLOAD, fmt="framed", heap_size=HEAP_64K)


@pytest.fixture(scope="module")
def workload_demand(samples: Path) -> list[tuple[int, int]]:
    """drone's demand from the sample's expected statistics, not from the code under test."""
    expected = json.loads((samples / "workload-40k.expected.json").read_text())
    return demand((row["size"], row["max_load"]) for row in expected["sizes"])


def open_panels(qtbot, trace, path: Path) -> tuple[LayoutPanel, ValidatePanel]:
    """A layout and a validation panel following one workspace, with `trace` opened in it
    as File ▸ Open opens it: with the config beside it."""
    workspace = Workspace()
    layout = LayoutPanel(workspace)
    validate = ValidatePanel(workspace)
    qtbot.addWidget(layout)
    qtbot.addWidget(validate)
    workspace.open(TraceSet.of([trace]), [path], config_beside(path.parent))
    return layout, validate


@pytest.fixture
def panels(qtbot, workload, samples, inline_tasks) -> tuple[LayoutPanel, ValidatePanel]:
    layout, validate = open_panels(qtbot, workload, samples / WORKLOAD)
    layout.size_edit.setText("64K")
    return layout, validate


def per_record(x: np.ndarray, y: np.ndarray, count: int) -> list[int]:
    """A left step curve (value from each x on) as one value per record 0..count-1."""
    at = np.searchsorted(x, np.arange(count), side="right") - 1
    return y[at].astype(np.int64).tolist()


# ---- validating the Drone.toml layout ---------------------------------------------------------


def test_validate_marks_exactly_the_failures_of_the_replay(window, project):
    window.open_file(project / WORKLOAD)
    assert window.layout_panel.config_path() == project / "Drone.toml"
    window.validate_panel.set_source(CONFIG)
    with_loop = first_fit(window.trace.records, SMALL_LAYOUT, HEAP_64K)
    assert len(with_loop.failed) > 100  # the layout is meant to fail, a lot
    window.validate_action.trigger()

    x, y = window.charts.failure_marker.getData()
    core = replay(window.trace.records, SMALL_LAYOUT)
    assert x.tolist() == core.failed_record.tolist()
    assert x.tolist() == [record for record, _ in with_loop.failed]
    # Each marker sits on the load curve: the bytes in use after that record.
    in_use = [used for _, used, _ in brute_replay(window.trace.records)]
    assert y.tolist() == [in_use[record] for record, _ in with_loop.failed]

    verdict = window.validate_panel.verdict_label.text()
    assert f"Fails: {len(with_loop.failed):,} allocations" in verdict
    assert "Drone.toml [heap main]" in verdict and "heap 65,536 B" in verdict
    details = window.validate_panel.details_label.text()
    for record, size in with_loop.failed[:5]:
        assert f"record {record:,}: no free block for {size:,} B" in details
    assert f"{len(with_loop.failed) - 5:,} more" in details
    assert not window.validate_dock.isHidden()


def test_pool_table_and_occupancy_chart_follow_the_loop(window, project):
    window.open_file(project / WORKLOAD)
    window.validate_panel.set_source(CONFIG)
    window.validate_action.trigger()
    loop = first_fit(window.trace.records, SMALL_LAYOUT, HEAP_64K)
    panel = window.validate_panel
    model = panel.model
    assert model.rowCount() == len(SMALL_LAYOUT)
    peaks = [model.index(r, PEAK).data(VALUE_ROLE) for r in range(model.rowCount())]
    assert peaks == loop.peak == [p.capacity for p in SMALL_LAYOUT]  # both pools ran full
    full = model.index(0, PEAK).data(Qt.ItemDataRole.ForegroundRole)
    assert full is not None

    count = len(window.trace.records)
    curves = panel.chart.curves()
    assert len(curves) == len(SMALL_LAYOUT)
    for k, curve in enumerate(curves):
        # xData/yData: what was set, before clipping to the view and downsampling.
        assert per_record(curve.xData, curve.yData, count) == loop.occupancy[k]
        assert curve.opts["downsampleMethod"] == "peak" and curve.opts["clipToView"]
    lines = panel.chart.capacity_lines()
    assert [line.value() for line in lines] == [p.capacity for p in SMALL_LAYOUT]

    panel.relative_check.setChecked(True)
    curve = panel.chart.curves()[1]
    x, y = curve.xData, curve.yData
    expected = [v * FULL / SMALL_LAYOUT[1].capacity for v in loop.occupancy[1]]
    assert per_record(x, y, count) == pytest.approx(expected)
    assert [line.value() for line in panel.chart.capacity_lines()] == [FULL]


def test_markers_clear_on_a_new_trace_and_on_revalidation(window, project, samples):
    window.open_file(project / WORKLOAD)
    window.validate_panel.set_source(CONFIG)
    window.validate_action.trigger()
    assert len(window.charts.failure_marker.getData()[0]) > 0
    # The proposed layout holds the trace: validating it clears the markers.
    window.layout_panel.pools_spin.setValue(6)
    window.validate_panel.set_source(PROPOSED)
    window.validate_action.trigger()
    assert window.validate_panel.validation().holds
    assert len(window.charts.failure_marker.getData()[0]) == 0
    window.validate_panel.set_source(CONFIG)
    window.validate_action.trigger()
    assert len(window.charts.failure_marker.getData()[0]) > 0
    window.open_file(samples / "seed-example.framed")
    assert len(window.charts.failure_marker.getData()[0]) == 0
    assert window.validate_panel.validation() is None
    assert window.validate_panel.model.rowCount() == 0


def test_ctrl_r_validates(qtbot, window, project):
    window.open_file(project / WORKLOAD)
    window.validate_panel.set_source(CONFIG)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.stats_panel.table.setFocus()
    with qtbot.waitSignal(window.validate_panel.validated):
        qtbot.keyClick(window.stats_panel.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert not window.validate_panel.validation().holds
    assert window.validate_action.shortcut().toString() == "Ctrl+R"


def test_hand_computed_overflow_and_failure(tmp_path, qtbot, inline_tasks):
    """Two 8-byte blocks and one 16: the third 8 overflows, so a 16 fails until it is freed."""
    ops = [
        ("alloc", 8),
        ("alloc", 8),
        ("alloc", 8),  # the 8-byte pool is full: takes the 16-byte block
        ("alloc", 16),  # record 3: no free block
        ("dealloc", 8),  # the most recent 8 gives the 16-byte block back
        ("alloc", 16),
    ]
    path = tmp_path / "hand.framed"
    path.write_bytes(encode_framed(Records.from_tuples(ops)))
    trace = read_trace(path, heap_size=1024)
    layout, panel = open_panels(qtbot, trace, path)
    (tmp_path / "Drone.toml").write_text(
        '[heap]\nsize = "1K"\npools = [{ block = "8", capacity = 2 }, '
        '{ block = "16", capacity = 1 }]\n'
    )
    layout.choose_config_path = lambda: tmp_path / "Drone.toml"
    layout.choose_config()
    panel.set_source(CONFIG)
    panel.validate()
    assert panel.failed_records(trace).tolist() == [3]
    assert "record 3: no free block for 16 B" in panel.details_label.text()
    assert "Overflows into a larger pool: 1." in panel.details_label.text()
    assert [r.peak for r in panel.model.rows()] == [2, 1]


def test_without_a_config_the_panel_says_what_to_do(panels):
    layout, validate = panels  # the sample directory has no Drone.toml
    validate.set_source(CONFIG)
    validate.validate()
    assert validate.validation() is None
    assert "no usable Drone.toml or layout.toml" in validate.verdict_label.text()


def test_a_proposed_layout_that_does_not_fit_says_why(panels):
    layout, validate = panels
    layout.pools_spin.setValue(2)
    layout.size_edit.setText("1K")
    validate.set_source(PROPOSED)
    validate.validate()
    assert validate.validation() is None
    text = validate.verdict_label.text()
    assert "no proposed layout: the trace does not fit a heap of 1,024 B in 2 pools" in text


def test_threaded_validation_reports_when_done(qtbot, workload, samples):
    layout, panel = open_panels(qtbot, workload, samples / WORKLOAD)  # a real worker thread
    layout.size_edit.setText("64K")
    layout.pools_spin.setValue(5)
    panel.set_source(PROPOSED)
    with qtbot.waitSignal(panel.validated, timeout=30_000):
        panel.validate()
    assert panel.validation().holds
    qtbot.waitUntil(lambda: not running_threads(), timeout=10_000)


# ---- the proposed layouts ---------------------------------------------------------------------


def test_validating_the_proposed_timeline_layout_finds_no_failure(window, samples):
    window.open_file(samples / WORKLOAD)
    panel = window.layout_panel
    panel.pools_spin.setValue(5)
    panel.set_method("timeline")
    layout = panel.current_layout()
    assert layout is not None and layout.heap_size == HEAP_64K
    window.validate_panel.set_source(PROPOSED)
    window.validate_action.trigger()
    assert window.validate_panel.validation().holds
    assert "Holds" in window.validate_panel.verdict_label.text()
    assert "proposed timeline layout" in window.validate_panel.verdict_label.text()
    assert len(window.charts.failure_marker.getData()[0]) == 0
    assert first_fit(window.trace.records, list(layout.pools), HEAP_64K).failed == []


def test_timeline_reserves_fewer_bytes_than_drone(panels, workload, workload_demand):
    layout_panel, _ = panels
    assert layout_panel.method() == "drone"  # the default
    layout_panel.pools_spin.setValue(5)
    drone = layout_panel.current_layout()
    needed = sum(s * c for s, c in workload_demand) + brute_partition(workload_demand, 5)
    assert drone.partition.bytes == needed
    assert f"Heap needed for 5 pools: {needed:,} B" in layout_panel.comparison_label.text()
    assert layout_panel.reserved_label.text() == ""  # said once, in the headline

    layout_panel.set_method("timeline")
    timeline = layout_panel.current_layout()
    assert timeline.partition.bytes < drone.partition.bytes
    needed = timeline.partition.bytes
    assert f"Heap needed for 5 pools: {needed:,} B" in layout_panel.comparison_label.text()
    assert first_fit(workload.records, list(timeline.partition.pools), HEAP_64K).failed == []
    assert "simultaneous peak" in layout_panel.source_label.text()

    layout_panel.set_method("drone")
    assert layout_panel.current_layout() == drone  # back to drone's exact result


def test_the_heap_needed_headline_names_the_chosen_method_and_explains_the_rest(
    panels, workload, workload_demand
):
    layout_panel, _ = panels
    layout_panel.pools_spin.setValue(5)
    classes, live = class_live_counts(workload.records)
    assert classes == [s for s, _ in workload_demand]
    timeline = timeline_minimum([live], classes, 5)
    drone = sum(s * c for s, c in workload_demand) + brute_partition(workload_demand, 5)
    assert timeline < drone
    assert layout_panel.comparison_label.text() == f"<b>Heap needed for 5 pools: {drone:,} B</b>"
    tip = layout_panel.comparison_label.toolTip()
    assert f"{timeline:,} B (" in tip and f"{drone:,} B (" in tip  # both methods, on hover
    assert f"{workload.stats.peak_usage:,} B" in tip and f"{workload.stats.max_usage:,} B" in tip
    layout_panel.set_method("timeline")
    assert layout_panel.comparison_label.text() == f"<b>Heap needed for 5 pools: {timeline:,} B</b>"
    assert f"needs {timeline:,} B (" in layout_panel.comparison_label.toolTip()


def test_headroom_raises_every_pool(panels, workload):
    layout_panel, _ = panels
    layout_panel.pools_spin.setValue(5)
    for method in ("drone", "timeline"):
        layout_panel.set_method(method)
        layout_panel.headroom_spin.setValue(0)
        plain = layout_panel.current_layout().partition.pools
        layout_panel.headroom_spin.setValue(25)
        raised = layout_panel.current_layout().partition.pools
        assert [p.block for p in raised] == [p.block for p in plain]
        assert [p.capacity for p in raised] == [-(-p.capacity * 5 // 4) for p in plain]


def test_timeline_layout_is_planned_off_the_gui_thread(qtbot, monkeypatch, workload, samples):
    """Large sets plan in a worker; the result equals the inline one."""
    inline, _ = open_panels(qtbot, workload, samples / WORKLOAD)  # small: planned inline
    inline.pools_spin.setValue(5)
    inline.set_method("timeline")
    expected = inline.current_layout()

    monkeypatch.setattr(layout_planner, "INLINE_RECORDS", 0)
    panel, _ = open_panels(qtbot, workload, samples / WORKLOAD)
    panel.pools_spin.setValue(5)
    qtbot.waitUntil(lambda: not panel.planner.busy(), timeout=30_000)
    with qtbot.waitSignal(panel.layout_changed, timeout=30_000) as emitted:
        panel.set_method("timeline")
        assert panel.current_layout() is None  # "computing" until the worker answers
    assert emitted.args == [None]
    qtbot.waitUntil(lambda: panel.current_layout() is not None, timeout=30_000)
    assert panel.current_layout() == expected
    assert "Heap needed for 5 pools" in panel.comparison_label.text()
    qtbot.waitUntil(lambda: not running_threads(), timeout=10_000)


# ---- accessibility and the model -------------------------------------------------------------


def test_pool_use_model_passes_the_qt_model_tester(qtmodeltester, workload):
    model = PoolUseModel()
    model.set_result(replay(workload.records, SMALL_LAYOUT))
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == len(HEADERS)
    model.set_result(replay(workload.records, [Pool(2048, 400)]))
    assert model.rowCount() == 1
    model.set_result(None)
    assert model.rowCount() == 0


def test_new_controls_have_names_and_tooltips(panels):
    layout_panel, validate = panels
    for widget in (
        layout_panel.method_combo,
        layout_panel.headroom_spin,
        layout_panel.reserved_label,
        layout_panel.comparison_label,
        validate.source_combo,
        validate.validate_button,
        validate.table,
        validate.chart,
        validate.details_label,
        validate.relative_check,
    ):
        assert widget.accessibleName() or widget.text()
        assert widget.toolTip()
    assert validate.verdict_label.accessibleName()


def test_traces_of_a_set_are_all_validated(panels, tmp_path, workload, samples):
    layout_panel, validate = panels
    traces = TraceSet.of(
        [workload, read_trace(samples / "seed-example.framed", heap_size=HEAP_64K)]
    )
    layout_panel.workspace.open(traces, [samples / WORKLOAD, samples / "seed-example.framed"])
    layout_panel.size_edit.setText("64K")
    assert validate.trace_combo.count() == 2 and validate.trace_combo.isVisibleTo(validate)
    layout_panel.pools_spin.setValue(4)
    validate.set_source(PROPOSED)
    validate.validate()
    assert [c.name for c in validate.validation().checks] == traces.names
    assert validate.validation().holds
    assert "all 2 traces" in validate.verdict_label.text()


# ---- verdicts on allocations no pool serves, pools against the heap --------------------------


def seed_beside(tmp_path: Path, samples: Path, toml: str):
    """The seed example read for a 100-byte heap (its 128-byte blocks are larger), with a
    Drone.toml beside it, in a layout panel and a validation panel reading that config."""
    path = tmp_path / "seed.framed"
    shutil.copyfile(samples / "seed-example.framed", path)
    (tmp_path / "Drone.toml").write_text(toml)
    return path, read_trace(path, heap_size=100)


def config_panels(qtbot, path, trace) -> tuple[LayoutPanel, ValidatePanel]:
    layout, panel = open_panels(qtbot, trace, path)
    panel.set_source(CONFIG)
    return layout, panel


def test_an_allocation_larger_than_the_heap_fails_validation(
    tmp_path, qtbot, samples, inline_tasks
):
    # 4 + 3 x 12 + 28 + 32 = 100 bytes: every size but 128 has its block.
    toml = (
        '[heap]\nsize = "100"\npools = [{ block = "4", capacity = 1 }, '
        '{ block = "12", capacity = 3 }, { block = "28", capacity = 1 }, '
        '{ block = "32", capacity = 1 }]\n'
    )
    path, trace = seed_beside(tmp_path, samples, toml)
    _, panel = config_panels(qtbot, path, trace)
    panel.validate()
    assert not panel.validation().holds
    assert panel.failed_records(trace).tolist() == [17, 19]  # the seed's two 128-byte blocks
    assert "Fails: 2 allocations" in panel.verdict_label.text()
    assert "record 17: no free block for 128 B" in panel.details_label.text()


def test_pools_larger_than_the_heap_are_refused(tmp_path, qtbot, samples, inline_tasks):
    toml = (
        '[heap]\nsize = "100"\n'
        'pools = [{ block = "4", capacity = 1 }, { block = "128", capacity = 1 }]\n'
    )
    path, trace = seed_beside(tmp_path, samples, toml)
    _, panel = config_panels(qtbot, path, trace)
    panel.validate()
    assert panel.validation() is None
    text = panel.verdict_label.text()
    assert text.startswith("⚠") and "132 B" in text and "more than the heap" in text


def test_pools_smaller_than_the_heap_are_a_warning_beside_the_verdict(
    tmp_path, qtbot, samples, inline_tasks
):
    toml = '[heap]\nsize = "2K"\npools = [{ block = "128", capacity = 8 }]\n'
    path, trace = seed_beside(tmp_path, samples, toml)
    _, panel = config_panels(qtbot, path, trace)
    panel.validate()
    assert panel.validation().holds
    text = panel.verdict_label.text()
    assert "Holds" in text and "1,024 B" in text and "drone requires them to match" in text


def test_details_say_what_could_not_be_read(tmp_path, qtbot, samples, inline_tasks):
    data = (samples / "seed-example.framed").read_bytes()
    path = tmp_path / "noisy.framed"
    path.write_bytes(data[:40] + bytes(range(256)) * 4 + data[40:])
    trace = read_trace(path, fmt="framed", heap_size=10240)
    assert trace.skipped_bytes > 0
    layout, panel = open_panels(qtbot, trace, path)
    layout.size_edit.setText("10K")
    panel.set_source(PROPOSED)
    panel.validate()
    assert f"{trace.skipped_bytes:,} B of the trace could not be read" in (
        panel.details_label.text()
    )


def _needs_and_spares(panel) -> list[tuple[int, int, int | None, int | None]]:
    model = panel.model
    column = {title: k for k, title in enumerate(LAYOUT_HEADERS)}
    return [
        tuple(
            model.index(row, column[title]).data(LAYOUT_VALUE)
            for title in ("Block", "Capacity", "Needed", "Spare")
        )
        for row in range(model.rowCount())
    ]


@pytest.mark.parametrize("method", ["drone", "timeline"])
def test_needed_and_spare_split_capacity_and_headroom_adds_only_spare(panels, workload, method):
    layout_panel, _ = panels
    layout_panel.pools_spin.setValue(5)
    layout_panel.set_method(method)
    classes, live = class_live_counts(workload.records)  # an independent loop over the records
    rows = _needs_and_spares(layout_panel)
    served_by: dict[int, list[int]] = {}
    blocks = sorted(block for block, capacity, _, _ in rows if capacity)
    for k, size in enumerate(classes):
        served_by.setdefault(next(b for b in blocks if b >= size), []).append(k)
    for block, capacity, needed, spare in rows:
        columns = served_by.get(block, [])
        if method == "drone":
            want = int(live[:, columns].max(axis=0).sum()) if columns else 0  # Σ max loads
        else:
            want = int(live[:, columns].sum(axis=1).max()) if columns else 0  # one peak
        assert (needed, spare) == (want, capacity - want), block
        assert spare >= 0  # an optimized layout holds what its method needs
    layout_panel.headroom_spin.setValue(20.0)
    raised = _needs_and_spares(layout_panel)
    assert [r[2] for r in raised] == [r[2] for r in rows]  # the need is the trace's alone
    assert all(spare >= 0.2 * needed - 1 for _, _, needed, spare in raised)  # headroom is spare


def test_the_pool_table_is_the_occupancy_charts_legend(window, samples):
    window.open_file(samples / WORKLOAD)
    window.show_validation()
    window.validate_action.trigger()
    panel = window.validate_panel
    chart = panel.chart
    assert chart.getPlotItem().legend is None  # nothing drawn over the curves
    model = panel.model
    drawn = [row for row in range(model.rowCount()) if model.index(row, 1).data(VALUE_ROLE)]
    pens = [curve.opts["pen"].color().name() for curve in chart.curves()]
    swatches = [model.index(row, 0).data(Qt.ItemDataRole.DecorationRole).name() for row in drawn]
    assert swatches == pens and len(pens) == len(drawn) > 1
