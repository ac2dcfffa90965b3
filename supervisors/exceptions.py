"""The exceptions a supervisor raises to whoever runs it.

This package imports nothing from the application, so it keeps its own exceptions.
Each one is raised by :meth:`supervisors.Supervisor.run` *after* all of the
supervisor's children have stopped, as one plain exception (never an
``ExceptionGroup``) whose ``__cause__`` is the child's own exception.
"""

from __future__ import annotations


class SupervisorError(Exception):
    """Base class: a supervisor gave up. ``supervisor`` and ``child`` name who and why."""

    def __init__(self, message: str, *, supervisor: str, child: str) -> None:
        super().__init__(message)
        self.supervisor = supervisor
        self.child = child


class StartupError(SupervisorError):
    """Raised when a child raises before signalling readiness while its supervisor starts.

    The children started before it are stopped (in reverse order) and the ones after it
    are never started. A child that fails before readiness during a later *restart* is
    an ordinary crash instead, subject to its restart type and the restart intensity.
    """


class RestartIntensityExceeded(SupervisorError):
    """Raised when a restart would exceed ``max_restarts`` restarts within ``within`` seconds.

    ``__cause__`` is the exception of the child whose restart was one too many, or
    ``None`` if that (permanent) child returned without raising. Under a parent
    supervisor this is an ordinary child crash, so intensity escalates up the tree.
    """
