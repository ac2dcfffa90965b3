"""The state actor's batches: one write per interval while busy, sooner once idle."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import anyio
import pytest
import structlog
from fakes.scheduler import harness, make_job

from odek.scheduler.messages import Recorded, StateEvent
from odek.scheduler.state import StateKeeper
from odek.store import JobStore

AT = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
INTERVAL = 100.0
"""Long, so that the virtual time that passes while a test polls for a write done in a
worker thread (some 1 ms per poll) stays far below the differences the tests check."""


def runs_on_disk(store: JobStore, job_id: str) -> int:
    state = store.load_states().get(job_id)
    return 0 if state is None else state.runs


async def until_written(store: JobStore, job_id: str) -> None:
    """Poll the state file in 1 ms virtual steps until it holds a run of ``job_id``."""
    with anyio.fail_after(10 * INTERVAL):
        while runs_on_disk(store, job_id) == 0:  # noqa: ASYNC110
            await anyio.sleep(0.001)


async def keeper_writes(
    odek_home, *, idle: bool, events: list[tuple[float, str, float]]
) -> list[float]:
    """Feed ``Recorded`` events for (at, job id, not before) at the given (virtual) seconds
    and check that the state file lacks each one until its "not before" second; return for
    each the second at which the file was first seen holding it (polling takes virtual time
    while the write runs in its thread: a write shows up a little late)."""
    store = JobStore(odek_home)
    send, receive = anyio.create_memory_object_stream[StateEvent](math.inf)
    keeper = StateKeeper(
        store, receive, {}, structlog.get_logger(), interval=INTERVAL, idle=lambda: idle
    )
    written: list[float] = []
    async with send, receive, anyio.create_task_group() as tg:
        await tg.start(keeper.run)
        began = anyio.current_time()
        for at, job_id, not_before in events:
            await anyio.sleep(max(0.0, began + at - anyio.current_time()))
            send.send_nowait(Recorded(job_id, AT, "ok"))
            await anyio.sleep(max(0.0, began + not_before - anyio.current_time()))
            assert runs_on_disk(store, job_id) == 0
            await until_written(store, job_id)
            written.append(anyio.current_time() - began)
        tg.cancel_scope.cancel()
    return written


@pytest.mark.trio
async def test_a_busy_scheduler_writes_its_batch_after_the_interval(autojump_clock, odek_home):
    (written,) = await keeper_writes(odek_home, idle=False, events=[(0, "jb-1", INTERVAL - 1)])
    assert written < INTERVAL * 1.1


@pytest.mark.trio
async def test_an_idle_scheduler_writes_its_batch_at_once(autojump_clock, odek_home):
    (written,) = await keeper_writes(odek_home, idle=True, events=[(0, "jb-1", 0)])
    assert written < INTERVAL / 10


@pytest.mark.trio
async def test_early_writes_stay_a_fifth_of_the_interval_apart(autojump_clock, odek_home):
    # The first write ends after 0 s: the second waits a fifth of the interval from then.
    first, second = await keeper_writes(
        odek_home, idle=True, events=[(0, "jb-1", 0), (1, "jb-2", INTERVAL / 5 - 0.01)]
    )
    assert first < INTERVAL / 10
    assert second < INTERVAL / 2


@pytest.mark.trio
async def test_service_writes_the_outcome_once_the_burst_is_delivered(autojump_clock, odek_home):
    h = harness(odek_home, AT - timedelta(seconds=30))
    h.add(make_job("news", "0 7 * * *"))
    service = h.service(state_interval=INTERVAL)
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(AT)
        await until_written(h.store, "news")
        assert h.clock.now() - AT < timedelta(seconds=INTERVAL / 10)  # not a batch later
        service.stop()
    assert h.deliverer.sent[0][0] == "news"
