"""The scheduler's Prometheus metrics: counts, labels kept bounded, heartbeat gauges."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from odek.health import Heartbeat, Metrics
from odek.health.metrics import DURATION_BUCKETS
from supervisors import EventKind, SupervisorEvent

NOW = datetime(2026, 6, 4, 10, 0, tzinfo=UTC)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(metrics: Metrics) -> Samples:
    """Every sample of ``metrics``, parsed back from the text format."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def label_values(metrics: Metrics, label: str) -> set[str]:
    return {dict(labels)[label] for _name, labels in samples(metrics) if label in dict(labels)}


def test_every_fixed_series_starts_at_zero() -> None:
    values = samples(Metrics())
    for trigger in ("scheduled", "catchup", "manual"):
        assert values[("odek_fires_total", (("trigger", trigger),))] == 0
    for reason in ("missed", "overlap", "shutdown"):
        assert values[("odek_skips_total", (("reason", reason),))] == 0
    for kind in ("error", "timeout", "interrupted", "delivery"):
        assert values[("odek_run_failures_total", (("kind", kind),))] == 0
    assert values[("odek_run_duration_seconds_count", (("outcome", "ok"),))] == 0


def test_fires_skips_and_failures_are_counted_by_their_label() -> None:
    metrics = Metrics()
    metrics.fired("scheduled")
    metrics.fired("scheduled")
    metrics.fired("catchup")
    metrics.skipped("overlap: the previous run is going")
    metrics.skipped("overlap: running in another process")
    metrics.skipped("missed")
    metrics.run_finished("timeout", 900.0, 0)
    metrics.run_finished("error", 3.0, 120)
    metrics.run_finished("ok", 40.0, 2000)
    metrics.delivery_retried()
    metrics.delivery_failed()
    values = samples(metrics)
    assert values[("odek_fires_total", (("trigger", "scheduled"),))] == 2
    assert values[("odek_fires_total", (("trigger", "catchup"),))] == 1
    assert values[("odek_skips_total", (("reason", "overlap"),))] == 2
    assert values[("odek_skips_total", (("reason", "missed"),))] == 1
    assert values[("odek_run_failures_total", (("kind", "timeout"),))] == 1
    assert values[("odek_run_failures_total", (("kind", "error"),))] == 1
    assert values[("odek_run_failures_total", (("kind", "delivery"),))] == 1
    assert values[("odek_deliveries_total", (("outcome", "failed"),))] == 1
    assert values[("odek_delivery_retries_total", ())] == 1
    assert values[("odek_tokens_total", ())] == 2120


def test_run_durations_land_in_their_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.5, 12.0, 40.0, 5000.0):
        metrics.run_finished("ok", seconds, 0)
    values = samples(metrics)
    ok = (("outcome", "ok"),)
    assert values[("odek_run_duration_seconds_count", ok)] == 4
    assert values[("odek_run_duration_seconds_sum", ok)] == 5052.5

    def bucket(le: str) -> float:
        return values[("odek_run_duration_seconds_bucket", (("le", le), ("outcome", "ok")))]

    assert (bucket("1.0"), bucket("15.0"), bucket("60.0"), bucket("3600.0"), bucket("+Inf")) == (
        1,
        2,
        3,
        3,
        4,
    )
    assert len(DURATION_BUCKETS) + 1 == len(
        [
            key
            for key in values
            if key[0] == "odek_run_duration_seconds_bucket" and key[1][1] == ok[0]
        ]
    )


def test_last_success_is_per_job_and_dropped_with_the_job() -> None:
    metrics = Metrics()
    metrics.delivered("jb-00000001", NOW)
    metrics.delivered("jb-00000002", NOW + timedelta(minutes=1))
    metrics.delivered("jb-00000001", NOW + timedelta(minutes=2))
    values = samples(metrics)
    key = "odek_last_success_timestamp_seconds"
    assert values[(key, (("job_id", "jb-00000001"),))] == (NOW + timedelta(minutes=2)).timestamp()
    assert values[(key, (("job_id", "jb-00000002"),))] == (NOW + timedelta(minutes=1)).timestamp()
    assert values[("odek_deliveries_total", (("outcome", "delivered"),))] == 3
    metrics.forget_job("jb-00000001")
    metrics.forget_job("jb-never-seen")
    assert label_values(metrics, "job_id") == {"jb-00000002"}


def test_actor_restarts_are_counted_per_actor() -> None:
    metrics = Metrics()
    error = RuntimeError("boom")
    for kind in (EventKind.EXITED, EventKind.RESTARTING, EventKind.STARTED):
        metrics.supervisor_event(SupervisorEvent("scheduler", "timer", kind, error))
    metrics.supervisor_event(SupervisorEvent("scheduler", "timer", EventKind.RESTARTING))
    assert samples(metrics)[("odek_actor_restarts_total", (("actor", "timer"),))] == 2


def test_two_services_do_not_share_counts() -> None:
    first, second = Metrics(), Metrics()
    first.fired("scheduled")
    assert samples(second)[("odek_fires_total", (("trigger", "scheduled"),))] == 0


def test_heartbeat_gauges_are_read_at_each_scrape() -> None:
    current = Heartbeat(
        pid=os.getpid(),
        host="h",
        started_at=NOW,
        updated_at=NOW,
        last_wake=NOW,
        next_fire=NOW + timedelta(minutes=5),
        jobs_loaded=4,
        runs_in_flight=2,
    )
    beats: list[Heartbeat | None] = [None]
    metrics = Metrics(heartbeat=lambda: beats[-1])
    assert ("odek_runs_in_flight", ()) not in samples(metrics)
    beats.append(current)
    values = samples(metrics)
    assert values[("odek_runs_in_flight", ())] == 2
    assert values[("odek_jobs_loaded", ())] == 4
    assert values[("odek_supervisor_restarting", ())] == 0
    assert values[("odek_timer_last_wake_timestamp_seconds", ())] == NOW.timestamp()
    assert values[("odek_next_fire_timestamp_seconds", ())] == NOW.timestamp() + 300


@settings(max_examples=40, deadline=None)
@given(words=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=20))
def test_no_label_grows_with_free_text(words: list[str]) -> None:
    """Whatever text arrives as a trigger, a skip reason or an outcome, the labels stay in
    their fixed sets (plus ``other``) and the text itself never reaches the output."""
    metrics = Metrics()
    for word in words:
        metrics.fired(word)
        metrics.skipped(f"{word}: task text {word}")
        metrics.run_finished(word, 1.0, 1)
    assert label_values(metrics, "trigger") <= {"scheduled", "catchup", "manual", "other"}
    assert label_values(metrics, "reason") <= {"missed", "overlap", "shutdown", "other"}
    assert label_values(metrics, "kind") <= {"error", "timeout", "interrupted", "delivery", "other"}
    assert label_values(metrics, "outcome") <= {
        "ok",
        "error",
        "timeout",
        "interrupted",
        "other",
        "delivered",
        "failed",
    }
    assert "task text" not in metrics.render().decode()
