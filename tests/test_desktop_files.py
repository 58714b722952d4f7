"""The shipped desktop files: validators, MIME globs, install commands, guide, wheel contents.

The freedesktop validators come from Debian's desktop-file-utils, appstream and
shared-mime-info packages (.ci/run installs the first two); a test needing a
missing one is skipped and says which.
"""

from __future__ import annotations

import configparser
import importlib.util
import shlex
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from desktop_spec import exec_arguments, unescape_string

from heapgui import __version__
from heapgui.capture.tcp import TCP_PRESETS
from heapgui.desktop import (
    desktop_install_commands,
    desktop_string,
    desktop_uninstall_commands,
    exec_argument,
)
from heapgui.resources import (
    APP_ID,
    DESKTOP_ENTRY,
    GUIDE,
    GUIDE_SOURCE,
    ICON,
    METAINFO,
    MIME_TYPES,
    RESOURCES,
    UDEV_RULES,
)

ROOT = Path(__file__).resolve().parents[1]
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
LICENCES = ("LICENSE-MIT", "LICENSE-APACHE")  # pyproject.toml's "MIT OR Apache-2.0"
SHIPPED = (ICON, DESKTOP_ENTRY, METAINFO, MIME_TYPES, UDEV_RULES, GUIDE, GUIDE_SOURCE)


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found: install the Debian package {package} (.ci/run does)")
    return found


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def mime_globs() -> dict[str, list[str]]:
    root = ET.parse(MIME_TYPES).getroot()
    return {
        kind.get("type"): [glob.get("pattern") for glob in kind.iter(f"{MIME_NS}glob")]
        for kind in root.iter(f"{MIME_NS}mime-type")
    }


def test_desktop_entry_validates():
    validate = tool("desktop-file-validate", "desktop-file-utils")
    done = subprocess.run([validate, str(DESKTOP_ENTRY)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_metainfo_validates():
    appstreamcli = tool("appstreamcli", "appstream")
    done = subprocess.run(
        [appstreamcli, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_desktop_entry_metainfo_and_icon_agree():
    entry = desktop_entry(DESKTOP_ENTRY)
    assert DESKTOP_ENTRY.name == f"{APP_ID}.desktop" and entry["Icon"] == APP_ID
    assert entry["Exec"] == "heapgui %F"
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == DESKTOP_ENTRY.name
    assert component.find("screenshots/screenshot/image").text.endswith("screenshot.png")
    provided = {m.text for m in component.iter("mediatype")}
    declared = set(entry["MimeType"].strip(";").split(";"))
    assert provided == declared == set(mime_globs())
    svg = ET.parse(ICON).getroot()
    width, height = svg.get("width"), svg.get("height")
    assert width == height and svg.get("viewBox") == f"0 0 {width} {height}"


def test_mime_types_name_heaptrace_files_and_swo_captures():
    globs = mime_globs()
    assert "heaptrace" in globs["application/x-heaptrace"]
    assert globs["application/x-swo"] == ["*.swo"]


def test_mime_database_maps_the_file_names(tmp_path):
    update = tool("update-mime-database", "shared-mime-info")
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(MIME_TYPES, packages / f"{APP_ID}.xml")
    subprocess.run([update, str(tmp_path / "mime")], check=True, capture_output=True)
    # globs2 lines are weight:type:pattern, written by shared-mime-info itself.
    rows = {
        tuple(line.split(":")[1:3])
        for line in (tmp_path / "mime" / "globs2").read_text().splitlines()
        if not line.startswith("#")
    }
    assert ("application/x-heaptrace", "heaptrace") in rows
    assert ("application/x-swo", "*.swo") in rows


# A folder name with a space and every character the Exec key reserves or escapes.
AWKWARD = "some dir \"q\" 'a' $HOME `b` \\ %u %% <>~|&;*?#()"


def stub_program(path: Path, marker: Path) -> Path:
    """A `heapgui` that records its arguments, one per line, in `marker`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(marker))}\n')
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    "name", ["plain", "with space", AWKWARD, "percent%Fsign", "back\\slash", "tab\there"]
)
def test_exec_argument_reads_back_as_the_same_path(name):
    path = f"/opt/{name}/heapgui"
    assert exec_arguments(f"{desktop_string(exec_argument(path))} %F") == [path, "%F"]


def test_print_desktop_install_commands_install_a_valid_entry(tmp_path):
    tool("update-mime-database", "shared-mime-info")
    validate = tool("desktop-file-validate", "desktop-file-utils")
    bindir = tmp_path / AWKWARD / "bin"  # the commands must quote paths, the entry too
    stub_program(bindir / "heapgui", tmp_path / "ran")
    share = tmp_path / "share"
    script = "set -e\n" + "\n".join(desktop_install_commands(share, bindir)) + "\n"
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)
    installed = share / "applications" / DESKTOP_ENTRY.name
    entry = desktop_entry(installed)
    assert exec_arguments(entry["Exec"]) == [str(bindir / "heapgui"), "%F"]
    assert unescape_string(entry["TryExec"]) == str(bindir / "heapgui")
    done = subprocess.run([validate, str(installed)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout
    assert (
        share / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg"
    ).read_bytes() == ICON.read_bytes()
    assert (share / "metainfo" / METAINFO.name).is_file()
    assert "application/x-heaptrace" in (share / "mime" / "types").read_text()


def test_the_installed_entry_launches_through_gio(tmp_path):
    """GLib's launcher (what GNOME and most menus use) runs the entry with a file argument."""
    gio = tool("gio", "libglib2.0-bin")
    marker = tmp_path / "ran"
    bindir = tmp_path / "with space $x" / "bin"
    stub_program(bindir / "heapgui", marker)
    share = tmp_path / "share"
    script = "set -e\n" + "\n".join(desktop_install_commands(share, bindir)) + "\n"
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)
    trace = tmp_path / "a trace.framed"
    trace.write_bytes(b"")
    entry = share / "applications" / DESKTOP_ENTRY.name
    done = subprocess.run(
        [gio, "launch", str(entry), str(trace)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    for _ in range(100):  # gio returns once the program is spawned
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.05)
    assert marker.read_text() == f"{trace}\n"


def test_print_desktop_uninstall_removes_what_install_added(tmp_path):
    tool("update-mime-database", "shared-mime-info")
    share = tmp_path / "share"
    other = share / "applications" / "other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\n")
    before = {p for p in share.rglob("*")}
    install = "\n".join(desktop_install_commands(share, tmp_path))
    subprocess.run(["bash", "-c", f"set -e\n{install}"], check=True, capture_output=True)
    uninstall = "\n".join(desktop_uninstall_commands(share))
    subprocess.run(["bash", "-c", f"set -e\n{uninstall}"], check=True, capture_output=True)
    left = {p for p in share.rglob("*") if p.is_file()} - before
    assert not [p for p in left if APP_ID in p.name], left
    assert other.read_text() == "[Desktop Entry]\n"
    assert "application/x-heaptrace" not in (share / "mime" / "types").read_text()


def test_heapgui_prints_the_uninstall_commands(capsys):
    from heapgui.ui.app import main

    assert main(["--print-desktop-uninstall"]) == 0
    assert capsys.readouterr().out == "\n".join(desktop_uninstall_commands()) + "\n"


def test_guide_html_is_generated_from_the_markdown():
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "guide_html.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_guide_covers_formats_quirk_and_tcp_presets():
    guide = GUIDE_SOURCE.read_text()
    for words in (
        "just features=heaptrace flash",
        "Drone.toml",
        "layout.toml",
        "0.9 – 0.11",
        "0.12 – 0.14",
        "*legacy*",
        "*framed*",
        "*tagged*",
        "size >> 24",
        "1024 bytes decodes as 0",
        "60-heapgui-probes.rules",
        "heapgui-cli doctor",
    ):
        assert words in guide, words
    for preset in TCP_PRESETS:
        row = next(line for line in guide.splitlines() if line.startswith(f"| {preset.label} |"))
        assert f"| {preset.port} |" in row, preset
        assert f"tcp:{preset.name}" in guide
    # Every section the HTML links to exists as an anchor.
    html = GUIDE.read_text()
    for line in guide.splitlines():
        if line.startswith("## "):
            assert f'id="{guide_slug(line[3:])}"' in html


def guide_slug(title: str) -> str:
    spec = importlib.util.spec_from_file_location(
        "guide_html", ROOT / "packaging" / "guide_html.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.slug(title)


def test_the_wheel_ships_the_resources(tmp_path):
    """`pip install .` (not editable) must carry heapgui/resources and both licences.

    The wheel is built from the installed setuptools (a test extra) without build isolation,
    which would download setuptools again: the suite runs with no network at all.
    """
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", *LICENCES):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "heapgui",
        source / "heapgui",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    out = tmp_path / "wheel"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in SHIPPED:
        assert path.relative_to(RESOURCES.parent.parent).as_posix() in names, path.name
    for name in LICENCES:
        assert f"heapgui-{__version__}.dist-info/licenses/{name}" in names
