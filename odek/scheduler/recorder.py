"""One place that turns what happens to a fire into journal records, state events and logs.

The timer, the pool, the delivery actor and the service all report through a
:class:`Recorder`, so every fire, skip (with its reason), outcome and delivery is written
the same way: to the run journal, to the state actor, and as one structlog event carrying
the job id, the nominal fire time and the run id. Results and errors are redacted before
they are written anywhere.

Log levels: a run that goes well logs only at ``debug`` (``fire``, ``run_started``,
``run_finished``, ``delivered``); what needs attention is logged above it (a skip at
``warning``, ``run_failed`` and ``delivery_failed`` at ``error``). The journal
(``odek schedule history``) has every run either way. A rendered, redacted event costs
some 60 us, so even one ``info`` line per run would make logging the largest cost of a
burst of 10,000 fires (``benchmarks/bench_scheduler_burst.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anyio.streams.memory import MemoryObjectSendStream
from structlog.typing import FilteringBoundLogger

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

__all__ = ["Recorder"]


def _fields(request: RunRequest) -> dict[str, Any]:
    return {
        "job_id": request.job.id,
        "nominal": request.nominal.isoformat(),
        "run_id": request.run_id,
        "trigger": str(request.trigger),
    }


class Recorder:
    """Writes what happens to fires; never blocks except where a method is ``async``."""

    def __init__(
        self,
        journal: Journal,
        states: MemoryObjectSendStream[StateEvent],
        clock: WallClock,
        log: FilteringBoundLogger,
    ) -> None:
        self.journal = journal
        self.states = states
        self.clock = clock
        self.log = log

    def scheduled(self, job_id: str, next_run: datetime, sig: str) -> None:
        """``job_id`` will next fire at ``next_run``."""
        self.states.send_nowait(Scheduled(job_id, next_run, sig))

    def unscheduled(self, job_id: str, *, removed: bool) -> None:
        """``job_id`` stopped firing (disabled, or ``removed`` from the file)."""
        self.states.send_nowait(Unscheduled(job_id, removed))
        self.log.info("job_unscheduled", job_id=job_id, removed=removed)

    def fired(self, request: RunRequest) -> None:
        """A fire was handed to the pool."""
        self.log.debug("fire", **_fields(request))

    def skipped(self, job: Job, nominal: datetime, trigger: Trigger, reason: str) -> None:
        """The fire of ``job`` at ``nominal`` was not run, for ``reason``."""
        at = self.clock.now()
        run_id = new_run_id()
        self.journal.append(Skip(run_id, job.id, nominal, str(trigger), at, reason))
        self.states.send_nowait(Recorded(job.id, at, str(Outcome.SKIPPED), reason, counts=False))
        self.log.warning(
            "skip",
            job_id=job.id,
            nominal=nominal.isoformat(),
            run_id=run_id,
            trigger=str(trigger),
            reason=reason,
        )

    async def started(self, request: RunRequest, at: datetime) -> None:
        """Make the intent of ``request`` durable; the run may start once this returns."""
        await self.journal.write(
            Intent(request.run_id, request.job.id, request.nominal, str(request.trigger), at)
        )
        self.log.debug("run_started", **_fields(request))

    def finished(self, result: RunResult) -> None:
        """Record how a run ended. An ``ok`` run's state is recorded once it is delivered."""
        request = result.request
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
            self.log.debug("run_finished", **fields)
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
        self.log.warning(
            "delivery_retry", attempt=attempt, delay=delay, error=error, **_fields(result.request)
        )

    def delivered(self, result: RunResult) -> None:
        """The result was sent."""
        self.journal.append(Delivered(result.request.run_id, self.clock.now()))
        self.states.send_nowait(
            Recorded(
                result.request.job.id,
                result.started,
                str(Outcome.OK),
                result=preview(redact(result.text)),
            )
        )
        self.log.debug("delivered", **_fields(result.request))

    def delivery_failed(self, result: RunResult, error: str) -> None:
        """The result could not be sent; the journal keeps it for a later delivery."""
        error = redact(error)
        self.journal.append(DeliveryFailed(result.request.run_id, self.clock.now(), error))
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
