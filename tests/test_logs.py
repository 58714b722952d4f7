"""The log directory per platform, and the rotating log file of the app."""

from __future__ import annotations

import logging
import unicodedata
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from heapgui.logs import (
    BACKUP_COUNT,
    LOG_FILE,
    MAX_BYTES,
    current_log_file,
    log_directory,
    setup_logging,
    shutdown_logging,
    visible,
)

HOME = Path("/home/ada")


@pytest.fixture
def logs():
    yield
    shutdown_logging()


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, HOME / ".local/state/heapgui/log"),
        ("linux", {"XDG_STATE_HOME": "/var/tmp/state"}, Path("/var/tmp/state/heapgui/log")),
        ("linux", {"XDG_STATE_HOME": "relative/state"}, HOME / ".local/state/heapgui/log"),
        ("freebsd14", {}, HOME / ".local/state/heapgui/log"),
        ("darwin", {"XDG_STATE_HOME": "/ignored"}, HOME / "Library/Logs/heapgui"),
        ("win32", {"LOCALAPPDATA": "/c/Users/ada/AppData/Local"},
         Path("/c/Users/ada/AppData/Local/heapgui/Logs")),
        ("win32", {}, HOME / "AppData/Local/heapgui/Logs"),
    ],
)  # fmt: skip
def test_log_directory_per_platform(platform, environ, expected):
    assert log_directory(platform, environ, HOME) == expected


def test_records_go_to_the_file_and_rotate(logs, tmp_path):
    path = setup_logging(directory=tmp_path / "log")
    assert path == tmp_path / "log" / LOG_FILE and current_log_file() == path
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
    assert [(h.maxBytes, h.backupCount) for h in handlers] == [(MAX_BYTES, BACKUP_COUNT)]

    log = logging.getLogger("heapgui.test")
    log.info("first record")
    assert "INFO heapgui.test [MainThread] first record" in path.read_text()
    line = "x" * 1000
    for _ in range((BACKUP_COUNT + 2) * MAX_BYTES // len(line)):
        log.info(line)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == [LOG_FILE] + [f"{LOG_FILE}.{n}" for n in range(1, BACKUP_COUNT + 1)]
    assert all(p.stat().st_size <= MAX_BYTES for p in path.parent.iterdir())


def test_calling_again_replaces_the_handlers(logs, tmp_path):
    before = len(logging.getLogger().handlers)
    setup_logging(directory=tmp_path / "a")
    setup_logging(verbose=True, directory=tmp_path / "b")
    assert len(logging.getLogger().handlers) == before + 2  # console and file, once
    logging.getLogger("heapgui.test").warning("where")
    assert not (tmp_path / "a" / LOG_FILE).exists()
    assert "where" in (tmp_path / "b" / LOG_FILE).read_text()
    shutdown_logging()
    assert len(logging.getLogger().handlers) == before and current_log_file() is None


def test_no_file_when_asked_or_when_the_directory_cannot_exist(logs, tmp_path, capsys):
    assert setup_logging(directory=tmp_path, to_file=False) is None
    assert not (tmp_path / LOG_FILE).exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert setup_logging(directory=blocker / "log") is None
    assert f"heapgui: warning: no log file in {blocker / 'log'}" in capsys.readouterr().err


# Besides the control characters: line and paragraph separators (Qt starts a line at
# them) and the bidirectional embeddings, overrides and isolates (they reorder text).
REORDERING = {
    "\u2028",
    "\u2029",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


def reference_visible(text: str) -> str:
    """Character by character from the Unicode database: what must show escaped."""
    out = []
    for char in text:
        shown = char in "\n\t" or not (unicodedata.category(char) == "Cc" or char in REORDERING)
        code = ord(char)
        out.append(char if shown else f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def test_target_text_shows_control_characters_escaped():
    text = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\r\n\tok\x08\x0c\x00\x7f\x9b1m\u202eevil"
    assert visible(text) == (
        "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\x1b[0m\\x0d\n\tok\\x08\\x0c\\x00\\x7f"
        "\\x9b1m\\u202eevil"
    )
    assert visible("plain text, é ü 😀 and a \\x1b written out\n") == (
        "plain text, é ü 😀 and a \\x1b written out\n"
    )


def test_every_character_below_u3000_matches_the_unicode_database():
    text = "".join(map(chr, range(0x3000)))
    assert visible(text) == reference_visible(text)
