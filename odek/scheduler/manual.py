"""Runs and deliveries on demand, outside the daemon, through the daemon's own code path.

- :func:`run_now` (``odek schedule run <id>``, the bot's ``/schedule run``): the run takes
  the job's run lock (so it is refused while the daemon, or another manual run, is running
  the same job), writes its intent and outcome to the run journal as a ``manual`` run, is
  delivered by the same delivery code (retries, ``delivering`` and ``delivered`` marks) and
  updates the job's record in ``schedule-state.json``.
- :func:`deliver_again` (``odek schedule redeliver <id>``): sends the result a run kept
  because its delivery failed, with the same marks, so the run's history and the job's
  record show it delivered once it arrives.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from odek.config.model import SchedulesConfig
from odek.errors import InputError, LockHeldError
from odek.logs import get_logger
from odek.protocols import Deliverer, Runner
from odek.scheduler.clock import SystemClock, WallClock
from odek.scheduler.delivery import DeliveryActor
from odek.scheduler.journal import Journal, RunEntry
from odek.scheduler.messages import Outcome, RunRequest, RunResult, StateEvent, Trigger, new_run_id
from odek.scheduler.pool import WorkerPool
from odek.scheduler.recorder import Recorder
from odek.scheduler.running import JobRunLock, RunningJobs
from odek.scheduler.state import StateKeeper
from odek.store import Job, JobStore

__all__ = ["deliver_again", "run_now"]

#: Deliveries whose result was kept and may be sent again.
REDELIVERABLE = frozenset({"failed", "unconfirmed"})


@dataclass(frozen=True, slots=True)
class _Session:
    recorder: Recorder
    delivery: DeliveryActor
    results: tuple[MemoryObjectSendStream[RunResult], MemoryObjectReceiveStream[RunResult]]


@contextlib.asynccontextmanager
async def _session(
    home: Path,
    deliverer: Deliverer,
    clock: WallClock,
    *,
    delivery_timeout: float,
    delivery_attempts: int,
) -> AsyncGenerator[_Session, None]:
    """A journal writer, a recorder and a delivery actor for one on-demand action; on exit
    the journal is flushed and the job records changed meanwhile are written."""
    log = get_logger("odek.scheduler")
    journal = Journal(home)
    state_send, state_receive = anyio.create_memory_object_stream[StateEvent](math.inf)
    results = anyio.create_memory_object_stream[RunResult](math.inf)
    with state_send, state_receive, results[0], results[1]:
        recorder = Recorder(journal, state_send, clock, log)
        delivery = DeliveryActor(
            deliverer=deliverer,
            results=results[1],
            recorder=recorder,
            timeout=delivery_timeout,
            attempts=delivery_attempts,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(journal.run)
            try:
                yield _Session(recorder, delivery, results)
            finally:
                tg.cancel_scope.cancel()
        store = JobStore(home)
        keeper = StateKeeper(store, state_receive, store.load_states(), log)
        keeper.drain_queue()
        keeper.flush()


async def run_now(
    job: Job,
    settings: SchedulesConfig,
    *,
    runner: Runner,
    deliverer: Deliverer,
    home: Path,
    clock: WallClock | None = None,
    delivery_timeout: float = 60.0,
    delivery_attempts: int = 3,
) -> tuple[RunResult, bool]:
    """Run ``job`` once now and deliver an ``ok`` answer.

    Returns the result and whether it was delivered. Raises :class:`LockHeldError` when the
    job is running elsewhere (the daemon or another ``odek schedule run``).
    """
    clock = clock or SystemClock()
    lock = JobRunLock.try_acquire(home, job.id)
    if lock is None:
        raise LockHeldError(
            f"job {job.id} is running right now (in the scheduler daemon or another "
            f"'odek schedule run'); try again when it has finished"
        )
    requests = anyio.create_memory_object_stream[RunRequest](0)
    with lock, requests[0], requests[1]:
        async with _session(
            home,
            deliverer,
            clock,
            delivery_timeout=delivery_timeout,
            delivery_attempts=delivery_attempts,
        ) as session:
            pool = WorkerPool(
                runner=runner,
                requests=requests[1],
                results=session.results[0],
                recorder=session.recorder,
                running=RunningJobs(),
                clock=clock,
                home=home,
                max_concurrent=1,
                run_timeout=settings.run_timeout,
                drain_timeout=0.0,
            )
            result = await pool.execute(RunRequest(new_run_id(), job, clock.now(), Trigger.MANUAL))
            delivered = False
            if result.outcome is Outcome.OK:
                delivered = await session.delivery.deliver(session.results[1].receive_nowait())
    return result, delivered


async def deliver_again(
    job: Job,
    run: RunEntry,
    *,
    deliverer: Deliverer,
    home: Path,
    clock: WallClock | None = None,
    delivery_timeout: float = 60.0,
    delivery_attempts: int = 3,
) -> bool:
    """Send the result that ``run`` (a run of ``job``) kept after a failed or unconfirmed
    delivery; return whether it arrived. Raises :class:`InputError` when the run has no
    such result (it was delivered, failed before answering, or is still going)."""
    if run.delivery not in REDELIVERABLE or not run.result:
        state = run.delivery or run.outcome or "running"
        raise InputError(f"run {run.run} of {job.id} has no undelivered result ({state})")
    request = RunRequest(run.run, job, run.nominal, Trigger(run.trigger))
    started = run.start or run.nominal
    result = RunResult(
        request, Outcome.OK, started, run.end or started, text=run.result, tokens=run.tokens
    )
    async with _session(
        home,
        deliverer,
        clock or SystemClock(),
        delivery_timeout=delivery_timeout,
        delivery_attempts=delivery_attempts,
    ) as session:
        return await session.delivery.deliver(result)
