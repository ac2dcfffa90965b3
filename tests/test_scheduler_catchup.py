"""Missed fires, catch-up and interrupted runs across a restart, on trio's virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from fakes.scheduler import harness, make_job, settings

from odek.scheduler import read_history
from odek.scheduler.journal import Intent, append_records

NOW = datetime(2026, 3, 10, 8, 0, 30, tzinfo=UTC)
SIG_HOURLY = "0 * * * *|UTC"


@pytest.mark.trio
async def test_missed_fire_without_catchup_is_recorded_skipped_missed(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("hourly", "0 * * * *"))
    h.set_state("hourly", next_run=NOW - timedelta(hours=5, seconds=30), sig=SIG_HOURLY, runs=4)
    await h.run_for(60)

    assert h.runner.calls == []
    (run,) = read_history(odek_home, "hourly")
    assert (run.outcome, run.error) == ("skipped", "missed")
    assert run.nominal == datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    state = h.store.load_states()["hourly"]
    assert (state.last_status, state.runs) == ("skipped", 4)
    assert state.next_run == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.trio
async def test_many_missed_fires_with_catchup_run_once_for_the_latest(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("hourly", "0 * * * *", catchup=True))
    h.set_state("hourly", next_run=NOW - timedelta(hours=5, seconds=30), sig=SIG_HOURLY)
    await h.run_for(60)

    assert h.runner.nominals("hourly") == [datetime(2026, 3, 10, 8, 0, tzinfo=UTC)]
    (run,) = read_history(odek_home, "hourly")
    assert (run.trigger, run.outcome) == ("catchup", "ok")
    assert h.deliverer.sent[0][0] == "hourly"


@pytest.mark.trio
@pytest.mark.parametrize(("window_hours", "runs"), [(24, 1), (12, 0)])
async def test_catchup_only_within_the_window(autojump_clock, odek_home, window_hours, runs):
    # Down for three days: the latest missed 09:00 fire is 23 h old at 08:00:30.
    h = harness(odek_home, NOW)
    h.add(make_job("daily", "0 9 * * *"))
    h.set_state("daily", next_run=datetime(2026, 3, 7, 9, tzinfo=UTC), sig="0 9 * * *|UTC")
    await h.run_for(60, settings(catchup=True, catchup_window=window_hours * 3600.0))

    assert len(h.runner.calls) == runs
    (run,) = read_history(odek_home, "daily")
    if runs:
        assert run.nominal == datetime(2026, 3, 9, 9, tzinfo=UTC)
    else:
        assert (run.outcome, run.error) == ("skipped", "missed")


@pytest.mark.trio
async def test_job_that_never_ran_can_catch_up(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("daily", "0 9 * * *", catchup=True))
    await h.run_for(60)  # scheduled, never fired: next_run is stored at once
    assert h.store.load_states()["daily"].next_run == datetime(2026, 3, 10, 9, tzinfo=UTC)

    later = harness(odek_home, NOW + timedelta(hours=3))
    await later.run_for(60)
    assert later.runner.nominals("daily") == [datetime(2026, 3, 10, 9, tzinfo=UTC)]


@pytest.mark.trio
async def test_enabling_a_disabled_job_again_is_not_a_miss(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("daily", "0 9 * * *", catchup=True))
    await h.run_for(60)
    h.store.set_enabled("daily", False)
    # The daemon is down when the job is disabled; the next start clears its next fire.
    await harness(odek_home, NOW + timedelta(hours=1)).run_for(60)
    assert h.store.load_states()["daily"].next_run is None

    h.store.set_enabled("daily", True)
    later = harness(odek_home, NOW + timedelta(days=3))
    await later.run_for(60)
    assert later.runner.calls == []
    assert read_history(odek_home, "daily") == []
    state = h.store.load_states()["daily"]
    assert state.next_run == datetime(2026, 3, 13, 9, tzinfo=UTC)


@pytest.mark.trio
async def test_disabling_and_enabling_while_down_is_not_a_miss(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("daily", "0 9 * * *", catchup=True))
    await h.run_for(60)
    # Both edits happen while no scheduler runs.
    h.store.set_enabled("daily", False)
    h.store.set_enabled("daily", True)

    later = harness(odek_home, NOW + timedelta(days=3))
    await later.run_for(60)
    assert later.runner.calls == []
    assert read_history(odek_home, "daily") == []
    assert h.store.load_states()["daily"].next_run == datetime(2026, 3, 13, 9, tzinfo=UTC)


@pytest.mark.trio
@pytest.mark.parametrize("catchup", [False, True])
async def test_interrupted_run_is_recorded_and_rerun_only_with_catchup(
    autojump_clock, odek_home, catchup
):
    h = harness(odek_home, NOW)
    nominal = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    h.add(make_job("hourly", "0 * * * *", catchup=catchup))
    h.set_state("hourly", next_run=nominal + timedelta(hours=1), sig=SIG_HOURLY, runs=1)
    append_records(odek_home, [Intent("run-dead", "hourly", nominal, "scheduled", nominal)])
    await h.run_for(60)

    history = read_history(odek_home, "hourly")
    assert history[0].run == "run-dead"
    assert history[0].outcome == "interrupted"
    assert h.runner.nominals("hourly") == ([nominal] if catchup else [])
    assert [run.trigger for run in history[1:]] == (["catchup"] if catchup else [])
    state = h.store.load_states()["hourly"]
    assert state.last_status == ("ok" if catchup else "interrupted")


@pytest.mark.trio
async def test_changed_cron_while_down_is_not_a_miss(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("hourly", "30 * * * *", catchup=True))
    h.set_state("hourly", next_run=NOW - timedelta(hours=2), sig=SIG_HOURLY)
    await h.run_for(60)
    assert h.runner.calls == []
    assert read_history(odek_home, "hourly") == []
    assert h.store.load_states()["hourly"].sig == "30 * * * *|UTC"


@pytest.mark.trio
async def test_stepped_wall_clock_is_noticed_within_a_minute(autojump_clock, odek_home):
    h = harness(odek_home, NOW)
    h.add(make_job("daily", "0 9 * * *"), make_job("soon", "0 10 * * *", catchup=True))
    service = h.service()
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await anyio.sleep(10)
        h.clock.step(3 * 3600)  # a suspended laptop wakes at 11:00:40
        await anyio.sleep(60)
        service.stop()
    (skip,) = read_history(odek_home, "daily")
    assert (skip.outcome, skip.error) == ("skipped", "missed")
    assert h.runner.nominals("soon") == [datetime(2026, 3, 10, 10, 0, tzinfo=UTC)]
    assert h.runner.calls[0][2] - (NOW + timedelta(hours=3, seconds=10)) <= timedelta(seconds=60)
