"""Running heapgui-cli in the test's process, as the command-line tests do."""

from __future__ import annotations

from heapgui.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `heapgui-cli ARGV...` (paths may be Path objects)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
