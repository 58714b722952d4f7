"""Qt test setup: offscreen, isolated settings, and no thread may outlive its test."""

import os
import random
import shutil
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import pytest  # noqa: E402
from layout_project import DRONE_TOML, HEAP_64K, WORKLOAD  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from heapgui.trace.formats import DETECT_PREFIX  # noqa: E402
from heapgui.trace.framed import encode_framed  # noqa: E402
from heapgui.trace.load import read_trace  # noqa: E402
from heapgui.trace.workload import workload as synthetic_workload  # noqa: E402
from heapgui.ui import file_opening, main_window  # noqa: E402
from heapgui.ui.layout_panel import LayoutPanel  # noqa: E402
from heapgui.ui.main_window import MainWindow  # noqa: E402
from heapgui.workspace import Workspace  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Recent files, geometry and theme go to a fresh directory, never the user's."""
    where = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(where))
    return where


@pytest.fixture(autouse=True)
def no_thread_left(qapp):
    """Fail a test that leaves a background thread running (and stop it for the next test)."""
    yield
    from heapgui.ui.loader import running_threads

    left = running_threads()
    if left:
        for thread in left:
            thread.quit()
            thread.wait(10_000)
        running_threads()
        pytest.fail(f"{len(left)} background thread(s) still running after the test")


@pytest.fixture
def inline_tasks(monkeypatch) -> None:
    """Background jobs run in the test's thread (planning, validation, loading)."""
    from heapgui.ui.loader import Task

    monkeypatch.setattr(Task, "inline", True)


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """The messages the main window would have shown in an error box."""
    shown: list[str] = []
    monkeypatch.setattr(main_window, "show_error", lambda parent, message: shown.append(message))
    # Offering the formats of an unsure detection shows the message too; here it is cancelled.
    monkeypatch.setattr(
        file_opening, "ask_format", lambda parent, path, message, *_: shown.append(message)
    )
    return shown


@pytest.fixture
def window(qtbot, errors, inline_tasks) -> MainWindow:
    """A main window whose jobs run in the test's thread; its error boxes go to `errors`."""
    win = MainWindow()
    qtbot.addWidget(win)
    return win


@pytest.fixture
def damaged(tmp_path):
    """A framed trace with 64 bytes of noise in every 512 of the part detection reads."""
    data = bytearray(encode_framed(synthetic_workload(3000, seed=5)))
    rng = random.Random(6)
    for at in range(0, DETECT_PREFIX, 512):
        data[at : at + 64] = bytes(rng.randrange(4, 256) for _ in range(64))
    path = tmp_path / "heaptrace"
    path.write_bytes(bytes(data))
    return path


# The layout panel's tests' project (layout_project.py), shared with the config-write tests.


@pytest.fixture(scope="module")
def workload_path(samples: Path) -> Path:
    return samples / WORKLOAD


@pytest.fixture(scope="module")
def workload(workload_path: Path):
    return read_trace(workload_path, fmt="framed", heap_size=HEAP_64K)


@pytest.fixture
def panel(qtbot) -> LayoutPanel:
    widget = LayoutPanel(Workspace())
    qtbot.addWidget(widget)
    widget.errors = []
    # Dialogs would block a test run; record what they would have shown instead.
    widget.show_error = widget.errors.append
    return widget


@pytest.fixture
def project(tmp_path: Path, workload_path: Path) -> Path:
    """A project directory: the trace next to a commented Drone.toml."""
    shutil.copyfile(workload_path, tmp_path / WORKLOAD)
    (tmp_path / "Drone.toml").write_text(DRONE_TOML)
    return tmp_path
