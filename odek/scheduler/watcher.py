"""The StoreWatcher actor: reloads ``schedules.json`` when it changes, or when asked.

Changes are noticed through file events on ODEK_HOME (the ``watchfiles`` library: inotify
on Linux, no polling, so an idle daemon stays asleep) and confirmed by
:meth:`odek.store.JobStore.fingerprint` (mtime, size and content hash: a rewrite with the
same content, or with an older mtime, is judged by its content). :meth:`request_reload`
(SIGHUP) asks for a reload even when nothing seems changed; requests that come while one
is pending are merged into it.

A file that cannot be loaded leaves the timer running the definitions it has; the error
goes to the log and to ``schedule-status.json`` (:mod:`odek.scheduler.status`). A file
that turns empty while jobs are loaded is believed only if it is still empty
:data:`EMPTY_SETTLE` seconds later: editors that truncate before they write show an empty
file for a moment, and taking it at its word would unschedule (and re-anchor) every job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import anyio
import msgspec
from anyio.abc import TaskStatus
from structlog.typing import FilteringBoundLogger
from watchfiles import Change, awatch

from odek.errors import OdekError
from odek.scheduler.clock import WallClock
from odek.scheduler.status import ScheduleStatus, write_status
from odek.store import JobsSnapshot, JobStore

__all__ = ["StoreWatcher"]

FALLBACK_POLL = 2.0
"""Seconds between fingerprint checks when file events are unavailable."""
EMPTY_SETTLE = 1.0
"""Seconds an emptied ``schedules.json`` must stay empty before its jobs are dropped."""


class StoreWatcher:
    """Watches the job store and hands new definitions to ``on_snapshot``."""

    def __init__(
        self,
        *,
        store: JobStore,
        on_snapshot: Callable[[JobsSnapshot], None],
        clock: WallClock,
        log: FilteringBoundLogger,
        debounce_ms: int = 200,
        step_ms: int = 100,
    ) -> None:
        self.store = store
        self.on_snapshot = on_snapshot
        self.clock = clock
        self.log = log
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.reloads = 0
        self.settles = 0
        self._fingerprint: tuple[int, int, str] | None = None
        self._explicit = False
        self._request: anyio.Event | None = None
        self._last_status: ScheduleStatus | None = None

    def request_reload(self) -> None:
        """Ask for a reload now (coalescing; never blocks)."""
        self._explicit = True
        self._wake()

    def _wake(self) -> None:
        if self._request is not None:
            self._request.set()

    def loaded(self, fingerprint: tuple[int, int, str], snapshot: JobsSnapshot) -> None:
        """Note what the service loaded at start (and publish it in the status file)."""
        self._fingerprint = fingerprint
        self._publish(snapshot)

    def failed(self, error: str) -> None:
        """Note that the jobs could not be loaded at start (published in the status file)."""
        self._publish(None, error=error)

    def _publish(self, snapshot: JobsSnapshot | None, *, error: str = "") -> None:
        """Write the status file: ``snapshot``'s figures, or the last ones with ``error``."""
        now = self.clock.now()
        previous = self._last_status
        if snapshot is not None:
            status = ScheduleStatus(
                pid=os.getpid(),
                updated_at=now,
                jobs=len(snapshot.jobs),
                enabled=sum(job.enabled for job in snapshot.jobs),
                invalid=dict(snapshot.invalid),
            )
        elif previous is not None:
            status = msgspec.structs.replace(previous, updated_at=now, error=error, error_at=now)
        else:
            status = ScheduleStatus(
                pid=os.getpid(), updated_at=now, jobs=0, enabled=0, error=error, error_at=now
            )
        self._last_status = status
        try:
            write_status(self.store.home, status)
        except OdekError as exc:
            self.log.warning("status_write_failed", error=str(exc))

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Reload on file events and on requests, until stopped."""
        self._request = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._watch_files)
            task_status.started()
            while True:
                await self._request.wait()
                self._request = anyio.Event()
                explicit, self._explicit = self._explicit, False
                await self.reload(explicit=explicit)

    async def reload(self, *, explicit: bool) -> None:
        """Load the store if it changed (or always, if ``explicit``) and submit it."""
        try:
            fingerprint = await anyio.to_thread.run_sync(self.store.fingerprint)
            if not explicit and fingerprint == self._fingerprint:
                return
            if fingerprint[1] == 0 and self._fingerprint is not None and self._fingerprint[1]:
                self.settles += 1
                await anyio.sleep(EMPTY_SETTLE)
                fingerprint = await anyio.to_thread.run_sync(self.store.fingerprint)
                if fingerprint == self._fingerprint:
                    return  # rewritten as it was: nothing changed after all
            snapshot = await anyio.to_thread.run_sync(self.store.load)
        except OdekError as exc:
            self.log.error("reload_failed", error=str(exc), explicit=explicit)
            self._publish(None, error=str(exc))
            return
        self._fingerprint = fingerprint
        self.reloads += 1
        self.on_snapshot(snapshot)
        self.log.info("reload", jobs=len(snapshot.jobs), explicit=explicit)
        self._publish(snapshot)

    async def _watch_files(self) -> None:
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._consume_events, stop)
            try:
                await anyio.sleep_forever()
            finally:
                # awatch waits in a worker thread that only notices this event.
                stop.set()

    async def _consume_events(self, stop: anyio.Event) -> None:
        name = self.store.jobs_path.name

        def ours(_change: Change, path: str) -> bool:
            return Path(path).name == name

        try:
            async for _changes in awatch(
                self.store.home,
                watch_filter=ours,
                debounce=self.debounce_ms,
                step=self.step_ms,
                rust_timeout=0,
                recursive=False,
                stop_event=stop,
            ):
                self._wake()
        except OSError as exc:  # no inotify (limits, odd filesystems): poll instead
            self.log.warning("file_events_unavailable", error=str(exc), poll=FALLBACK_POLL)
            while not stop.is_set():
                await anyio.sleep(FALLBACK_POLL)
                self._wake()
