"""Where heapgui writes its log, the logging set-up of the desktop app, and target text made safe.

The GUI has no terminal to print to, so everything at INFO and above also
goes to a rotating file in the platform's log directory; Help → Open Log
Folder and the crash dialog point the user there.

The firmware's own log text (ITM ports 0 and 1) is not trusted: `visible`
escapes what would steer a terminal or change the GUI log's layout.
"""

from __future__ import annotations

import logging
import os
import re
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

# Control characters (C0, DEL, C1) but newline and tab: a terminal obeys them (ESC starts
# colours, titles and cursor moves, CSI 0x9B too). Line and paragraph separators: Qt
# breaks the line at them. Bidirectional embeddings, overrides and isolates: they
# reorder the text shown around them.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

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


def visible(text: str) -> str:
    """`text` with each character that could change how it shows escaped: \\x1b, \\u202e."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
