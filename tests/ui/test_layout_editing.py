"""Editing the pool layout by hand: the preview after each edit, undo, locks, re-optimizing,
the verdict as you type, the confirmation before writing a failing layout, the comparison.

References: the seed document's layout (docs section 4.3) and arithmetic by
hand for the seed trace; the plain first-fit loop of tests/ui/allocator.py for
which allocations fail; brute force over every block set (tests/test_kept.py)
for the re-optimized layout's fragmentation.
"""

from __future__ import annotations

import shutil
import sys

import pytest
from allocator import first_fit
from kept_oracle import brute_kept
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from heapgui.layout.config import load_config
from heapgui.layout.generate import generate
from heapgui.layout.pools import Pool, demand
from heapgui.layout.verdict import EditChecker
from heapgui.sizes import parse_size
from heapgui.trace.load import Trace, read_trace
from heapgui.trace.stats import Statistics
from heapgui.trace.traceset import TraceSet
from heapgui.trace.workload import workload
from heapgui.ui.layout_model import BLOCK, CAPACITY, LOCKED, VALUE_ROLE
from heapgui.ui.layout_panel import LayoutPanel
from heapgui.ui.verdict_runner import INLINE_RECORDS, VerdictRunner
from heapgui.workspace import Workspace

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

SEED_LAYOUT = """\
[heap]
size = "10K"
pools = [
    { block = "4", capacity = 201 },
    { block = "12", capacity = 222 },
    { block = "28", capacity = 115 },
    { block = "32", capacity = 83 },
    { block = "128", capacity = 7 },
]
# Fragmentation: 0 / 0.00%
"""
SEED_DEMAND = [(4, 1), (12, 3), (28, 1), (32, 1), (128, 1)]  # docs, section 3, word-aligned
HEAP_64K = 65536


@pytest.fixture
def panel(qtbot, inline_tasks) -> LayoutPanel:
    widget = LayoutPanel(Workspace())
    qtbot.addWidget(widget)
    widget.errors = []
    widget.show_error = widget.errors.append
    widget.asked = []
    widget.confirm_failing = lambda message: widget.asked.append(message) or True
    return widget


@pytest.fixture
def seeded(panel, samples):
    trace = read_trace(samples / "seed-example.framed")
    panel.set_trace(trace, None)
    panel.size_edit.setText("10K")
    panel.pools_spin.setValue(5)
    assert panel.layout_text() == SEED_LAYOUT
    return panel


def cell(panel: LayoutPanel, row: int, column: int):
    return panel.model.index(row, column)


def edit(panel: LayoutPanel, row: int, column: int, value: int) -> bool:
    """What the table's editor does when the user types a value."""
    return panel.model.setData(cell(panel, row, column), value, Qt.ItemDataRole.EditRole)


def pools_of(text: str) -> list[tuple[int, int]]:
    return [(parse_size(p["block"]), p["capacity"]) for p in tomllib.loads(text)["heap"]["pools"]]


def test_edit_undo_lock_reoptimize_with_the_preview_each_time(qtbot, seeded):
    panel = seeded
    # Pool 12 down to 100 blocks: 122 × 12 bytes fewer, so the size written is 8776.
    assert edit(panel, 1, CAPACITY, 100)
    edited = SEED_LAYOUT.replace('size = "10K"', 'size = "8776"').replace(
        'block = "12", capacity = 222', 'block = "12", capacity = 100'
    )
    assert panel.layout_text() == edited
    assert panel.model.data(cell(panel, 1, CAPACITY), VALUE_ROLE) == 100
    assert "edited" in panel.fragmentation_label.text()
    assert panel.edit_bar.verdict_label.text().startswith("✔ Holds")

    # Undo with its keys, from the table.
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)
    assert panel.edit_bar.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    qtbot.keyClick(panel.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.layout_text() == SEED_LAYOUT
    qtbot.keyClick(
        panel.table,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert panel.layout_text() == edited
    panel.edit_bar.undo_action.trigger()
    assert panel.layout_text() == SEED_LAYOUT

    # Pool 28 holds 300 blocks (a driver's needs, say) and is locked: the lock alone
    # changes no pool.
    edit(panel, 2, CAPACITY, 300)
    typed = panel.layout_text()
    assert dict(pools_of(typed))[28] == 300
    checked = Qt.CheckState.Checked
    assert panel.model.setData(cell(panel, 2, LOCKED), checked, Qt.ItemDataRole.CheckStateRole)
    assert panel.model.data(cell(panel, 2, LOCKED), Qt.ItemDataRole.CheckStateRole) == checked
    assert panel.layout_text() == typed

    # Optimized again for 3 pools: 28 stays with at least 300 blocks, and the rest is the
    # best 3-pool layout holding 28, by brute force.
    panel.pools_spin.setValue(3)
    pools = pools_of(panel.layout_text())
    blocks = [b for b, _ in pools]
    assert 28 in blocks and len(blocks) == 3
    assert dict(pools)[28] >= 300
    best = brute_kept(SEED_DEMAND, [28], 3)
    assert panel.layout_text().endswith(f"# Fragmentation: {best} / {best / 10240 * 100:.2f}%\n")
    assert sum(b * c for b, c in pools) <= 10240
    row = blocks.index(28)
    assert panel.model.data(cell(panel, row, LOCKED), VALUE_ROLE) is True

    # Back to 5 pools, then Re-optimize as an undoable step: the lock's minimum stays.
    panel.pools_spin.setValue(5)
    before = panel.layout_text()
    assert dict(pools_of(before))[28] >= 300
    edit(panel, 0, CAPACITY, 50)
    panel.edit_bar.reoptimize_action.trigger()
    assert panel.layout_text() == before
    panel.edit_bar.undo_action.trigger()
    assert dict(pools_of(panel.layout_text()))[4] == 50


def test_typing_a_capacity_is_one_undo_step(seeded):
    panel = seeded
    for value in (1, 12, 120):  # the keystrokes of "120"
        edit(panel, 0, CAPACITY, value)
    assert dict(pools_of(panel.layout_text()))[4] == 120
    panel.editor.end_typing()
    edit(panel, 0, CAPACITY, 7)
    panel.edit_bar.undo_action.trigger()
    assert dict(pools_of(panel.layout_text()))[4] == 120
    panel.edit_bar.undo_action.trigger()
    assert panel.layout_text() == SEED_LAYOUT


def test_add_remove_merge_and_revert(seeded):
    panel = seeded
    panel.table.setCurrentIndex(cell(panel, 0, BLOCK))
    panel.edit_bar.add_action.trigger()
    assert panel.model.rowCount() == 6
    assert panel.model.data(cell(panel, 5, BLOCK), VALUE_ROLE) == 256
    assert panel.layout_text() == SEED_LAYOUT  # capacity 0: not written
    edit(panel, 5, CAPACITY, 2)
    assert pools_of(panel.layout_text())[-1] == (256, 2)
    # Merge 4 into 12: 201 × 4 bytes become 67 blocks of 12.
    panel.table.setCurrentIndex(cell(panel, 0, BLOCK))
    panel.edit_bar.merge_action.trigger()
    assert pools_of(panel.layout_text())[0] == (12, 222 + 201 * 4 // 12)
    # The 4-byte allocation now takes a 12-byte block: 8 bytes of fragmentation.
    assert "Fragmentation: 8 B (0.08%)" in panel.fragmentation_label.text()
    panel.table.setCurrentIndex(cell(panel, 0, BLOCK))
    panel.edit_bar.remove_action.trigger()
    assert [b for b, _ in pools_of(panel.layout_text())] == [28, 32, 128, 256]
    # 4 and 12 now go to the 28 pool: (28-4)×1 + (28-12)×3.
    assert "Fragmentation: 72 B (0.70%)" in panel.fragmentation_label.text()
    panel.edit_bar.revert_action.trigger()
    assert panel.layout_text() == SEED_LAYOUT
    panel.edit_bar.undo_action.trigger()
    assert [b for b, _ in pools_of(panel.layout_text())] == [28, 32, 128, 256]


def test_refused_edits_say_why(seeded):
    panel = seeded
    assert not edit(panel, 0, BLOCK, 6)
    assert "multiple of the word size" in panel.status_label.text()
    assert not edit(panel, 0, BLOCK, 12)
    assert "exists already" in panel.status_label.text()
    assert panel.layout_text() == SEED_LAYOUT
    # A block edited past its neighbours: the pools stay in ascending order.
    assert edit(panel, 0, BLOCK, 64)
    assert [b for b, _ in pools_of(panel.layout_text())] == [12, 28, 32, 64, 128]


def test_failing_edit_marks_its_first_failure_and_asks_before_writing(samples, panel, tmp_path):
    path = samples / "workload-40k.framed"
    trace = read_trace(path, fmt="framed", heap_size=HEAP_64K)
    panel.set_trace(trace, None)
    panel.size_edit.setText("64K")
    panel.pools_spin.setValue(6)
    assert panel.edit_bar.verdict_label.text().startswith("✔ Holds")
    # Every pool down to two blocks.
    for row in range(panel.model.rowCount()):
        edit(panel, row, CAPACITY, 2)
    layout = panel.current_layout()
    expected = first_fit(trace.records, list(layout.pools)).failed
    assert expected  # one block cannot serve the trace
    verdict = panel.edit_bar.verdict()
    assert not verdict.holds and verdict.failures == len(expected)
    first_record = expected[0][0]
    assert f"the first at record {first_record:,} ({expected[0][1]:,} B)" in (
        panel.edit_bar.verdict_label.text()
    )
    assert panel.failed_records(trace).tolist() == [r for r, _ in expected]

    config = tmp_path / "Drone.toml"
    config.write_text('[heap]\nsize = "64K"\npools = [{ block = "4", capacity = 16384 }]\n')
    panel.choose_config_path = lambda: config
    panel.confirm_write = lambda plan: True
    panel.asked.clear()
    panel.confirm_failing = lambda message: panel.asked.append(message) or False
    panel.write_layout()
    assert len(panel.asked) == 1 and f"record {first_record:,}" in panel.asked[0]
    assert "capacity = 16384" in config.read_text()  # refused: nothing written
    panel.confirm_failing = lambda message: True
    panel.write_layout()
    assert pools_of(config.read_text()) == [(p.block, p.capacity) for p in layout.written_pools]


def test_compare_view_shows_optimum_edited_and_config(samples, panel, tmp_path):
    trace = read_trace(samples / "seed-example.framed")
    (tmp_path / "Drone.toml").write_text(
        '[heap]\nsize = "10K"\npools = [{ block = "16", capacity = 2 }, '
        '{ block = "128", capacity = 10 }]\n'
    )
    panel.set_trace(trace, tmp_path / "seed-example.framed")
    panel.pools_spin.setValue(5)
    edit(panel, 1, CAPACITY, 1)  # three 12-byte blocks live at once: two overflow or fail
    panel.edit_bar.show_comparison()
    view = panel.edit_bar.comparison().view
    optimum, edited, config = "optimum", "edited", "config"
    assert view.text(optimum, 3) == "✔ Holds"
    assert view.text(optimum, 1) == "0 B (0.00%)"
    assert view.text(optimum, 2).startswith("10,240 B (100.00% of 10,240 B)")
    # The config: 16:2 and 128:10 by the plain first-fit loop.
    oracle = first_fit(trace.records, [Pool(16, 2), Pool(128, 10)])
    assert view.text(config, 3) == (
        "✔ Holds" if not oracle.failed else f"✘ Fails ({len(oracle.failed):,} failed)"
    )
    frag = sum((16 - s) * c for s, c in SEED_DEMAND if s <= 16) + sum(
        (128 - s) * c for s, c in SEED_DEMAND if s > 16
    )
    assert view.text(config, 1) == f"{frag:,} B ({frag / 10240 * 100:.2f}%)"
    pools = [Pool(b, c) for b, c in pools_of(panel.layout_text())]
    oracle = first_fit(trace.records, pools)
    assert view.text(edited, 3).startswith("✔ Holds" if not oracle.failed else "✘ Fails")
    # Overflows of the edited layout: 12-byte requests finding their pool full, served above.
    assert int(view.text(edited, 4).replace(",", "")) == panel.edit_bar.verdict().overflows
    assert panel.edit_bar.verdict().overflows > 0


def test_a_lock_holds_with_the_timeline_method(seeded):
    panel = seeded
    edit(panel, 3, CAPACITY, 40)  # pool 32: a driver's 40 blocks
    checked = Qt.CheckState.Checked
    panel.model.setData(cell(panel, 3, LOCKED), checked, Qt.ItemDataRole.CheckStateRole)
    panel.set_method("timeline")
    pools = dict(pools_of(panel.layout_text()))
    assert pools[32] >= 40
    blocks = sorted(pools)
    assert panel.model.data(cell(panel, blocks.index(32), LOCKED), VALUE_ROLE) is True
    panel.set_method("drone")
    assert dict(pools_of(panel.layout_text()))[32] >= 40


def test_demand_is_what_the_seed_document_says(samples):
    trace = read_trace(samples / "seed-example.framed")
    rows = [(r.size, r.max_load) for r in trace.stats.rows()]
    assert demand(rows) == SEED_DEMAND


def test_a_large_set_is_checked_in_the_background(qtbot):
    records = workload(INLINE_RECORDS + 1000, seed=3)
    traces = TraceSet.of([Trace("big", "framed", records, Statistics.of(records))])
    optimum = generate(demand(traces.max_loads()), 1 << 20, 4)
    runner = VerdictRunner()
    runner.set_traces(traces)
    # The optimum holds Σ max loads in every pool: decided at once, without the trace.
    assert runner.request("edited", optimum.heap_size, optimum.pools).holds
    # Every pool at a tenth of its demand: only a replay can tell, in the background.
    cut = tuple(
        Pool(p.block, c // 10)
        for p, c in zip(optimum.pools, [g.capacity for g in optimum.partition.pools], strict=True)
    )
    with qtbot.waitSignal(runner.checking) as checking:
        assert runner.request("edited", optimum.heap_size, cut) is None
    assert checking.args == ["edited"]
    with qtbot.waitSignal(runner.ready, timeout=60_000) as ready:
        pass
    key, verdict = ready.args
    assert key == "edited" and verdict.replayed
    assert verdict == EditChecker(traces).full(optimum.heap_size, cut)
    oracle = first_fit(records, list(cut))
    assert verdict.failures == len(oracle.failed)
    # Asked again (undo, redo): at once.
    assert runner.request("edited", optimum.heap_size, cut) == verdict


def test_the_load_chart_marks_the_failures_of_the_edited_layout(window, samples):
    window.open_file(samples / "workload-40k.framed")
    panel = window.layout_panel
    panel.size_edit.setText("64K")
    panel.pools_spin.setValue(6)
    assert len(window.charts.failure_marker.getData()[0]) == 0
    for row in range(panel.model.rowCount()):
        edit(panel, row, CAPACITY, 2)
    expected = first_fit(window.trace.records, list(panel.current_layout().pools)).failed
    x, _ = window.charts.failure_marker.getData()
    assert x.tolist() == [record for record, _ in expected]
    panel.edit_bar.revert_action.trigger()  # the optimum holds: no marks
    assert len(window.charts.failure_marker.getData()[0]) == 0


LAYOUT_TOML = """\
# Drone master layout: comments stay.
[ram]
main = { origin = 0x20000000, size = "64K" }

[heap.main]
ram = "main"
size = "10K"
pools = [{ block = "4", count = "100%" }]
"""


def test_edited_layout_is_previewed_and_written_in_the_files_style(samples, panel, tmp_path):
    shutil.copyfile(samples / "seed-example.framed", tmp_path / "seed-example.framed")
    config = tmp_path / "layout.toml"
    config.write_text(LAYOUT_TOML)
    panel.set_trace(read_trace(tmp_path / "seed-example.framed"), tmp_path / "seed-example.framed")
    assert panel.config_path() == config
    panel.pools_spin.setValue(5)
    edit(panel, 4, CAPACITY, 2)  # pool 128: 7 blocks down to 2
    # 256 of the 9600 bytes the edited pools take: a share, which drone master reads right.
    assert '{ block = "128", count = "2.667%" }' in panel.layout_text()
    assert "capacity" not in panel.layout_text()
    panel.confirm_write = lambda plan: True
    panel.write_layout()
    assert panel.asked == []  # it holds: no question
    text = config.read_text()
    assert text.startswith("# Drone master layout: comments stay.\n")
    pools = tomllib.loads(text)["heap"]["main"]["pools"]
    assert pools[-1] == {"block": "128", "count": "2.667%"}
    assert load_config(config).heap().pools[-1] == Pool(128, 2)
    assert len(pools) == 5


def test_the_panel_says_checking_then_gives_the_replays_verdict(qtbot):
    records = workload(INLINE_RECORDS + 1000, seed=5)
    trace = Trace("big.framed", "framed", records, Statistics.of(records))
    panel = LayoutPanel(Workspace())  # background work as in the application
    qtbot.addWidget(panel)
    panel.set_trace(trace, None)
    panel.size_edit.setText("1M")
    panel.pools_spin.setValue(4)
    assert panel.edit_bar.verdict_label.text().startswith("✔ Holds")  # at once: Σ max loads
    edit(panel, 0, CAPACITY, 1)
    assert panel.edit_bar.verdict_label.text() == "Verdict: checking…"
    assert panel.edit_bar.verdict() is None
    label = panel.edit_bar.verdict_label
    qtbot.waitUntil(lambda: label.text() != "Verdict: checking…", timeout=60_000)
    expected = first_fit(records, list(panel.current_layout().pools))
    verdict = panel.edit_bar.verdict()
    assert verdict.failures == len(expected.failed)
    assert label.text().startswith("✔ Holds" if not expected.failed else "✘ Fails")
