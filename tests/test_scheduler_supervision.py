"""Actor crashes, restart intensity, and stopping with runs in flight (virtual clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import takewhile

import anyio
import pytest
from fakes.scheduler import (
    events,
    harness,
    logs_fixture,  # noqa: F401 -- the ``logs`` fixture
    make_job,
    settings,
)

from odek.cron import load_zone, parse
from odek.scheduler import VirtualClock, read_history
from supervisors import RestartIntensityExceeded

START = datetime(2026, 5, 1, 11, 58, 30, tzinfo=UTC)
NOON = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class FailingClock(VirtualClock):
    """Raises on the first reading at or after ``at`` (``times`` readings in all)."""

    def __init__(self, start: datetime, at: datetime, times: int | None = 1) -> None:
        super().__init__(start)
        self.at = at
        self.times = times

    def now(self) -> datetime:
        now = super().now()
        if now >= self.at and (self.times is None or self.times > 0):
            if self.times is not None:
                self.times -= 1
            raise OSError("clock_gettime failed")
        return now


@pytest.mark.trio
async def test_crashed_timer_is_restarted_without_lost_or_doubled_fire(
    autojump_clock, odek_home, logs
):
    h = harness(odek_home, START)
    h.clock = h.runner.clock = h.deliverer.clock = FailingClock(START, at=NOON)
    h.add(make_job("five", "*/5 * * * *"))
    await h.run_for(3600)

    expected = list(
        takewhile(
            lambda fire: fire <= START + timedelta(hours=1),
            parse("*/5 * * * *").iter_after(START, load_zone("UTC")),
        )
    )
    assert h.runner.nominals("five") == expected
    (restart,) = events(logs, "actor_restart")
    assert restart["actor"] == "timer"
    assert "clock_gettime failed" in restart["error"]
    assert not events(logs, "skip")


@pytest.mark.trio
async def test_too_many_crashes_stop_the_service_with_an_error(autojump_clock, odek_home, logs):
    h = harness(odek_home, START)
    h.clock = h.runner.clock = h.deliverer.clock = FailingClock(START, at=NOON, times=None)
    h.add(make_job("minutely", "* * * * *"))
    service = h.service()
    with pytest.raises(RestartIntensityExceeded) as failure:
        await service.run()
    assert failure.value.child == "timer"
    assert len(events(logs, "actor_restart")) == 5
    # What ran before the crashes is recorded, and the state file was written on the way out.
    assert [run.outcome for run in read_history(odek_home, "minutely")] == ["ok"]
    assert h.store.load_states()["minutely"].runs == 1


@pytest.mark.trio
async def test_stop_lets_runs_finish_within_the_drain_timeout(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.runner.duration = lambda job: 20.0
    h.add(make_job("noon", "0 12 * * *"))
    await h.run_for(90 + 10, settings(drain_timeout=30.0))  # stop 10 s into the run

    (run,) = read_history(odek_home, "noon")
    assert run.outcome == "ok"
    assert run.delivery == "delivered"
    assert [sent[0] for sent in h.deliverer.sent] == ["noon"]


@pytest.mark.trio
async def test_stop_interrupts_runs_after_the_drain_and_skips_queued_fires(
    autojump_clock, odek_home
):
    h = harness(odek_home, START)
    h.runner.duration = lambda job: 600.0
    h.add(make_job("first", "0 12 * * *"), make_job("second", "0 12 * * *"))
    service = h.service(settings(max_concurrent=1, drain_timeout=30.0))
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(NOON + timedelta(seconds=10))
        service.stop()

    ran, queued = sorted(
        (read_history(odek_home, job_id)[0] for job_id in ("first", "second")),
        key=lambda run: run.outcome,
    )
    assert (ran.outcome, ran.error) == (
        "interrupted",
        "interrupted: odek stopped before the run finished",
    )
    # It was cancelled when the drain timeout ran out, 30 s after the stop.
    assert ran.end == NOON + timedelta(seconds=40)
    assert (queued.outcome, queued.error) == ("skipped", "shutdown")
    assert h.deliverer.sent == []
    states = h.store.load_states()
    assert states[ran.job].last_status == "interrupted"
    assert states[queued.job].last_status == "skipped"
