"""heapgui run as a child process, as a user starts it, for the application tests."""

from __future__ import annotations

import os
import subprocess
import sys


def run_app(*args: str, home) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        # A crash in the child prints its Python stacks, which the failing test then shows.
        PYTHONFAULTHANDLER="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "heapgui.ui.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
