"""`heapgui-cli doctor`'s checks: can this installation show a window, reach a probe, find targets?

Each check returns one `Check` with a status (OK, WARN, FAIL), one line of
summary and a hint for fixing it. A check that breaks is itself a FAIL with
the error, so the doctor always finishes. Qt is imported lazily: a broken Qt
is one of the things the doctor must be able to report.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import json
import logging
import os
import platform as platform_module
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from heapgui import __version__
from heapgui.capture.diagnostics import (
    UDEV_DIRECTORIES,
    access_help,
    permission_help,
    udev_coverage,
    udev_install_commands,
    usb_backend,
    usb_probes,
)
from heapgui.desktop import installed_desktop_entry
from heapgui.logs import log_directory
from heapgui.resources import DESKTOP_ENTRY, GUIDE, ICON, MIME_TYPES, RESOURCES, UDEV_RULES

logger = logging.getLogger(__name__)

OK, WARN, FAIL = "OK", "WARN", "FAIL"
JLINK_VENDOR = 0x1366
PLUGDEV = "plugdev"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    summary: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _is_linux(platform: str) -> bool:
    return platform.startswith("linux")


def check_python() -> Check:
    where = "bundled" if getattr(sys, "frozen", False) else sys.executable
    version = platform_module.python_version()
    impl = platform_module.python_implementation()
    return Check("python", OK, f"{impl} {version} ({where})")


BUNDLE_FACTS = "heapgui-bundle.json"
"""Written into the bundle's _internal folder by packaging/elf.py: the glibc floor it needs."""


def bundle_facts_file() -> Path | None:
    """The bundle's facts file when running frozen, else None."""
    if not getattr(sys, "frozen", False):
        return None
    internal = getattr(sys, "_MEIPASS", None) or Path(sys.executable).parent / "_internal"
    return Path(internal) / BUNDLE_FACTS


def running_glibc() -> str | None:
    """This system's glibc version ("2.36"), or None on another C library."""
    try:
        name, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
    except (ValueError, OSError):
        return None
    return version if name == "glibc" else None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def check_glibc(
    platform: str = sys.platform,
    facts_file: Path | None = None,
    running: Callable[[], str | None] = running_glibc,
) -> Check:
    """The bundle carries libraries built against some glibc: the system's must be as new."""
    if not _is_linux(platform):
        return Check("glibc", OK, "glibc is a Linux matter")
    facts_file = bundle_facts_file() if facts_file is None else facts_file
    system = running()
    if facts_file is None:
        return Check("glibc", OK, f"glibc {system or 'not used'} (not a bundle: nothing to check)")
    try:
        floor = json.loads(facts_file.read_text(encoding="utf-8"))["glibc"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Check(
            "glibc",
            WARN,
            f"cannot read the glibc this bundle needs from {facts_file}: {exc}",
            "rebuild the bundle with packaging/build.py",
        )
    if system is None:
        return Check(
            "glibc",
            FAIL,
            f"this system's C library is not glibc; the bundle needs glibc {floor} or newer",
            "install heapgui with pip instead: pip install heapgui",
        )
    if _version(system) < _version(floor):
        return Check(
            "glibc",
            FAIL,
            f"glibc {system} is older than the {floor} this bundle needs",
            f"use a system with glibc {floor} or newer, or install heapgui with pip "
            "(pip install heapgui), which uses this system's libraries",
        )
    return Check("glibc", OK, f"glibc {system} (the bundle needs {floor} or newer)")


def check_heapgui() -> Check:
    kind = "bundle" if getattr(sys, "frozen", False) else "package"
    missing = [
        p.name for p in (ICON, DESKTOP_ENTRY, MIME_TYPES, UDEV_RULES, GUIDE) if not p.exists()
    ]
    summary = f"heapgui {__version__} ({kind} files in {RESOURCES.parent})"
    if missing:
        return Check(
            "heapgui",
            FAIL,
            f"{summary}: missing {', '.join(missing)}",
            "reinstall heapgui (pip install --force-reinstall heapgui, or rebuild the bundle)",
        )
    return Check("heapgui", OK, summary)


def check_qt() -> Check:
    try:
        import PySide6
        from PySide6.QtCore import qVersion
    except ImportError as exc:
        return Check(
            "qt", FAIL, f"PySide6 does not import: {exc}", "pip install PySide6-Essentials"
        )
    return Check("qt", OK, f"PySide6 {PySide6.__version__}, Qt {qVersion()}")


def debian_package(library: str) -> str | None:
    """Debian's usual package for a shared library (libxcb-cursor.so.0 → libxcb-cursor0)."""
    match = re.fullmatch(r"(lib.+?)\.so\.(\d+).*", library)
    if match is None:
        return None
    name, version = match.groups()
    return f"{name}{'-' if name[-1].isdigit() else ''}{version}".lower()


def check_qt_platform(platform: str = sys.platform) -> Check:
    """On Linux, Qt's X11 plugin fails to load when an xcb library is missing; say which."""
    if not _is_linux(platform):
        return Check("qt-platform", OK, "native platform plugin (not checked off Linux)")
    from PySide6.QtCore import QLibraryInfo

    plugin = (
        Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"
    )
    if not plugin.is_file():
        return Check(
            "qt-platform", WARN, f"no X11 platform plugin at {plugin}", "reinstall PySide6"
        )
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        # The bundle's ctypes wraps the loader's error, which names the missing library.
        reason = str(exc.__cause__ if isinstance(exc.__cause__, OSError) else exc)
        package = debian_package(reason.split(":", 1)[0].strip())
        install = f"sudo apt install {package} on Debian/Ubuntu; " if package else ""
        return Check(
            "qt-platform",
            WARN,
            f"Qt's X11 plugin does not load: {reason}",
            f"install the missing library ({install}`ldd {plugin} | grep 'not found'` lists "
            "all that are missing). Wayland sessions and QT_QPA_PLATFORM=offscreen work without it",
        )
    return Check("qt-platform", OK, "Qt's X11 platform plugin loads")


def check_pyocd() -> Check:
    """pyocd finds its probe drivers through entry points: without its metadata, none."""
    try:
        version = importlib.metadata.version("pyocd")
        from pyocd.probe.aggregator import PROBE_CLASSES
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        return Check("pyocd", FAIL, f"pyocd does not import: {exc}", "pip install pyocd")
    declared = sorted(e.name for e in importlib.metadata.entry_points(group="pyocd.probe"))
    if not declared:
        return Check(
            "pyocd",
            FAIL,
            f"pyocd {version} has no probe drivers registered",
            "its package metadata (entry points) is missing: reinstall pyocd, or rebuild the "
            "bundle with pyocd's metadata",
        )
    idle = [name for name in declared if name not in PROBE_CLASSES]
    loaded = ", ".join(name for name in declared if name in PROBE_CLASSES)
    # A driver may decline to load (J-Link without SEGGER's library): the jlink check explains.
    idle_text = f" (not loaded: {', '.join(idle)})" if idle else ""
    return Check("pyocd", OK, f"pyocd {version}, probe drivers: {loaded}{idle_text}")


def check_libusb() -> Check:
    backend = usb_backend()
    if backend is None:
        return Check(
            "libusb",
            FAIL,
            "no libusb library: USB probes cannot be used (TCP capture still works)",
            "pip install libusb-package, or install libusb-1.0 from your system's packages",
        )
    library = getattr(backend, "lib", None)
    name = getattr(library, "_name", None) or "libusb-1.0"
    from pyocd.probe.pydapaccess.interface import INTERFACE

    usable = sorted(key for key, cls in INTERFACE.items() if cls.isAvailable)
    return Check("libusb", OK, f"{name}; pyocd USB back-ends: {', '.join(usable) or 'none'}")


def check_jlink(platform: str = sys.platform) -> Check:
    import pylink

    if pylink.Library().dll() is not None:
        return Check("jlink", OK, "SEGGER J-Link library found")
    plugged = [p for p in _usb_probes_or_none(platform) if p.vendor_id == JLINK_VENDOR]
    hint = "install SEGGER's J-Link Software and Documentation Pack"
    if plugged:
        return Check(
            "jlink", WARN, "a J-Link is plugged in but SEGGER's J-Link library is missing", hint
        )
    return Check(
        "jlink", OK, "SEGGER J-Link library not installed (needed for J-Link probes only)", hint
    )


def _usb_probes_or_none(platform: str) -> list:
    try:
        return usb_probes(platform)
    except Exception as exc:  # noqa: BLE001 - enumeration problems are the libusb check's job
        logger.info("cannot enumerate USB devices: %s", exc)
        return []


def check_probes() -> Check:
    from heapgui.capture.probe import ProbeFailure, list_probes

    try:
        probes = list_probes()
    except ProbeFailure as exc:
        return Check("probes", FAIL, str(exc), permission_help(exc) or "")
    if not probes:
        return Check(
            "probes",
            WARN,
            "no debug probe found",
            "plug one in; or capture over TCP from a running debugger (pyOCD, OpenOCD, "
            "J-Link GDB Server, orbuculum); or try the simulated board: heapgui --demo",
        )
    listed = ", ".join(f"{p.unique_id} ({p.description})" for p in probes)
    noun = "probe" if len(probes) == 1 else "probes"
    return Check("probes", OK, f"{len(probes)} {noun}: {listed}")


def check_usb_access(platform: str = sys.platform) -> Check:
    if not _is_linux(platform):
        return Check("usb-access", OK, "device permissions are not checked off Linux")
    found = usb_probes(platform)
    blocked = [p for p in found if p.accessible is False]
    if blocked:
        names = ", ".join(map(str, blocked))
        return Check("usb-access", FAIL, f"this user may not open {names}", access_help(platform))
    if not found:
        return Check("usb-access", OK, "no known debug probe on the USB bus")
    return Check("usb-access", OK, f"may open {', '.join(map(str, found))}")


def check_udev(
    platform: str = sys.platform, directories: Iterable[Path] = UDEV_DIRECTORIES
) -> Check:
    if not _is_linux(platform):
        return Check("udev", OK, "udev rules are a Linux matter")
    coverage = udev_coverage(directories)
    install = "install heapgui's rules:\n" + "\n".join(udev_install_commands())
    total = len(coverage.covered) + len(coverage.missing)
    if not coverage.covered:
        return Check("udev", WARN, "no udev rules for debug probes installed", install)
    files = ", ".join(str(p) for p in coverage.files)
    if coverage.missing:
        kinds = ", ".join(sorted(set(coverage.missing.values())))
        return Check(
            "udev",
            WARN,
            f"rules cover {len(coverage.covered)} of {total} known probes ({files}); "
            f"none for some {kinds}",
            install,
        )
    return Check("udev", OK, f"rules cover all {total} known probes ({files})")


def check_groups(platform: str = sys.platform) -> Check:
    if not _is_linux(platform):
        return Check("groups", OK, "group membership is not checked off Linux")
    import grp

    if os.geteuid() == 0:
        return Check("groups", OK, "running as root: every device is accessible")
    try:
        plugdev = grp.getgrnam(PLUGDEV)
    except KeyError:
        return Check(
            "groups", OK, f"no {PLUGDEV} group here: desktop sessions get access by uaccess"
        )
    if plugdev.gr_gid in os.getgroups():
        return Check("groups", OK, f"member of {PLUGDEV}")
    return Check(
        "groups",
        WARN,
        f"not a member of {PLUGDEV}: probes are accessible only from a local desktop session",
        f"sudo usermod -aG {PLUGDEV} $USER, then log out and in again",
    )


def check_packs(cache=None) -> Check:
    from pyocd.target import TARGET

    from heapgui.capture.packs import PackCache, installed_packs

    cache = PackCache() if cache is None else cache
    try:
        packs = installed_packs(cache)
    except Exception as exc:  # noqa: BLE001 - a broken cache is reported, whatever broke
        return Check(
            "packs",
            WARN,
            f"cannot read the pack cache {cache.data_path}: {exc}",
            f"delete {cache.data_path} and install the packs again",
        )
    hint = "Help → Install Target Pack… (or pyocd pack install <part>) adds target types"
    if not packs:
        return Check(
            "packs", OK, f"no CMSIS packs installed; {len(TARGET)} built-in target types", hint
        )
    noun = "pack" if len(packs) == 1 else "packs"
    return Check("packs", OK, f"{len(packs)} {noun} in {cache.data_path}: {', '.join(packs)}")


def check_logs(directory: Path | None = None) -> Check:
    directory = log_directory() if directory is None else directory
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if os.access(existing, os.W_OK):
        return Check("logs", OK, f"the app logs to {directory}")
    return Check(
        "logs", WARN, f"cannot write logs to {directory}", f"make {existing} writable for you"
    )


def check_desktop(platform: str = sys.platform) -> Check:
    if not _is_linux(platform):
        return Check("desktop", OK, "desktop integration is for Linux desktops")
    entry = installed_desktop_entry()
    if entry is None:
        return Check(
            "desktop",
            OK,
            "no menu entry installed (optional)",
            "heapgui --print-desktop-install prints the commands",
        )
    return Check("desktop", OK, f"menu entry {entry}")


def all_checks(platform: str = sys.platform) -> list[tuple[str, Callable[[], Check]]]:
    return [
        ("python", check_python),
        ("glibc", lambda: check_glibc(platform)),
        ("heapgui", check_heapgui),
        ("qt", check_qt),
        ("qt-platform", lambda: check_qt_platform(platform)),
        ("pyocd", check_pyocd),
        ("libusb", check_libusb),
        ("jlink", lambda: check_jlink(platform)),
        ("probes", check_probes),
        ("usb-access", lambda: check_usb_access(platform)),
        ("udev", lambda: check_udev(platform)),
        ("groups", lambda: check_groups(platform)),
        ("packs", check_packs),
        ("logs", check_logs),
        ("desktop", lambda: check_desktop(platform)),
    ]


def run_checks(checks: list[tuple[str, Callable[[], Check]]] | None = None) -> list[Check]:
    """Every check in order; one that raises becomes a FAIL naming the error."""
    results = []
    for name, check in all_checks() if checks is None else checks:
        try:
            results.append(check())
        except Exception as exc:  # noqa: BLE001 - the doctor reports, it never crashes
            logger.debug("check %s raised", name, exc_info=exc)
            results.append(
                Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")
            )
    return results
