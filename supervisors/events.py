"""What a supervisor reports to its ``on_event`` callback."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EventKind(enum.Enum):
    """The lifecycle steps of a supervised child."""

    STARTED = "child_started"
    """The child signalled readiness (first start or restart)."""
    EXITED = "child_exited"
    """The child ended by itself; ``error`` is what it raised, if anything."""
    STOPPED = "child_stopped"
    """The supervisor stopped the child (shutdown, or a sibling's restart)."""
    RESTARTING = "child_restarting"
    """The child will be started again in ``delay`` seconds."""


@dataclass(frozen=True)
class SupervisorEvent:
    """One step in the life of ``child`` under ``supervisor``."""

    supervisor: str
    child: str
    kind: EventKind
    error: Exception | None = None
    delay: float = 0.0
