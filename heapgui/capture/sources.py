"""Byte sources by name, as the CLI and the capture panel spell them.

    probe          the only connected debug probe (pyocd)
    probe:UID      the debug probe with that unique ID
    tcp:HOST:PORT  a running debugger's raw SWO stream; tcp:PORT and
                   tcp:PRESET (pyocd, openocd, jlink, orbuculum) mean localhost
    replay:FILE    a recorded .swo file
    sim            a simulated board through pyocd's probe code path

With `SourceSettings.transport` "stream", `probe` and `sim` give Drone
Stream instead of SWO: a `StreamSource` whose buffers come from the ELF or
layout.toml named in the settings (the simulated board knows its own).

`make_source` builds the source without opening it: a capture session opens
it in the thread that reads it, as pyocd requires.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heapgui.capture.byte_source import ByteSource
from heapgui.capture.session import STREAM, SWO
from heapgui.capture.stream_map import StreamMap
from heapgui.capture.stream_source import ATTACH, StreamSource
from heapgui.capture.swo_replay import ReplaySource
from heapgui.capture.tcp import DEFAULT_HOST, PRESETS_BY_NAME, TcpSource
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

PROBE, TCP, REPLAY, SIM = "probe", "tcp", "replay", "sim"
KINDS = (PROBE, TCP, REPLAY, SIM)
FORMS = "probe[:UID], tcp:[HOST:]PORT, tcp:PRESET, replay:FILE or sim"
RECORDED, FAST = "recorded", "fast"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source name; only the fields of its kind are set."""

    kind: str
    unique_id: str | None = None
    host: str | None = None
    port: int | None = None
    path: Path | None = None

    def __str__(self) -> str:
        if self.kind == PROBE:
            return f"probe:{self.unique_id}" if self.unique_id else "probe"
        if self.kind == TCP:
            host = f"[{self.host}]" if self.host and ":" in self.host else self.host
            return f"tcp:{host}:{self.port}"
        if self.kind == REPLAY:
            return f"replay:{self.path}"
        return self.kind


@dataclass(frozen=True)
class SourceSettings:
    """Everything a source may need besides its name.

    `core_clock` and `swo_baud` come from Drone.toml [log.swo] (reset-freq,
    baud-rate); a probe needs both, the simulator and a replay use them when
    given. `replay_pace` is "recorded" (the stream's timestamps with
    `core_clock`, else the line rate `swo_baud` / 10, else as fast as
    possible), "fast", or a number of bytes per second. `simulator` holds
    extra `SimulatorConfig` fields for `sim`. A probe's pyOCD session reads
    a configuration file and runs a user script only when `pyocd_config` and
    `pyocd_script` name them.

    `transport` is "swo" or "stream" (Drone Stream). A stream capture from a
    probe finds its buffers in `elf` (preferred) or `layout`, starts as
    `stream_start` says ("attach" or "reset") and skips the backlog unless
    `drain_backlog`.
    """

    core_clock: int | None = None
    swo_baud: int | None = None
    target_type: str | None = None
    swd_frequency: int | None = None
    replay_pace: str | float = RECORDED
    simulator: Mapping[str, Any] = field(default_factory=dict)
    pyocd_config: Path | None = None
    pyocd_script: Path | None = None
    transport: str = SWO
    elf: Path | None = None
    layout: Path | None = None
    stream_start: str = ATTACH
    drain_backlog: bool = False


def parse_source(text: str) -> SourceSpec:
    """Check a source name early, so a typo is reported before anything is opened."""
    kind, _, rest = text.partition(":")
    if kind == PROBE:
        return SourceSpec(PROBE, unique_id=rest or None)
    if kind == SIM and not rest:
        return SourceSpec(SIM)
    if kind == REPLAY and rest:
        return SourceSpec(REPLAY, path=Path(rest))
    if kind == TCP and rest:
        return _tcp_spec(text, rest)
    raise HeapguiError(f"invalid source {text!r}: expected {FORMS}")


def _tcp_spec(text: str, rest: str) -> SourceSpec:
    host, colon, port_text = rest.rpartition(":")
    host = host.strip("[]") if colon else DEFAULT_HOST
    if not host:
        host = DEFAULT_HOST
    preset = PRESETS_BY_NAME.get(port_text)
    if preset is not None:
        return SourceSpec(TCP, host=host, port=preset.port)
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        presets = ", ".join(PRESETS_BY_NAME)
        raise HeapguiError(
            f"invalid source {text!r}: expected a TCP port 1-65535 or one of {presets} "
            f"after the last ':'"
        )
    return SourceSpec(TCP, host=host, port=port)


def make_source(spec: str | SourceSpec, settings: SourceSettings | None = None) -> ByteSource:
    """The source `spec` names, configured but not opened."""
    if isinstance(spec, str):
        spec = parse_source(spec)
    settings = settings or SourceSettings()
    if settings.transport == STREAM:
        return _stream(spec, settings)
    if spec.kind == TCP:
        assert spec.host is not None and spec.port is not None
        return TcpSource(spec.host, spec.port)
    if spec.kind == REPLAY:
        assert spec.path is not None
        return _replay(spec.path, settings)
    # pyocd takes most of a second to import; TCP and replay captures need none of it.
    if spec.kind == SIM:
        from heapgui.capture.sim_source import simulator_source

        return simulator_source(settings.core_clock, settings.swo_baud, **settings.simulator)
    return _probe(spec.unique_id, settings)


def _replay(path: Path, settings: SourceSettings) -> ReplaySource:
    pace = settings.replay_pace
    if pace == FAST:
        return ReplaySource(path)
    if pace != RECORDED:
        return ReplaySource(path, byte_rate=_positive(pace, "replay pace"))
    if settings.core_clock:
        return ReplaySource(path, core_clock=settings.core_clock)
    if settings.swo_baud:
        # Ten bits on the line per byte: start, eight data bits, stop.
        return ReplaySource(path, byte_rate=settings.swo_baud / 10)
    logger.warning(
        "%s: no core clock or SWO baud rate to pace the replay; replaying at full speed", path
    )
    return ReplaySource(path)


def positive_number(value: str | float, limit: float = math.inf) -> float | None:
    """`value` as a number above 0 and below `limit`, or None: also for "inf", "nan" and "1e400"."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 < number < limit else None


def _positive(value: str | float, what: str) -> float:
    number = positive_number(value)
    if number is None:
        raise HeapguiError(
            f"invalid {what} {value!r}: expected {RECORDED}, {FAST} or bytes per second"
        )
    return number


def _probe(unique_id: str | None, settings: SourceSettings) -> ByteSource:
    from heapgui.capture.probe import ProbeSettings, ProbeSource

    if not settings.core_clock or not settings.swo_baud:
        raise HeapguiError(
            "a probe capture needs the core clock and the SWO baud rate "
            "(Drone.toml [log.swo] reset-freq and baud-rate)"
        )
    unique_id = _probe_id(unique_id)
    options = _pyocd_options(settings)
    return ProbeSource(ProbeSettings(unique_id, settings.core_clock, settings.swo_baud, **options))


def _stream(spec: SourceSpec, settings: SourceSettings) -> StreamSource:
    """Drone Stream from a probe or the simulated board."""
    if spec.kind not in (PROBE, SIM):
        raise HeapguiError(
            f"Drone Stream is read from target RAM: it needs a probe or sim, not {spec.kind}"
        )
    start, drain = settings.stream_start, settings.drain_backlog
    if spec.kind == SIM:
        from heapgui.capture.sim_source import simulated_stream_source

        source = simulated_stream_source(start, drain, **settings.simulator)
        if settings.elf is not None or settings.layout is not None:
            # Found as on a real board: the simulated one then checks the file against itself.
            return StreamSource(source.target, stream_map_of(settings), start, drain)
        return source
    from heapgui.capture.stream_probe import StreamProbe, StreamProbeSettings

    stream_map = stream_map_of(settings)
    probe = StreamProbe(StreamProbeSettings(_probe_id(spec.unique_id), **_pyocd_options(settings)))
    return StreamSource(probe, stream_map, start, drain)


def stream_map_of(settings: SourceSettings) -> StreamMap:
    """The buffers from the ELF if one is named (it is what was flashed), else layout.toml."""
    from heapgui.capture.stream_locate import stream_map_from_elf, stream_map_from_layout

    if settings.elf is not None:
        return stream_map_from_elf(settings.elf)
    if settings.layout is not None:
        return stream_map_from_layout(settings.layout)
    raise HeapguiError(
        "a Drone Stream capture from a probe needs the firmware's ELF or its layout.toml "
        "to find the buffers"
    )


def _probe_id(unique_id: str | None) -> str:
    """`unique_id`, or the only connected probe's."""
    from heapgui.capture.probe import list_probes

    if unique_id is None:
        probes = list_probes()
        if not probes:
            raise HeapguiError("no debug probe is connected")
        if len(probes) > 1:
            names = ", ".join(f"{p.unique_id} ({p.description})" for p in probes)
            raise HeapguiError(
                f"several debug probes are connected, choose one with probe:UID: {names}"
            )
        unique_id = probes[0].unique_id
    return unique_id


def _pyocd_options(settings: SourceSettings) -> dict[str, Any]:
    """Target type, SWD clock and the pyOCD files the user named, checked to exist."""
    options: dict[str, Any] = {}
    if settings.target_type:
        options["target_type"] = settings.target_type
    if settings.swd_frequency:
        options["swd_frequency"] = settings.swd_frequency
    for name, what in (("pyocd_config", "configuration file"), ("pyocd_script", "user script")):
        path = getattr(settings, name)
        if path is not None:
            if not path.is_file():
                raise HeapguiError(f"{path}: no such pyOCD {what}")
            options[name] = path
    return options
