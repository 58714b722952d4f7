"""Where a capture reads from and writes to: the form at the top of the capture panel.

Anything that touches pyocd (listing probes and target types: `ProbeRows`)
runs as a background `Task`, started only when the user asks for probes, so
the window never waits for it and other users of the window never start a
thread. The core clock and SWO baud
rate come from Drone.toml [log.swo] when one is found next to the open trace
or in the working directory; without one they stay "not set" and the source
picks its own (the simulator) or says it needs them (a probe).

A probe or the simulated board can also be read over Drone Stream (drone
master): the buffers come from the firmware's ELF or layout.toml, and the
capture attaches to the running firmware or starts it from reset. A
project folder with a layout.toml preselects Drone Stream with that file;
one whose Drone.toml has [log.swo] preselects SWO.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from heapgui.capture.session import DETECT, STREAM, STREAM_FORMAT, SWO
from heapgui.capture.sources import (
    FAST,
    PROBE,
    RECORDED,
    REPLAY,
    SIM,
    TCP,
    SourceSettings,
    SourceSpec,
)
from heapgui.capture.stream_source import ATTACH, FROM_RESET
from heapgui.capture.swo_clock import swo_clock_problem
from heapgui.capture.tcp import DEFAULT_HOST, TCP_PRESETS
from heapgui.errors import HeapguiError
from heapgui.layout.config import DRONE_TOML, load_config
from heapgui.report import DEFAULT_TRACE
from heapgui.ui.capture_worker import CaptureRequest
from heapgui.ui.form_fields import (
    FIELD_MIN_WIDTH,
    MAX_HZ,
    add_row,
    browse_button,
    choice_combo,
    chosen_path,
    hertz_spin,
    narrow,
    open_into,
)
from heapgui.ui.probe_rows import ProbeRows
from heapgui.workspace.loading import config_heap_size

logger = logging.getLogger(__name__)

SOURCES = (
    (PROBE, "Debug probe (pyOCD)", "Read SWO or Drone Stream through a USB debug probe"),
    (TCP, "TCP stream", "Read the raw SWO stream a running debugger serves over TCP"),
    (REPLAY, "Replay a .swo file", "Play back a recorded raw SWO file"),
    (SIM, "Simulated device", "A simulated board with demo firmware: no hardware needed"),
)
TRANSPORTS = (
    (SWO, "SWO (drone 0.12-0.14)", "The heap trace on ITM port 31 through the SWO pin"),
    (STREAM, "Drone Stream (drone master)", "The heap trace in target RAM, read over SWD"),
)
STREAM_KINDS = (PROBE, SIM)  # the sources that can read target RAM
DRAIN = "drain"  # attach and keep the backlog
STARTS = (
    (ATTACH, "Attach, skip the backlog", "Leave the firmware running; start from now"),
    (DRAIN, "Attach, keep the backlog", "Also keep what the buffers held already"),
    (FROM_RESET, "From reset", "Reset the target: capture from the first allocation"),
)
SWO_FORMATS = (
    (DETECT, "Detect", "Tell framed from legacy by the first kilobytes"),
    ("framed", "framed (0.12-0.14)", "drone-core 0.12-0.14"),
    ("legacy", "legacy (0.9-0.11)", "drone-core 0.9-0.11"),
)
LAYOUT_TOML = "layout.toml"
BUFFERS_FILTER = "Firmware ELF or layout.toml (*.elf *.toml *);;All files (*)"
SIM_RATE_KB = 100  # kB/s of SWO the simulated firmware produces by default
SWO_FILTER = "Raw SWO streams (*.swo *.bin);;All files (*)"


class SourceForm(QWidget):
    """The capture's source, clocks and files; `request()` turns them into a `CaptureRequest`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.simulator_options: dict[str, object] = {"record_emitted": False}
        """Extra `SimulatorConfig` fields; long demos must not keep every emitted byte."""
        self._project_dir: Path | None = None
        self._output_chosen = False  # the user picked the output: prefills leave it alone

        self.source_combo = QComboBox(self)
        for kind, label, tip in SOURCES:
            self.source_combo.addItem(label, kind)
            self.source_combo.setItemData(
                self.source_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.source_combo.setToolTip("Where the heap trace comes from")
        narrow(self.source_combo)
        self.source_combo.setAccessibleName("Capture source")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Source:", self.source_combo)
        self.transport_combo = choice_combo(
            self, TRANSPORTS, "How the firmware sends its heap trace", "Transport"
        )
        form.addRow("Trans&port:", self.transport_combo)
        self._transport_row = form.rowCount() - 1
        # One form for every source, so the fields line up; each source shows its own rows.
        self._rows: dict[str, range] = {}
        for kind, add_rows in (
            (PROBE, self._probe_rows),
            (TCP, self._tcp_rows),
            (REPLAY, self._replay_rows),
            (SIM, self._sim_rows),
        ):
            first = form.rowCount()
            add_rows(form)
            self._rows[kind] = range(first, form.rowCount())
        self._form = form
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.transport_combo.currentIndexChanged.connect(self._transport_changed)
        first = form.rowCount()
        self._stream_rows(form)
        self._rows_stream = range(first, form.rowCount())

        self.clock_spin = hertz_spin(
            self,
            " Hz",
            "Core clock the SWO baud rate divides from (Drone.toml reset-freq)",
            "Core clock",
        )
        self.baud_spin = hertz_spin(
            self, " baud", "SWO baud rate (Drone.toml baud-rate)", "SWO baud rate"
        )
        self.config_label = QLabel(self)
        self.config_label.setAccessibleName("Clock settings origin")

        self.output_edit = QLineEdit(self)
        self.output_edit.setToolTip("The heap trace file the capture writes (what drone reads)")
        self.output_edit.setAccessibleName("Heap trace output file")
        self.output_edit.textEdited.connect(self._output_edited)
        self.output_edit.textChanged.connect(self._check_output)
        self.output_button = browse_button(self, "Choose the heap trace output file")
        self.output_button.clicked.connect(self._choose_output)
        self.overwrite_label = QLabel(self)
        self.overwrite_label.setWordWrap(True)
        self.overwrite_label.setAccessibleName("Output file warning")
        self.raw_check = QCheckBox("Keep raw SWO", self)
        self.raw_check.setToolTip(
            "Also save every SWO byte received: File ▸ Open on it keeps the time axis (the "
            "heaptrace file has no timestamps); also for replays and bug reports"
        )
        self.raw_edit = QLineEdit(self)
        self.raw_edit.setPlaceholderText("capture.swo")
        self.raw_edit.setToolTip("Raw SWO output file")
        self.raw_edit.setAccessibleName("Raw SWO output file")
        self.raw_edit.setEnabled(False)
        self.raw_check.toggled.connect(self.raw_edit.setEnabled)

        self.format_combo = choice_combo(
            self, SWO_FORMATS, "The heap trace format the firmware writes", "Trace format"
        )
        first = form.rowCount()
        form.addRow("&Format:", self.format_combo)
        form.addRow("Core &clock:", self.clock_spin)
        form.addRow("SWO &baud:", self.baud_spin)
        form.addRow(self.config_label)
        self._rows_swo = [*range(first, form.rowCount())]
        add_row(form, "&Output:", self.output_edit, self.output_button)
        form.addRow(self.overwrite_label)
        form.addRow(self.raw_check, self.raw_edit)
        self._rows_swo.append(form.rowCount() - 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)

        self._show_rows(PROBE)
        self.use_project_dir(Path.cwd())
        self._check_output()

    # -- rows of each source -----------------------------------------------------------------

    def _probe_rows(self, form: QFormLayout) -> None:
        self.probes = ProbeRows(self, form)
        self.probes_listed = self.probes.listed
        # The form locks them and reads them into the request like its own fields.
        self.probe_combo, self.refresh_button = self.probes.probe_combo, self.probes.refresh_button
        self.target_combo, self.target_model = self.probes.target_combo, self.probes.target_model
        self.swd_spin = self.probes.swd_spin

    def _tcp_rows(self, form: QFormLayout) -> None:
        self.host_edit = QLineEdit(DEFAULT_HOST, self)
        self.host_edit.setToolTip("Host running the debugger that serves SWO")
        self.host_edit.setAccessibleName("TCP host")
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(TCP_PRESETS[0].port)
        self.port_spin.setToolTip("TCP port of the raw SWO stream")
        self.port_spin.setAccessibleName("TCP port")
        self.port_spin.setMinimumWidth(FIELD_MIN_WIDTH)
        self.preset_combo = QComboBox(self)
        self.preset_combo.addItem("Custom port", None)
        for preset in TCP_PRESETS:
            self.preset_combo.addItem(f"{preset.label} ({preset.port})", preset.port)
            self.preset_combo.setItemData(
                self.preset_combo.count() - 1, preset.how, Qt.ItemDataRole.ToolTipRole
            )
        self.preset_combo.setCurrentIndex(1)
        self.preset_combo.setToolTip("Debuggers that serve raw SWO over TCP, with their usual port")
        self.preset_combo.setAccessibleName("Debugger preset")
        narrow(self.preset_combo)
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        self.port_spin.valueChanged.connect(self._port_changed)
        form.addRow("&Debugger:", self.preset_combo)
        add_row(form, "&Host:", self.host_edit, self.port_spin)

    def _replay_rows(self, form: QFormLayout) -> None:
        self.replay_edit = QLineEdit(self)
        self.replay_edit.setPlaceholderText("capture.swo")
        self.replay_edit.setToolTip("Raw SWO file to replay")
        self.replay_edit.setAccessibleName("Replay file")
        self.replay_button = browse_button(self, "Choose the SWO file to replay")
        self.replay_button.clicked.connect(
            partial(open_into, self.replay_edit, "Replay a raw SWO file", SWO_FILTER)
        )
        add_row(form, "&File:", self.replay_edit, self.replay_button)
        self.pace_combo = QComboBox(self)
        self.pace_combo.addItem("Recorded speed", RECORDED)
        self.pace_combo.addItem("As fast as possible", FAST)
        self.pace_combo.setToolTip(
            "Recorded speed follows the stream's timestamps (with the core clock), else the "
            "SWO baud rate"
        )
        self.pace_combo.setAccessibleName("Replay speed")
        narrow(self.pace_combo)
        form.addRow("Sp&eed:", self.pace_combo)

    def _sim_rows(self, form: QFormLayout) -> None:
        self.rate_spin = QSpinBox(self)
        self.rate_spin.setRange(1, 10_000)
        self.rate_spin.setValue(SIM_RATE_KB)
        self.rate_spin.setSuffix(" kB/s")
        self.rate_spin.setToolTip(
            "SWO bytes per second the simulated firmware writes; the baud rate must carry them "
            "(10 bits a byte) or the firmware slows down"
        )
        self.rate_spin.setAccessibleName("Simulated trace rate")
        narrow(self.rate_spin)
        form.addRow("&Rate:", self.rate_spin)

    def _stream_rows(self, form: QFormLayout) -> None:
        self.buffers_edit = QLineEdit(self)
        self.buffers_edit.setToolTip(
            "The firmware's ELF (what was flashed: preferred) or its layout.toml, where the "
            "Drone Stream buffers are found"
        )
        self.buffers_edit.setAccessibleName("Firmware ELF or layout.toml")
        self.buffers_button = browse_button(self, "Choose the firmware ELF or layout.toml")
        self.buffers_button.clicked.connect(
            partial(open_into, self.buffers_edit, "Firmware ELF or layout.toml", BUFFERS_FILTER)
        )
        add_row(form, "&Buffers:", self.buffers_edit, self.buffers_button)
        self.start_combo = choice_combo(
            self, STARTS, "Attach to the running firmware, or reset it first", "Start mode"
        )
        form.addRow("St&art:", self.start_combo)
        self.cores_spin = QSpinBox(self)
        self.cores_spin.setRange(1, 2)
        self.cores_spin.setToolTip("Buffers of the simulated board: 1 (stm32), 2 (RP2040)")
        self.cores_spin.setAccessibleName("Simulated cores")
        narrow(self.cores_spin)
        form.addRow("Co&res:", self.cores_spin)
        self._cores_row = form.rowCount() - 1

    # -- public API --------------------------------------------------------------

    def source_kind(self) -> str:
        return str(self.source_combo.currentData())

    def transport(self) -> str:
        """SWO or STREAM; sources that cannot read target RAM are always SWO."""
        if self.source_kind() not in STREAM_KINDS:
            return SWO
        return str(self.transport_combo.currentData())

    def select_transport(self, transport: str) -> None:
        self.transport_combo.setCurrentIndex(self.transport_combo.findData(transport))

    def select_source(self, kind: str) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(kind))

    def set_output(self, path: Path) -> None:
        self.output_edit.setText(str(path))
        self._output_chosen = True

    def use_project_dir(self, directory: Path) -> None:
        """Clocks from `directory`/Drone.toml [log.swo]; the output defaults to that directory."""
        directory = Path(directory)
        if directory == self._project_dir:
            return
        self._project_dir = directory
        layout = directory / LAYOUT_TOML
        if layout.is_file():
            # Drone master: its heap trace comes over Drone Stream.
            self.select_transport(STREAM)
            self.buffers_edit.setText(str(layout))
        config_path = directory / DRONE_TOML
        swo = None
        if config_path.is_file():
            try:
                swo = load_config(config_path).swo
            except HeapguiError as exc:
                logger.info("%s", exc)
                self.config_label.setText(f"⚠ {DRONE_TOML} unreadable")
                self.config_label.setToolTip(str(exc))
                return
        if swo is None:
            self.config_label.setText(f"No {DRONE_TOML} [log.swo] found")
            self.config_label.setToolTip(f"None in {directory}: set the clocks by hand")
            if not self._output_chosen:
                folder = directory if layout.is_file() else Path.cwd()
                self.output_edit.setText(str(folder / DEFAULT_TRACE))
            return
        if not layout.is_file():
            self.select_transport(SWO)
        self.clock_spin.setValue(min(swo.reset_freq, MAX_HZ))
        self.baud_spin.setValue(min(swo.baud_rate, MAX_HZ))
        self.config_label.setText(f"Clocks from {DRONE_TOML}")
        self.config_label.setToolTip(f"Core clock and SWO baud rate from {config_path}")
        if not self._output_chosen:
            self.output_edit.setText(str(directory / DEFAULT_TRACE))

    def request(self) -> CaptureRequest:
        """The capture the form describes; HeapguiError (one line) when something is missing."""
        kind = self.source_kind()
        output = chosen_path(self.output_edit, "the heap trace output file")
        raw = chosen_path(self.raw_edit, "the raw SWO file") if self.raw_check.isChecked() else None
        for path in filter(None, (output, raw)):
            if not path.parent.is_dir():
                raise HeapguiError(f"{path}: the folder {path.parent} does not exist")
        if raw is not None and raw.resolve() == output.resolve():
            raise HeapguiError(f"{raw}: the raw SWO and the heap trace need different files")
        spec = self._spec(kind, [output, raw])
        settings = SourceSettings(
            core_clock=self.clock_spin.value() or None,
            swo_baud=self.baud_spin.value() or None,
            target_type=self.target_combo.currentText().strip() or None,
            swd_frequency=self.swd_spin.value() * 1000 or None,
            replay_pace=str(self.pace_combo.currentData()),
            simulator={"byte_rate": self.rate_spin.value() * 1000.0, **self.simulator_options},
        )
        self._check_clocks(kind)
        heap = config_heap_size(output.parent)
        if self.transport() == STREAM:
            return CaptureRequest(
                spec, self._stream_settings(settings), output, None, heap, STREAM_FORMAT
            )
        fmt = str(self.format_combo.currentData())
        return CaptureRequest(spec, settings, output, raw, heap, fmt)

    def _stream_settings(self, settings: SourceSettings) -> SourceSettings:
        """`settings` for Drone Stream: where the buffers are and how the capture starts."""
        start = str(self.start_combo.currentData())
        text = self.buffers_edit.text().strip()
        path = Path(text).expanduser() if text else None
        if path is None and self.source_kind() == PROBE:
            raise HeapguiError("choose the firmware's ELF or layout.toml to find its buffers")
        if path is not None and not path.is_file():
            raise HeapguiError(f"{path}: no such ELF or layout.toml")
        is_layout = path is not None and path.suffix == ".toml"
        simulator = {**self.simulator_options, "stream_cores": self.cores_spin.value()}
        return replace(
            settings,
            transport=STREAM,
            elf=None if is_layout else path,
            layout=path if is_layout else None,
            stream_start=ATTACH if start == DRAIN else start,
            drain_backlog=start == DRAIN,
            simulator=simulator,
        )

    def set_editable(self, editable: bool) -> None:
        """Lock the form while a capture runs: what it shows is what is being captured."""
        for widget in (
            self.source_combo,
            self.probe_combo,
            self.refresh_button,
            self.target_combo,
            self.swd_spin,
            self.host_edit,
            self.port_spin,
            self.preset_combo,
            self.replay_edit,
            self.replay_button,
            self.pace_combo,
            self.rate_spin,
            self.transport_combo,
            self.buffers_edit,
            self.buffers_button,
            self.start_combo,
            self.cores_spin,
            self.format_combo,
            self.clock_spin,
            self.baud_spin,
            self.output_edit,
            self.output_button,
            self.raw_check,
        ):
            widget.setEnabled(editable)
        self.raw_edit.setEnabled(editable and self.raw_check.isChecked())

    def busy(self) -> bool:
        """A probe or target listing is still running."""
        return self.probes.busy()

    def refresh_probes(self) -> None:
        self.probes.refresh()

    # -- helpers -------------------------------------------------------------------

    def _check_clocks(self, kind: str) -> None:
        """Refuse before Start the clocks the TPIU cannot use (the probe would, after it)."""
        if self.transport() == STREAM or kind not in (PROBE, SIM):
            return  # no SWO set up: Drone Stream, a debugger's server, a recording
        clock, baud = self.clock_spin.value(), self.baud_spin.value()
        if kind == SIM and not (clock and baud):
            return  # the simulated board picks its own clocks when none are given
        problem = swo_clock_problem(clock, baud)
        if problem is not None:
            raise HeapguiError(f"{problem[:1].upper()}{problem[1:]}")

    def _spec(self, kind: str, outputs: list[Path | None]) -> SourceSpec:
        if kind == PROBE:
            return SourceSpec(PROBE, unique_id=self.probe_combo.currentData())
        if kind == TCP:
            host = self.host_edit.text().strip()
            if not host:
                raise HeapguiError("enter the host of the debugger that serves SWO")
            return SourceSpec(TCP, host=host, port=self.port_spin.value())
        if kind == REPLAY:
            path = chosen_path(self.replay_edit, "the SWO file to replay")
            if not path.is_file():
                raise HeapguiError(f"{path}: no such file to replay")
            if any(out is not None and out.resolve() == path.resolve() for out in outputs):
                raise HeapguiError(f"{path}: the capture would overwrite the file it replays")
            return SourceSpec(REPLAY, path=path)
        return SourceSpec(SIM)

    def _show_rows(self, kind: str) -> None:
        stream = self.transport() == STREAM
        for source, rows in self._rows.items():
            for row in rows:
                # The simulator's SWO rate means nothing to its Drone Stream firmware.
                self._form.setRowVisible(row, source == kind and not (stream and kind == SIM))
        self._form.setRowVisible(self._transport_row, kind in STREAM_KINDS)
        for row in self._rows_stream:
            self._form.setRowVisible(row, stream)
        self._form.setRowVisible(self._cores_row, stream and kind == SIM)
        self.probes.show(kind == PROBE)
        for row in self._rows_swo:
            self._form.setRowVisible(row, not stream)

    @Slot(int)
    def _source_changed(self, index: int) -> None:
        self._show_rows(self.source_kind())
        if self.source_kind() == PROBE and not self.probes.listed_before():
            self.probes.refresh()

    @Slot(int)
    def _transport_changed(self, index: int) -> None:
        self._show_rows(self.source_kind())

    @Slot(int)
    def _preset_chosen(self, index: int) -> None:
        port = self.preset_combo.itemData(index)
        if port is not None:
            self.port_spin.setValue(port)

    @Slot(int)
    def _port_changed(self, port: int) -> None:
        if self.preset_combo.currentData() != port:
            self.preset_combo.setCurrentIndex(max(self.preset_combo.findData(port), 0))

    @Slot(str)
    def _output_edited(self, text: str) -> None:
        self._output_chosen = True

    @Slot()
    def _check_output(self) -> None:
        text = self.output_edit.text().strip()
        exists = bool(text) and Path(text).expanduser().is_file()
        self.overwrite_label.setText("⚠ This file exists: Start replaces it." if exists else "")
        self.overwrite_label.setVisible(exists)

    @Slot()
    def _choose_output(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Heap trace output", self.output_edit.text(), "Heap traces (heaptrace *);;"
        )
        if name:
            self.set_output(Path(name))
