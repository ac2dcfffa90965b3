"""The WorkerPool actor: runs fires, at most ``max_concurrent`` at a time.

It takes a :class:`RunRequest` from its inbox only when a slot is free, so requests wait in
the (unbounded) inbox and the timer never waits for the pool; a run that ends takes the
next queued request in its own task and slot. Run locks are taken through one shared
:class:`~odek.scheduler.running.RunLocks`. Each run:

1. takes the job's cross-process run lock (held by ``odek schedule run``? then the fire is
   recorded ``skipped: overlap``);
2. makes its intent durable in the journal;
3. calls the runner under the run timeout (``job.timeout`` or ``schedules.run_timeout``;
   a run that overruns is cancelled and recorded ``timeout``);
4. records the outcome and hands an ``ok`` result to the delivery actor, whose sends have
   their own time budget.

On stop the pool takes no new request and lets the runs in flight finish within
``drain_timeout``; the ones still going then are cancelled and recorded ``interrupted``.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
from anyio import WouldBlock
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from odek.errors import OdekError
from odek.protocols import Runner
from odek.scheduler.clock import WallClock
from odek.scheduler.messages import Outcome, RunRequest, RunResult
from odek.scheduler.recorder import Recorder
from odek.scheduler.running import RunLocks, RunningJobs
from odek.store import Job
from supervisors import drain_task_group

__all__ = ["WorkerPool", "describe_error"]


def describe_error(exc: BaseException) -> str:
    """An exception as one line: odek's own errors by message, others with their type."""
    if isinstance(exc, OdekError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class WorkerPool:
    """Runs :class:`RunRequest` s through a :class:`~odek.protocols.Runner`."""

    def __init__(
        self,
        *,
        runner: Runner,
        requests: MemoryObjectReceiveStream[RunRequest],
        results: MemoryObjectSendStream[RunResult],
        recorder: Recorder,
        running: RunningJobs,
        clock: WallClock,
        home: Path,
        max_concurrent: int,
        run_timeout: float,
        drain_timeout: float,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent}")
        self.runner = runner
        self.requests = requests
        self.results = results
        self.recorder = recorder
        self.running = running
        self.clock = clock
        self.home = home
        self.max_concurrent = max_concurrent
        self.run_timeout = run_timeout
        self.drain_timeout = drain_timeout
        self._taking = False  # whether a run that ends may take the next queued request

    def timeout_of(self, job: Job) -> float:
        """The run timeout of ``job``: its own, else the configured one."""
        return job.timeout if job.timeout is not None else self.run_timeout

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Take requests while a slot is free; on stop, drain the runs in flight."""
        slots = anyio.Semaphore(self.max_concurrent)
        # The locks outlive the runs: the task group drains before they are closed.
        with RunLocks(self.home) as locks:
            async with drain_task_group(self.drain_timeout) as runs:
                self._taking = True
                task_status.started()
                try:
                    while True:
                        await slots.acquire()
                        try:
                            request = await self.requests.receive()
                        except BaseException:
                            slots.release()
                            raise
                        runs.start_soon(self._work, request, slots, locks)
                        # Start every request that has a free slot now, without yielding:
                        # the runs then write their intents together, and the journal
                        # makes them durable with one fsync instead of one each.
                        while slots.value > 0:
                            try:
                                request = self.requests.receive_nowait()
                            except WouldBlock:
                                break
                            slots.acquire_nowait()
                            runs.start_soon(self._work, request, slots, locks)
                finally:
                    self._taking = False  # stopping: the runs in flight take no more

    async def _work(self, request: RunRequest, slots: anyio.Semaphore, locks: RunLocks) -> None:
        """Run ``request``, then the queued requests after it, in this task and slot."""
        try:
            while True:
                await self._execute(request, locks)
                # Going on here instead of ending for the pool to start a new task queues
                # the next intent at once, in the journal commit that makes this run's
                # outcome durable, instead of in a commit of its own.
                if not self._taking:
                    return
                try:
                    request = self.requests.receive_nowait()
                except WouldBlock:
                    return
        finally:
            slots.release()

    async def _execute(self, request: RunRequest, locks: RunLocks) -> None:
        job = request.job
        try:
            try:
                lock = locks.try_acquire(job.id)
            except OdekError as exc:
                await self.execute(request, failure=describe_error(exc))
                return
            if lock is None:
                self.recorder.skipped(
                    job, request.nominal, request.trigger, "overlap: running in another process"
                )
                # Nothing above waited: let the loop run before this task takes the next.
                await anyio.lowlevel.checkpoint()
                return
            with lock:
                await self.execute(request)
        finally:
            self.running.discard(job.id)

    async def execute(self, request: RunRequest, *, failure: str = "") -> RunResult:
        """Run ``request`` now and record it (``failure``: record it failed without running).

        The caller holds the job's run lock. Returns the result; an ``ok`` one is also
        handed to the delivery actor."""
        job = request.job
        timeout = self.timeout_of(job)
        started = self.clock.now()
        text, tokens, error, outcome = "", 0, failure, Outcome.ERROR
        try:
            await self.recorder.started(request, started)
            if not failure:
                with anyio.move_on_after(timeout) as deadline:
                    answer = await self.runner.run(job, nominal=request.nominal)
                    text, tokens, outcome = answer.text, answer.tokens, Outcome.OK
                if deadline.cancelled_caught:
                    outcome, error = Outcome.TIMEOUT, f"timed out after {timeout:g} s"
        except anyio.get_cancelled_exc_class():
            self.recorder.finished(
                RunResult(
                    request,
                    Outcome.INTERRUPTED,
                    started,
                    self.clock.now(),
                    error="interrupted: odek stopped before the run finished",
                )
            )
            raise
        except Exception as exc:
            error = describe_error(exc)
        result = RunResult(request, outcome, started, self.clock.now(), error, text, tokens)
        self.recorder.finished(result)
        if outcome is Outcome.OK:
            self.results.send_nowait(result)
        return result
