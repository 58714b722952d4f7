"""File ▸ Export: the statistics as CSV or JSON and the charts as PNG or SVG.

Failures are reported through the window (status bar and error box), never raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from heapgui.report import as_json, window_json
from heapgui.trace.window import WindowStatistics
from heapgui.ui.charts import ChartsPanel
from heapgui.ui.stats_panel import StatsPanel
from heapgui.workspace import Workspace


def ask_save_path(parent: QWidget, caption: str, suggested: str, filters: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    return Path(name) if name else None


class Exporter:
    def __init__(
        self,
        window: QMainWindow,
        workspace: Workspace,
        stats_panel: StatsPanel,
        charts: ChartsPanel,
        report: Callable[[str], None],
    ) -> None:
        self._window = window
        self._workspace = workspace
        self._stats_panel = stats_panel
        self._charts = charts
        self._report = report

    def statistics_as(self, kind: str) -> None:
        filters = "CSV files (*.csv)" if kind == "csv" else "JSON files (*.json)"
        path = ask_save_path(self._window, "Export statistics", self._suggested(kind), filters)
        if path is not None:
            self.statistics(path)

    def chart_as(self, kind: str) -> None:
        filters = "PNG images (*.png)" if kind == "png" else "SVG drawings (*.svg)"
        path = ask_save_path(self._window, "Export chart", self._suggested(kind), filters)
        if path is not None:
            self.chart(path)

    def statistics(self, path: Path) -> None:
        """CSV for a .csv path, else JSON (the shape of heapgui-cli stats --json); both cover
        what the table shows: the record range when one is selected, else the trace."""
        trace = self._workspace.trace
        if path.suffix.lower() == ".csv":
            text = self._stats_panel.model.to_csv()
        elif trace is not None:
            stats = self._stats_panel.model.stats
            shown = replace(trace, stats=stats) if isinstance(stats, WindowStatistics) else trace
            document = {**as_json(shown, self._workspace.heap_size), **window_json(shown)}
            text = json.dumps(document, indent=1) + "\n"
        else:
            self._report(f"{path}: no trace loaded, nothing to export")
            return
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self._report(f"{path}: cannot write: {exc.strerror}")
            return
        self._window.statusBar().showMessage(f"Saved {path}", 5000)

    def chart(self, path: Path) -> None:
        if not self._charts.export(path):
            self._report(f"{path}: cannot write the chart there")
            return
        self._window.statusBar().showMessage(f"Saved {path}", 5000)

    def _suggested(self, suffix: str) -> str:
        paths = self._workspace.paths
        if not paths:
            return f"heapgui.{suffix}"
        return str(paths[self._workspace.shown].with_suffix(f".{suffix}"))
