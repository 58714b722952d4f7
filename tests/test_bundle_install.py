"""The release archive's install.sh and uninstall.sh, run on a fake bundle.

Building the real PyInstaller bundle takes minutes, too long for every test run,
and what is tested here is the scripts: so the bundle is a folder laid out like
the real one (the two executables as small stubs, the real resource files under
_internal/heapgui/resources, a library with its symlink), packed by the same
code as the release. Every run uses a temporary HOME and paths with spaces.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from desktop_spec import exec_arguments, unescape_string

from heapgui.resources import APP_ID, DESKTOP_ENTRY, ICON, METAINFO, MIME_TYPES, RESOURCES

ROOT = Path(__file__).resolve().parents[1]
NAME = "heapgui-9.9-linux-testarch"


def load_release():
    spec = importlib.util.spec_from_file_location("release", ROOT / "packaging" / "release.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_bundle(folder: Path) -> Path:
    """A folder shaped like packaging/dist/heapgui with stub executables."""
    for name in ("heapgui", "heapgui-cli"):
        stub = folder / name
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(f'#!/bin/sh\necho "{name} stub: $*"\n')
        stub.chmod(0o755)
    shutil.copytree(
        RESOURCES,
        folder / "_internal" / "heapgui" / "resources",
        ignore=shutil.ignore_patterns("__pycache__", "*.py"),
    )
    library = folder / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF not really")
    (folder / "_internal" / "libQt6Core.so.6").symlink_to("PySide6/Qt/lib/libQt6Core.so.6")
    return folder


@pytest.fixture
def unpacked(tmp_path) -> Path:
    """The release archive of a fake bundle, unpacked into a folder with a space in its path."""
    archive = load_release().make_archive(
        fake_bundle(tmp_path / "dist" / "heapgui"), tmp_path / "out", NAME
    )
    target = tmp_path / "down loads"
    target.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="tar")
    return target / NAME


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "my home"
    home.mkdir()
    return home


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    return dict(env, HOME=str(home), PATH="/usr/local/bin:/usr/bin:/bin")


def run(script: Path, home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, env=env_for(home), timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def snapshot(folder: Path) -> dict[str, object]:
    """Every path under `folder` with what it is: file contents, link target, or a folder."""
    state = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_dir():
            state[key] = "dir"
        else:
            state[key] = path.read_bytes()
    return state


def populated(home: Path) -> None:
    """A HOME that already has other programs' links, menu entries and MIME types."""
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "other").symlink_to("/bin/true")
    apps = home / ".local" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "other.desktop").write_text("[Desktop Entry]\nType=Application\nName=o\nExec=o\n")
    packages = home / ".local" / "share" / "mime" / "packages"
    packages.mkdir(parents=True)
    (packages / "other.xml").write_text(
        '<?xml version="1.0"?>\n<mime-info xmlns="http://www.freedesktop.org/standards/'
        'shared-mime-info">\n<mime-type type="application/x-other">'
        '<glob pattern="*.other"/></mime-type>\n</mime-info>\n'
    )
    if shutil.which("update-mime-database"):
        subprocess.run(["update-mime-database", str(packages.parent)], check=True)


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def check_installed(prefix: Path, share: Path, output: str) -> None:
    libdir = prefix / "lib" / "heapgui"
    for name in ("heapgui", "heapgui-cli"):
        link = prefix / "bin" / name
        assert link.is_symlink() and link.resolve() == (libdir / name).resolve()
        ran = subprocess.run([str(link), "a b"], capture_output=True, text=True, check=True)
        assert ran.stdout == f"{name} stub: a b\n"
    assert (libdir / "_internal" / "libQt6Core.so.6").is_symlink()  # the bundle's links stay
    entry_path = share / "applications" / DESKTOP_ENTRY.name
    entry = desktop_entry(entry_path)
    assert exec_arguments(entry["Exec"]) == [str(libdir / "heapgui"), "%F"]
    assert unescape_string(entry["TryExec"]) == str(libdir / "heapgui")
    installed = {
        share / "icons" / "hicolor" / "scalable" / "apps" / ICON.name: ICON,
        share / "mime" / "packages" / f"{APP_ID}.xml": MIME_TYPES,
        share / "metainfo" / METAINFO.name: METAINFO,
    }
    for path, source in installed.items():
        assert path.read_bytes() == source.read_bytes(), path
    if shutil.which("update-mime-database"):
        assert "application/x-heaptrace" in (share / "mime" / "types").read_text()
    # The udev command names the installed rules file, quoted for the shell.
    (install_line,) = [line for line in output.splitlines() if "/etc/udev/rules.d/" in line]
    words = shlex.split(install_line)
    assert words[:4] == ["sudo", "install", "-m", "644"] and words[5] == "/etc/udev/rules.d/"
    rules = Path(words[4])
    assert rules.is_file() and rules.is_relative_to(libdir), rules
    assert rules.read_bytes() == (RESOURCES / "60-heapgui-probes.rules").read_bytes()


def test_the_archive_holds_the_bundle_and_the_scripts(unpacked):
    assert sorted(p.name for p in unpacked.iterdir()) == ["heapgui", "install.sh", "uninstall.sh"]
    for script in ("install.sh", "uninstall.sh"):
        assert os.access(unpacked / script, os.X_OK)
    assert os.access(unpacked / "heapgui" / "heapgui-cli", os.X_OK)
    assert os.readlink(unpacked / "heapgui" / "_internal" / "libQt6Core.so.6") == (
        "PySide6/Qt/lib/libQt6Core.so.6"
    )


@pytest.mark.parametrize("existing", [False, True], ids=["empty-home", "populated-home"])
def test_per_user_install_then_uninstall_leaves_home_as_it_was(unpacked, home, existing):
    if existing:
        populated(home)
    before = snapshot(home)
    done = run(unpacked / "install.sh", home)
    check_installed(home / ".local", home / ".local" / "share", done.stdout)
    assert "uninstall.sh" in done.stdout
    # Uninstall with the copy install.sh left beside the installed bundle.
    run(home / ".local" / "lib" / "heapgui" / "uninstall.sh", home)
    assert snapshot(home) == before


def test_the_installed_entry_validates(unpacked, home):
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate not found: install desktop-file-utils (.ci/run does)")
    run(unpacked / "install.sh", home)
    entry = home / ".local" / "share" / "applications" / DESKTOP_ENTRY.name
    done = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout, done.stdout


def test_xdg_data_home_receives_the_desktop_files(unpacked, home):
    data = home / "data dir"
    env_home = env_for(home)
    env_home["XDG_DATA_HOME"] = str(data)
    done = subprocess.run(
        ["sh", str(unpacked / "install.sh")], capture_output=True, text=True, env=env_home
    )
    assert done.returncode == 0, done.stderr
    check_installed(home / ".local", data, done.stdout)
    subprocess.run(["sh", str(unpacked / "uninstall.sh")], env=env_home, check=True)
    assert snapshot(home) == {}


# A space and every character the Desktop Entry Specification reserves in Exec.
AWKWARD = "opt \"q\" 'a' $HOME `b` \\ %u %% <>~|&;*?#()"


@pytest.mark.parametrize("name", ["usr local", AWKWARD])
def test_system_wide_install_under_a_prefix(unpacked, home, tmp_path, name):
    prefix = tmp_path / name
    done = run(unpacked / "install.sh", home, "--prefix", str(prefix))
    check_installed(prefix, prefix / "share", done.stdout)
    assert snapshot(home) == {}  # nothing for the user
    run(unpacked / "uninstall.sh", home, "--prefix", str(prefix))
    assert not prefix.exists()


def test_installing_again_replaces_the_installation(unpacked, home):
    run(unpacked / "install.sh", home)
    again = run(unpacked / "install.sh", home)
    assert "replacing" in again.stdout
    check_installed(home / ".local", home / ".local" / "share", again.stdout)
    run(unpacked / "uninstall.sh", home)
    assert snapshot(home) == {}


def test_a_file_of_someone_else_is_never_overwritten(unpacked, home):
    pip_script = home / ".local" / "bin" / "heapgui"
    pip_script.parent.mkdir(parents=True)
    pip_script.write_text("#!/bin/sh\n# pip's heapgui\n")
    before = snapshot(home)
    done = run(unpacked / "install.sh", home, ok=False)
    assert done.returncode == 2
    assert done.stderr.startswith("install.sh: error: ") and str(pip_script) in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert snapshot(home) == before


def test_a_failed_install_takes_back_what_it_added(unpacked, home):
    share = home / ".local" / "share"
    share.mkdir(parents=True)
    (share / "metainfo").write_text("a file where a folder should be")  # mkdir fails there
    before = snapshot(home)
    done = run(unpacked / "install.sh", home, ok=False)
    assert done.returncode != 0 and "taking back" in done.stderr
    assert snapshot(home) == before


def test_uninstall_without_an_installation_says_so(unpacked, home):
    done = run(unpacked / "uninstall.sh", home, ok=False)
    assert done.returncode == 2
    assert done.stderr == (
        f"uninstall.sh: error: {home}/.local/lib/heapgui/install-manifest does not exist: "
        "no heapgui installed there by install.sh\n"
    )


def test_an_incomplete_archive_is_refused(unpacked, home):
    (unpacked / "heapgui" / "heapgui-cli").unlink()
    done = run(unpacked / "install.sh", home, ok=False)
    assert done.returncode == 2 and "unpack the whole archive" in done.stderr
    assert snapshot(home) == {}
