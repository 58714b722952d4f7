"""heapgui-cli capture as a child process, stopped by a signal: the capture command's tests."""

from __future__ import annotations

import signal
import time

from heapgui.cli import main


def capture(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `heapgui-cli capture ARGS`, run in this process."""
    try:
        code = main(["capture", *args])
    except SystemExit as exit:  # argparse rejects bad arguments this way
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


STOP_SIGNALS = [name for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]


def wait_for_size(path, size: int) -> None:
    end = time.monotonic() + 30
    while path.stat().st_size < size and time.monotonic() < end:
        time.sleep(0.05)
