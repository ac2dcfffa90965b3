"""The timer and the pool on trio's virtual clock: exact fire sequences, overlap, timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import takewhile
from pathlib import Path

import anyio
import pytest
from fakes.scheduler import (
    START,
    events,
    harness,
    logs_fixture,  # noqa: F401 -- the ``logs`` fixture
    make_job,
    settings,
)

from odek.cron import load_zone, parse
from odek.scheduler import read_history

YEAR = timedelta(days=365)


def expected_fires(cron: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    fires = parse(cron).iter_after(start, load_zone(zone))
    return list(takewhile(lambda fire: fire <= end, fires))


MIXED_JOBS = [
    # (id, cron, zone): DST gaps and folds of both hemispheres and a 30-minute shift.
    ("ny-gap", "30 2 * * *", "America/New_York"),
    ("ny-fold", "30 1 * * *", "America/New_York"),
    ("ny-weekdays", "0 9 * * 1-5", "America/New_York"),
    ("berlin-gap", "30 2 * * *", "Europe/Berlin"),
    ("berlin-fold-sundays", "*/20 2 * * 0", "Europe/Berlin"),
    ("lordhowe-halfhours", "0,30 1-2 * * 0", "Australia/Lord_Howe"),
    ("lordhowe-fixed", "45 1 * * *", "Australia/Lord_Howe"),
    ("utc-monthly", "0 0 1 * *", ""),
]


@pytest.mark.trio
async def test_simulated_year_fires_exactly_the_cron_sequence(autojump_clock, odek_home, logs):
    h = harness(odek_home)
    for job_id, cron, zone in MIXED_JOBS:
        h.add(make_job(job_id, cron, timezone=zone))
    # A one-hour sleep cap: on a virtual clock the wall clock cannot jump, and 8,760 timer
    # turns run much faster than the 525,600 of the production cap.
    await h.run_for(YEAR.total_seconds(), settings(max_concurrent=8), max_sleep=3600.0)

    end = START + YEAR
    for job_id, cron, zone in MIXED_JOBS:
        expected = expected_fires(cron, zone or "UTC", START, end)
        assert h.runner.nominals(job_id) == expected, job_id
        delivered = [nominal for jid, _, nominal in h.deliverer.sent if jid == job_id]
        assert delivered == expected, job_id
    assert not events(logs, "skip")
    # Every run began at its nominal instant, give or take the (virtual) time that passes
    # while the state actor writes in a worker thread.
    late = max(started - nominal for _, nominal, started, _ in h.runner.calls)
    assert timedelta(0) <= late < timedelta(seconds=1), late


@pytest.mark.trio
async def test_fire_during_previous_run_is_skipped_as_overlap(autojump_clock, odek_home, logs):
    h = harness(odek_home)
    h.runner.duration = lambda job: 90.0
    h.add(make_job("slow", "* * * * *"))
    await h.run_for(5 * 60 - 1)

    first = START.replace(second=0) + timedelta(minutes=1)
    minute = timedelta(minutes=1)
    assert h.runner.nominals("slow") == [first, first + 2 * minute, first + 4 * minute]
    history = read_history(odek_home, "slow")
    # The stop came 29 s into the last run; it could not finish within the 30 s drain.
    assert [run.outcome for run in history] == ["ok", "skipped", "ok", "skipped", "interrupted"]
    skipped = [(run.nominal, run.error) for run in history if run.outcome == "skipped"]
    assert [nominal for nominal, _ in skipped] == [
        first + timedelta(minutes=1),
        first + timedelta(minutes=3),
    ]
    assert all(error.startswith("overlap") for _, error in skipped)
    assert {entry["reason"] for entry in events(logs, "skip")} == {
        "overlap: the previous run is going"
    }


@pytest.mark.trio
async def test_run_over_its_timeout_is_cancelled_and_recorded_timeout(autojump_clock, odek_home):
    h = harness(odek_home)
    h.runner.duration = lambda job: 100.0
    h.add(make_job("own", "0 * * * *", timeout=30.0), make_job("default", "0 * * * *"))
    await h.run_for(3600, settings(run_timeout=50.0))

    for job_id, limit in (("own", 30), ("default", 50)):
        (run,) = read_history(odek_home, job_id)
        assert run.outcome == "timeout"
        assert run.error == f"timed out after {limit} s"
        assert run.end is not None
        assert run.start is not None
        assert run.end - run.start == timedelta(seconds=limit)
    assert h.deliverer.sent == []
    states = h.store.load_states()
    assert states["own"].last_status == "timeout"
    assert states["own"].runs == 1


@pytest.mark.trio
async def test_full_pool_never_delays_the_timer(autojump_clock, odek_home):
    h = harness(odek_home, datetime(2026, 1, 1, 8, 59, 30, tzinfo=UTC))
    h.runner.duration = lambda job: 600.0 if job.id == "long" else 0.0
    h.add(make_job("long", "0 9 * * *"), make_job("quick", "1-3 9 * * *"))
    service = h.service(settings(max_concurrent=1))
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(datetime(2026, 1, 1, 9, 3, 30, tzinfo=UTC))
        # The pool has been busy since 09:00, yet the timer kept quick's schedule: its
        # fires were handed over on time (the first is queued, the next two overlap it).
        assert service.table.entries["quick"].next == datetime(2026, 1, 2, 9, 1, tzinfo=UTC)
        assert h.runner.nominals("quick") == []
        await h.sleep_until(datetime(2026, 1, 1, 9, 11, tzinfo=UTC))
        service.stop()
    ((_, nominal, started, _),) = [call for call in h.runner.calls if call[0] == "quick"]
    assert nominal == datetime(2026, 1, 1, 9, 1, tzinfo=UTC)
    assert started == datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    outcomes = [(run.nominal.minute, run.outcome) for run in read_history(odek_home, "quick")]
    assert outcomes == [(1, "ok"), (2, "skipped"), (3, "skipped")]


@pytest.mark.trio
async def test_state_file_keeps_next_run_and_last_result(autojump_clock, odek_home: Path):
    h = harness(odek_home)
    h.add(make_job("daily", "0 6 * * *", timezone="Europe/Berlin"))
    await h.run_for(2 * 86400)
    state = h.store.load_states()["daily"]
    assert state.runs == 2
    assert state.last_status == "ok"
    assert state.last_result.startswith("answer of daily")
    assert state.next_run == datetime(2026, 1, 3, 5, 0, tzinfo=UTC)
    assert state.sig == "0 6 * * *|Europe/Berlin"
