"""Where heapgui writes its log, and the logging set-up of the desktop app.

The GUI has no terminal to print to, so everything at INFO and above also
goes to a rotating file in the platform's log directory; Help → Open Log
Folder and the crash dialog point the user there.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from logging.handlers import RotatingFileHandler
from pathlib import Path

logger = logging.getLogger(__name__)

APP_DIR = "heapgui"
LOG_FILE = "heapgui.log"
MAX_BYTES = 1 << 20
"""One file's size before it rotates: a long capture logs a line per status change, not per
record, so 1 MiB covers many sessions."""
BACKUP_COUNT = 5
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

_installed: list[logging.Handler] = []
_log_file: Path | None = None
_root_level: int | None = None  # the root logger's level before setup_logging changed it


def log_directory(
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> Path:
    """The per-user log directory of `platform` ("linux", "darwin", "win32")."""
    home = Path.home() if home is None else home
    if platform == "win32":
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
        return base / APP_DIR / "Logs"
    if platform == "darwin":
        return home / "Library" / "Logs" / APP_DIR
    # XDG base directories: a relative path in the variable is invalid and must be ignored.
    state = environ.get("XDG_STATE_HOME", "")
    base = Path(state) if state and Path(state).is_absolute() else home / ".local" / "state"
    return base / APP_DIR / "log"


def current_log_file() -> Path | None:
    """The file this process logs to, once `setup_logging` has opened one."""
    return _log_file


def file_handler(path: Path) -> RotatingFileHandler:
    """The rotating handler heapgui logs to; `path`'s directory must exist."""
    handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
    )
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    return handler


def setup_logging(
    verbose: bool = False, directory: Path | None = None, to_file: bool = True
) -> Path | None:
    """stderr at WARNING (INFO when `verbose`) and, with `to_file`, the rotating log file.

    Calling it again replaces what the previous call installed. Returns the
    log file, or None when there is none (not asked for, or the directory
    cannot be created: the app still runs, it says why on stderr).
    """
    global _log_file, _root_level
    shutdown_logging()
    root = logging.getLogger()
    _root_level = root.level
    root.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("heapgui: %(message)s"))
    handlers: list[logging.Handler] = [console]
    path = None
    if to_file:
        directory = log_directory() if directory is None else directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / LOG_FILE
            handlers.append(file_handler(path))
        except OSError as exc:
            path = None
            sys.stderr.write(f"heapgui: warning: no log file in {directory}: {exc.strerror}\n")
    for handler in handlers:
        root.addHandler(handler)
    _installed.extend(handlers)
    logging.captureWarnings(True)
    _log_file = path
    return path


def shutdown_logging() -> None:
    """Remove and close the handlers `setup_logging` installed, restore the root's level."""
    global _log_file, _root_level
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    if _root_level is not None:
        root.setLevel(_root_level)
        _root_level = None
    logging.captureWarnings(False)
    _log_file = None
