"""The State actor: keeps ``schedule-state.json`` up to date in batches.

Events (:data:`odek.scheduler.messages.StateEvent`) update an in-memory copy of every
job's :class:`odek.store.RunState`; the changed records are written together through
:meth:`odek.store.JobStore.update_states` at most once per ``interval`` seconds, so a
burst of fires costs one write, never one rewrite per fire. A batch is written sooner once
the scheduler goes idle (``idle()``: nothing queued, running or being delivered), since
no more events are coming for now; such an early write starts at least a fifth of the
interval, and five times as long as the previous write took, after that write started, so
early writes never keep the writer busy more than a fifth of the time. The copy and the set of
unwritten changes belong to the object, not to one run of the actor, so a restarted actor
loses nothing. A failed write is logged and retried at the next batch (scheduling goes on
meanwhile).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import anyio
import msgspec
from anyio import WouldBlock, move_on_after, to_thread
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream
from structlog.typing import FilteringBoundLogger

from odek.errors import OdekError
from odek.scheduler.messages import Recorded, Scheduled, StateEvent, Unscheduled
from odek.store import JobStore, RunState
from supervisors import draining

__all__ = ["BATCH_INTERVAL", "StateKeeper"]

BATCH_INTERVAL = 0.25
"""Default seconds between two state writes. One write of 100,000 records takes some
30-50 ms (``benchmarks/bench_scheduler_load.py``). A burst's outcomes reach the file
soon after its end, the scheduler being idle then (``benchmarks/bench_scheduler_burst.py``)."""


class StateKeeper:
    """Owner of the run records while the scheduler runs."""

    def __init__(
        self,
        store: JobStore,
        events: MemoryObjectReceiveStream[StateEvent],
        states: dict[str, RunState],
        log: FilteringBoundLogger,
        *,
        interval: float = BATCH_INTERVAL,
        idle: Callable[[], bool] = lambda: False,
    ) -> None:
        self.store = store
        self.events = events
        self.states = states
        self.log = log
        self.interval = interval
        self.idle = idle
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._early_from = -math.inf  # anyio time from which an idle batch may be written

    def apply(self, event: StateEvent) -> None:
        """Fold one event into the in-memory records."""
        job_id = event.job_id
        if job_id in self._removed:
            return  # a run of a deleted job must not bring its record back
        old = self.states.get(job_id) or RunState(job_id=job_id)
        match event:
            case Scheduled():
                new = msgspec.structs.replace(old, next_run=event.next_run, sig=event.sig)
            case Unscheduled(removed=True):
                self._removed.add(job_id)
                self.states.pop(job_id, None)
                self._dirty.add(job_id)
                return
            case Unscheduled():
                new = msgspec.structs.replace(old, next_run=None)
            case Recorded():
                new = msgspec.structs.replace(
                    old,
                    last_run=event.at,
                    last_status=event.status,
                    last_error=event.error,
                    last_result=old.last_result if event.result is None else event.result,
                    runs=old.runs + (1 if event.counts else 0),
                )
        if new != old or job_id not in self.states:
            self.states[job_id] = new
            self._dirty.add(job_id)

    def drain_queue(self) -> None:
        """Apply every event already queued, without waiting."""
        while True:
            try:
                self.apply(self.events.receive_nowait())
            except WouldBlock:
                return

    def flush(self) -> None:
        """Write the changed records now (synchronously)."""
        if not self._dirty:
            return
        changes = {job_id: self.states.get(job_id) for job_id in self._dirty}
        self.store.update_states(changes)
        self._dirty.difference_update(changes)

    async def _flush_in_thread(self) -> None:
        if not self._dirty:
            return
        dirty = set(self._dirty)
        changes = {job_id: self.states.get(job_id) for job_id in dirty}
        began, began_at = time.perf_counter(), anyio.current_time()
        try:
            await to_thread.run_sync(self.store.update_states, changes)
        except (OdekError, ValueError) as exc:
            self.log.error("state_write_failed", error=str(exc), records=len(changes))
            return
        finally:
            # From the start, in the loop's time (which a virtual clock may move on while
            # the thread runs), with the write's real duration.
            took = time.perf_counter() - began
            self._early_from = began_at + max(self.interval / 5, 5 * took)
        # Records changed again while the write ran stay dirty for the next batch.
        for job_id in dirty:
            if self.states.get(job_id) is changes[job_id]:
                self._dirty.discard(job_id)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Apply events as they come; write them in batches; write the rest on stop."""
        task_status.started()
        try:
            while True:
                if not self._dirty:
                    self.apply(await self.events.receive())
                # Collect everything that arrives within one interval, then write once;
                # or write as soon as allowed once the queue is empty and the scheduler
                # idle (checked only then: one cheap call per wake-up, not per event).
                with move_on_after(self.interval) as batch:
                    while True:
                        self.drain_queue()
                        if self.idle():
                            batch.deadline = min(batch.deadline, self._early_from)
                        self.apply(await self.events.receive())
                self.drain_queue()
                await self._flush_in_thread()
        finally:
            with draining():
                self.drain_queue()
                await self._flush_in_thread()
