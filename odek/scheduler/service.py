"""The SchedulerService: builds the actors, supervises them, starts and stops cleanly.

Start-up, in order: load the jobs and their run records, close what a previous process
left open in the run journal (:func:`odek.scheduler.journal.recover`), decide the missed
fires (:func:`odek.scheduler.catchup.plan_start`), fill the schedule table, then start the
actors as children of one :class:`supervisors.Supervisor` (one_for_one), sinks first::

    heartbeat -> [health] -> journal -> state -> watcher -> delivery -> pool -> timer

and log one ``ready`` event with the number of jobs. ``heartbeat`` writes
``ODEK_HOME/schedule-heartbeat.json`` (read by ``odek health``); ``health`` serves
``GET /healthz`` and ``GET /metrics`` and runs only when ``schedules.http_addr`` is set (a
port that cannot be listened on fails the start, caused by
:class:`odek.errors.HealthEndpointError`). The actors talk over anyio memory object
streams that the service owns (so a restarted actor finds its inbox as it was):
timer -> pool (run requests), pool -> delivery (results), everyone -> state (state
events); the journal is written through a shared group-commit writer.

Stopping (:meth:`stop`, SIGTERM or SIGINT through :func:`serve`) stops the actors in
reverse order: the timer (no more fires), the pool (runs in flight get
``schedules.drain_timeout``, then are cancelled and recorded ``interrupted``), delivery
(queued results are still sent), the watcher, state and journal (final writes). Fires
still waiting for a pool slot are recorded ``skipped: shutdown``. Too many actor crashes
(:class:`supervisors.RestartIntensityExceeded`) stop everything the same way and raise.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from anyio import WouldBlock
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from odek.config.model import SchedulesConfig
from odek.errors import OdekError
from odek.health.heartbeat import HeartbeatWriter
from odek.logs import get_logger
from odek.protocols import Deliverer, Runner
from odek.scheduler.catchup import plan_start
from odek.scheduler.clock import SystemClock, WallClock
from odek.scheduler.delivery import DeliveryActor
from odek.scheduler.journal import Journal, Recovery, RunEntry, recover
from odek.scheduler.messages import Recorded, RunRequest, RunResult, StateEvent, Trigger
from odek.scheduler.pool import WorkerPool
from odek.scheduler.recorder import Recorder
from odek.scheduler.running import JobRunLock, RunningJobs
from odek.scheduler.state import BATCH_INTERVAL, StateKeeper
from odek.scheduler.table import ScheduleTable
from odek.scheduler.timer import MAX_SLEEP, Timer
from odek.scheduler.watcher import StoreWatcher
from odek.store import JobsSnapshot, JobStore
from supervisors import Backoff, ChildSpec, EventKind, Supervisor, SupervisorEvent

if TYPE_CHECKING:  # the endpoint's modules (h11, prometheus-client) load only when served
    from odek.health.metrics import Metrics

__all__ = ["SchedulerService", "serve"]

_FLUSH_GRACE = 10.0
"""Seconds the journal and state actors get to write their last records on stop."""


class SchedulerService:
    """The scheduler: see the module docstring.

    ``runner`` and ``deliverer`` are injected (the daemon passes the real ones, tests pass
    fakes); so is ``clock``. ``max_sleep`` is the timer's longest sleep before it reads
    the wall clock again (a larger value only suits a virtual clock). ``state_interval`` is
    the shortest time between two writes of the state file. The delivery settings
    bound each send and its retries; the supervision settings bound how often actors may
    crash (``max_restarts`` within ``within`` seconds) before the service gives up.

    ``metrics`` counts what happens (fires, skips, outcomes, deliveries, restarts); by
    default the service builds its own when ``settings.http_addr`` is set, and counts
    nothing otherwise. A host that serves the endpoint itself (the Telegram bot) passes
    its own and leaves ``http_addr`` empty.
    """

    def __init__(
        self,
        settings: SchedulesConfig,
        *,
        runner: Runner,
        deliverer: Deliverer,
        home: Path,
        clock: WallClock | None = None,
        delivery_timeout: float = 60.0,
        delivery_attempts: int = 5,
        delivery_backoff: float = 1.0,
        state_interval: float = BATCH_INTERVAL,
        max_sleep: float = MAX_SLEEP,
        max_restarts: int = 5,
        within: float = 60.0,
        backoff: Backoff = Backoff(initial=0.5, maximum=30.0),  # noqa: B008 -- frozen
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.home = home
        self.clock: WallClock = clock or SystemClock()
        self.heartbeat = HeartbeatWriter(home, clock=self.clock.now)
        self.metrics: Metrics | None = metrics
        health = [self._health_child(settings.http_addr)] if settings.http_addr else []
        self.store = JobStore(home)
        self.log = get_logger("odek.scheduler")
        self.table = ScheduleTable()
        self.running = RunningJobs()
        self.journal = Journal(home)
        self._exits: dict[str, str] = {}

        self._requests: tuple[
            MemoryObjectSendStream[RunRequest], MemoryObjectReceiveStream[RunRequest]
        ] = anyio.create_memory_object_stream[RunRequest](math.inf)
        self._results: tuple[
            MemoryObjectSendStream[RunResult], MemoryObjectReceiveStream[RunResult]
        ] = anyio.create_memory_object_stream[RunResult](math.inf)
        self._states: tuple[
            MemoryObjectSendStream[StateEvent], MemoryObjectReceiveStream[StateEvent]
        ] = anyio.create_memory_object_stream[StateEvent](math.inf)

        self.recorder = Recorder(
            self.journal,
            self._states[0],
            self.clock,
            self.log,
            heartbeat=self.heartbeat,
            metrics=self.metrics,
        )
        self.delivery = DeliveryActor(
            deliverer=deliverer,
            results=self._results[1],
            recorder=self.recorder,
            timeout=delivery_timeout,
            attempts=delivery_attempts,
            backoff=delivery_backoff,
            drain_timeout=settings.drain_timeout,
        )
        self.state = StateKeeper(
            self.store,
            self._states[1],
            {},
            self.log,
            interval=state_interval,
            idle=lambda: not self.running and not self.recorder.undelivered,
        )
        self.pool = WorkerPool(
            runner=runner,
            requests=self._requests[1],
            results=self._results[0],
            recorder=self.recorder,
            running=self.running,
            clock=self.clock,
            home=home,
            max_concurrent=settings.max_concurrent,
            run_timeout=settings.run_timeout,
            drain_timeout=settings.drain_timeout,
        )
        self.timer = Timer(
            table=self.table,
            clock=self.clock,
            requests=self._requests[0],
            recorder=self.recorder,
            running=self.running,
            log=self.log,
            default_zone=settings.timezone,
            catchup=settings.catchup,
            catchup_window=settings.catchup_window,
            max_sleep=max_sleep,
        )
        self.watcher = StoreWatcher(
            store=self.store, on_snapshot=self.timer.submit, clock=self.clock, log=self.log
        )
        self.supervisor = Supervisor(
            "scheduler",
            [
                ChildSpec("heartbeat", self.heartbeat.run),
                *health,
                ChildSpec("journal", self.journal.run, grace=_FLUSH_GRACE),
                ChildSpec("state", self.state.run, grace=_FLUSH_GRACE),
                ChildSpec("watcher", self.watcher.run),
                ChildSpec("delivery", self.delivery.run, grace=delivery_timeout + 1.0),
                ChildSpec("pool", self.pool.run, grace=settings.drain_timeout + 1.0),
                ChildSpec("timer", self.timer.run),
            ],
            max_restarts=max_restarts,
            within=within,
            backoff=backoff,
            on_event=self._on_event,
        )

    def _health_child(self, http_addr: str) -> ChildSpec:
        """The endpoint's child, serving this service's heartbeat and metrics (which it
        builds unless they were given)."""
        from odek.health.http import health_child
        from odek.health.metrics import Metrics

        if self.metrics is None:
            self.metrics = Metrics(heartbeat=self.heartbeat.snapshot)
        return health_child(
            http_addr, heartbeat=self.heartbeat.snapshot, metrics=self.metrics, clock=self.clock.now
        )

    def stop(self) -> None:
        """Stop firing, drain, write everything and make :meth:`run` return. Never blocks."""
        self.supervisor.stop()

    def reload(self) -> None:
        """Reload ``schedules.json`` now (coalescing). Never blocks."""
        self.watcher.request_reload()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start, run until :meth:`stop`, stop cleanly. Signals readiness once the jobs are
        loaded and every actor runs. Raises :class:`supervisors.SupervisorError` when the
        actors crash too often (after stopping the rest cleanly)."""
        try:
            await self._start()

            def ready(_value: object = None) -> None:
                self.log.info("ready", jobs=len(self.table), running=len(self.running))
                task_status.started()

            ready_status: TaskStatus[None] = _Ready(ready)
            await self.supervisor.run(task_status=ready_status)
        finally:
            self._finish()

    async def _start(self) -> None:
        now = self.clock.now()
        snapshot, fingerprint = await self._load()
        try:
            states = await anyio.to_thread.run_sync(self.store.load_states)
        except OdekError as exc:
            self.log.error("state_load_failed", error=str(exc))
            states = {}
        self.state.states.update(states)

        def live(job_id: str) -> bool:
            return JobRunLock.is_held(self.home, job_id)

        recovery = await anyio.to_thread.run_sync(lambda: recover(self.home, now, is_live=live))
        plan = plan_start(
            snapshot,
            states,
            recovery.interrupted,
            recovery.latest,
            now,
            default_zone=self.settings.timezone,
            catchup=self.settings.catchup,
            window=self.settings.catchup_window,
        )
        self.table.bulk_load(plan.entries)
        for job_id in plan.fresh:
            entry = self.table.entries[job_id]
            self.recorder.scheduled(job_id, entry.next, entry.compiled.sig)
        for job_id in plan.unscheduled:
            self.recorder.unscheduled(job_id, removed=False)
        self._record_recovery(recovery, {job.id for job in snapshot.jobs})
        for missed in plan.missed:
            if missed.catch_up:
                self.timer.dispatch(missed.job, missed.nominal, Trigger.CATCHUP)
            else:
                self.recorder.skipped(missed.job, missed.nominal, Trigger.SCHEDULED, "missed")
        for job, nominal in plan.rerun:
            self.timer.dispatch(job, nominal, Trigger.CATCHUP)
        for job_id, reason in plan.invalid.items():
            self.log.error("job_invalid", job_id=job_id, error=reason)
        self.watcher.loaded(fingerprint, snapshot)

    async def _load(self) -> tuple[JobsSnapshot, tuple[int, int, str]]:
        """The jobs at start. A broken file starts the service with no jobs (the error is
        logged and put in the status file) so that fixing the file is enough to resume."""
        try:
            fingerprint = await anyio.to_thread.run_sync(self.store.fingerprint)
            snapshot = await anyio.to_thread.run_sync(self.store.load)
        except OdekError as exc:
            self.log.error("jobs_load_failed", error=str(exc))
            self.watcher.failed(str(exc))
            return JobsSnapshot(jobs=[], invalid={}), (0, 0, "")
        return snapshot, fingerprint

    def _record_recovery(self, recovery: Recovery, job_ids: set[str]) -> None:
        def record(entry: RunEntry, at: datetime | None) -> None:
            if entry.job in job_ids:
                self._states[0].send_nowait(
                    Recorded(entry.job, at or entry.nominal, entry.outcome, entry.error)
                )
            self.log.warning(
                "recovered",
                job_id=entry.job,
                nominal=entry.nominal.isoformat(),
                run_id=entry.run,
                outcome=entry.outcome,
                error=entry.error,
            )

        for entry in recovery.interrupted:
            record(entry, entry.start)
        for entry in recovery.unconfirmed:
            record(entry, entry.start)

    def _finish(self) -> None:
        """After the actors stopped: record the fires and results that never got their
        turn, then write the journal and the state file one last time."""
        while True:
            try:
                request = self._requests[1].receive_nowait()
            except (WouldBlock, anyio.ClosedResourceError, anyio.EndOfStream):
                break
            self.running.discard(request.job.id)
            self.recorder.skipped(request.job, request.nominal, request.trigger, "shutdown")
        while True:
            try:
                result = self._results[1].receive_nowait()
            except (WouldBlock, anyio.ClosedResourceError, anyio.EndOfStream):
                break
            self.recorder.delivery_failed(result, "not sent: odek stopped first")
        try:
            self.journal.flush()
        except OdekError as exc:
            self.log.error("journal_write_failed", error=str(exc))
        self.state.drain_queue()
        try:
            self.state.flush()
        except (OdekError, ValueError) as exc:
            self.log.error("state_write_failed", error=str(exc))
        for stream in (*self._requests, *self._results, *self._states):
            stream.close()

    def _on_event(self, event: SupervisorEvent) -> None:
        try:
            self.heartbeat.supervisor_event(event)
            if self.metrics is not None:
                self.metrics.supervisor_event(event)
        except Exception as exc:  # raised from this hook, it would stop every actor
            self.log.error("heartbeat_update_failed", error=f"{type(exc).__name__}: {exc}")
        fields: dict[str, object] = {"actor": event.child, "supervisor": event.supervisor}
        if event.error is not None:
            fields["error"] = f"{type(event.error).__name__}: {event.error}"
        if event.kind is EventKind.EXITED:
            self._exits[event.child] = str(fields.get("error", "returned"))
            self.log.error("actor_exited", **fields)
        elif event.kind is EventKind.RESTARTING:
            fields.setdefault("error", self._exits.get(event.child, ""))
            self.log.warning("actor_restart", delay=event.delay, **fields)
        else:
            self.log.debug(event.kind.value, **fields)


class _Ready:
    """A task status that calls ``callback`` when the supervisor is ready."""

    def __init__(self, callback: Callable[[object], None]) -> None:
        self._callback = callback

    def started(self, value: object = None) -> None:
        self._callback(value)


async def serve(service: SchedulerService) -> None:
    """Run ``service`` under the process's signals: SIGTERM and SIGINT stop it (drain,
    write, return), SIGHUP reloads ``schedules.json``. Raises what :meth:`run` raises."""
    failure: BaseException | None = None
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async with anyio.create_task_group() as tg:

            async def handle() -> None:
                async for signum in signals:
                    if signum == signal.SIGHUP:
                        service.log.info("reload_requested", signal="SIGHUP")
                        service.reload()
                    else:
                        service.log.info("stopping", signal=signal.Signals(signum).name)
                        service.stop()

            tg.start_soon(handle)
            try:
                await service.run()
            except Exception as exc:  # raised plainly, not inside the task group's group
                failure = exc
            finally:
                tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
