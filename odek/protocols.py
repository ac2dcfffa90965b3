"""The small interfaces the scheduler engine depends on.

The engine runs a job through a :class:`Runner` and hands the answer to a
:class:`Deliverer`; it knows nothing else about agents, models or Telegram. The agent
side (``odek.agent``, ``odek.tools``) and the delivery side (``odek.deliver``) implement
these; tests implement them with fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from odek.store import Job


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a successful run produced: the answer text and the tokens it used."""

    text: str
    tokens: int = 0


class Runner(Protocol):
    """Runs one job's task now. Raises :class:`odek.errors.RunError` (or any exception) on
    failure; is cancellable through the caller's cancel scope (used for timeouts)."""

    async def run(self, job: Job, *, nominal: datetime) -> RunOutcome: ...


class Deliverer(Protocol):
    """Sends a run's answer to the job's destination. Raises
    :class:`odek.errors.DeliveryError` with ``permanent`` set when a retry cannot help."""

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None: ...


class Approver(Protocol):
    """Decides a tool call whose policy action is ``prompt``. Unattended runs use an
    approver that always answers no and never touches a terminal."""

    async def approve(self, *, tool: str, risk: str, detail: str) -> bool: ...


class Toolset(Protocol):
    """The tools offered to the model in one run."""

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries: ``{"type": "function", "function": {...}}``."""
        ...

    async def call(self, name: str, arguments: str) -> str:
        """Run one tool call (``arguments`` is the model's JSON string) and return the text
        fed back to the model. Tool failures and denials are returned as text
        (``"error: ..."``, ``"denied: ..."``), never raised."""
        ...
