"""Render the README's screenshots at 1280×800 from the samples, offscreen.

    python packaging/screenshots.py [SAMPLES_DIR] [OUT_DIR]

The defaults are ../shared/samples and resources/ (where the README finds them). Each picture is the
window as a user would see it after a few clicks: the workload sample; the
same with records 10,000-19,999 selected (the range's statistics); the proposed
layout validated; and two traces as a set with their load curves overlaid.
Settings go to a scratch folder, so the user's are never read or changed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from heapgui.ui.loader import Task  # noqa: E402
from heapgui.ui.main_window import MainWindow  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)


def _settle(app: QApplication, rounds: int = 6) -> None:
    for _ in range(rounds):
        app.processEvents()


def _window(app: QApplication, paths: list[Path], scratch: Path) -> MainWindow:
    # Settings of its own: a window closed before would hand its docks on through them.
    settings = scratch / str(len(list(scratch.iterdir())))
    settings.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings))
    window = MainWindow(error_dialogs=False)
    window.resize(*SIZE)
    window.show()
    window.open_files(paths) if len(paths) > 1 else window.open_file(paths[0])
    _settle(app)
    return window


def _save(window: MainWindow, app: QApplication, path: Path) -> None:
    _settle(app)
    if not window.grab().save(str(path)):
        raise SystemExit(f"{path}: cannot write a PNG there")
    print(path)
    window.close()


def main() -> int:
    samples = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "samples"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "resources"
    workload, captured = samples / "workload-40k.framed", samples / "capture.port31"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    Task.inline = True  # a batch job: every load and plan in this thread, done when it returns
    with tempfile.TemporaryDirectory(prefix="heapgui-shots-") as folder:
        scratch = Path(folder)
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)

        _save(_window(app, [workload], scratch), app, out / "screenshot.png")

        window = _window(app, [workload], scratch)
        window.workspace.select_range((10_000, 19_999))
        _save(window, app, out / "screenshot-range.png")

        window = _window(app, [workload], scratch)
        window.show_validation()
        window.validate_panel.validate()
        _save(window, app, out / "screenshot-validation.png")

        window = _window(app, [workload, captured], scratch)
        window.traceset_dock.show()
        window.traceset_dock.raise_()
        _save(window, app, out / "screenshot-traceset.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
