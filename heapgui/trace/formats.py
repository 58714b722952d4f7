"""The three trace formats by name, and detection of which one a file holds."""

from __future__ import annotations

import importlib

from heapgui.errors import DecodeError
from heapgui.trace.decoder import Decoder

FORMATS = ("framed", "legacy", "tagged")
DETECT_PREFIX = 64 * 1024
DETECT_THRESHOLD = 0.9  # share of the prefix that must decode into valid records
# From this share on, the refused data is more likely a damaged trace than something else.
FORCE_HINT_THRESHOLD = 0.5

_CLASSES = {
    "framed": ("heapgui.trace.framed", "FramedDecoder"),
    "legacy": ("heapgui.trace.legacy", "LegacyDecoder"),
    "tagged": ("heapgui.trace.tagged", "TaggedDecoder"),
}


def make_decoder(name: str, strict: bool = False) -> Decoder:
    module, cls = _CLASSES[name]
    decoder: Decoder = getattr(importlib.import_module(module), cls)(strict=strict)
    return decoder


def detect(prefix: bytes) -> str:
    """Name the format that turns most of `prefix` into valid records.

    A damaged capture still scores far higher under its own format than under
    the others, so only a prefix that no decoder explains is an error.
    """
    prefix = prefix[:DETECT_PREFIX]
    if not prefix:
        return "framed"
    score, name, decoder = format_scores(prefix)[0]
    if score >= DETECT_THRESHOLD:
        return name
    failed = min((p.first_offset for p in decoder.problems), default=0)
    if score >= FORCE_HINT_THRESHOLD:
        found = (
            f"data that is at best {score:.0%} {name}, which fails at offset {failed}; "
            f"if it is a damaged {name} trace, read it anyway as {name}: "
            f"--format {name} on the command line, File → Open As → {name} in the window"
        )
    else:
        # Too little decodes to be a damaged trace: say which file to open instead.
        found = (
            f"data that no trace format reads ({_share(score)} of its first "
            f"{len(prefix):,} bytes); open the heaptrace file the capture wrote (ITM port 31), "
            "or a raw SWO recording saved as .swo, which heapgui demultiplexes"
        )
    raise DecodeError(failed, "a heap trace (framed, legacy or tagged)", found)


def format_scores(prefix: bytes) -> list[tuple[float, str, Decoder]]:
    """Each format's share of a non-empty `prefix` that decodes into valid records, best
    first (ties in FORMATS order), with the decoder that read it."""
    prefix = prefix[:DETECT_PREFIX]
    scores: list[tuple[float, str, Decoder]] = []
    for name in FORMATS:
        decoder = make_decoder(name)
        decoder.feed(prefix)
        decoder.finish()
        scores.append((decoder.record_bytes / len(prefix), name, decoder))
    return sorted(scores, key=lambda item: item[0], reverse=True)


def _share(score: float) -> str:
    return "under 1%" if score < 0.01 else f"at most {score:.0%}"
