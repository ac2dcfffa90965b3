"""The Timer actor: fires each enabled job at its next fire time.

It sleeps until the earliest next fire in the :class:`ScheduleTable`, at most
:data:`MAX_SLEEP` seconds at a time (then it re-reads the wall clock, so a suspended
machine or a stepped clock is noticed within a minute; there is no per-minute polling), and
wakes at once when the store watcher submits new job definitions. At a fire it hands a
:class:`RunRequest` to the worker pool without ever waiting (the pool's inbox is
unbounded), then schedules the job's following fire, strictly after this one.

A fire that comes while the same job's previous run is still going is not run and is
recorded ``skipped: overlap``. A fire found more than :data:`MISFIRE_GRACE` late (the
machine slept, the clock jumped) is treated as missed: see :mod:`odek.scheduler.catchup`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectSendStream
from structlog.typing import FilteringBoundLogger

from odek.errors import InputError
from odek.scheduler.catchup import latest_missed
from odek.scheduler.clock import WallClock
from odek.scheduler.messages import RunRequest, Trigger, new_run_id
from odek.scheduler.recorder import Recorder
from odek.scheduler.running import RunningJobs
from odek.scheduler.table import Compiler, ScheduleTable, next_fire, signature
from odek.store import Job, JobsSnapshot

__all__ = ["MAX_SLEEP", "MISFIRE_GRACE", "Timer"]

MAX_SLEEP = 60.0
"""Longest single sleep, in seconds, before the wall clock is read again."""
MISFIRE_GRACE = timedelta(seconds=60)
"""A fire noticed later than this is a missed fire, not a late one."""


class Timer:
    """Fires jobs; see the module docstring. ``max_sleep`` is the longest sleep before the
    wall clock is read again; ``wakeups`` counts loop turns (for benchmarks)."""

    def __init__(
        self,
        *,
        table: ScheduleTable,
        clock: WallClock,
        requests: MemoryObjectSendStream[RunRequest],
        recorder: Recorder,
        running: RunningJobs,
        log: FilteringBoundLogger,
        default_zone: str,
        catchup: bool,
        catchup_window: float,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self.table = table
        self.clock = clock
        self.requests = requests
        self.recorder = recorder
        self.running = running
        self.log = log
        self.default_zone = default_zone
        self.catchup = catchup
        self.window = timedelta(seconds=catchup_window)
        self.max_sleep = max_sleep
        self.wakeups = 0
        self._snapshot: JobsSnapshot | None = None
        self._wakeup: anyio.Event | None = None

    def submit(self, snapshot: JobsSnapshot) -> None:
        """Hand the timer new job definitions; it applies the latest at once. Never blocks."""
        self._snapshot = snapshot
        if self._wakeup is not None:
            self._wakeup.set()

    def dispatch(self, job: Job, nominal: datetime, trigger: Trigger) -> None:
        """Hand a fire of ``job`` to the pool, or record ``skipped: overlap`` if it is running."""
        if job.id in self.running:
            self.recorder.skipped(job, nominal, trigger, "overlap: the previous run is going")
            return
        self.running.add(job.id)
        request = RunRequest(new_run_id(), job, nominal, trigger)
        self.requests.send_nowait(request)
        self.recorder.fired(request)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Fire due jobs, sleep until the next one (or a reload), forever."""
        task_status.started()
        while True:
            self.wakeups += 1
            self._wakeup = anyio.Event()
            snapshot, self._snapshot = self._snapshot, None
            now = self.clock.now()
            if snapshot is not None:
                self.apply(snapshot, now)
            self.fire_due(now)
            earliest = self.table.earliest()
            self.recorder.timer_woke(now, earliest, len(self.table))
            delay = self.max_sleep
            if earliest is not None:
                delay = min(delay, max(0.0, (earliest - now).total_seconds()))
            with anyio.move_on_after(delay):
                await self._wakeup.wait()

    def fire_due(self, now: datetime) -> None:
        """Fire every job whose next fire is at or before ``now`` and schedule the next one.

        Each job is rescheduled before its fire is dispatched, with no await in between, so
        no crash or cancellation can lose or repeat a fire."""
        while (entry := self.table.pop_due(now)) is not None:
            job, nominal = entry.job, entry.next
            try:
                following = next_fire(entry.compiled, max(nominal, now))
            except Exception as exc:
                self.table.remove(job.id)
                self.recorder.unscheduled(job.id, removed=False)
                self.log.error("schedule_failed", job_id=job.id, error=str(exc))
                continue
            self.table.schedule(job, entry.compiled, following)
            self.recorder.scheduled(job.id, following, entry.compiled.sig)
            if now - nominal <= MISFIRE_GRACE:
                self.dispatch(job, nominal, Trigger.SCHEDULED)
                continue
            latest = None
            if job.catchup or self.catchup:
                latest = latest_missed(entry.compiled, nominal, now, self.window)
            if latest is None:
                self.recorder.skipped(job, nominal, Trigger.SCHEDULED, "missed")
            else:
                self.dispatch(job, latest, Trigger.CATCHUP)

    def apply(self, snapshot: JobsSnapshot, now: datetime) -> None:
        """Reconcile the table with new job definitions.

        A job whose cron and zone are unchanged keeps its next fire (its other fields are
        updated); a new job, or one whose cron or zone changed, is anchored at ``now``; a job
        that was disabled or deleted stops firing (a run in flight is left to finish). A job
        the store reports invalid keeps its last good definition, if it had one.
        """
        in_file: set[str] = set()
        keep: set[str] = set()
        compile_job = Compiler(self.default_zone)
        for job in snapshot.jobs:
            in_file.add(job.id)
            if job.id in snapshot.invalid:
                if job.id in self.table:
                    keep.add(job.id)
                continue
            if not job.enabled:
                continue
            entry = self.table.get(job.id)
            if entry is not None and entry.compiled.sig == signature(job, self.default_zone):
                entry.job = job  # same schedule (so still valid): no need to parse it again
                keep.add(job.id)
                continue
            try:
                compiled = compile_job(job)
            except InputError as exc:
                self.log.error("job_invalid", job_id=job.id, error=str(exc))
                if job.id in self.table:
                    keep.add(job.id)
                continue
            keep.add(job.id)
            following = next_fire(compiled, now)
            self.table.schedule(job, compiled, following)
            self.recorder.scheduled(job.id, following, compiled.sig)
            self.log.info(
                "job_scheduled",
                job_id=job.id,
                next_run=following.isoformat(),
                reanchored=entry is not None,
            )
        for job_id in [job_id for job_id in self.table.entries if job_id not in keep]:
            self.table.remove(job_id)
            self.recorder.unscheduled(job_id, removed=job_id not in in_file)
