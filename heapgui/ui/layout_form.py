"""The layout request: heap size (and where it came from), heap, pool count, method, headroom.

The form is where the user decides the heap size: a typed size goes to the
workspace (`type_heap_size`), a chosen config heap too (`use_config`), and
the size shown follows the workspace's, with its source beside it. It reads
the config file the user picks and prefills the size and pool count from its
heap. `changed` asks the panel to plan again; `size_refused` says the size
field holds no valid size, so there is nothing to plan.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from heapgui.errors import HeapguiError
from heapgui.layout.config import DEFAULT_HEAP, HeapConfig, load_config
from heapgui.layout.generate import MAX_POOLS
from heapgui.layout.plan import MinimumHeaps
from heapgui.layout.timeline import MAX_HEADROOM
from heapgui.report import comparison, counted
from heapgui.sizes import format_bytes, format_size
from heapgui.ui.elided_label import ElidedLabel
from heapgui.workspace import HeapSize, Workspace
from heapgui.workspace.heap import parse_heap_size
from heapgui.workspace.planning import DRONE, TIMELINE, Planning

logger = logging.getLogger(__name__)

DEFAULT_HEAP_SIZE = 10 * 1024
"""Used when neither a config file nor the trace names a heap size (the seed's example heap)."""
DEFAULT_POOLS = 8
SIZE_TIP = "Heap size in bytes: decimal, 0x hex or 0-prefixed octal, with an optional K or M suffix"
METHOD_NAMES = {DRONE: "Drone-compatible", TIMELINE: "Timeline"}
METHOD_TIP = (
    "Drone-compatible: drone's own layout, least fragmentation, each pool holding the sum of "
    "its sizes' max loads.\n"
    "Timeline: fewest reserved bytes, each pool holding the most blocks its sizes were ever "
    "using at once; it still serves every allocation of the traces."
)
HEADROOM_TIP = "Extra capacity for every pool, in percent of what the traces need (rounded up)"
HEADLINE_TIP = (
    "The least heap the pools of the chosen method need for this pool count and headroom, "
    "before the rest of the heap is spread over them: the one answer to how much heap the "
    "firmware needs."
)


class LayoutForm(QWidget):
    """The inputs of the layout panel, and what it says about them."""

    changed = Signal()
    """A valid input changed: plan again."""
    size_refused = Signal()
    """The size field holds no valid size (the message is shown under it)."""
    size_changed = Signal("qint64")
    """The heap size in bytes; 64-bit because heaps up to 4 GiB overflow a Qt int."""
    config_read = Signal()
    """Another config file (or none) was read: `config_path` and `config` changed."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.config: HeapConfig | None = None
        self.config_path: Path | None = None
        self.trace_dir: Path | None = None
        """Where the traces were read from: where a config was looked for."""
        self.size = DEFAULT_HEAP_SIZE
        """The last valid size typed or prefilled."""
        self.planning = Planning(None)
        self._build()
        self.size_edit.textChanged.connect(self._size_edited)
        self.pools_spin.valueChanged.connect(self._input_changed)
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        self.headroom_spin.valueChanged.connect(self._input_changed)
        self.heap_combo.currentTextChanged.connect(self._heap_chosen)
        workspace.heap_size_changed.connect(self._follow_heap)

    # ---- what the panel reads -------------------------------------------------------------

    def method(self) -> str:
        """The chosen method: drone (drone-compatible) or timeline."""
        return str(self.method_combo.currentData())

    def heap_name(self) -> str:
        return self.heap_combo.currentText() or DEFAULT_HEAP

    def size_is_valid(self) -> bool:
        return self.size_error.isHidden()

    # ---- what the panel tells it ----------------------------------------------------------

    def set_planning(self, planning: Planning) -> None:
        """The set planned for, as the line under the form names it."""
        self.planning = planning
        self._show_source()
        if planning.partitioner is None:
            self.comparison_label.hide()

    def use_config(self, path: Path | None, prefill: bool = True, heap: str = DEFAULT_HEAP) -> None:
        """Read `path` (None: no config) and select `heap` if it has one.

        Errors are shown next to the Config button, not raised.
        """
        self.config_path = path
        self.config = None
        if path is None:
            where = self.trace_dir
            self.config_label.setText("No Drone.toml or layout.toml" if where else "No config file")
            self.config_label.setToolTip(f"None found in {where}" if where else "")
        else:
            try:
                self.config = load_config(path)
            except HeapguiError as exc:
                logger.info("%s", exc)
                self.config_label.setText(f"⚠ {exc}")
                self.config_label.setToolTip(str(exc))
            else:
                self.config_label.setText(path.name)
                self.config_label.setToolTip(str(path))
        self.config_read.emit()
        heaps = list(self.config.heaps) if self.config is not None else []
        with QSignalBlocker(self.heap_combo):
            self.heap_combo.clear()
            self.heap_combo.addItems(heaps or [DEFAULT_HEAP])
            chosen = heap if heap in heaps else DEFAULT_HEAP
            if chosen in heaps:
                self.heap_combo.setCurrentText(chosen)
        if prefill:
            self.prefill()

    def prefill(self) -> None:
        """Heap size (and pool count) from the chosen heap, else the workspace's, else the last."""
        spec = None
        if self.config is not None and self.heap_name() in self.config.heaps:
            spec = self.config.heaps[self.heap_name()]
        if spec is not None:
            size = spec.size
        elif self.workspace.heap is not None:
            size = self.workspace.heap.size
        else:
            size = self.size
        with QSignalBlocker(self.size_edit), QSignalBlocker(self.pools_spin):
            self.size_edit.setText(format_size(size))
            if spec is not None and spec.pools:
                self.pools_spin.setValue(min(len(spec.pools), MAX_POOLS))
        tip = SIZE_TIP
        if spec is not None and self.config_path is not None:
            tip += f"\nPrefilled from heap {spec.name} in {self.config_path}"
            if spec.estimated:
                tip += " (an estimate: the size of .data is unknown)"
        self.size_edit.setToolTip(tip)
        self._parse_size()

    def publish_config(self) -> None:
        """The config and heap the user chose here decide the heap size for every view."""
        if self.config is not None and self.heap_name() in self.config.heaps:
            self.workspace.use_config(self.config, self.heap_name())

    def show_heaps(self, heaps: MinimumHeaps | None) -> None:
        """The headline: the least heap the chosen method needs for the pool count asked for.

        The other figures a user may meet (the other method's need, the most in use at
        once, drone's sum of bytes at max load) are explained on hover, not shown beside it.
        """
        if heaps is None:
            self.comparison_label.setText("Heap needed: computing…")
            self.comparison_label.show()
            return
        timeline = self.method() == TIMELINE
        needed = heaps.timeline if timeline else heaps.drone
        self.comparison_label.setText(
            f"<b>Heap needed for {counted(heaps.pools, 'pool')}: {format_bytes(needed)}</b>"
        )
        traces = self.planning.traces
        several = traces is not None and len(traces) > 1
        sentence = comparison(heaps, "this set of traces" if several else "this trace")
        lines = [HEADLINE_TIP, f"{sentence[:1].upper()}{sentence[1:]}."]
        if traces is not None:
            peak = max(t.stats.peak_usage for t in traces.traces)
            total = max(t.stats.max_usage for t in traces.traces)
            lines.append(
                f"No layout needs less than the most bytes in use at once, "
                f"{format_bytes(peak)}. Drone's maximum usage, the sum of every size's bytes at "
                f"its max load, is {format_bytes(total)}."
            )
        self.comparison_label.setToolTip("\n\n".join(lines))
        self.comparison_label.show()

    # ---- reacting ---------------------------------------------------------------------------

    def _follow_heap(self, heap: HeapSize | None) -> None:
        """Show the workspace's heap size (a guess that grew, a config chosen elsewhere)."""
        if heap is not None and heap.size != self.size:
            with QSignalBlocker(self.size_edit):
                self.size_edit.setText(format_size(heap.size))
            if self._parse_size():
                self.changed.emit()
        self._show_heap_source()

    def _show_heap_source(self) -> None:
        heap = self.workspace.heap
        self.size_source.setText(f"({heap.source.value})" if heap is not None else "")
        self.size_source.setToolTip(heap.describe() if heap is not None else "")

    def _parse_size(self) -> bool:
        """Validate the size field; a bad value shows a message and keeps the last good size."""
        try:
            size = parse_heap_size(self.size_edit.text())
        except HeapguiError as exc:
            self.size_error.setText(f"⚠ Heap size: {exc}")
            self.size_error.show()
            self.size_edit.setAccessibleDescription(str(exc))
            return False
        self.size_error.hide()
        self.size_edit.setAccessibleDescription("")
        if size != self.size:
            self.size = size
            self.size_changed.emit(size)
        return True

    @Slot(str)
    def _size_edited(self, _text: str) -> None:
        if self._parse_size():
            self.workspace.type_heap_size(self.size)
            self.changed.emit()
        else:
            self.size_refused.emit()

    @Slot()
    def _input_changed(self) -> None:
        if self.size_is_valid():
            self.changed.emit()

    @Slot(str)
    def _heap_chosen(self, _name: str) -> None:
        self.prefill()
        self.publish_config()
        self.changed.emit()

    @Slot(int)
    def _method_changed(self, _index: int) -> None:
        self._show_source()
        self._input_changed()

    def _show_source(self) -> None:
        traces = self.planning.traces
        if traces is None:
            self.source_label.setText(
                "No trace loaded: showing drone's starter layout (blocks growing up to 1/20 of "
                "the heap). Load a trace to optimize the pools for it."
            )
            return
        if len(traces) == 1:
            what = Path(traces.traces[0].source).name
        else:
            what = f"{len(traces)} traces ({', '.join(traces.names)})"
        if self.planning.partitioner is None:
            verb = "has" if len(traces) == 1 else "have"
            self.source_label.setText(
                f"{what} {verb} no allocations: showing drone's starter layout."
            )
            return
        sizes = len(self.planning.partitioner.demand)
        if self.method() == TIMELINE:
            how = "fewest reserved bytes, each pool holding its sizes' simultaneous peak"
        else:
            how = "exact minimum fragmentation for each pool count"
        every = "" if len(traces) == 1 else "; one layout that serves every trace of the set"
        self.source_label.setText(
            f"Optimized for {what}: {sizes} distinct word-aligned sizes; {how}{every}."
        )

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.size_edit = QLineEdit()
        self.size_edit.setPlaceholderText("e.g. 10K, 0x2800, 10240")
        self.size_edit.setAccessibleName("Heap size")
        self.size_edit.setToolTip(SIZE_TIP)
        self.size_edit.setMaximumWidth(160)
        # Where the size came from (config, typed, guessed): a guess must look like one.
        self.size_source = QLabel()
        self.size_source.setAccessibleName("Heap size source")
        self.size_error = QLabel()
        self.size_error.setAccessibleName("Heap size error")
        self.size_error.setWordWrap(True)
        self.size_error.hide()
        self.heap_combo = QComboBox()
        self.heap_combo.setAccessibleName("Heap")
        self.heap_combo.setToolTip("The heap to lay out: main, or a named heap from the config")
        self.heap_combo.setMinimumContentsLength(8)
        self.pools_spin = QSpinBox()
        self.pools_spin.setRange(1, MAX_POOLS)
        self.pools_spin.setValue(DEFAULT_POOLS)
        self.pools_spin.setAccessibleName("Pool count")
        self.pools_spin.setToolTip(
            "Largest number of pools: fewer pools allocate faster but fragment more"
        )
        self.method_combo = QComboBox()
        for method, name in METHOD_NAMES.items():
            self.method_combo.addItem(name, method)
        self.method_combo.setAccessibleName("Layout method")
        self.method_combo.setToolTip(METHOD_TIP)
        self.headroom_spin = QDoubleSpinBox()
        self.headroom_spin.setRange(0.0, float(MAX_HEADROOM))
        self.headroom_spin.setDecimals(1)
        self.headroom_spin.setSingleStep(5.0)
        self.headroom_spin.setSuffix(" %")
        self.headroom_spin.setAccessibleName("Headroom")
        self.headroom_spin.setToolTip(HEADROOM_TIP)
        self.config_button = QPushButton("C&onfig…")
        self.config_button.setToolTip("Choose the Drone.toml or layout.toml to read and write")
        self.config_label = QLabel()
        self.config_label.setAccessibleName("Config file")
        self.config_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long path or error must not widen the panel; the tooltip has it whole.
        self.config_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source_label = ElidedLabel()
        self.source_label.setAccessibleName("Layout source")
        self.comparison_label = QLabel()  # one short line: no wrapping
        self.comparison_label.setAccessibleName("Heap needed")
        self.comparison_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        size_field = QWidget()
        size_row = QHBoxLayout(size_field)
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.size_edit)
        size_row.addWidget(self.size_source)
        inputs = QGridLayout()
        inputs.setVerticalSpacing(2)  # the dock's height is the pool table's
        for column, (text, field, buddy) in enumerate(
            (
                ("Heap &size:", size_field, self.size_edit),
                ("He&ap:", self.heap_combo, self.heap_combo),
                ("&Pools:", self.pools_spin, self.pools_spin),
            )
        ):
            label = QLabel(text)
            label.setBuddy(buddy)
            inputs.addWidget(label, 0, 2 * column)
            inputs.addWidget(field, 0, 2 * column + 1)
        inputs.addWidget(self.config_button, 0, 6)
        inputs.addWidget(self.config_label, 0, 7)
        inputs.setColumnStretch(7, 1)
        # How the heap is laid out, in a row of its own: its widths do not align with the above.
        method_row = QHBoxLayout()
        # A row nested in a grid of unequal spacings would get none of its own.
        method_row.setSpacing(
            self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing)
        )
        for text, field in (("&Method:", self.method_combo), ("Head&room:", self.headroom_spin)):
            label = QLabel(text)
            label.setBuddy(field)
            method_row.addWidget(label)
            method_row.addWidget(field)
        method_row.addWidget(self.comparison_label)
        method_row.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        # What the layout is optimized for, beside the headline: a line of the dock's height
        # is the pool table's. Without a trace the headline hides and the fields keep their width.
        method_row.addWidget(self.source_label, 1)
        for field in (self.method_combo, self.headroom_spin):
            field.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        inputs.addLayout(method_row, 1, 0, 1, 8)
        inputs.addWidget(self.size_error, 2, 0, 1, 8)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(inputs)
