"""Delivery retries, failures that keep the result, and delivery's own time budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from fakes.scheduler import (
    events,
    harness,
    logs_fixture,  # noqa: F401 -- the ``logs`` fixture
    make_job,
    settings,
    transient,
)

from odek.errors import DeliveryError
from odek.scheduler import read_history

START = datetime(2026, 2, 1, 6, 59, 30, tzinfo=UTC)
SEVEN = datetime(2026, 2, 1, 7, 0, tzinfo=UTC)


@pytest.mark.trio
async def test_transient_failures_are_retried_with_exponential_backoff(
    autojump_clock, odek_home, logs
):
    h = harness(odek_home, START)
    h.deliverer.errors = [transient(), transient()]
    h.add(make_job("news", "0 7 * * *"))
    await h.run_for(120, delivery_backoff=2.0)

    assert [sent[0] for sent in h.deliverer.sent] == ["news"]
    gaps = [later - earlier for earlier, later in pairwise(h.deliverer.attempts)]
    assert gaps == [timedelta(seconds=2), timedelta(seconds=4)]
    assert [entry["attempt"] for entry in events(logs, "delivery_retry")] == [1, 2]
    (run,) = read_history(odek_home, "news")
    assert (run.outcome, run.delivery) == ("ok", "delivered")


@pytest.mark.trio
async def test_permanent_failure_is_recorded_and_the_result_kept(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.deliverer.errors = [DeliveryError("chat not found", permanent=True)]
    h.add(make_job("news", "0 7 * * *"))
    await h.run_for(120)

    assert len(h.deliverer.attempts) == 1
    (run,) = read_history(odek_home, "news")
    assert (run.outcome, run.error, run.delivery) == ("error", "delivery: chat not found", "failed")
    assert run.result == f"answer of news for {SEVEN.isoformat()}"
    state = h.store.load_states()["news"]
    assert (state.last_status, state.last_error) == ("error", "delivery: chat not found")
    assert state.last_result == run.result


@pytest.mark.trio
async def test_delivery_gives_up_after_its_attempts(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.deliverer.errors = [transient(f"try {n}") for n in range(1, 4)]
    h.add(make_job("news", "0 7 * * *"))
    await h.run_for(120, delivery_attempts=3)

    assert len(h.deliverer.attempts) == 3
    (run,) = read_history(odek_home, "news")
    assert run.error == "delivery: try 3"


@pytest.mark.trio
async def test_delivery_has_its_own_time_budget(autojump_clock, odek_home):
    # The run uses 29 of its 30 s; the 20 s send still completes.
    h = harness(odek_home, START)
    h.runner.duration = lambda job: 29.0
    h.deliverer.duration = 20.0
    h.add(make_job("news", "0 7 * * *", timeout=30.0))
    await h.run_for(180, settings(run_timeout=30.0))

    (run,) = read_history(odek_home, "news")
    assert (run.outcome, run.delivery) == ("ok", "delivered")
    assert h.deliverer.sent[0][2] == SEVEN


@pytest.mark.trio
async def test_a_send_that_overruns_is_retried(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.deliverer.duration = 10.0
    h.add(make_job("news", "0 7 * * *"))
    await h.run_for(120, delivery_timeout=5.0, delivery_attempts=2)

    assert len(h.deliverer.attempts) == 2
    (run,) = read_history(odek_home, "news")
    assert run.error == "delivery: no answer within 5 s"
