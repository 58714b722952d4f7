"""`heapgui-cli`: the headless front end over the Qt-free core.

Each subcommand lives in `heapgui.commands.<name>` with `add_parser(subparsers)`
and `run(args) -> int`. Errors the user can fix surface as one line on stderr,
`heapgui-cli: error: ...`, and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from heapgui import __version__
from heapgui.errors import DecodeError, HeapguiError, UnreadableTrace

COMMANDS = ("stats", "generate", "demux", "validate", "capture", "doctor")

# The sentence each subcommand's --help starts with.
SUMMARIES = {
    "stats": "Print the block statistics of heap traces as `drone heap` does, "
    "then the true simultaneous peak and the problems found.",
    "generate": "Find the pool layout with the least fragmentation and print its [heap] "
    "section as `drone heap generate` does, or write it into the config.",
    "demux": "Extract one ITM stimulus port's bytes from a raw SWO recording.",
    "validate": "Replay heap traces against a pool layout and say whether it holds "
    "(exit code 0) or fails (exit code 1).",
    "capture": "Capture a heap trace live over SWO (from a debug probe, a debugger's SWO "
    "server, a .swo recording or the simulated board, like `just heaptrace`) or over Drone "
    "Stream (drone master, from a debug probe or the simulated board, like "
    "`drone stream --reset :0:1 heaptrace:31`).",
    "doctor": "Check Python, Qt, pyOCD, USB access, udev rules and target packs.",
}

EXIT_OK = 0
EXIT_STRICT = 1
EXIT_USAGE = 2
EXIT_NO_READER = 141  # as a shell reports a command ended by SIGPIPE


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors already; keep its one-line message style."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"heapgui-cli: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `only` the one command that will run fully built.

    The others are placeholders, so that a run imports its own command alone:
    `demux` never loads tomlkit or the layout code, `stats` never pyOCD."""
    parser = _Parser(prog="heapgui-cli", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"heapgui {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        if only in (None, name):
            importlib.import_module(f"heapgui.commands.{name}").add_parser(sub)
        else:
            sub.add_parser(name)
        sub.choices[name].description = SUMMARIES[name]
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The subcommand `argv` names: its first word that is not an option (none take values)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_named_command(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="heapgui-cli: %(message)s",
    )
    if sys.stdout is None:
        # Started with stdout closed (`>&-`): no reader, so nothing to say to one.
        return EXIT_NO_READER
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a full disk or a gone reader shows here, not at exit
        return code
    except BrokenPipeError:
        return _reader_gone()
    except UnreadableTrace as exc:
        sys.stderr.write(f"heapgui-cli: error: {exc}\n")
        return EXIT_STRICT
    except DecodeError as exc:
        # A strict-mode corruption is the one error with its own exit code.
        sys.stderr.write(f"heapgui-cli: error: {exc}\n")
        return EXIT_STRICT if getattr(args, "strict", False) else EXIT_USAGE
    except HeapguiError as exc:
        sys.stderr.write(f"heapgui-cli: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        # Files are named by the code that opens them; one without a name is the output.
        reason = exc.strerror or str(exc)
        if exc.filename is not None:
            sys.stderr.write(f"heapgui-cli: error: {exc.filename}: {reason}\n")
            return EXIT_USAGE
        sys.stderr.write(f"heapgui-cli: error: standard output: {reason}\n")
        _discard_output()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _reader_gone() -> int:
    """The reader of stdout went away (`| head`): stop without a word, as Unix tools do."""
    _discard_output()
    return EXIT_NO_READER


def _discard_output() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush has nowhere to fail."""
    try:
        target = sys.stdout.fileno()
    except (OSError, ValueError):
        return  # not a real stream (tests capture it): nothing will flush to a file
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, target)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
