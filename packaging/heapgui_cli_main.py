"""The bundle's `heapgui-cli` executable (PyInstaller needs a script, not an entry point)."""

import sys

from heapgui.cli import main

sys.exit(main())
