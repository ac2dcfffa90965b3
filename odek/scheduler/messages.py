"""The messages the scheduler's actors pass to each other.

``Timer -> WorkerPool``: :class:`RunRequest`. ``WorkerPool -> Delivery``: :class:`RunResult`
of a successful run. ``Timer, WorkerPool, Delivery, StoreWatcher -> State``: the
:data:`StateEvent` variants. All are immutable.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from odek.store import Job

__all__ = [
    "Outcome",
    "Recorded",
    "RunRequest",
    "RunResult",
    "Scheduled",
    "StateEvent",
    "Trigger",
    "Unscheduled",
    "new_run_id",
]


class Trigger(StrEnum):
    """Why a run happens."""

    SCHEDULED = "scheduled"
    """Its cron fire came."""
    CATCHUP = "catchup"
    """A fire was missed while odek was down (or asleep) and the job has catch-up."""
    MANUAL = "manual"
    """``odek schedule run <id>``."""


class Outcome(StrEnum):
    """How a run (or a fire that did not become a run) ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    """It began and was stopped (shutdown after the drain, a crash, SIGKILL)."""
    SKIPPED = "skipped"
    """The fire was not run: ``missed``, ``overlap`` or ``shutdown`` (the error says which)."""


def new_run_id() -> str:
    """A fresh run id: ``run-`` and 12 random hex digits."""
    return f"run-{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Run ``job`` for its fire at ``nominal`` (aware)."""

    run_id: str
    job: Job
    nominal: datetime
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run. ``text`` is the answer (only for ``ok``); ``error`` is redacted."""

    request: RunRequest
    outcome: Outcome
    started: datetime
    ended: datetime
    error: str = ""
    text: str = ""
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Scheduled:
    """``job_id``'s next fire is ``next_run`` under schedule signature ``sig``."""

    job_id: str
    next_run: datetime
    sig: str


@dataclass(frozen=True, slots=True)
class Unscheduled:
    """``job_id`` no longer fires: disabled (its ``next_run`` is cleared) or, with
    ``removed``, deleted from ``schedules.json`` (its state entry is dropped)."""

    job_id: str
    removed: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    """A fire of ``job_id`` ended with ``status`` at ``at``. ``result`` is the answer to keep
    as ``last_result`` (``None`` keeps the previous one); ``counts`` says whether it counts
    as a run (skips do not)."""

    job_id: str
    at: datetime
    status: str
    error: str = ""
    result: str | None = None
    counts: bool = True


StateEvent = Scheduled | Unscheduled | Recorded
