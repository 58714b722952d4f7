"""The bundle's `heapgui` executable (PyInstaller needs a script, not an entry point)."""

import sys

from heapgui.ui.app import main

sys.exit(main())
