"""Why a debug probe cannot be used, in words the user can act on (Linux USB permissions mostly).

pyocd's probe discovery swallows permission errors: a probe the user may
not open is silently left out of the list and only a log line says why. So
besides `permission_help` for errors that do surface, `inaccessible_probes`
looks at the USB bus itself for known probes whose device node this user
cannot open, and `udev_coverage` tells whether rules for them are installed.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import usb.core

from heapgui.resources import UDEV_RULES

logger = logging.getLogger(__name__)

LIBUSB_ERROR_ACCESS = -3
UDEV_DIRECTORIES = (
    Path("/etc/udev/rules.d"),
    Path("/run/udev/rules.d"),
    Path("/usr/lib/udev/rules.d"),
    Path("/lib/udev/rules.d"),
)
_PERMISSION_WORDS = (
    "access denied",
    "insufficient permissions",
    "libusb_error_access",
    "permission denied",
    "errno 13",
)

ProbeId = tuple[int, int | None]
"""(USB vendor ID, product ID); None stands for every product of the vendor."""


def known_probe_ids() -> dict[ProbeId, str]:
    """USB IDs of the probes pyocd can drive, from pyocd's own tables where it has them."""
    from pyocd.probe.pydapaccess.interface.common import KNOWN_CMSIS_DAP_IDS
    from pyocd.probe.stlink.usb import STLinkUSBInterface

    ids: dict[ProbeId, str] = {(vid, pid): "CMSIS-DAP probe" for vid, pid in KNOWN_CMSIS_DAP_IDS}
    ids.update(
        {(STLinkUSBInterface.USB_VID, pid): "ST-LINK" for pid in STLinkUSBInterface.USB_PID_EP_MAP}
    )
    # pyocd finds these by their product string or through SEGGER's library, not by a table.
    ids[(0x1366, None)] = "SEGGER J-Link"
    ids[(0x2E8A, 0x000C)] = "Raspberry Pi Debug Probe"
    ids[(0x2E8A, 0x0004)] = "picoprobe"
    return ids


def probe_name(
    vendor_id: int, product_id: int, ids: dict[ProbeId, str] | None = None
) -> str | None:
    """The kind of probe a USB device is, or None when it is not a known debug probe."""
    ids = known_probe_ids() if ids is None else ids
    return ids.get((vendor_id, product_id)) or ids.get((vendor_id, None))


# -- errors -----------------------------------------------------------------------


def is_permission_error(error: BaseException | str) -> bool:
    """True for "this user may not open the USB device", however pyocd or libusb wrapped it."""
    seen: set[int] = set()
    pending: list[BaseException | str] = [error]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if any(word in item.lower() for word in _PERMISSION_WORDS):
                return True
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, PermissionError):
            return True
        if isinstance(item, usb.core.USBError) and (
            item.errno == errno.EACCES or item.backend_error_code == LIBUSB_ERROR_ACCESS
        ):
            return True
        pending.append(str(item))
        pending.extend(e for e in (item.__cause__, item.__context__) if e is not None)
    return False


def udev_install_commands(rules: Path = UDEV_RULES) -> list[str]:
    """Shell commands that install heapgui's udev rules and apply them to plugged-in probes."""
    return [
        f"sudo install -m 644 {shlex.quote(str(rules))} /etc/udev/rules.d/",
        "sudo udevadm control --reload-rules && sudo udevadm trigger",
    ]


def permission_help(error: BaseException | str, platform: str = sys.platform) -> str | None:
    """What to do about a probe this user may not open; None if `error` is something else.

    `error` is the exception from listing or opening a probe (a pyocd error,
    a usb.core.USBError, a heapgui ProbeFailure) or its message.
    """
    return access_help(platform) if is_permission_error(error) else None


def access_help(platform: str = sys.platform) -> str:
    """How to let this user open USB debug probes on `platform`."""
    if platform.startswith("linux"):
        commands = "\n".join(f"    {line}" for line in udev_install_commands())
        return (
            "The debug probe is plugged in, but this user may not open it: Linux only lets "
            "USB devices be opened when a udev rule allows it.\n"
            f"Install heapgui's rules for common probes ({UDEV_RULES.name}):\n{commands}\n"
            "then unplug and replug the probe. On a login without a desktop session, also "
            "join the plugdev group (sudo usermod -aG plugdev $USER) and log in again."
        )
    if platform == "win32":
        return (
            "Windows refused access to the debug probe: another program (an IDE, a GDB "
            "server, a second heapgui) has it open, or the probe's driver is not WinUSB. "
            "Close the other program; for CMSIS-DAP v2 probes install the WinUSB driver "
            "(for example with Zadig)."
        )
    return (
        "The system refused access to the debug probe: another program (an IDE, a GDB "
        "server, a second heapgui) probably has it open. Close it and try again."
    )


# -- udev rules ----------------------------------------------------------------------

# ATTR or ATTRS, == values with | alternatives; other operators and wildcards are not grants.
_VENDOR = re.compile(r'ATTRS?\{idVendor\}=="([0-9A-Fa-f|]+)"')
_PRODUCT = re.compile(r'ATTRS?\{idProduct\}=="([0-9A-Fa-f|]+)"')
_GRANTS = re.compile(r'\bMODE:?="|\bGROUP:?="|TAG\+="uaccess"')


def udev_rule_ids(text: str) -> set[ProbeId]:
    """The USB IDs that the rules in `text` give access to (MODE, GROUP or uaccess)."""
    found: set[ProbeId] = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or not _GRANTS.search(line):
            continue
        vendors = _VENDOR.search(line)
        if vendors is None:
            continue
        products = _PRODUCT.search(line)
        for vendor in vendors.group(1).split("|"):
            if products is None:
                found.add((int(vendor, 16), None))
            else:
                found.update((int(vendor, 16), int(p, 16)) for p in products.group(1).split("|"))
    return found


@dataclass(frozen=True)
class UdevCoverage:
    """Which known probes the installed udev rules cover, and in which files."""

    covered: dict[ProbeId, str]
    missing: dict[ProbeId, str]
    files: tuple[Path, ...]


def udev_coverage(
    directories: Iterable[Path] = UDEV_DIRECTORIES, ids: dict[ProbeId, str] | None = None
) -> UdevCoverage:
    ids = known_probe_ids() if ids is None else ids
    vendors = {vid for vid, _ in ids}
    granted: set[ProbeId] = set()
    files: list[Path] = []
    for directory in directories:
        try:
            paths = sorted(directory.glob("*.rules"))
        except OSError:
            continue
        for path in paths:
            try:
                found = udev_rule_ids(path.read_text(encoding="utf-8", errors="replace"))
            except OSError as exc:
                logger.info("cannot read %s: %s", path, exc.strerror)
                continue
            if any(vid in vendors for vid, _ in found):
                files.append(path)
            granted |= found
    covered: dict[ProbeId, str] = {}
    missing: dict[ProbeId, str] = {}
    for probe, name in ids.items():
        vid, _ = probe
        target = covered if probe in granted or (vid, None) in granted else missing
        target[probe] = name
    return UdevCoverage(covered, missing, tuple(files))


# -- the USB bus ------------------------------------------------------------------------


@dataclass(frozen=True)
class UsbProbe:
    """A known debug probe on the USB bus and whether this user may open its device node."""

    name: str
    vendor_id: int
    product_id: int
    node: Path | None
    accessible: bool | None  # None where the OS does not say (no device nodes to check)

    def __str__(self) -> str:
        where = f" at {self.node}" if self.node else ""
        return f"{self.name} ({self.vendor_id:04x}:{self.product_id:04x}){where}"


def usb_backend():
    """The libusb backend pyocd uses (the library bundled by libusb-package, else the system's)."""
    try:
        import libusb_package

        backend = libusb_package.get_libusb1_backend()
    except ImportError:
        backend = None
    if backend is None:
        import usb.backend.libusb1

        backend = usb.backend.libusb1.get_backend()
    return backend


def usb_probes(platform: str = sys.platform) -> list[UsbProbe]:
    """Known debug probes on the USB bus; enumerating reads sysfs, so no permission is needed."""
    backend = usb_backend()
    if backend is None:
        return []
    ids = known_probe_ids()
    found = []
    for device in usb.core.find(find_all=True, backend=backend):
        name = probe_name(device.idVendor, device.idProduct, ids)
        if name is None:
            continue
        node = accessible = None
        if platform.startswith("linux"):
            node = Path(f"/dev/bus/usb/{device.bus:03d}/{device.address:03d}")
            accessible = os.access(node, os.R_OK | os.W_OK)
        found.append(UsbProbe(name, device.idVendor, device.idProduct, node, accessible))
    return found


def inaccessible_probes(platform: str = sys.platform) -> list[UsbProbe]:
    """Probes that are plugged in but that this user may not open (Linux only)."""
    try:
        return [probe for probe in usb_probes(platform) if probe.accessible is False]
    except (usb.core.USBError, OSError, ValueError) as exc:
        logger.info("cannot enumerate USB devices: %s", exc)
        return []


def probe_access_problem(platform: str = sys.platform) -> str | None:
    """Help when a known probe is plugged in but hidden from pyocd by its permissions.

    For the probe panel: call it when the probe list comes back, especially
    when it is empty.
    """
    blocked = inaccessible_probes(platform)
    if not blocked:
        return None
    names = ", ".join(str(probe) for probe in blocked)
    return f"Found {names}, but may not open it.\n{access_help(platform)}"
