"""Config files as files: what kinds of file heapgui reads and replaces, read-only and
hard-linked files, byte order marks, 32-bit limits, and edits racing a rewrite.
"""

from __future__ import annotations

import os
import random
import re
import stat
import threading
import time
from pathlib import Path

import pytest
from config_texts import DRONE_012, LAYOUT_FIXED, NEW_POOLS, write

from heapgui.cli import main
from heapgui.errors import HeapguiError
from heapgui.layout.config import load_config
from heapgui.layout.config_write import apply_write, plan_write
from heapgui.layout.pools import Pool


def one_line_error(call, *args) -> str:
    with pytest.raises(HeapguiError) as error:
        call(*args)
    message = str(error.value)
    assert "\n" not in message
    return message


# --- 32-bit sizes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('size = "10K"', "size = 9223372036854775808", "heap.main.size"),
        ('size = "10K"', "size = 18446744073709551616", "heap.main.size"),
        ('size = "10K"', "size = 4294967296", "heap.main.size"),
        ('size = "10K"', 'size = "4194304K"', "heap.main.size"),
        ('size = "10K"', 'size = "0x100000000"', "heap.main.size"),
        ("capacity = 896", "capacity = 9223372036854775808", "heap.main.pools[0].capacity"),
        ('block = "32"', 'block = "4096M"', "heap.main.pools[1].block"),
        ("baud-rate = 115200", "baud-rate = 4294967296", "log.swo.baud-rate"),
    ],
)
def test_sizes_at_or_above_2_to_the_32_are_refused(tmp_path, old, new, key):
    path = write(tmp_path, "Drone.toml", DRONE_012.replace(old, new))
    message = one_line_error(load_config, path)
    assert message.startswith(f"{path}: {key}: ")
    assert ": expected " in message and "below 2^32" in message


def test_largest_32_bit_size_is_read(tmp_path):
    text = DRONE_012.replace('size = "10K"', 'size = "0xFFFFFFFF"')
    assert load_config(write(tmp_path, "Drone.toml", text)).heap().size == 2**32 - 1


def test_layout_counts_above_32_bit_are_refused(tmp_path):
    path = write(tmp_path, "layout.toml", LAYOUT_FIXED.replace('"64"', '"4294967296"'))
    message = one_line_error(load_config, path)
    assert message.startswith(f"{path}: heap.core0.pools[0].count: ")
    assert message.endswith("expected a size below 2^32 (32-bit on the target)")


def test_writing_a_size_past_32_bit_is_refused(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    message = one_line_error(plan_write, path, None, 2**32, [Pool(2**30, 4)])
    assert "2^32" in message
    assert path.read_text() == DRONE_012


# --- text ----------------------------------------------------------------------------------


def test_utf8_byte_order_mark_is_read_and_kept(tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DRONE_012.encode())
    assert load_config(path).heap().size == 10240
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    written = path.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf#")
    assert written.count(b"\xef\xbb\xbf") == 1
    assert load_config(path).heap().pools == NEW_POOLS


def test_utf16_file_is_named(tmp_path):
    path = tmp_path / "Drone.toml"
    path.write_bytes(DRONE_012.encode("utf-16"))
    assert one_line_error(load_config, path) == (
        f"{path}: byte 0: expected UTF-8 text, found a UTF-16 byte order mark"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # TOML 1.0, and so drone, has no line breaks inside an inline table; tomlkit takes them.
        ('[heap]\nsize = "8"\npools = [{ block = "4",\n capacity = 2 }]\n', "line 3, column 24"),
        ('[heap]\nsize = "8"\npools = [{ block = "4", block = "8", capacity = 2 }]\n', "line 3"),
    ],
)
def test_text_toml_1_0_refuses_is_refused(tmp_path, text, expected):
    path = write(tmp_path, "Drone.toml", text)
    message = one_line_error(load_config, path)
    assert message.startswith(f"{path}: {expected}")
    assert "expected valid TOML" in message


# --- what kind of file ---------------------------------------------------------------------


def finishes(call, *args, unblock: Path | None = None):
    """call(*args) in a thread: a FIFO opened for reading would hang the test, not fail it."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(call(*args))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive() and unblock is not None:
        os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))  # releases the stuck open()
    assert not thread.is_alive() or not unblock, "hung on a FIFO"
    thread.join(10)
    assert outcome, "hung on a FIFO"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_neither_read_nor_written(tmp_path):
    fifo = tmp_path / "Drone.toml"
    os.mkfifo(fifo)
    for call in (load_config, lambda p: plan_write(p, None, 12 * 1024, NEW_POOLS)):
        with pytest.raises(HeapguiError) as error:
            finishes(call, fifo, unblock=fifo)
        assert str(error.value) == f"{fifo}: expected a regular file, found a FIFO"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_file_turned_fifo_after_planning_is_not_replaced(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(HeapguiError, match="expected a regular file, found a FIFO"):
        finishes(apply_write, plan, unblock=path)
    assert stat.S_ISFIFO(path.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml"]


@pytest.mark.skipif(not Path("/dev/null").is_char_device(), reason="no /dev/null")
def test_a_device_is_not_a_config(tmp_path):
    # Planning only reads, so trying this on the real /dev/null cannot harm it.
    for path in (Path("/dev/null"), tmp_path / "Drone.toml"):
        if path.parent == tmp_path:
            path.symlink_to("/dev/null")
        for call in (load_config, lambda p: plan_write(p, None, 12 * 1024, NEW_POOLS)):
            assert one_line_error(call, path) == (
                f"{path}: expected a regular file, found a character device"
            )


def test_a_directory_is_not_a_config(tmp_path):
    folder = tmp_path / "Drone.toml"
    folder.mkdir()
    assert one_line_error(load_config, folder) == (
        f"{folder}: expected a regular file, found a directory"
    )


# --- which files may be replaced -----------------------------------------------------------


def test_read_only_file_is_refused_naming_it(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    os.chmod(path, 0o444)
    expected = f"{path}: the file is read-only; not written (make it writable first)"
    assert one_line_error(plan_write, path, None, 12 * 1024, NEW_POOLS) == expected
    os.chmod(path, 0o644)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    os.chmod(path, 0o444)  # made read-only while the diff was on screen
    assert one_line_error(apply_write, plan) == expected
    assert path.read_text() == DRONE_012
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml"]


def test_hard_linked_file_is_refused(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    other = tmp_path / "shared.toml"
    os.link(path, other)
    message = one_line_error(plan_write, path, None, 12 * 1024, NEW_POOLS)
    assert message.startswith(f"{path}: the file has 2 hard links")
    os.unlink(other)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    os.link(path, other)
    assert one_line_error(apply_write, plan).startswith(f"{path}: the file has 2 hard links")
    assert path.read_text() == other.read_text() == DRONE_012
    assert path.samefile(other)


def test_symlinked_bak_is_replaced_not_followed(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    victim = write(tmp_path, "victim.txt", "keep me\n")
    (tmp_path / "Drone.toml.bak").symlink_to(victim)
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    assert victim.read_text() == "keep me\n"
    bak = tmp_path / "Drone.toml.bak"
    assert not bak.is_symlink()
    assert bak.read_text() == DRONE_012


def test_symlink_to_a_fifo_is_refused(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "Drone.toml"
    link.symlink_to(fifo)
    with pytest.raises(HeapguiError, match="found a FIFO"):
        finishes(load_config, link, unblock=fifo)
    assert link.is_symlink()


def test_owner_and_mode_are_kept(tmp_path):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    os.chmod(path, 0o604)
    before = path.stat()
    apply_write(plan_write(path, None, 12 * 1024, NEW_POOLS))
    after = path.stat()
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (
        before.st_uid,
        before.st_gid,
        0o604,
    )
    assert after.st_nlink == 1
    assert (tmp_path / "Drone.toml.bak").stat().st_ino == before.st_ino


# --- edits racing a write ------------------------------------------------------------------

EDIT = "# an edit made while heapgui was writing\n"


def append_edit(path: Path) -> None:
    with open(path, "a") as file:
        file.write(EDIT)


def save_by_rename(path: Path) -> None:
    """How most editors save: a new file renamed over the old one."""
    temp = path.with_name("editor.swp")
    temp.write_text(path.read_text() + EDIT)
    os.replace(temp, path)


def kept_or_refused(path: Path, plan) -> bool:
    """The edit is in the file or in its .bak, or the write said why it did not happen."""
    try:
        apply_write(plan)
    except HeapguiError as error:
        assert str(error) == f"{path} changed on disk since it was read; reload and try again"
        refused = True
    else:
        refused = False
    bak = path.with_name(path.name + ".bak")
    kept = [p for p in (path, bak) if p.exists() and EDIT in p.read_text()]
    assert kept, "the edit was lost"
    return refused


@pytest.mark.parametrize("edit", [append_edit, save_by_rename])
def test_an_edit_while_the_new_file_is_written_is_not_lost(tmp_path, monkeypatch, edit):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    real_fsync = os.fsync
    pending = [edit]

    def fsync(fd):  # the first fsync is while a file of the write is being made
        while pending:
            pending.pop()(path)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert kept_or_refused(path, plan)
    assert path.read_text() == DRONE_012 + EDIT
    assert [p.name for p in tmp_path.iterdir() if p.name != "Drone.toml"] == []


def test_an_edit_right_before_the_rename_lands_in_the_bak(tmp_path, monkeypatch):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    real_replace = os.replace

    def replace(src, dst, **kwargs):  # after the last check: an editor still holding the file
        if Path(dst) == path:
            append_edit(path)
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    assert not kept_or_refused(path, plan)
    assert load_config(path).heap().pools == NEW_POOLS
    assert (tmp_path / "Drone.toml.bak").read_text() == DRONE_012 + EDIT


def numbered_edit(path: Path, number: int, delay: float) -> None:
    time.sleep(delay)
    with open(path, "a") as file:
        file.write(f"# edit {number}\n")


def test_concurrent_appends_are_never_silently_lost(tmp_path):
    """A writer appends numbered edits at random moments while layouts are written."""
    path = write(tmp_path, "Drone.toml", DRONE_012)
    bak = tmp_path / "Drone.toml.bak"
    layouts = [(12 * 1024, NEW_POOLS), (10 * 1024, [Pool(4, 896), Pool(32, 80), Pool(256, 16)])]
    rng = random.Random(5)
    start = time.perf_counter()
    apply_write(plan_write(path, None, *layouts[1]))
    apply_time = time.perf_counter() - start
    made, outcomes = [], {"written": 0, "refused": 0}
    for round_ in range(150):
        plan = plan_write(path, None, *layouts[round_ % 2])
        must_keep = set(re.findall(r"# edit \d+", plan.old_text))
        delay = rng.uniform(0, 1.5 * apply_time)

        thread = threading.Thread(target=numbered_edit, args=(path, len(made), delay))
        thread.start()
        try:
            apply_write(plan)
            outcomes["written"] += 1
        except HeapguiError as error:
            assert "changed on disk" in str(error)
            outcomes["refused"] += 1
        thread.join()
        made.append(f"# edit {len(made)}")
        must_keep.add(made[-1])
        found = set(re.findall(r"# edit \d+", path.read_text()))
        if bak.exists():
            found |= set(re.findall(r"# edit \d+", bak.read_text()))
        assert must_keep <= found, f"round {round_}: lost {sorted(must_keep - found)}"
    # Both outcomes happened, so the edits did fall inside writes.
    assert outcomes["written"] and outcomes["refused"], outcomes


def test_an_editor_saving_just_before_the_last_look_is_caught(tmp_path, monkeypatch):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)
    real_lstat = os.lstat
    pending = [save_by_rename]

    def lstat(name, *args, **kwargs):  # the content was compared; the name is looked at next
        while pending and Path(name) == path:
            pending.pop()(path)
        return real_lstat(name, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    assert kept_or_refused(path, plan)
    assert path.read_text() == DRONE_012 + EDIT


def test_without_hard_links_the_backup_is_a_copy(tmp_path, monkeypatch):
    path = write(tmp_path, "Drone.toml", DRONE_012)
    plan = plan_write(path, None, 12 * 1024, NEW_POOLS)

    def link(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", link)
    apply_write(plan)
    assert load_config(path).heap().pools == NEW_POOLS
    assert (tmp_path / "Drone.toml.bak").read_text() == DRONE_012
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Drone.toml", "Drone.toml.bak"]


# --- the CLI -------------------------------------------------------------------------------


def generate_into(capsys, samples: Path, config: Path) -> tuple[int, str]:
    trace = str(samples / "seed-example.framed")
    code = main(["generate", "-f", trace, "-p", "5", "-s", "10K", "--write", str(config)])
    return code, capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_generate_write_to_a_fifo_is_a_one_line_error(capsys, samples, tmp_path):
    fifo = tmp_path / "Drone.toml"
    os.mkfifo(fifo)
    code, err = finishes(generate_into, capsys, samples, fifo, unblock=fifo)
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == (
        f"heapgui-cli: error: {fifo}: expected a regular file, found a FIFO"
    )
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_generate_write_to_a_read_only_file_is_a_one_line_error(capsys, samples, tmp_path):
    config = write(tmp_path, "Drone.toml", DRONE_012)
    os.chmod(config, 0o444)
    code, err = generate_into(capsys, samples, config)
    expected = f"{config}: the file is read-only; not written (make it writable first)"
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == f"heapgui-cli: error: {expected}"
    assert config.read_text() == DRONE_012
