"""The scheduler's heartbeat: ``ODEK_HOME/schedule-heartbeat.json``, for other processes.

The running scheduler keeps a :class:`HeartbeatWriter` and tells it what happens (the
timer woke, a run started or finished, the supervisor restarts an actor); the writer keeps
the latest :class:`Heartbeat` in memory and writes it to the file (atomically, mode 0600,
without fsync: a heartbeat means nothing after a crash, and a few hundred bytes renamed into
place cost microseconds, so it is written on the event loop) from its own task,
:meth:`HeartbeatWriter.run`. ``odek health`` and Docker's
``HEALTHCHECK`` read the file (:func:`read_heartbeat`); see :mod:`odek.health.check` for
how it is judged. A sample::

    {"version": 1, "pid": 7, "host": "3f2a9c1b", "pid_start": 81234,
     "started_at": "2026-06-04T09:58:00Z", "updated_at": "2026-06-04T10:00:00Z",
     "last_wake": "2026-06-04T10:00:00Z", "next_fire": "2026-06-04T10:05:00Z",
     "jobs_loaded": 3, "runs_in_flight": 1, "restarting": false,
     "restarting_actors": [], "last_error": "", "last_error_at": null}

Writes cost nothing while nothing happens: the writer task sleeps until told of a change.
A change that decides health (an actor restarting or back, the first timer wake-up) is
written at once; any other (a wake-up, a run starting) at most once per ``interval``
seconds, so a busy scheduler does not rewrite the file at every run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import anyio
import msgspec
from anyio.abc import TaskStatus

from odek.errors import OdekError, StoreCorruptError
from odek.logs import get_logger
from odek.redact import redact
from odek.store.files import atomic_write, read_capped
from supervisors import EventKind, SupervisorEvent

__all__ = [
    "HEARTBEAT_FILE",
    "WRITE_INTERVAL",
    "Heartbeat",
    "HeartbeatWriter",
    "iso_utc",
    "process_start",
    "read_heartbeat",
    "utc_now",
]

HEARTBEAT_FILE = "schedule-heartbeat.json"
WRITE_INTERVAL = 15.0
"""Seconds between two writes of changes that do not decide health."""
_MAX_BYTES = 64 << 10
_MAX_ERROR = 500
"""Characters of ``last_error`` kept: enough to say what broke, and the file stays small."""


def utc_now() -> datetime:
    """The machine's wall clock, aware, in UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC with a ``Z``: ``2026-06-04T10:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """What the scheduler process last said about itself (see the module docstring).

    ``pid_start`` is the process's start time in clock ticks after boot (Linux
    ``/proc/<pid>/stat``), or ``None`` where there is no ``/proc``: with it a reader tells
    the scheduler from a later process that got the same PID (PIDs repeat in containers).
    ``host`` is the host name, so a reader in another container (another PID namespace)
    knows not to look the PID up. ``last_wake`` is the timer's last wake-up, ``None`` until
    the first one. Times are UTC."""

    version: int = 1
    pid: Annotated[int, msgspec.Meta(gt=0)]
    host: str
    pid_start: int | None = None
    started_at: datetime
    updated_at: datetime
    last_wake: datetime | None = None
    next_fire: datetime | None = None
    jobs_loaded: int = 0
    runs_in_flight: int = 0
    restarting: bool = False
    restarting_actors: list[str] = []
    last_error: str = ""
    last_error_at: datetime | None = None


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks after boot, or ``None`` when it is
    unknown (no such process, no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; it ends at the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def read_heartbeat(home: Path) -> Heartbeat | None:
    """The heartbeat in ``home``, or ``None`` when there is none.

    Raises :class:`odek.errors.StoreError` when the file cannot be read and
    :class:`odek.errors.StoreCorruptError` when it is not a heartbeat."""
    path = home / HEARTBEAT_FILE
    data = read_capped(path, max_bytes=_MAX_BYTES)
    if data is None:
        return None
    try:
        return msgspec.json.decode(data, type=Heartbeat)
    except msgspec.DecodeError as exc:
        raise StoreCorruptError(f"{path}: not a heartbeat: {exc}", path=str(path)) from None


class HeartbeatWriter:
    """Keeps the heartbeat of this process and writes it to ``home``.

    The scheduler calls the event methods (none blocks or awaits) and runs :meth:`run` as
    a task (a supervised child) for the writes. ``clock`` gives the wall-clock time of
    ``started_at``, ``updated_at`` and errors; ``interval`` is the least time, in seconds,
    between two writes of changes that do not decide health."""

    def __init__(
        self,
        home: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        interval: float = WRITE_INTERVAL,
    ) -> None:
        self.path = home / HEARTBEAT_FILE
        self.interval = interval
        self.writes = 0
        """Files written so far."""
        self._clock = clock
        self._log = get_logger("odek.health")
        now = clock().astimezone(UTC)
        pid = os.getpid()
        self._beat = Heartbeat(
            pid=pid,
            host=socket.gethostname(),
            pid_start=process_start(pid),
            started_at=now,
            updated_at=now,
        )
        self._pending = self._urgent = True
        self._wake: anyio.Event | None = None

    def snapshot(self) -> Heartbeat:
        """The heartbeat as it is now (not necessarily written yet)."""
        return self._beat

    def timer_woke(self, now: datetime, *, next_fire: datetime | None, jobs: int) -> None:
        """The timer woke at ``now``; its earliest fire is ``next_fire`` (``None``: no job
        is scheduled) and ``jobs`` jobs are in its table."""
        first = self._beat.last_wake is None
        self._update(
            urgent=first,
            last_wake=now.astimezone(UTC),
            next_fire=None if next_fire is None else next_fire.astimezone(UTC),
            jobs_loaded=jobs,
        )

    def run_started(self) -> None:
        """A run began (its intent is recorded); pair it with :meth:`run_finished`."""
        self._update(urgent=False, runs_in_flight=self._beat.runs_in_flight + 1)

    def run_finished(self) -> None:
        """A run ended, whatever its outcome."""
        self._update(urgent=False, runs_in_flight=max(0, self._beat.runs_in_flight - 1))

    def supervisor_event(self, event: SupervisorEvent) -> None:
        """Follow the supervisor: an actor that ended with an error is ``last_error``; from
        ``RESTARTING`` until it is ``STARTED`` again the actor counts as restarting."""
        actors = set(self._beat.restarting_actors)
        if event.kind is EventKind.RESTARTING:
            actors.add(event.child)
        elif event.kind is EventKind.STARTED:
            actors.discard(event.child)
        changes: dict[str, object] = {}
        if event.kind is EventKind.EXITED and event.error is not None:
            error = event.error
            text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            changes["last_error"] = redact(f"actor {event.child}: {text}")[:_MAX_ERROR]
            changes["last_error_at"] = self._clock().astimezone(UTC)
        if actors != set(self._beat.restarting_actors):
            changes["restarting_actors"] = sorted(actors)
            changes["restarting"] = bool(actors)
        if changes:
            self._update(urgent=True, **changes)

    def _update(self, *, urgent: bool, **changes: object) -> None:
        self._beat = msgspec.structs.replace(self._beat, **changes)
        self._pending = True
        self._urgent = self._urgent or urgent
        if self._wake is not None:
            self._wake.set()

    async def write(self) -> None:
        """Write the heartbeat now. Raises :class:`odek.errors.StoreError`.

        It is written on the event loop, not in a worker thread: the file is tiny and not
        fsynced, and so the file never lags the heartbeat by the time a thread takes to
        be scheduled (which on a virtual clock, in tests, can be any time at all)."""
        self._pending = self._urgent = False
        self._beat = msgspec.structs.replace(self._beat, updated_at=self._clock().astimezone(UTC))
        data = msgspec.json.encode(self._beat) + b"\n"
        atomic_write(self.path, data, durable=False)
        self.writes += 1

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Write the heartbeat at start and then whenever it changed (see the module
        docstring), forever. A failed write is logged and tried again at the next change;
        ``odek health`` then sees a stale heartbeat, which is the truth."""
        last_write = -float("inf")
        task_status.started()
        while True:
            self._wake = anyio.Event()
            if not self._pending:
                await self._wake.wait()
                continue
            delay = 0.0 if self._urgent else last_write + self.interval - anyio.current_time()
            if delay > 0:
                with anyio.move_on_after(delay):
                    await self._wake.wait()
                continue
            last_write = anyio.current_time()
            try:
                await self.write()
            except OdekError as exc:
                self._log.warning("heartbeat_write_failed", path=str(self.path), error=str(exc))
