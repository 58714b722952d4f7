"""`heapgui-cli`: the headless front end over the Qt-free core.

Each subcommand lives in `heapgui.commands.<name>` with `add_parser(subparsers)`
and `run(args) -> int`. Errors the user can fix surface as one line on stderr,
`heapgui-cli: error: ...`, and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from heapgui import __version__
from heapgui.errors import DecodeError, HeapguiError

COMMANDS = ("stats", "generate", "demux", "validate", "capture", "doctor")

EXIT_OK = 0
EXIT_STRICT = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors already; keep its one-line message style."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"heapgui-cli: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="heapgui-cli", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"heapgui {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"heapgui.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="heapgui-cli: %(message)s",
    )
    try:
        return int(args.run(args))
    except DecodeError as exc:
        # A strict-mode corruption is the one error with its own exit code.
        sys.stderr.write(f"heapgui-cli: error: {exc}\n")
        return EXIT_STRICT if getattr(args, "strict", False) else EXIT_USAGE
    except HeapguiError as exc:
        sys.stderr.write(f"heapgui-cli: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or str(exc)
        sys.stderr.write(f"heapgui-cli: error: {name}: {reason}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
