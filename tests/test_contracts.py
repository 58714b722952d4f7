"""The shape of the code: the import contracts in pyproject.toml, and no Qt below the window."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import heapgui

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(heapgui.__file__).resolve().parent
QT = ("PySide6", "pyqtgraph", "shiboken6")
QT_FREE = ("trace", "layout", "capture", "workspace", "report", "commands", "cli", "doctor")


def lint_imports(python_path: Path | None = None) -> subprocess.CompletedProcess:
    """lint-imports with the project's contracts, on `python_path`'s heapgui when given."""
    env = dict(os.environ)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    # -c puts the working directory first on the path: it decides which heapgui is read.
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r},"
        " no_cache=True, no_logo=True))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=python_path or ROOT,
    )


def test_the_import_contracts_are_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_broken_contract_fails(tmp_path):
    """The contracts can fail: the same code with the window's wording imported by the core."""
    copy = tmp_path / "heapgui"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    stats = copy / "trace" / "stats.py"
    stats.write_text(stats.read_text() + "\nimport heapgui.ui.theme  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "heapgui.trace is not allowed to import heapgui.ui" in result.stdout
    assert "is not allowed to import PySide6" in result.stdout


def test_importing_everything_but_the_window_loads_no_qt():
    code = (
        "import sys, pkgutil, importlib, heapgui\n"
        f"for name in {QT_FREE!r}:\n"
        "    mod = importlib.import_module('heapgui.' + name)\n"
        "    for info in pkgutil.walk_packages(getattr(mod, '__path__', []), mod.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tests_import_no_other_test_module():
    """Shared fixtures live in conftest.py and shared oracles in helper modules: a test module
    imported by another would run its tests' imports twice and hide what it shares."""
    tests = Path(__file__).resolve().parent
    offenders = []
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(tests)}: {name}"
                for name in names
                if name.split(".")[-1].startswith("test_")
            ]
    assert offenders == []


MAX_UI_LINES = 520
MAX_UI_METHODS = 32
"""Issue 11 asks for "about 500 lines" per window module and "about 30 methods" per class:
these ceilings are that "about", so a module that grows past them gets split."""


def test_window_modules_and_classes_stay_small():
    too_big = []
    for path in sorted((PACKAGE / "ui").glob("*.py")):
        text = path.read_text()
        if text.count("\n") > MAX_UI_LINES:
            too_big.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.ClassDef):
                methods = [n for n in node.body if isinstance(n, ast.FunctionDef)]
                if len(methods) > MAX_UI_METHODS:
                    too_big.append(f"{path.name}: {node.name} has {len(methods)} methods")
    assert too_big == []
