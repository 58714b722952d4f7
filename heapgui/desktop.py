"""Desktop integration on Linux: commands installing heapgui's menu entry, icon and MIME types.

pip and the PyInstaller bundle cannot put files into ~/.local/share, so
`heapgui --print-desktop-install` prints the commands instead, with the real
paths of the files this installation ships and of its `heapgui` executable.
"""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from heapgui.resources import APP_ID, DESKTOP_ENTRY, ICON, METAINFO, MIME_TYPES

SYSTEM_DATA_DIRS = (Path("/usr/local/share"), Path("/usr/share"))


def data_home(environ: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share (a relative value is invalid and ignored)."""
    value = environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return (Path.home() if home is None else home) / ".local" / "share"


def executable_dir() -> Path:
    """Where this installation's `heapgui` executable is: in the bundle, else pip's scripts."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(sysconfig.get_path("scripts"))


def installed_desktop_entry(data_dirs: tuple[Path, ...] | None = None) -> Path | None:
    """The installed copy of heapgui's desktop entry, if any."""
    dirs = (data_home(), *SYSTEM_DATA_DIRS) if data_dirs is None else data_dirs
    for directory in dirs:
        entry = directory / "applications" / DESKTOP_ENTRY.name
        if entry.is_file():
            return entry
    return None


def _sed_replacement(text: str) -> str:
    return text.replace("\\", "\\\\").replace("&", "\\&").replace("|", "\\|")


def desktop_install_commands(target: Path | None = None, bindir: Path | None = None) -> list[str]:
    """Shell lines installing the desktop entry, MIME types, icon and metainfo under `target`.

    The entry's Exec and TryExec name the executable by its full path, so the
    menu entry works when `bindir` is not on PATH (a virtual environment, the bundle).
    """
    target = data_home() if target is None else target
    bindir = executable_dir() if bindir is None else bindir
    lines = []
    if not sys.platform.startswith("linux"):
        lines.append("# These files are for freedesktop.org desktops (Linux, BSD).")
    executable = bindir / "heapgui"
    if not executable.exists():
        lines.append(f"# warning: {executable} does not exist; install heapgui first")
    q = shlex.quote
    apps, mime = target / "applications", target / "mime"
    icons, metainfo = target / "icons" / "hicolor" / "scalable" / "apps", target / "metainfo"
    program = _sed_replacement(str(executable))
    rewrite = f"s|^Exec=heapgui |Exec={program} |; s|^TryExec=heapgui$|TryExec={program}|"
    lines += [
        f"mkdir -p {q(str(apps))} {q(str(mime / 'packages'))} {q(str(icons))} {q(str(metainfo))}",
        f"sed {q(rewrite)} {q(str(DESKTOP_ENTRY))} > {q(str(apps / DESKTOP_ENTRY.name))}",
        f"install -m 644 {q(str(MIME_TYPES))} {q(str(mime / 'packages' / f'{APP_ID}.xml'))}",
        f"install -m 644 {q(str(ICON))} {q(str(icons / ICON.name))}",
        f"install -m 644 {q(str(METAINFO))} {q(str(metainfo / METAINFO.name))}",
        f"update-mime-database {q(str(mime))}",
        f"update-desktop-database {q(str(apps))} || true  # refreshes the MIME cache; optional",
    ]
    return lines
