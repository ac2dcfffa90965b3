"""What a supervisor supervises: child specifications and their restart types."""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from anyio.abc import TaskStatus


class Restart(enum.Enum):
    """When a child that ended by itself is started again."""

    PERMANENT = "permanent"
    """Always, whether it raised or returned."""
    TRANSIENT = "transient"
    """Only after it raised an exception; returning means it is done."""
    TEMPORARY = "temporary"
    """Never, not even when a sibling's crash made the supervisor stop it."""

    def restarts_after(self, error: Exception | None) -> bool:
        """Whether a child of this type that ended with ``error`` is restarted."""
        if self is Restart.TRANSIENT:
            return error is not None
        return self is Restart.PERMANENT


class ChildFn(Protocol):
    """A child's body: an anyio task function that calls ``task_status.started()`` when ready.

    :meth:`supervisors.Supervisor.run` has this shape, so a supervisor can be a child.
    """

    def __call__(self, *, task_status: TaskStatus[None]) -> Awaitable[None]: ...


@dataclass(frozen=True)
class ChildSpec:
    """One child of a supervisor.

    ``grace`` bounds how long the child may take to stop (see
    :func:`supervisors.draining`); ``None`` takes the supervisor's ``grace``.
    """

    name: str
    run: ChildFn
    restart: Restart = Restart.PERMANENT
    grace: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("ChildSpec.name must not be empty")
        if self.grace is not None and not self.grace >= 0:
            raise ValueError(f"ChildSpec {self.name!r}: grace must be >= 0, got {self.grace!r}")
