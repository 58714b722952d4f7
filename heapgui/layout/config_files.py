"""Config files on disk: reading only regular files, and replacing one without
losing anyone's edit.

The new content goes to a temporary file beside the target, is fsynced and
renamed over it, so a crash leaves the old or the new file, never a torn one.
The old file keeps living as `<name>.bak`. Only a regular, writable file with a
single name is replaced; a symlink is followed to the file it names and stays
a symlink.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from heapgui.errors import HeapguiError


def read_regular_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of `path` and its stat, refusing anything but a regular file."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise HeapguiError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        _require_regular(path, st)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        try:
            return file.read(), st
        except OSError as exc:
            raise HeapguiError(f"{path}: cannot read: {exc.strerror}") from None


_FILE_TYPES = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _require_regular(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        found = _FILE_TYPES.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise HeapguiError(f"{path}: expected a regular file, found {found}")


def check_replaceable(path: Path, st: os.stat_result) -> None:
    """Refuse a file whose replacement would surprise its owner."""
    # By mode bits, not only os.access: root may write anything, yet a 0444
    # file says "do not change me".
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise HeapguiError(f"{path}: the file is read-only; not written (make it writable first)")
    if st.st_nlink > 1:
        raise HeapguiError(
            f"{path}: the file has {st.st_nlink} hard links, which a safe replace would"
            f" leave holding the old content; not written"
        )


def changed_on_disk(path: Path) -> HeapguiError:
    return HeapguiError(f"{path} changed on disk since it was read; reload and try again")


def replace_file(path: Path, expected_sha256: str, new: bytes) -> Path:
    """Replace `path`, whose content must still hash to `expected_sha256`, with `new`;
    returns the .bak path.

    `path` names the file in errors; the file replaced is the one it resolves to.
    """
    target = path.resolve()
    current, st = current_file(path, target)
    check_replaceable(path, st)
    if hashlib.sha256(current).hexdigest() != expected_sha256:
        raise changed_on_disk(path)
    written = _write_temp(target, new, st)
    backup = None
    try:
        backup = _second_name(target, current, st)
        _replace_if_unchanged(path, target, written, current, st)
    except BaseException:
        written.unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    bak = target.with_name(target.name + ".bak")
    try:
        os.replace(backup, bak)
    except OSError as exc:
        raise HeapguiError(
            f"{bak}: cannot write: {exc.strerror}; the previous {path.name} is kept as {backup}"
        ) from None
    _fsync_directory(target.parent)
    return bak


def current_file(path: Path, target: Path | None = None) -> tuple[bytes, os.stat_result]:
    """What `path` (read as `target`, where it resolves to) holds now; gone means changed."""
    target = target or path
    try:
        return read_regular_file(target)
    except HeapguiError:
        if not os.path.lexists(target):
            raise changed_on_disk(path) from None
        raise


def _replace_if_unchanged(
    path: Path, target: Path, written: Path, current: bytes, st: os.stat_result
) -> None:
    """The last look at the file and the rename, back to back.

    The content is compared first, then the name is checked to still lead to
    the same inode with one lstat, the cheapest look there is, right before
    os.replace. POSIX has no rename that fails when the target changed, so the
    gap between that lstat and the rename remains; it is as small as the
    filesystem interface allows. An editor that writes into the file in that
    gap (or later, through a descriptor it already holds) writes into the old
    inode, which lives on as .bak (_second_name), so that edit is not lost.
    Only an editor that saves by renaming its own file into place within that
    gap is replaced unseen; closing it would take Linux's
    renameat2(RENAME_EXCHANGE) and a swap back, which Python does not expose.
    An advisory lock would not help: editors do not take one.
    """
    again, _ = current_file(path, target)
    try:
        now = os.lstat(target)
    except OSError:
        raise changed_on_disk(path) from None
    if again != current or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        raise changed_on_disk(path)
    try:
        os.replace(written, target)
    except OSError as exc:
        raise HeapguiError(f"{path}: cannot write: {exc.strerror}") from None


def _second_name(target: Path, current: bytes, st: os.stat_result) -> Path:
    """A hidden name for the file as it is now, to become .bak once the new file is in place.

    A hard link rather than a copy: what is still written into the old file
    after the last check lands in the backup instead of vanishing. Where the
    filesystem has no hard links, a copy, and an edit made in place after the
    last check is lost as with any rename-based save.
    """
    for _ in range(16):
        name = target.with_name(f".{target.name}.{secrets.token_hex(4)}.bak")
        try:
            os.link(target, name, follow_symlinks=False)
        except FileExistsError:
            continue
        except (OSError, NotImplementedError):
            break
        return name
    return _write_temp(target, current, st)


def _write_temp(target: Path, data: bytes, st: os.stat_result) -> Path:
    """`data` in a new fsynced file beside `target`, with its mode and, where allowed, owner."""
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise HeapguiError(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(fd)
            mine = os.fstat(fd)
            if hasattr(os, "fchown") and (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
                # Root rewriting a user's file must not hand it to root; others may not chown.
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, st.st_uid, st.st_gid)
        os.chmod(temp, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise HeapguiError(f"{target}: cannot write: {exc.strerror}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def _fsync_directory(directory: Path) -> None:
    """Make the renames themselves durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
