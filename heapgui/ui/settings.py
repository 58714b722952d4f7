"""The user's settings: window geometry, theme and recent files, in one INI file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "heapgui"
APPLICATION = "heapgui"
MAX_RECENT = 10


def open_settings() -> QSettings:
    """INI settings in the user scope; tests move them with QSettings.setPath."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def recent_files() -> list[str]:
    value = open_settings().value("recent_files", [])
    return [value] if isinstance(value, str) else list(value or [])


def remember(path: Path) -> None:
    """Put `path` first in the recent files."""
    name = str(path.resolve())
    recent = [name] + [p for p in recent_files() if p != name]
    open_settings().setValue("recent_files", recent[:MAX_RECENT])
