"""The scheduler's Prometheus metrics (served at ``GET /metrics`` by :mod:`odek.health.http`).

Every metric lives in the :class:`Metrics` object's own registry, so two services in one
process (or two tests) never share counts. Label values come from small fixed sets (an
unknown value is counted as ``other``) or are job ids, whose series is dropped when the
job is deleted: no label can grow without bound, and no task or error text is ever a
label. The families:

``odek_fires_total{trigger}``
    fires handed to a worker (``scheduled``, ``catchup``, ``manual``)
``odek_skips_total{reason}``
    fires not run (``missed``, ``overlap``, ``shutdown``)
``odek_run_failures_total{kind}``
    runs that failed (``error``, ``timeout``, ``interrupted``) and results that could not
    be delivered (``delivery``)
``odek_deliveries_total{outcome}``, ``odek_delivery_retries_total``
    sends of results (``delivered``, ``failed``) and the retries along the way
``odek_run_duration_seconds{outcome}``
    histogram of run durations, by outcome
``odek_tokens_total``
    model tokens used by scheduled runs
``odek_last_success_timestamp_seconds{job_id}``
    when each job's last result was delivered (Unix time)
``odek_actor_restarts_total{actor}``
    restarts of the scheduler's actors
``odek_runs_in_flight``, ``odek_jobs_loaded``, ``odek_supervisor_restarting``
    read from the heartbeat at each scrape, when a heartbeat source is given; so are
    ``odek_timer_last_wake_timestamp_seconds`` and ``odek_next_fire_timestamp_seconds``
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from odek.health.heartbeat import Heartbeat
from supervisors import EventKind, SupervisorEvent

__all__ = ["CONTENT_TYPE", "DURATION_BUCKETS", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The media type of :meth:`Metrics.render` (the text format every Prometheus reads)."""
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
"""Bucket bounds of the run-duration histogram, in seconds: agent runs take seconds to
the default 15-minute timeout and beyond."""

_OTHER = "other"
_TRIGGERS = ("scheduled", "catchup", "manual")
_SKIP_REASONS = ("missed", "overlap", "shutdown")
_OUTCOMES = ("ok", "error", "timeout", "interrupted")
_FAILURES = ("error", "timeout", "interrupted", "delivery")
_DELIVERY_OUTCOMES = ("delivered", "failed")


def _bounded(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else _OTHER


class Metrics:
    """The scheduler's counters, gauges and histogram (see the module docstring).

    ``heartbeat`` (for instance :meth:`odek.health.HeartbeatWriter.snapshot`) supplies the
    gauges that describe the present: runs in flight, jobs loaded, the timer's last wake-up
    and next fire, whether actors are restarting. Every method is cheap and never blocks.
    """

    def __init__(self, *, heartbeat: Callable[[], Heartbeat | None] | None = None) -> None:
        self.registry = CollectorRegistry()
        self._fires = Counter(
            "odek_fires", "Fires handed to a worker.", ["trigger"], registry=self.registry
        )
        self._skips = Counter(
            "odek_skips", "Fires that were not run, by reason.", ["reason"], registry=self.registry
        )
        self._failures = Counter(
            "odek_run_failures",
            "Failed runs by kind; 'delivery' counts results that could not be sent.",
            ["kind"],
            registry=self.registry,
        )
        self._deliveries = Counter(
            "odek_deliveries", "Result sends by outcome.", ["outcome"], registry=self.registry
        )
        self._retries = Counter(
            "odek_delivery_retries", "Sends tried again after a failure.", registry=self.registry
        )
        self._durations = Histogram(
            "odek_run_duration_seconds",
            "Duration of scheduled runs, by outcome.",
            ["outcome"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._tokens = Counter(
            "odek_tokens", "Model tokens used by scheduled runs.", registry=self.registry
        )
        self._last_success = Gauge(
            "odek_last_success_timestamp_seconds",
            "Unix time at which each job's last result was delivered.",
            ["job_id"],
            registry=self.registry,
        )
        self._restarts = Counter(
            "odek_actor_restarts",
            "Restarts of the scheduler's actors.",
            ["actor"],
            registry=self.registry,
        )
        # Every fixed label value is exported from the start, at zero, so that rate() and
        # absence alerts work before the first event.
        for counter, values in (
            (self._fires, _TRIGGERS),
            (self._skips, _SKIP_REASONS),
            (self._failures, _FAILURES),
            (self._deliveries, _DELIVERY_OUTCOMES),
        ):
            for value in values:
                counter.labels(value)
        for outcome in _OUTCOMES:
            self._durations.labels(outcome)
        if heartbeat is not None:
            self.registry.register(_HeartbeatCollector(heartbeat))

    def fired(self, trigger: str) -> None:
        """A fire was handed to a worker; ``trigger`` is ``scheduled``, ``catchup`` or
        ``manual``."""
        self._fires.labels(_bounded(trigger, _TRIGGERS)).inc()

    def skipped(self, reason: str) -> None:
        """A fire was not run. ``reason`` is the recorded reason; only its first word
        (``missed``, ``overlap``, ``shutdown``) becomes the label."""
        word = reason.split(":", 1)[0].strip()
        self._skips.labels(_bounded(word, _SKIP_REASONS)).inc()

    def run_finished(self, outcome: str, seconds: float, tokens: int) -> None:
        """A run ended with ``outcome`` (``ok``, ``error``, ``timeout``, ``interrupted``)
        after ``seconds``, having used ``tokens``."""
        label = _bounded(outcome, _OUTCOMES)
        self._durations.labels(label).observe(max(0.0, seconds))
        if tokens > 0:
            self._tokens.inc(tokens)
        if label != "ok":
            self._failures.labels(_bounded(label, _FAILURES)).inc()

    def delivery_retried(self) -> None:
        """A send failed and will be tried again."""
        self._retries.inc()

    def delivered(self, job_id: str, at: datetime) -> None:
        """``job_id``'s result was sent at ``at``: its last success."""
        self._deliveries.labels("delivered").inc()
        self._last_success.labels(job_id).set(at.timestamp())

    def delivery_failed(self) -> None:
        """A result could not be sent (after its retries)."""
        self._deliveries.labels("failed").inc()
        self._failures.labels("delivery").inc()

    def supervisor_event(self, event: SupervisorEvent) -> None:
        """Count an actor's restart (other events are ignored)."""
        if event.kind is EventKind.RESTARTING:
            self._restarts.labels(event.child).inc()

    def forget_job(self, job_id: str) -> None:
        """``job_id`` was deleted: drop its series."""
        with contextlib.suppress(KeyError):
            self._last_success.remove(job_id)

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (media type :data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


class _HeartbeatCollector(Collector):
    """Gauges read from the heartbeat at each scrape, so they are never out of date."""

    def __init__(self, source: Callable[[], Heartbeat | None]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        beat = self._source()
        if beat is None:
            return
        yield GaugeMetricFamily(
            "odek_runs_in_flight", "Scheduled runs going now.", value=beat.runs_in_flight
        )
        yield GaugeMetricFamily(
            "odek_jobs_loaded", "Jobs in the timer's table.", value=beat.jobs_loaded
        )
        yield GaugeMetricFamily(
            "odek_supervisor_restarting",
            "1 while the supervisor is restarting actors, else 0.",
            value=int(beat.restarting),
        )
        for name, help_text, moment in (
            (
                "odek_timer_last_wake_timestamp_seconds",
                "Unix time of the timer's last wake-up.",
                beat.last_wake,
            ),
            (
                "odek_next_fire_timestamp_seconds",
                "Unix time of the earliest scheduled fire.",
                beat.next_fire,
            ),
        ):
            if moment is not None:
                yield GaugeMetricFamily(name, help_text, value=moment.timestamp())
