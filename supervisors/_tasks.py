"""Bounded drains: shields that a supervisor can still cut off when a child's grace ends.

A supervisor stops a child by cancelling it. Cleanup that must await after that (a
final flush, runs in flight) needs a shield, and a plain shield could hang shutdown
forever. :func:`draining` gives a shield whose deadline is the stopping child's grace,
so the supervisor stays in charge of how long a stop may take.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

import anyio
from anyio.abc import TaskGroup, TaskStatus


class Drain:
    """The deadline by which one run of a supervised child must have finished stopping.

    Infinite while the child runs; :meth:`cut_at` lowers it when the supervisor stops
    the child, including for the :func:`draining` scopes the child has open right then.
    """

    def __init__(self) -> None:
        self.deadline = math.inf
        self._scopes: set[anyio.CancelScope] = set()

    def cut_at(self, deadline: float) -> None:
        """Lower the deadline (never raise it) for this drain and its open scopes."""
        self.deadline = min(self.deadline, deadline)
        for scope in self._scopes:
            scope.deadline = min(scope.deadline, self.deadline)

    @contextmanager
    def scope(self) -> Iterator[anyio.CancelScope]:
        """A shielded scope that ends at this drain's deadline."""
        with anyio.CancelScope(shield=True, deadline=self.deadline) as scope:
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)


# Set by the supervisor in each child's task; tasks the child spawns inherit it.
current_drain: ContextVar[Drain | None] = ContextVar("supervisors_current_drain", default=None)


@contextmanager
def draining() -> Iterator[anyio.CancelScope]:
    """Shield a block from the cancellation that stops the current child, within its grace.

    Use it for cleanup after a stop::

        try:
            await serve()
        finally:
            with draining():
                await flush()

    The block runs until it finishes or until the child's grace (``ChildSpec.grace``)
    has passed since the supervisor began stopping it, whichever is first; then it is
    cancelled. Outside a supervised child it is a plain, unbounded shield.
    """
    with (current_drain.get() or Drain()).scope() as scope:
        yield scope


@asynccontextmanager
async def drain_task_group(grace: float = math.inf) -> AsyncIterator[TaskGroup]:
    """A task group whose tasks outlive the cancellation of the block using it, for a while.

    When the ``async with`` block ends (normally, by an error or by cancellation, e.g.
    a supervisor stopping the child), the tasks still running get ``grace`` more seconds,
    further bounded as in :func:`draining`, then they are cancelled. For "stop taking
    work, let the work in flight finish". An exception from the block itself is re-raised
    as is once the tasks are done; tasks should handle their own exceptions, since one
    that escapes reaches the caller inside an ``ExceptionGroup``.
    """
    release = anyio.Event()
    error: Exception | None = None

    async def host(*, task_status: TaskStatus[tuple[TaskGroup, anyio.CancelScope]]) -> None:
        with draining() as shield:
            async with anyio.create_task_group() as tasks:
                task_status.started((tasks, shield))
                await release.wait()

    async with anyio.create_task_group() as outer:
        tasks, shield = await outer.start(host)
        try:
            yield tasks
        except Exception as exc:  # raised below, so the task group does not wrap it
            error = exc
        finally:
            shield.deadline = min(shield.deadline, anyio.current_time() + grace)
            release.set()
    if error is not None:
        raise error
