"""Desktop integration on Linux: commands installing heapgui's menu entry, icon and MIME types.

pip and the PyInstaller bundle cannot put files into ~/.local/share, so
`heapgui --print-desktop-install` prints the commands instead, with the real
paths of the files this installation ships and of its `heapgui` executable;
`heapgui --print-desktop-uninstall` prints the commands that remove them again.
(The release archive's install.sh does the same in shell, without running the bundle.)
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


# Desktop Entry Specification, "The Exec key": an argument holding one of these must be quoted,
# and inside the double quotes these four must be escaped with a backslash.
EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
EXEC_ESCAPED_IN_QUOTES = frozenset('"`$\\')
# "Possible value types", string: the escapes a value itself needs (applied after the above).
STRING_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def desktop_string(text: str) -> str:
    """`text` as the value of a desktop entry key of type string."""
    return "".join(STRING_ESCAPES.get(char, char) for char in text)


def exec_argument(text: str) -> str:
    """One argument of an Exec key: quoted when the spec requires it, `%` doubled.

    The result is the argument before string escaping: pass the whole Exec value
    through `desktop_string` when writing the file.
    """
    text = text.replace("%", "%%")  # a single % would start a field code
    if not any(char in EXEC_RESERVED for char in text):
        return text
    escaped = "".join(f"\\{char}" if char in EXEC_ESCAPED_IN_QUOTES else char for char in text)
    return f'"{escaped}"'


def _sed_replacement(text: str) -> str:
    return text.replace("\\", "\\\\").replace("&", "\\&").replace("|", "\\|")


def installed_files(target: Path) -> dict[Path, Path]:
    """Each shipped desktop file and where the install commands put it under `target`."""
    return {
        DESKTOP_ENTRY: target / "applications" / DESKTOP_ENTRY.name,
        MIME_TYPES: target / "mime" / "packages" / f"{APP_ID}.xml",
        ICON: target / "icons" / "hicolor" / "scalable" / "apps" / ICON.name,
        METAINFO: target / "metainfo" / METAINFO.name,
    }


def _refresh_caches(target: Path) -> list[str]:
    q = shlex.quote
    apps, mime = target / "applications", target / "mime"
    return [
        f"update-mime-database {q(str(mime))}",
        f"update-desktop-database {q(str(apps))} || true  # refreshes the MIME cache; optional",
    ]


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
    files = installed_files(target)
    command = _sed_replacement(desktop_string(exec_argument(str(executable))))
    tryexec = _sed_replacement(desktop_string(str(executable)))
    rewrite = f"s|^Exec=heapgui |Exec={command} |; s|^TryExec=heapgui$|TryExec={tryexec}|"
    folders = " ".join(q(str(path.parent)) for path in files.values())
    lines += [f"mkdir -p {folders}"]
    for source, installed in files.items():
        if source == DESKTOP_ENTRY:
            lines.append(f"sed {q(rewrite)} {q(str(source))} > {q(str(installed))}")
        else:
            lines.append(f"install -m 644 {q(str(source))} {q(str(installed))}")
    return lines + _refresh_caches(target)


def desktop_uninstall_commands(target: Path | None = None) -> list[str]:
    """Shell lines removing what `desktop_install_commands(target)` installed."""
    target = data_home() if target is None else target
    files = " ".join(shlex.quote(str(path)) for path in installed_files(target).values())
    return [f"rm -f {files}", *_refresh_caches(target)]
