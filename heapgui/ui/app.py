"""`heapgui [FILE] [--screenshot OUT.png] [--demo]`: the desktop application's entry point."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from heapgui import __version__
from heapgui.capture.session import STREAM, SWO
from heapgui.desktop import desktop_install_commands, desktop_uninstall_commands
from heapgui.logs import setup_logging
from heapgui.resources import APP_ID
from heapgui.ui.crash import install_crash_handler
from heapgui.ui.help import app_icon
from heapgui.ui.loader import Task, release_free_memory, running_threads
from heapgui.ui.main_window import MainWindow
from heapgui.ui.settings import APPLICATION, ORGANIZATION, open_settings
from heapgui.ui.theme import apply_theme

logger = logging.getLogger(__name__)

SCREENSHOT_SIZE = (1400, 900)
DEMO_SHOT_SECONDS = 2.5
"""With --demo, --screenshot lets the simulated capture run this long before the picture."""
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heapgui", description="Heap traces of Drone OS firmware: statistics, charts, layouts"
    )
    parser.add_argument("file", nargs="?", help="heap trace to open")
    parser.add_argument("--version", action="version", version=f"heapgui {__version__}")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="render the window (with FILE loaded, or a few seconds into --demo) to a PNG and exit",
    )
    parser.add_argument(
        "--size",
        type=window_size,
        default=SCREENSHOT_SIZE,
        metavar="WxH",
        help="the window's size for --screenshot, in pixels "
        f"(default: {SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]})",
    )
    parser.add_argument(
        "--demo",
        nargs="?",
        const=SWO,
        metavar="swo|stream",
        help="capture live from a simulated board (no hardware needed): swo (the default) "
        "or stream (drone master's Drone Stream)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    # For benchmarks/gui.py: write the time and memory use once data is on screen, then quit.
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--print-desktop-install",
        action="store_true",
        help="print the commands that add heapgui to the desktop menu (Linux) and exit",
    )
    parser.add_argument(
        "--print-desktop-uninstall",
        action="store_true",
        help="print the commands that remove what --print-desktop-install adds, and exit",
    )
    return parser


def _fail(message: str) -> int:
    sys.stderr.write(f"heapgui: error: {message}\n")
    return EXIT_ERROR


def resident_kib(field: str = "VmRSS") -> int:
    """Resident memory now (Linux), or its peak so far with `field="VmHWM"`; elsewhere the
    peak, which is what the OS reports."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _ReadyProbe(QObject):
    """Notes the first paint of the charts after the data arrived, for the GUI benchmark."""

    def __init__(self, window: MainWindow, path: Path, expect_trace: bool, settle: bool) -> None:
        super().__init__(window)
        self._window = window
        self._path = path
        self._settling = settle
        self._armed = not expect_trace
        self._done = False
        # An empty window shows its start page, not the charts.
        self._viewport = window.charts.graphics.viewport() if expect_trace else window.start_page
        self._viewport.installEventFilter(self)
        window.trace_loaded.connect(self._arm)
        window.load_failed.connect(lambda message: QApplication.exit(EXIT_ERROR))

    def _arm(self) -> None:
        self._armed = True
        self._viewport.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._armed and not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            QTimer.singleShot(0, self._ready)  # after this paint has finished
        return False

    def _ready(self) -> None:
        self._painted = time.time()
        self._rss_at_paint = resident_kib()
        self._settle()

    def _settle(self) -> None:
        """Memory is measured once the background work started by the load has finished
        (a live capture never finishes, so with one running it is measured at once)."""
        if self._settling and running_threads():
            QTimer.singleShot(100, self._settle)
            return
        release_free_memory()
        self._path.write_text(
            json.dumps(
                {
                    "time": self._painted,
                    "rss_at_paint_kib": self._rss_at_paint,
                    "rss_kib": resident_kib(),
                    "peak_kib": resident_kib("VmHWM"),
                }
            )
        )
        self._window.capture_panel.stop()
        self._exit_when_stopped()

    def _exit_when_stopped(self) -> None:
        """Leave once a demo capture has ended, inside the event loop: quitting while its
        worker still connects or delivers leaves queued work to a torn-down process."""
        if self._window.capture_panel.running():
            QTimer.singleShot(50, self._exit_when_stopped)
            return
        QApplication.exit(0)


def demo_directory() -> Path:
    """Where --demo captures go: the user's cache, so they survive a reboot but not a cleanup."""
    cache = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(cache or tempfile.gettempdir()) / "demo"


def _run_events(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def _screenshot(window: MainWindow, args: argparse.Namespace, scratch: Path) -> int:
    failures: list[str] = []
    window.load_failed.connect(failures.append)
    window.resize(*args.size)
    window.show()
    if args.demo:
        panel = window.capture_panel
        if not _start_demo(window, args, scratch / "demo"):
            return _fail(panel.state_label.text())
        _run_events(DEMO_SHOT_SECONDS)
        if panel.live is None or panel.live.finished:
            window.close()
            return _fail(f"the demo capture did not run: {panel.state_label.text()}")
    if args.file:
        # A batch job: the file is read in this thread so the picture shows it (the demo's
        # capture above must stay in its own thread, so only this load runs inline).
        Task.inline = True
        try:
            window.open_file(args.file)
        finally:
            Task.inline = False
    if failures:
        return _fail(failures[0])
    for _ in range(3):  # let docks, layouts and plots settle at the final size
        QApplication.processEvents()
    pixmap = window.grab()
    if not pixmap.save(args.screenshot):
        return _fail(f"{args.screenshot}: cannot write a PNG there")
    window.close()
    return 0


def window_size(text: str) -> tuple[int, int]:
    """`1280x800` as (1280, 800); argparse turns the error into one line."""
    width, x, height = text.lower().partition("x")
    if x and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        return int(width), int(height)
    raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x800")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo not in (None, SWO, STREAM):
        if args.file is not None:
            parser.error(f"--demo takes swo or stream, not {args.demo!r}")
        args.file, args.demo = args.demo, SWO  # `heapgui --demo FILE`: the demo, then FILE
    return args


def _start_demo(window: MainWindow, args: argparse.Namespace, directory: Path) -> bool:
    window.capture_panel.form.select_transport(args.demo)
    return window.start_demo(directory)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.print_desktop_install:
        sys.stdout.write("\n".join(desktop_install_commands()) + "\n")
        return 0
    if args.print_desktop_uninstall:
        sys.stdout.write("\n".join(desktop_uninstall_commands()) + "\n")
        return 0
    # A screenshot is a batch job: stderr only, no log file, no crash dialog.
    log_file = setup_logging(args.verbose, to_file=not args.screenshot)
    QGuiApplication.setDesktopFileName(APP_ID)  # Wayland matches the window to the menu entry
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    apply_theme(app, str(open_settings().value("theme", "system")))

    if args.screenshot:
        # A screenshot shows the default window and must not touch the user's settings.
        with tempfile.TemporaryDirectory(prefix="heapgui-screenshot-") as scratch:
            QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, scratch)
            window = MainWindow(error_dialogs=False)
            return _screenshot(window, args, Path(scratch))
    install_crash_handler(log_file)
    window = MainWindow()
    if args.ready_file is not None:
        _ReadyProbe(window, args.ready_file, expect_trace=bool(args.file), settle=not args.demo)
    window.show()
    if args.demo:
        _start_demo(window, args, demo_directory())
    if args.file:
        window.open_file(args.file)
    code = app.exec()
    window.close()  # when the loop was left without closing it: stops a capture, waits for it
    return code


if __name__ == "__main__":
    sys.exit(main())
