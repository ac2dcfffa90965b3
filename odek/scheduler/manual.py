"""``odek schedule run <id>``: one run now, through the daemon's own code path.

The run takes the job's run lock (so it is refused while the daemon, or another manual
run, is running the same job), writes its intent and outcome to the run journal as a
``manual`` run, is delivered by the same delivery code (retries, ``delivering`` and
``delivered`` marks) and updates the job's record in ``schedule-state.json``.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import anyio

from odek.config.model import SchedulesConfig
from odek.errors import LockHeldError
from odek.logs import get_logger
from odek.protocols import Deliverer, Runner
from odek.scheduler.clock import SystemClock, WallClock
from odek.scheduler.delivery import DeliveryActor
from odek.scheduler.journal import Journal
from odek.scheduler.messages import Outcome, RunRequest, RunResult, StateEvent, Trigger, new_run_id
from odek.scheduler.pool import WorkerPool
from odek.scheduler.recorder import Recorder
from odek.scheduler.running import JobRunLock, RunningJobs
from odek.scheduler.state import StateKeeper
from odek.store import Job, JobStore

__all__ = ["run_now"]


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
    log = get_logger("odek.scheduler")
    lock = JobRunLock.try_acquire(home, job.id)
    if lock is None:
        raise LockHeldError(
            f"job {job.id} is running right now (in the scheduler daemon or another "
            f"'odek schedule run'); try again when it has finished"
        )
    journal = Journal(home)
    state_send, state_receive = anyio.create_memory_object_stream[StateEvent](math.inf)
    result_send, result_receive = anyio.create_memory_object_stream[RunResult](math.inf)
    request_send, request_receive = anyio.create_memory_object_stream[RunRequest](0)
    store = JobStore(home)
    streams = (
        state_send,
        state_receive,
        result_send,
        result_receive,
        request_send,
        request_receive,
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(lock)
        for stream in streams:
            stack.enter_context(stream)
        recorder = Recorder(journal, state_send, clock, log)
        pool = WorkerPool(
            runner=runner,
            requests=request_receive,
            results=result_send,
            recorder=recorder,
            running=RunningJobs(),
            clock=clock,
            home=home,
            max_concurrent=1,
            run_timeout=settings.run_timeout,
            drain_timeout=0.0,
        )
        delivery = DeliveryActor(
            deliverer=deliverer,
            results=result_receive,
            recorder=recorder,
            timeout=delivery_timeout,
            attempts=delivery_attempts,
        )
        request = RunRequest(new_run_id(), job, clock.now(), Trigger.MANUAL)
        delivered = False
        async with anyio.create_task_group() as tg:
            await tg.start(journal.run)
            try:
                result = await pool.execute(request)
                if result.outcome is Outcome.OK:
                    delivered = await delivery.deliver(result_receive.receive_nowait())
            finally:
                tg.cancel_scope.cancel()
        keeper = StateKeeper(store, state_receive, store.load_states(), log)
        keeper.drain_queue()
        keeper.flush()
    return result, delivered
