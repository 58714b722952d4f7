"""SWO bytes from a debug probe through pyocd, for one capture in one worker thread.

`ProbeSource` opens a pyocd Session in attach mode (the firmware keeps
running), switches on the ITM ports heapgui reads (31 for the heap trace, 0
and 1 for log text) and the TPIU's UART output, and then hands out whatever
the probe's SWO receiver got. pyocd's SWVReader is deliberately not used: its
thread dies silently on the first error, and a capture must say why it
stopped. Everything here blocks, so the GUI calls it off its own thread.

`PyocdLink` is the connection both transports share: it opens the pyOCD
session and turns pyOCD's exceptions into one line. `ProbeSource` adds SWO;
`heapgui.capture.stream_probe.StreamProbe` adds Drone Stream's memory access.

pyOCD executes `pyocd_user.py` and applies `pyocd.yaml` (whose logging
section can call any importable function) from its project directory, which
defaults to the working directory. heapgui's sessions get a fresh private
project directory and have both lookups switched off, so no file another
user could plant is ever run; the user may name a script or config file.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import usb.core
from pyocd.core import exceptions
from pyocd.core.helpers import ConnectHelper
from pyocd.core.session import Session
from pyocd.coresight.coresight_target import CoreSightTarget
from pyocd.coresight.cortex_m import CortexM
from pyocd.coresight.itm import ITM
from pyocd.coresight.rom_table import CoreSightComponentID
from pyocd.coresight.tpiu import TPIU
from pyocd.probe.aggregator import DebugProbeAggregator
from pyocd.probe.debug_probe import DebugProbe
from pyocd.target import TARGET, normalise_target_type_name
from pyocd.target.pack.pack_target import ManagedPacks
from pyocd.utility.sequencer import CallSequence

from heapgui.capture.swo_clock import swo_clock_problem
from heapgui.capture.targets import DEFAULT_TARGET
from heapgui.errors import HeapguiError

logger = logging.getLogger(__name__)

HEAP_PORT = 31
# The heap trace on port 31, the firmware's stdout and stderr on ports 0 and 1.
ITM_PORTS = 1 << HEAP_PORT | 1 << 1 | 1 << 0
TRACE_BUS_ID = 1
ITM_TCR = (
    TRACE_BUS_ID << ITM.TCR_TRACEBUSID_SHIFT
    | ITM.TCR_SYNCENA_MASK
    | ITM.TCR_TSENA_MASK
    | ITM.TCR_ITMENA_MASK
)
HEALTH_INTERVAL = 0.5  # seconds between checks that the probe and target still answer
IDLE_WAIT = 0.01  # seconds read() waits for data before answering b""


class ProbeFailure(HeapguiError):
    """The debug probe or the target failed; the message is one line for the user."""


class ProbeLost(ProbeFailure):
    """The probe or the target went away (unplugged, powered off, reset)."""


@dataclass(frozen=True)
class ProbeInfo:
    """A connected debug probe as pyocd lists it."""

    unique_id: str
    description: str


@dataclass
class ProbeSettings:
    """Capture settings; the caller fills `core_clock` and `swo_baud` from Drone.toml [log.swo].

    `core_clock` is the clock the TPIU divides down to the SWO baud rate
    (Drone.toml `reset-freq`). pyOCD reads no configuration file and runs no
    user script unless `pyocd_config` or `pyocd_script` names one.
    """

    unique_id: str
    core_clock: int
    swo_baud: int
    target_type: str = DEFAULT_TARGET
    swd_frequency: int = 1_000_000
    connect_mode: str = "attach"
    pyocd_config: Path | None = None
    pyocd_script: Path | None = None


class LinkSettings(Protocol):
    """What any pyOCD connection of heapgui needs: the probe, target, clock and trusted files."""

    unique_id: str
    target_type: str
    swd_frequency: int
    connect_mode: str
    pyocd_config: Path | None
    pyocd_script: Path | None


def locked_options(config: Path | None = None, script: Path | None = None) -> dict[str, object]:
    """Session options under which pyOCD reads and runs only the files named here.

    pyOCD has no switch for the user script: naming the empty null device is one.
    """
    options: dict[str, object] = {"user_script": str(script.resolve()) if script else os.devnull}
    if config is None:
        options["no_config"] = True
    else:
        options["config_file"] = str(config.resolve())
    return options


def lock_default_session() -> None:
    """Replace pyOCD's default session before anything asks for it.

    Code without a session (the CMSIS-DAP backend listing probes, for one) asks
    `Session.get_current()`, which pyOCD builds once per process from the
    working directory's `pyocd.yaml`. This one reads no file. The attribute is
    private, but pyOCD offers no other way to set it.
    """
    current = Session._options_session
    if current is not None and current.options.get("no_config"):
        return
    cwd = os.getcwd()
    try:
        # The working directory as project directory: pyOCD changes into it.
        Session._options_session = Session(None, options={**locked_options(), "project_dir": cwd})
    finally:
        os.chdir(cwd)


def list_probes() -> list[ProbeInfo]:
    """The connected debug probes, without waiting for one to appear."""
    lock_default_session()
    try:
        probes = ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False)
    except (exceptions.Error, OSError) as err:
        raise ProbeFailure(f"cannot list debug probes: {_one_line(err)}") from None
    return [ProbeInfo(probe.unique_id, probe.description) for probe in probes]


def list_target_types() -> list[str]:
    """pyocd's built-in target types and those of installed CMSIS packs, `cortex_m` first."""
    lock_default_session()  # pyocd's pack code may ask for the default session
    names = set(TARGET)
    try:
        names.update(
            normalise_target_type_name(device.part_number)
            for device in ManagedPacks.get_installed_targets()
        )
    except Exception as err:  # a broken pack cache must not hide the built-in targets
        logger.warning("cannot list CMSIS pack targets: %s", _one_line(err))
    names.discard(DEFAULT_TARGET)
    return [DEFAULT_TARGET, *sorted(names)]


class PyocdLink:
    """A pyOCD session on one probe, opened in a private project directory; one thread only.

    Subclasses say what to start once connected (`_start`) and what to undo
    before the session closes (`_undo`); this class finds the probe, opens
    and closes the session, and turns pyOCD and USB exceptions into one line.
    """

    def __init__(self, settings: LinkSettings, health_interval: float = HEALTH_INTERVAL) -> None:
        self.settings = settings
        self._health_interval = health_interval
        self._session: Session | None = None
        self._project_dir: str | None = None  # private to this link while it is open
        self._lost = False
        self._next_check = 0.0

    @property
    def name(self) -> str:
        return f"debug probe {self.settings.unique_id}"

    @property
    def session(self) -> Session | None:
        """The open pyocd Session, for callers that need the target (None when closed)."""
        return self._session

    def __enter__(self) -> PyocdLink:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (in attach mode the target keeps running), then `_start`."""
        if self._session is not None:
            raise HeapguiError(f"{self.name} is already open")
        self._lost = False
        self._check_settings()
        probe = self._find_probe()
        session = self._create_session(probe)
        self._session = session
        try:
            session.open()
            self._start(session)
        except (exceptions.Error, OSError) as err:
            failure = self._failure(err, "connecting")
            self.close()
            raise failure from None
        except BaseException:
            self.close()
            raise
        self._next_check = time.monotonic() + self._health_interval

    def close(self) -> None:
        """`_undo`, then close the session and remove the project directory; never raises."""
        session = self._session
        if session is None:
            return
        self._session = None
        if self._lost:
            # pyocd logs teardown errors as errors with tracebacks unless told the target is gone.
            session.context_state.suppress_disconnect_error = True
        self._undo(session)
        try:
            session.close()
        except (exceptions.Error, OSError) as err:
            # Expected when the probe is gone; worth a warning otherwise.
            log = logger.debug if self._lost else logger.warning
            log("%s: closing the session failed: %s", self.name, _one_line(err))
        self._remove_project_dir()

    def _check_settings(self) -> None:
        """Refuse settings that cannot work before anything is opened."""

    def _start(self, session: Session) -> None:
        """What to set up on the target once connected."""

    def _undo(self, session: Session) -> None:
        """Put back what `_start` changed; never raises. `self._lost` says if the probe is gone."""

    def _due_health_check(self) -> None:
        """Check the target now and then: some probes report an unplug only as silence."""
        if time.monotonic() >= self._next_check:
            self._check_health()
            self._next_check = time.monotonic() + self._health_interval

    # Opening --------------------------------------------------------------------

    def _find_probe(self) -> DebugProbe:
        lock_default_session()
        try:
            probe = DebugProbeAggregator.get_probe_with_id(self.settings.unique_id)
        except (exceptions.Error, OSError) as err:
            raise self._failure(err, "looking for the probe") from None
        if probe is None:
            raise ProbeFailure(f"{self.name} is not connected")
        return probe

    def _create_session(self, probe: DebugProbe) -> Session:
        s = self.settings
        try:
            # Made for this session alone (mode 0700, owned by the user): nothing can be planted.
            self._project_dir = tempfile.mkdtemp(prefix="heapgui-pyocd-")
        except OSError as err:
            raise ProbeFailure(
                f"cannot create a private directory for pyocd: {_one_line(err)}"
            ) from None
        options = {
            **locked_options(s.pyocd_config, s.pyocd_script),
            "project_dir": self._project_dir,
            "connect_mode": s.connect_mode,
            "frequency": s.swd_frequency,
            "target_override": s.target_type,
            # heapgui reads SWO itself: no pyocd SWV thread and no raw SWV TCP server.
            "enable_swv": False,
            "swv_raw_enable": False,
        }
        cwd = os.getcwd()
        try:
            session = Session(probe, options=options)
        except (exceptions.Error, OSError) as err:
            self._remove_project_dir()
            raise self._failure(err, "creating the pyocd session") from None
        except BaseException:
            self._remove_project_dir()
            raise
        finally:
            os.chdir(cwd)  # pyocd's Session changes into its project directory
        session.delegate = self._delegate()
        return session

    def _delegate(self) -> object | None:
        """A pyOCD target delegate to install in the session, if the subclass needs one."""
        return None

    def _remove_project_dir(self) -> None:
        if self._project_dir is not None:
            shutil.rmtree(self._project_dir, ignore_errors=True)
            self._project_dir = None

    def _check_health(self) -> None:
        """Some probes report an unplug only as silence; a register read tells."""
        try:
            dhcsr = self._session.target.read32(CortexM.DHCSR)
        except (exceptions.Error, OSError) as err:
            raise self._failure(err, "checking the target") from None
        if not dhcsr & CortexM.C_DEBUGEN:
            self._lost = True
            raise ProbeLost(
                f"{self.name}: the target left debug mode "
                f"(DHCSR 0x{dhcsr:08X}); was it reset or powered off?"
            )

    def _failure(self, err: BaseException, doing: str) -> ProbeFailure:
        """A one-line error for a pyocd or USB exception; the traceback goes to the debug log."""
        logger.debug("%s failed while %s", self.name, doing, exc_info=err)
        text = _one_line(err)
        if isinstance(err, exceptions.ProbeDisconnected) or (
            isinstance(err, usb.core.USBError) and err.errno == errno.ENODEV
        ):
            self._lost = True
            return ProbeLost(f"{self.name} was disconnected while {doing} ({text})")
        if isinstance(err, exceptions.TransferError):
            return ProbeFailure(
                f"{self.name}: the target stopped answering while {doing} "
                f"({type(err).__name__}: {text})"
            )
        if isinstance(err, exceptions.ProbeError):
            return ProbeFailure(f"{self.name}: probe error while {doing}: {text}")
        if isinstance(err, OSError):
            return ProbeFailure(f"{self.name}: USB error while {doing}: {text}")
        return ProbeFailure(f"{self.name}: {text} (while {doing})")


class ProbeSource(PyocdLink):
    """SWO bytes from one probe. Create, open, read and close it in the same thread."""

    settings: ProbeSettings

    def __init__(
        self,
        settings: ProbeSettings,
        health_interval: float = HEALTH_INTERVAL,
        idle_wait: float = IDLE_WAIT,
    ) -> None:
        super().__init__(settings, health_interval)
        self._idle_wait = idle_wait
        self._itm: ITM | None = None
        self._saved_itm: tuple[int, int] | None = None  # TER and TCR before heapgui changed them
        self._itm_changed = False
        self._swo_started = False

    def open(self) -> None:
        """Connect without halting the target, then start SWO reception and the ITM ports."""
        self._saved_itm = None
        super().open()

    def read(self) -> bytes:
        """The SWO bytes received since the last read; b"" if none came within `idle_wait`."""
        if self._session is None:
            raise HeapguiError(f"{self.name} is not open")
        self._due_health_check()
        data = self._swo_read()
        if not data:
            # Without this pause a polling worker would spin on an idle line.
            time.sleep(self._idle_wait)
            data = self._swo_read()
        return data

    def _check_settings(self) -> None:
        self._check_clocks()

    def _start(self, session: Session) -> None:
        self._start_trace(session)

    def _undo(self, session: Session) -> None:
        """Put the ITM back as it was and stop SWO."""
        if not self._lost:
            self._restore_itm()
        if self._swo_started and not self._lost:
            try:
                session.probe.swo_stop()
            except (exceptions.Error, OSError) as err:
                logger.warning("%s: stopping SWO failed: %s", self.name, _one_line(err))
        self._itm = None
        self._itm_changed = self._swo_started = False

    def _delegate(self) -> _ItmSnapshot:
        return _ItmSnapshot(self)

    def _check_clocks(self) -> None:
        problem = swo_clock_problem(self.settings.core_clock, self.settings.swo_baud)
        if problem is not None:
            raise ProbeFailure(f"{self.name}: {problem}")

    def _start_trace(self, session: Session) -> None:
        """DEMCR.TRCENA, TPIU in UART mode at the baud rate, SWO reception, then the ITM."""
        s = self.settings
        probe = session.probe
        if DebugProbe.Capability.SWO not in probe.capabilities:
            raise ProbeFailure(f"{self.name} cannot receive SWO")
        target = session.target
        itm = target.get_first_child_of_type(ITM)
        tpiu = target.get_first_child_of_type(TPIU)
        if itm is None or tpiu is None:
            missing = "an ITM" if itm is None else "a TPIU"
            raise ProbeFailure(f"{self.name}: the target has no {missing}, so no SWO trace")
        if not tpiu.has_swo_uart:
            raise ProbeFailure(f"{self.name}: the target's TPIU cannot send SWO in UART mode")
        if self._saved_itm is None:
            logger.warning("%s: ITM settings were read after pyocd reset them", self.name)
            self._saved_itm = (
                itm.ap.read32(itm.address + ITM.TERn),
                itm.ap.read32(itm.address + ITM.TCR),
            )
        demcr = target.read32(CortexM.DEMCR)
        if not demcr & CortexM.DEMCR_TRCENA:
            target.write32(CortexM.DEMCR, demcr | CortexM.DEMCR_TRCENA)

        if not tpiu.set_swo_clock(s.swo_baud, s.core_clock):
            raise ProbeFailure(
                f"{self.name}: SWO baud rate {s.swo_baud} cannot be divided from "
                f"the {s.core_clock} Hz core clock within 3%"
            )
        prescaler = s.core_clock // s.swo_baud - 1
        if tpiu.ap.read32(tpiu.address + TPIU.ACPR) != prescaler:
            raise ProbeFailure(
                f"{self.name}: the TPIU cannot divide the {s.core_clock} Hz core "
                f"clock by {prescaler + 1}; choose a higher SWO baud rate"
            )

        try:
            probe.swo_stop()  # the probe may still be receiving for an earlier session
        except exceptions.ProbeError:
            pass
        probe.swo_start(s.swo_baud)
        self._swo_started = True

        itm.ap.write32(itm.address + ITM.LAR, ITM.LAR_KEY)
        self._itm = itm
        self._itm_changed = True
        itm.ap.write32(itm.address + ITM.TCR, ITM_TCR)
        itm.ap.write32(itm.address + ITM.TERn, ITM_PORTS)
        logger.info(
            "%s: SWO at %d baud from a %d Hz core clock, ITM ports 0x%08X",
            self.name,
            s.swo_baud,
            s.core_clock,
            ITM_PORTS,
        )

    def save_itm(self, target: CoreSightTarget) -> None:
        """Read TER and TCR before pyocd's ITM setup clears them (called during discovery)."""
        for ap in target.dp.aps.values():
            if ap.rom_table is not None:
                ap.rom_table.for_each(
                    self._save_itm_registers, filter=lambda cmpid: cmpid.factory == ITM.factory
                )

    def _save_itm_registers(self, cmpid: CoreSightComponentID) -> None:
        if self._saved_itm is None:
            self._saved_itm = (
                cmpid.ap.read32(cmpid.address + ITM.TERn),
                cmpid.ap.read32(cmpid.address + ITM.TCR),
            )
            logger.debug(
                "%s: ITM TER 0x%08X TCR 0x%08X before capture", self.name, *self._saved_itm
            )

    # Capturing ------------------------------------------------------------------

    def _swo_read(self) -> bytes:
        try:
            # Probes return a bytearray or a list of ints.
            return bytes(self._session.probe.swo_read())
        except (exceptions.Error, OSError) as err:
            raise self._failure(err, "reading SWO") from None

    def _restore_itm(self) -> None:
        if not self._itm_changed or self._saved_itm is None or self._itm is None:
            return
        ter, tcr = self._saved_itm
        itm = self._itm
        try:
            itm.ap.write32(itm.address + ITM.TERn, ter)
            itm.ap.write32(itm.address + ITM.TCR, tcr)
        except (exceptions.Error, OSError) as err:
            logger.warning("%s: restoring the ITM failed: %s", self.name, _one_line(err))


class _ItmSnapshot:
    """pyocd target delegate that reads the ITM's TER/TCR between ROM table and component setup.

    pyocd's ITM component clears both registers when it is created, so the
    firmware's own settings have to be read before that to be restored later.
    """

    def __init__(self, source: ProbeSource) -> None:
        self._source = source

    def will_init_target(self, target: CoreSightTarget, init_sequence: CallSequence) -> None:
        def hook_discovery(discovery: CallSequence | None) -> CallSequence | None:
            if discovery is not None and discovery.has_task("create_components"):
                discovery.insert_before(
                    "create_components", ("heapgui_save_itm", lambda: self._source.save_itm(target))
                )
            return discovery

        if init_sequence.has_task("discovery"):
            init_sequence.wrap_task("discovery", hook_discovery)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
