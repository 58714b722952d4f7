"""The write confirmation: a coloured diff, and only Close when nothing would change."""

from PySide6.QtWidgets import QDialogButtonBox

from heapgui.layout.config import load_config
from heapgui.layout.config_write import plan_write
from heapgui.layout.pools import Pool
from heapgui.ui.diff_dialog import HUNK, DiffDialog
from heapgui.ui.theme import GREEN_TINT, RED_TINT

DRONE_TOML = '[heap]\nsize = "1K"\npools = [\n    { block = "4", capacity = 256 },\n]\n'


def line_colours(dialog: DiffDialog) -> dict[str, tuple]:
    """Each diff line with the background and foreground its highlighter gave it."""
    document = dialog.diff.document()
    found = {}
    for number in range(document.blockCount()):
        block = document.findBlockByNumber(number)
        formats = block.layout().formats()
        style = formats[0].format if formats else None
        found[block.text()] = (
            (style.background().color(), style.foreground().color()) if style else None
        )
    return found


def test_removed_and_added_lines_are_coloured_headers_are_not(qtbot, tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_text(DRONE_TOML)
    plan = plan_write(path, None, 1024, [Pool(4, 128), Pool(8, 64)])
    dialog = DiffDialog("Write", plan.summary, plan.diff)
    qtbot.addWidget(dialog)
    colours = line_colours(dialog)
    removed = [line for line in plan.diff.splitlines() if line.startswith("-    {")]
    added = [line for line in plan.diff.splitlines() if line.startswith("+    {")]
    assert removed and added
    assert all(colours[line][0] == RED_TINT for line in removed)
    assert all(colours[line][0] == GREEN_TINT for line in added)
    hunk = next(line for line in plan.diff.splitlines() if line.startswith("@@"))
    assert colours[hunk][1] == HUNK
    header = next(line for line in plan.diff.splitlines() if line.startswith("+++"))
    assert colours[header] is None
    assert dialog.write_button is not None


def test_an_unchanged_file_offers_only_close(qtbot, tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_text(DRONE_TOML)
    heap = load_config(path).heap()
    plan = plan_write(path, None, heap.size, heap.pools)
    assert plan.diff == ""
    dialog = DiffDialog("Write", plan.summary, plan.diff)
    qtbot.addWidget(dialog)
    assert dialog.write_button is None
    boxes = dialog.findChildren(QDialogButtonBox)
    assert [box.standardButtons() for box in boxes] == [QDialogButtonBox.StandardButton.Close]
    assert "already holds" in dialog.summary.text()
