"""`heapgui-cli doctor` and the probe permission diagnostics behind it."""

from __future__ import annotations

import errno
import json
import sys

import pytest
import usb.core
from pyocd.core import exceptions
from pyocd.probe.pydapaccess.interface.common import KNOWN_CMSIS_DAP_IDS
from pyocd.probe.stlink.usb import STLinkUSBInterface

from heapgui import cli
from heapgui.capture.diagnostics import (
    permission_help,
    udev_coverage,
    udev_install_commands,
    udev_rule_ids,
)
from heapgui.capture.probe import ProbeFailure, list_probes
from heapgui.capture.simulator import simulated_probe
from heapgui.commands import doctor as doctor_command
from heapgui.doctor import (
    FAIL,
    OK,
    WARN,
    Check,
    all_checks,
    bundle_facts_file,
    check_glibc,
    check_heapgui,
    check_logs,
    check_probes,
    check_pyocd,
    check_udev,
    debian_package,
    run_checks,
)
from heapgui.resources import UDEV_RULES

ACCESS_DENIED = "Access denied (insufficient permissions)"


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["doctor", *args])
    return code, capsys.readouterr().out


# -- the doctor ---------------------------------------------------------------------


def test_no_probe_is_a_warning_with_somewhere_else_to_capture_from():
    if list_probes():
        pytest.skip("a debug probe is connected to this machine")
    check = check_probes()
    assert check.status == WARN
    assert check.summary == "no debug probe found"
    assert "TCP" in check.hint and "heapgui --demo" in check.hint


def test_the_simulated_device_is_found_like_a_probe():
    with simulated_probe() as device:
        check = check_probes()
    assert check.status == OK
    assert device.unique_id in check.summary
    assert check.summary.startswith("1 probe:") or "probes:" in check.summary


def test_json_report_with_the_simulated_device(capsys):
    with simulated_probe() as device:
        code, out = run_cli(capsys, "--json")
    report = json.loads(out)
    checks = {c["name"]: c for c in report["checks"]}
    assert list(checks) == [name for name, _ in all_checks()]
    assert all(c["status"] in (OK, WARN, FAIL) for c in checks.values())
    assert checks["probes"]["status"] == OK and device.unique_id in checks["probes"]["summary"]
    failed = any(c["status"] == FAIL for c in checks.values())
    assert report["ok"] is not failed
    assert code == (1 if failed else 0)


def test_text_report_has_one_line_per_check_and_indented_hints(capsys):
    code, out = run_cli(capsys)
    lines = out.splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    assert [line.split()[1] for line in heads] == [name for name, _ in all_checks()]
    assert all(line.split()[0] in (OK, WARN, FAIL) for line in heads)
    assert code == (1 if any(line.startswith(FAIL) for line in heads) else 0)


@pytest.mark.parametrize(("statuses", "code"), [((OK, OK), 0), ((OK, WARN), 0), ((WARN, FAIL), 1)])
def test_exit_code_is_one_only_when_a_check_failed(monkeypatch, capsys, statuses, code):
    checks = [Check(f"c{i}", status, "summary") for i, status in enumerate(statuses)]
    monkeypatch.setattr(doctor_command, "run_checks", lambda: checks)
    assert run_cli(capsys)[0] == code


def test_a_check_that_raises_becomes_a_failure():
    def broken() -> Check:
        raise RuntimeError("no luck")

    results = run_checks([("fine", lambda: Check("fine", OK, "fine")), ("broken", broken)])
    assert [r.status for r in results] == [OK, FAIL]
    assert results[1].name == "broken" and "RuntimeError: no luck" in results[1].summary


def test_installation_checks_pass_here():
    assert check_heapgui().status == OK
    pyocd = check_pyocd()
    assert pyocd.status == OK
    # The drivers pyocd declares as entry points and loads without vendor software.
    for driver in ("cmsisdap", "stlink", "picoprobe"):
        assert driver in pyocd.summary


def test_udev_check_reads_the_rules_directories(tmp_path):
    none = check_udev("linux", [tmp_path])
    assert none.status == WARN and "sudo udevadm control --reload-rules" in none.hint
    (tmp_path / "49-stlink.rules").write_text(
        'SUBSYSTEMS=="usb", ATTRS{idVendor}=="0483", ATTRS{idProduct}=="3748", MODE:="0666"\n'
    )
    some = check_udev("linux", [tmp_path])
    assert some.status == WARN and "CMSIS-DAP" in some.summary and "49-stlink.rules" in some.summary
    (tmp_path / UDEV_RULES.name).write_text(UDEV_RULES.read_text())
    assert check_udev("linux", [tmp_path]).status == OK
    assert check_udev("win32", [tmp_path]).status == OK


def test_log_check_reports_the_directory(tmp_path):
    check = check_logs(tmp_path / "state" / "heapgui" / "log")
    assert check.status == OK and str(tmp_path / "state" / "heapgui" / "log") in check.summary
    assert not (tmp_path / "state").exists()  # looking does not create it


@pytest.mark.parametrize(
    ("library", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
    ],
)
def test_missing_libraries_map_to_debian_packages(library, package):
    assert debian_package(library) == package


def test_a_message_without_a_library_name_maps_to_no_package():
    assert debian_package("Failed to load dynlib/dll 'libqxcb.so'") is None


@pytest.mark.parametrize(
    ("floor", "system", "status"),
    [("2.36", "2.36", OK), ("2.36", "2.41", OK), ("2.36", "2.35", FAIL), ("2.9", "2.36", OK)],
)
def test_glibc_check_compares_versions_as_numbers(tmp_path, floor, system, status):
    facts = tmp_path / "heapgui-bundle.json"
    facts.write_text(json.dumps({"glibc": floor, "system_libraries": []}))
    check = check_glibc("linux", facts, lambda: system)
    assert check.status == status
    assert floor in check.summary and system in check.summary
    if status == FAIL:
        assert "pip install heapgui" in check.hint


def test_glibc_check_without_the_floor_or_without_glibc(tmp_path):
    missing = check_glibc("linux", tmp_path / "nothing.json", lambda: "2.36")
    assert missing.status == WARN and "nothing.json" in missing.summary
    facts = tmp_path / "heapgui-bundle.json"
    facts.write_text('{"glibc": "2.36"}')
    musl = check_glibc("linux", facts, lambda: None)
    assert musl.status == FAIL and "not glibc" in musl.summary
    assert check_glibc("win32", facts, lambda: None).status == OK


def test_glibc_check_reads_the_floor_only_inside_a_bundle(monkeypatch, tmp_path):
    assert bundle_facts_file() is None
    assert check_glibc("linux").status == OK  # a pip installation uses the system's libraries
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundle_facts_file() == tmp_path / "heapgui-bundle.json"
    (tmp_path / "heapgui-bundle.json").write_text('{"glibc": "999.0"}')
    assert check_glibc("linux").status == FAIL


# -- permission help -------------------------------------------------------------------


def usb_access_error() -> usb.core.USBError:
    return usb.core.USBError(ACCESS_DENIED, error_code=-3, errno=errno.EACCES)


def wrapped_in_pyocd() -> exceptions.ProbeError:
    try:
        try:
            raise usb_access_error()
        except usb.core.USBError as exc:
            raise exceptions.ProbeError("Unable to open the probe") from exc
    except exceptions.ProbeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        usb_access_error(),
        wrapped_in_pyocd(),
        PermissionError(errno.EACCES, "Permission denied", "/dev/bus/usb/001/004"),
        ProbeFailure(f"debug probe 0670FF: USB error while connecting: [Errno 13] {ACCESS_DENIED}"),
        "LIBUSB_ERROR_ACCESS",
    ],
    ids=["usb", "pyocd-wrapped", "os", "probe-failure", "text"],
)
def test_permission_errors_get_the_udev_commands(error):
    help_text = permission_help(error, "linux")
    assert help_text is not None
    assert str(UDEV_RULES) in help_text
    for command in udev_install_commands():
        assert command in help_text
    assert "plugdev" in help_text


@pytest.mark.parametrize(
    "error",
    [
        usb.core.USBError("No such device (it may have been disconnected)", errno=errno.ENODEV),
        ProbeFailure("debug probe 0670FF is not connected"),
        TimeoutError("timed out"),
        "cannot list debug probes: no backend",
    ],
)
def test_other_errors_get_no_permission_help(error):
    assert permission_help(error, "linux") is None


def test_permission_help_on_other_systems_names_other_causes():
    windows = permission_help(usb_access_error(), "win32")
    assert "WinUSB" in windows and "udev" not in windows
    mac = permission_help(usb_access_error(), "darwin")
    assert "another program" in mac and "udev" not in mac
    assert permission_help(usb_access_error()) == permission_help(usb_access_error(), sys.platform)


# -- udev rules ---------------------------------------------------------------------------


def test_rule_parsing_follows_udev_syntax():
    text = "\n".join(
        [
            '# ATTRS{idVendor}=="1111", MODE="0666"',  # a comment
            'ATTRS{idVendor}=="0d28", MODE="0660", TAG+="uaccess"',
            'ATTR{idVendor}=="0483", ATTR{idProduct}=="3748|374b", GROUP="plugdev"',
            'ATTRS{idVendor}=="2e8a", ATTRS{idProduct}=="000c", MODE:="0666"',
            'ATTRS{idVendor}=="1366", ENV{ID_MM_DEVICE_IGNORE}="1"',  # grants nothing
        ]
    )
    assert udev_rule_ids(text) == {
        (0x0D28, None),
        (0x0483, 0x3748),
        (0x0483, 0x374B),
        (0x2E8A, 0x000C),
    }


def test_shipped_rules_cover_every_probe_pyocd_knows():
    rules = UDEV_RULES.read_text()
    granted = udev_rule_ids(rules)
    pyocd_ids = set(KNOWN_CMSIS_DAP_IDS) | {
        (STLinkUSBInterface.USB_VID, pid) for pid in STLinkUSBInterface.USB_PID_EP_MAP
    }
    for vid, pid in pyocd_ids:
        assert (vid, pid) in granted or (vid, None) in granted, f"{vid:04x}:{pid:04x}"
    assert (0x1366, None) in granted  # SEGGER J-Link, found by pyocd through SEGGER's library
    coverage = udev_coverage([UDEV_RULES.parent])
    assert not coverage.missing and coverage.files == (UDEV_RULES,)
    # Every rule grants both ways: the desktop session (uaccess) and the plugdev group.
    for line in rules.splitlines():
        if line.startswith("ATTRS{idVendor}"):
            assert 'TAG+="uaccess"' in line and 'GROUP="plugdev"' in line and 'MODE="0660"' in line
