"""Reloading schedules.json: unchanged jobs keep their fires, changed ones re-anchor, a
broken file keeps the last good definitions and says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import takewhile

import anyio
import pytest
from fakes.scheduler import (
    FakeDeliverer,
    FakeRunner,
    events,
    harness,
    logs_fixture,  # noqa: F401 -- the ``logs`` fixture
    make_job,
    wait_frozen,
)

from odek.config.model import SchedulesConfig
from odek.cron import load_zone, parse
from odek.scheduler import SchedulerService, SystemClock, read_status
from odek.scheduler.watcher import EMPTY_SETTLE
from odek.store import JobStore

START = datetime(2026, 4, 1, 10, 0, 30, tzinfo=UTC)


def fires(cron: str, start: datetime, end: datetime) -> list[datetime]:
    found = parse(cron).iter_after(start, load_zone("UTC"))
    return list(takewhile(lambda fire: fire <= end, found))


async def reload(service: SchedulerService) -> None:
    before = service.watcher.reloads
    service.reload()
    await wait_frozen(lambda: service.watcher.reloads > before)


@pytest.mark.trio
async def test_reload_keeps_unchanged_jobs_and_reanchors_changed_ones(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(make_job("steady", "*/7 * * * *"), make_job("moved", "0 * * * *"))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(START + timedelta(minutes=20))
        h.store.update("steady", task="new task")  # same cron: keeps its next fire
        h.store.update("moved", cron="30 * * * *")
        h.add(make_job("added", "45 * * * *"))
        await reload(service)
        reloaded_at = h.clock.now()
        await h.sleep_until(START + timedelta(hours=2))
        service.stop()
    end = h.clock.now()

    assert h.runner.nominals("steady") == fires("*/7 * * * *", START, end)
    tasks = {nominal: task for jid, nominal, _, task in h.runner.calls if jid == "steady"}
    assert {task for nominal, task in tasks.items() if nominal < reloaded_at} == {"task of steady"}
    assert {task for nominal, task in tasks.items() if nominal > reloaded_at} == {"new task"}
    assert h.runner.nominals("moved") == fires("30 * * * *", reloaded_at, end)
    assert h.runner.nominals("added") == fires("45 * * * *", reloaded_at, end)
    assert h.store.load_states()["moved"].sig == "30 * * * *|UTC"


@pytest.mark.trio
async def test_disabled_and_removed_jobs_stop_firing(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(make_job("off", "*/5 * * * *"), make_job("gone", "*/5 * * * *"))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(START + timedelta(minutes=12))
        h.store.set_enabled("off", False)
        h.store.remove("gone")
        await reload(service)
        await h.sleep_until(START + timedelta(hours=1))
        service.stop()
    assert len(h.runner.nominals("off")) == len(h.runner.nominals("gone")) == 2
    states = h.store.load_states()
    assert "gone" not in states
    assert states["off"].next_run is None
    assert states["off"].runs == 2


@pytest.mark.trio
async def test_broken_file_keeps_the_last_good_jobs_and_reports_why(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(make_job("steady", "*/10 * * * *"))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        good = h.store.jobs_path.read_bytes()
        h.store.jobs_path.write_text('{"version": 1, "jobs": [')
        service.reload()
        await wait_frozen(lambda: (status := read_status(odek_home)) is not None and status.error)
        status = read_status(odek_home)
        assert status is not None
        assert "schedules.json" in status.error
        assert "line 1" in status.error
        await h.sleep_until(START + timedelta(minutes=30))
        assert len(h.runner.nominals("steady")) == 3  # still firing

        h.store.jobs_path.write_bytes(good)
        await reload(service)
        status = read_status(odek_home)
        assert status is not None
        assert (status.error, status.jobs) == ("", 1)
        service.stop()


@pytest.mark.trio
async def test_reload_requests_coalesce(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(make_job("steady", "*/10 * * * *"))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        for _ in range(5):
            service.reload()
        await wait_frozen(lambda: service.watcher.reloads >= 1)
        await anyio.sleep(5)
        assert service.watcher.reloads == 1
        service.stop()


@pytest.mark.anyio
async def test_edit_of_the_file_is_picked_up_within_two_seconds(odek_home):
    store = JobStore(odek_home)
    store.add(make_job("first", "0 0 1 1 *"))
    clock = SystemClock()
    service = SchedulerService(
        SchedulesConfig(),
        runner=FakeRunner(clock),
        deliverer=FakeDeliverer(clock),
        home=odek_home,
        clock=clock,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        with anyio.fail_after(2):
            store.add(make_job("second", "0 0 1 1 *"))
            while "second" not in service.table:  # noqa: ASYNC110 -- no event to wait on
                await anyio.sleep(0.02)
        service.stop()


@pytest.mark.trio
async def test_a_file_emptied_for_a_moment_does_not_unschedule_the_jobs(
    autojump_clock, odek_home, logs
):
    h = harness(odek_home, START)
    h.add(make_job("steady", "*/10 * * * *"))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        good = h.store.jobs_path.read_bytes()
        h.store.jobs_path.write_bytes(b"")  # an editor truncates, then writes
        service.reload()
        await wait_frozen(lambda: service.watcher.settles == 1)
        h.store.jobs_path.write_bytes(good)
        await h.sleep_until(START + timedelta(minutes=30))
        assert len(h.runner.nominals("steady")) == 3
        assert events(logs, "job_unscheduled") == []

        h.store.jobs_path.write_bytes(b"")  # and this time it stays empty
        before = service.watcher.reloads
        service.reload()
        await wait_frozen(lambda: service.watcher.settles == 2)
        await anyio.sleep(EMPTY_SETTLE)
        await wait_frozen(lambda: service.watcher.reloads > before)
        await h.sleep_until(START + timedelta(minutes=60))
        assert len(h.runner.nominals("steady")) == 3
        assert [e["job_id"] for e in events(logs, "job_unscheduled")] == ["steady"]
        service.stop()
