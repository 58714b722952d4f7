"""A guessed heap size is said once, without a dialog, with a way to set the real one."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QDialog

from heapgui.workspace import HeapSize, HeapSource, guessed_heap_size

WORKLOAD = "workload-40k.framed"


def shown(window) -> None:
    window.show()
    QApplication.processEvents()


def open_dialogs() -> list[QDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def test_a_guessed_heap_is_said_once_without_a_dialog(window, samples, errors):
    shown(window)
    window.open_file(samples / WORKLOAD)
    heap = window.workspace.heap
    assert heap.source is HeapSource.GUESSED
    # The guess, computed here from drone's bound: the next power of two that holds it.
    bound = max(window.trace.stats.max_usage, window.trace.stats.peak_usage)
    assert heap.size == 1 << (bound - 1).bit_length() == guessed_heap_size(window.trace.stats)
    assert window.heap_notice.isVisible()
    assert "Heap size guessed: 65,536 B" in window.heap_notice.label.text()
    assert open_dialogs() == [] and errors == []
    window.heap_notice.hide()  # dismissed: a guess that moves later is not asked about again
    window.workspace.set_heap_size(HeapSize(128 * 1024, HeapSource.GUESSED))
    assert not window.heap_notice.isVisible()
    assert "guessed" in window.status.heap_label.text()  # the status bar still says so


def test_set_focuses_the_layout_panels_size_field(window, samples):
    shown(window)
    window.layout_dock.hide()
    window.open_file(samples / WORKLOAD)
    window.heap_notice.set_button.click()
    QApplication.processEvents()
    assert window.layout_dock.isVisible()
    assert window.layout_panel.size_edit.hasFocus()
    assert not window.heap_notice.isVisible()
    window.layout_panel.size_edit.setText("48K")
    assert window.workspace.heap.source is HeapSource.TYPED
    assert not window.heap_notice.isVisible()


def test_no_notice_when_a_config_names_the_heap(window, samples, tmp_path):
    (tmp_path / "Drone.toml").write_text('[heap]\nsize = "48K"\npools = []\n')
    trace_file = tmp_path / "heaptrace"
    trace_file.write_bytes((samples / WORKLOAD).read_bytes())
    shown(window)
    window.open_file(trace_file)
    assert window.workspace.heap.source is HeapSource.CONFIG
    assert not window.heap_notice.isVisible()


def test_a_typed_size_ends_the_notice(window, samples):
    shown(window)
    window.open_file(samples / WORKLOAD)
    assert window.heap_notice.isVisible()
    window.workspace.type_heap_size(128 * 1024)
    assert not window.heap_notice.isVisible()


def test_a_guess_that_grows_while_the_notice_shows_is_named_anew(window, samples):
    """Seen in the demo: the notice still said 32,768 B after the capture's guess grew."""
    shown(window)
    window.open_file(samples / WORKLOAD)
    assert "Heap size guessed: 65,536 B" in window.heap_notice.label.text()
    window.workspace.set_heap_size(HeapSize(128 * 1024, HeapSource.GUESSED))
    assert window.heap_notice.isVisible()
    assert "Heap size guessed: 131,072 B" in window.heap_notice.label.text()
    assert "65,536" not in window.heap_notice.label.text()
