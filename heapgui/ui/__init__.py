"""Qt front end: main window, statistics table, charts and the layout panel.

Everything here may import PySide6 and pyqtgraph; the numbers come from the
Qt-free core in heapgui.trace and heapgui.layout.
"""
