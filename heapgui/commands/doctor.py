"""`heapgui-cli doctor`: check Python, Qt, pyocd, USB access, udev rules and target packs.

One line per check (OK, WARN or FAIL) with a hint underneath when there is
something to do; exit code 1 when a check failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys

from heapgui.doctor import FAIL, run_checks

EXIT_FAILED = 1
STATUS_WIDTH = 5
NAME_WIDTH = 12
HINT_INDENT = " " * (STATUS_WIDTH + NAME_WIDTH + 2)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="check the installation, probes and permissions")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    checks = run_checks()
    failed = any(check.status == FAIL for check in checks)
    if args.json:
        report = {"ok": not failed, "checks": [check.as_dict() for check in checks]}
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
    else:
        for check in checks:
            sys.stdout.write(
                f"{check.status:<{STATUS_WIDTH}} {check.name:<{NAME_WIDTH}} {check.summary}\n"
            )
            for line in check.hint.splitlines():
                sys.stdout.write(f"{HINT_INDENT}{line}\n")
    return EXIT_FAILED if failed else 0
