"""Qt front end: views of the workspace (heapgui.workspace) in one main window.

Everything here may import PySide6 and pyqtgraph; the numbers come from the
Qt-free core in heapgui.trace and heapgui.layout, and the session's state from
the workspace, which the panels render and send their requests to.
"""
