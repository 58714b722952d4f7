"""heapgui: inspect Drone OS heap traces and size the heap's memory pools."""

__version__ = "0.1.0"
