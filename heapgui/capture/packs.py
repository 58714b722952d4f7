"""CMSIS device packs for pyocd targets: which are installed, and installing one for a part.

This is `pyocd pack install <part>` as a function with progress: the same
cmsis-pack-manager cache that pyocd reads (so an installed pack's targets show
up in `list_target_types`), with failures as one-line errors. cmsis-pack-manager
reports a failed download only by leaving files out, so every step checks that
what it fetched is there.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cmsis_pack_manager
from pyocd.target import normalise_target_type_name
from pyocd.target.pack.pack_target import ManagedPacks

from heapgui.errors import HeapguiError
from heapgui.trace.load import Cancelled

logger = logging.getLogger(__name__)

PACK_INDEX_URL = "http://www.keil.com/pack/index.pidx"
"""Where cmsis-pack-manager fetches the pack index from unless given a vendor list."""
INDEX_SHARE = 0.4
"""Part of the progress bar for the index download; the pack download takes the rest."""
SHOWN_PARTS = 5

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]


class PackError(HeapguiError):
    """A pack could not be found or installed; the message says why and what to try."""


class PackCache(cmsis_pack_manager.Cache):
    """cmsis-pack-manager's cache with download progress reported to a callback.

    The library only prints its progress to stdout; its tick method is the one
    place to hear about it, so it is overridden here, and raising from it is the
    only way to stop waiting for a download.
    """

    def __init__(self, data_dir: Path | None = None, vendor_list: Path | None = None) -> None:
        where = None if data_dir is None else str(data_dir)
        super().__init__(
            False,
            False,
            json_path=where,
            data_path=where,
            vidx_list=None if vendor_list is None else str(vendor_list),
        )
        self.on_tick: Callable[[int | None, int], None] | None = None

    def _verbose_on_tick_fn(self, total: int | None, current: int) -> None:
        if self.on_tick is not None:
            self.on_tick(total, current)


@dataclass(frozen=True)
class PackInstall:
    """What an installation added."""

    packs: tuple[str, ...]  # "Vendor.Pack.Version"
    parts: tuple[str, ...]  # the part numbers of the request that the packs support
    target_types: tuple[str, ...]  # pyocd target type names now available


def installed_packs(cache: cmsis_pack_manager.Cache | None = None) -> list[str]:
    """The installed packs as "Vendor.Pack.Version"."""
    cache = PackCache() if cache is None else cache
    return [str(ref) for ref in ManagedPacks.get_installed_packs(cache)]


def pack_path(cache: cmsis_pack_manager.Cache, ref: cmsis_pack_manager.CmsisPackRef) -> Path:
    return Path(cache.data_path) / ref.get_pack_name()


def matching_parts(index: dict, request: str) -> list[str]:
    """Parts named `request` (any case, pyocd's spelling too), else those it matches as a glob.

    A plain word also matches as a substring, as `pyocd pack find` does.
    """
    wanted = normalise_target_type_name(request)
    exact = [name for name in index if normalise_target_type_name(name) == wanted]
    if exact:
        return sorted(exact)
    # pyocd's spelling drops glob characters, so the pattern keeps the text as typed.
    pattern = re.compile(fnmatch.translate(f"*{request}*"), re.IGNORECASE)
    return sorted(name for name in index if pattern.match(name))


def install_target_pack(
    part: str,
    progress: Progress,
    cancelled: IsCancelled,
    cache: PackCache | None = None,
) -> PackInstall:
    """Download the pack index if there is none, then the pack(s) that support `part`.

    `progress` gets fractions from 0 to 1; raises Cancelled (as a trace load does) once
    `cancelled()` turns true at a step or download, PackError on failure.
    """
    part = part.strip()
    if not part:
        raise PackError("type a part number, for example STM32F407VG")
    cache = PackCache() if cache is None else cache

    def tick(start: float, share: float) -> Callable[[int | None, int], None]:
        def report(total: int | None, current: int) -> None:
            if cancelled():
                raise Cancelled
            if total:
                progress(start + share * min(current / total, 1.0))

        return report

    if not cache.index:
        logger.info("downloading the CMSIS pack index into %s", cache.data_path)
        cache.on_tick = tick(0.0, INDEX_SHARE)
        _run(cache.cache_descriptors, "downloading the pack index")
        if not cache.index:
            source = cache.vidx_list or PACK_INDEX_URL
            raise PackError(
                f"cannot download the CMSIS pack index from {source}: no network connection, "
                "or a proxy or firewall blocks it. Connect and try again, or copy a pack "
                f"(.pack file) into {cache.data_path} by hand"
            )
    progress(INDEX_SHARE)
    if cancelled():
        raise Cancelled

    parts = matching_parts(cache.index, part)
    if not parts:
        raise PackError(
            f"no pack in the index supports a part named {part!r}: check the part number "
            "(for example STM32F407VG or nRF52840_xxAA)"
        )
    refs = cache.packs_for_devices([cache.index[name] for name in parts])
    if len(refs) > 1:
        shown = ", ".join(parts[:SHOWN_PARTS]) + (", …" if len(parts) > SHOWN_PARTS else "")
        raise PackError(
            f"{part!r} matches {len(parts)} parts in {len(refs)} packs ({shown}); "
            "type the full part number"
        )
    logger.info("installing %s for %s", ", ".join(map(str, refs)), ", ".join(parts))
    cache.on_tick = tick(INDEX_SHARE, 1.0 - INDEX_SHARE)
    _run(lambda: cache.download_pack_list(refs), "downloading the pack")
    missing = [ref for ref in refs if not pack_path(cache, ref).is_file()]
    if missing:
        names = ", ".join(map(str, missing))
        raise PackError(
            f"downloading {names} failed: no network connection, or the vendor's server "
            "did not answer. Try again later"
        )
    progress(1.0)
    return PackInstall(
        packs=tuple(map(str, refs)),
        parts=tuple(parts),
        target_types=tuple(sorted({normalise_target_type_name(name) for name in parts})),
    )


def _run(step: Callable[[], object], doing: str) -> None:
    """cmsis-pack-manager raises bare Exceptions with the Rust error as bytes."""
    try:
        step()
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - the library raises nothing more specific
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        logger.info("%s failed", doing, exc_info=exc)
        raise PackError(f"{doing} failed: {' '.join(str(reason).split())}") from None
