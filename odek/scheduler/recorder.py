"""One place that turns what happens to a fire into journal records, state events, logs,
the heartbeat and the metrics.

The timer, the pool, the delivery actor and the service all report through a
:class:`Recorder`, so every fire, skip (with its reason), outcome and delivery is written
the same way: to the run journal, to the state actor, and as one structlog event carrying
the job id, the nominal fire time and the run id. Results and errors are redacted before
they are written anywhere. The same calls keep the :class:`odek.health.HeartbeatWriter`
(timer wake-ups, runs in flight) and, when there are metrics to serve, the
:class:`odek.health.Metrics` counters up to date.

Log levels: every fire ends in exactly one ``info`` event or above that carries its job
id, nominal time and run id: ``run_finished`` (``info``), ``run_failed`` (``error``) or
``skip`` (``warning``, with the reason); every delivery in ``delivered`` (``info``) or
``delivery_failed`` (``error``), every retry in ``delivery_retry`` (``warning``). The
moments in between (``fire``, ``run_started``) are ``debug``. An event costs about 10 us
(``benchmarks/bench_logs.py``), so a 10,000-fire burst spends some 0.2 s logging.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from anyio.streams.memory import MemoryObjectSendStream
from structlog.typing import FilteringBoundLogger

from odek.health.heartbeat import HeartbeatWriter
from odek.redact import redact
from odek.scheduler.clock import WallClock
from odek.scheduler.journal import (
    Delivered,
    Delivering,
    DeliveryFailed,
    Finish,
    Intent,
    Journal,
    Skip,
    preview,
)
from odek.scheduler.messages import (
    Outcome,
    Recorded,
    RunRequest,
    RunResult,
    Scheduled,
    StateEvent,
    Trigger,
    Unscheduled,
    new_run_id,
)
from odek.store import Job

if TYPE_CHECKING:  # prometheus-client is imported only when metrics are served
    from odek.health.metrics import Metrics

__all__ = ["Recorder"]


def _fields(request: RunRequest) -> dict[str, Any]:
    return {
        "job_id": request.job.id,
        "nominal": request.nominal.isoformat(),
        "run_id": request.run_id,
        "trigger": str(request.trigger),
    }


class Recorder:
    """Writes what happens to fires; never blocks except where a method is ``async``.

    ``heartbeat`` is told of timer wake-ups and of runs starting and ending (``None``, as
    for ``odek schedule run``: this process keeps no heartbeat); ``metrics`` of fires,
    skips, outcomes and deliveries (``None``: nothing is counted)."""

    def __init__(
        self,
        journal: Journal,
        states: MemoryObjectSendStream[StateEvent],
        clock: WallClock,
        log: FilteringBoundLogger,
        *,
        heartbeat: HeartbeatWriter | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.journal = journal
        self.states = states
        self.clock = clock
        self.log = log
        self.heartbeat = heartbeat
        self.metrics = metrics
        self.undelivered = 0
        """``ok`` results recorded by :meth:`finished` and not yet :meth:`delivered` or
        :meth:`delivery_failed` (queued for, or in, the delivery actor)."""

    def timer_woke(self, now: datetime, next_fire: datetime | None, jobs: int) -> None:
        """The timer woke at ``now`` with ``jobs`` jobs in its table, the earliest due at
        ``next_fire`` (``None``: none is scheduled)."""
        if self.heartbeat is not None:
            self.heartbeat.timer_woke(now, next_fire=next_fire, jobs=jobs)

    def scheduled(self, job_id: str, next_run: datetime, sig: str) -> None:
        """``job_id`` will next fire at ``next_run``."""
        self.states.send_nowait(Scheduled(job_id, next_run, sig))

    def unscheduled(self, job_id: str, *, removed: bool) -> None:
        """``job_id`` stopped firing (disabled, or ``removed`` from the file)."""
        self.states.send_nowait(Unscheduled(job_id, removed))
        if removed and self.metrics is not None:
            self.metrics.forget_job(job_id)
        self.log.info("job_unscheduled", job_id=job_id, removed=removed)

    def fired(self, request: RunRequest) -> None:
        """A fire was handed to the pool."""
        if self.metrics is not None:
            self.metrics.fired(str(request.trigger))
        self.log.debug("fire", **_fields(request))

    def skipped(self, job: Job, nominal: datetime, trigger: Trigger, reason: str) -> None:
        """The fire of ``job`` at ``nominal`` was not run, for ``reason``."""
        at = self.clock.now()
        run_id = new_run_id()
        self.journal.append(Skip(run_id, job.id, nominal, str(trigger), at, reason))
        self.states.send_nowait(Recorded(job.id, at, str(Outcome.SKIPPED), reason, counts=False))
        if self.metrics is not None:
            self.metrics.skipped(reason)
        self.log.warning(
            "skip",
            job_id=job.id,
            nominal=nominal.isoformat(),
            run_id=run_id,
            trigger=str(trigger),
            reason=reason,
        )

    async def started(self, request: RunRequest, at: datetime) -> None:
        """Make the intent of ``request`` durable; the run may start once this returns.

        The run counts as in flight from the call on, whether or not the write succeeds:
        the caller reports every started run to :meth:`finished`, even one whose intent
        could not be written, so the count of runs in flight stays exact."""
        if self.heartbeat is not None:
            self.heartbeat.run_started()
        await self.journal.write(
            Intent(request.run_id, request.job.id, request.nominal, str(request.trigger), at)
        )
        self.log.debug("run_started", **_fields(request))

    def finished(self, result: RunResult) -> None:
        """Record how a run ended. An ``ok`` run's state is recorded once it is delivered."""
        request = result.request
        if self.heartbeat is not None:
            self.heartbeat.run_finished()
        if self.metrics is not None:
            seconds = (result.ended - result.started).total_seconds()
            self.metrics.run_finished(str(result.outcome), seconds, result.tokens)
        self.journal.append(
            Finish(
                request.run_id,
                request.job.id,
                str(result.outcome),
                result.ended,
                error=redact(result.error),
                result=redact(result.text),
                tokens=result.tokens,
            )
        )
        fields = _fields(request) | {"outcome": str(result.outcome), "tokens": result.tokens}
        if result.outcome is Outcome.OK:
            self.undelivered += 1
            self.log.info("run_finished", **fields)
            return
        self.states.send_nowait(
            Recorded(request.job.id, result.started, str(result.outcome), redact(result.error))
        )
        self.log.error("run_failed", error=result.error, **fields)

    async def delivering(self, result: RunResult) -> None:
        """Make the ``delivering`` mark (and the run's outcome) durable before a send."""
        await self.journal.write(Delivering(result.request.run_id, self.clock.now()))

    def delivery_retry(self, result: RunResult, attempt: int, delay: float, error: str) -> None:
        """A send failed and will be tried again after ``delay`` seconds."""
        if self.metrics is not None:
            self.metrics.delivery_retried()
        self.log.warning(
            "delivery_retry", attempt=attempt, delay=delay, error=error, **_fields(result.request)
        )

    def delivered(self, result: RunResult) -> None:
        """The result was sent."""
        at = self.clock.now()
        self.undelivered -= 1
        self.journal.append(Delivered(result.request.run_id, at))
        if self.metrics is not None:
            self.metrics.delivered(result.request.job.id, at)
        self.states.send_nowait(
            Recorded(
                result.request.job.id,
                result.started,
                str(Outcome.OK),
                result=preview(redact(result.text)),
            )
        )
        self.log.info("delivered", **_fields(result.request))

    def delivery_failed(self, result: RunResult, error: str) -> None:
        """The result could not be sent; the journal keeps it for a later delivery."""
        error = redact(error)
        self.undelivered -= 1
        self.journal.append(DeliveryFailed(result.request.run_id, self.clock.now(), error))
        if self.metrics is not None:
            self.metrics.delivery_failed()
        self.states.send_nowait(
            Recorded(
                result.request.job.id,
                result.started,
                str(Outcome.ERROR),
                f"delivery: {error}",
                result=preview(redact(result.text)),
            )
        )
        self.log.error("delivery_failed", error=error, **_fields(result.request))
