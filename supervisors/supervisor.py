"""The supervisor: starts children in order, restarts them by policy, stops them in reverse."""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable, Sequence

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup, TaskStatus

from supervisors._tasks import Drain, current_drain, draining
from supervisors.backoff import Backoff
from supervisors.events import EventKind, SupervisorEvent
from supervisors.exceptions import RestartIntensityExceeded, StartupError
from supervisors.spec import ChildSpec, Restart


class Strategy(enum.Enum):
    """Which children a crash takes down with it before they all restart together."""

    ONE_FOR_ONE = "one_for_one"
    """Only the child that ended."""
    REST_FOR_ONE = "rest_for_one"
    """It and the children started after it."""
    ONE_FOR_ALL = "one_for_all"
    """All children."""


class Supervisor:
    """Runs children, restarts the ones that end, and gives up when they crash too often.

    ``await sup.run()`` (or ``await task_group.start(sup.run)``) starts the children one
    at a time in order, each in its own task, waiting for each to call
    ``task_status.started()``; ``run`` signals its own readiness once all have (a child
    that neither signals nor ends holds startup up; one that raises first fails it with
    :class:`StartupError`). A child that ends is restarted according to its
    :class:`Restart` type and ``strategy``, after a :class:`Backoff` delay. When a
    restart would make more than ``max_restarts`` restarts within ``within`` seconds,
    the supervisor stops all children and raises :class:`RestartIntensityExceeded`.
    Under ``REST_FOR_ONE`` and ``ONE_FOR_ALL`` the siblings stopped for a restart are
    restarted with it (in start order, after the same delay), except ``TEMPORARY`` ones;
    children that had ended for good stay ended.

    Stopping (by :meth:`stop`, by cancelling ``run``, or on giving up) stops the running
    children one at a time in reverse start order: each is cancelled and given its grace
    (``ChildSpec.grace``, else ``grace``) to finish inside :func:`supervisors.draining`.
    Cancelling ``run`` does not cancel the children all at once, since each runs in a
    scope shielded from everything but its supervisor; under a parent supervisor the
    whole drain is further bounded by the grace the parent gives this one.

    ``run`` raises only after every child has stopped, and only one plain exception:
    :class:`StartupError` or :class:`RestartIntensityExceeded` with the child's exception
    as ``__cause__``, or the first exception raised by ``on_event`` (which also stops the
    supervisor). Children that raise a ``BaseException`` other than cancellation are not
    supervised: it propagates.

    ``on_event`` is called synchronously from the supervisor's own task with every
    :class:`SupervisorEvent`, in order; it must not block. A supervisor runs at most once
    at a time but may be run again after ``run`` returned (as a restarted child does).
    """

    def __init__(
        self,
        name: str,
        children: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff = Backoff(),  # noqa: B008 -- frozen, so sharing it is safe
        grace: float = 5.0,
        on_event: Callable[[SupervisorEvent], None] | None = None,
    ) -> None:
        names = [spec.name for spec in children]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"supervisor {name!r}: duplicate child names {duplicates}")
        if max_restarts < 0:
            raise ValueError(f"supervisor {name!r}: max_restarts must be >= 0, got {max_restarts}")
        if not within > 0:
            raise ValueError(f"supervisor {name!r}: within must be > 0, got {within!r}")
        if not grace >= 0:
            raise ValueError(f"supervisor {name!r}: grace must be >= 0, got {grace!r}")
        self.name = name
        self.children = tuple(children)
        self.strategy = strategy
        self.max_restarts = max_restarts
        self.within = within
        self.backoff = backoff
        self.grace = grace
        self.on_event = on_event
        self._run: _Run | None = None
        self._stop_requested = False

    def stop(self) -> None:
        """Ask ``run`` to stop its children and return normally.

        Never blocks. Called while ``run`` is not running, it makes the next ``run``
        return at once (after signalling readiness) without starting any child.
        """
        if self._run is None:
            self._stop_requested = True
        else:
            self._run.stop_scope.cancel()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Supervise the children until :meth:`stop`, cancellation, or giving up.

        Also returns, normally, once no child is running or waiting to restart.
        """
        if self._run is not None:
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                run = self._run = _Run(self, tg)
                if self._stop_requested:
                    self._stop_requested = False
                    run.stop_scope.cancel()
                try:
                    with run.stop_scope:
                        failure = await run.start_all()
                        if failure is None:
                            task_status.started()
                            run.ready = True
                            failure = await run.supervise()
                finally:
                    await run.stop_all()
        finally:
            self._run = None
        failure = failure or run.hook_error
        if failure is not None:
            raise failure
        if not run.ready:  # stopped during startup
            task_status.started()


class _Child:
    """A child spec's place in one run of its supervisor, across restarts."""

    def __init__(self, spec: ChildSpec, grace: float) -> None:
        self.spec = spec
        self.grace = grace
        self.current: _Incarnation | None = None  # the task running it, until its end is handled
        self.restart_at: float | None = None  # set while it waits out its backoff
        self.attempts = 0  # consecutive restarts, for the backoff


class _Incarnation:
    """One start of a child, until its task has ended. Also its ``task_status``."""

    def __init__(self, child: _Child) -> None:
        self.child = child
        self.scope = anyio.CancelScope(shield=True)  # only the supervisor stops a child
        self.drain = Drain()
        self.ready = anyio.Event()  # set by started(), or when it ends before that
        self.done = anyio.Event()
        self.ready_at: float | None = None
        self.ended_at = math.inf
        self.error: Exception | None = None
        self.stopping = False

    def started(self, value: object = None) -> None:
        """Mark the child ready (``task_status.started()``); ``value`` is ignored."""
        if self.ready_at is not None:
            raise RuntimeError(f"child {self.child.spec.name!r} called started() twice")
        self.ready_at = anyio.current_time()
        self.ready.set()


class _Run:
    """The state of one ``Supervisor.run``; everything here runs in its task but ``host``."""

    def __init__(self, sup: Supervisor, tg: TaskGroup) -> None:
        self.sup = sup
        self.tg = tg
        self.children = [
            _Child(spec, sup.grace if spec.grace is None else spec.grace) for spec in sup.children
        ]
        self.stop_scope = anyio.CancelScope()
        self.ready = False
        self.ended: deque[_Incarnation] = deque()  # children's ends, in order, not yet handled
        self.wakeup = anyio.Event()
        self.restart_times: deque[float] = deque()
        self.hook_error: Exception | None = None

    def emit(
        self, kind: EventKind, child: _Child, error: Exception | None = None, delay: float = 0.0
    ) -> None:
        if self.sup.on_event is None:
            return
        try:
            self.sup.on_event(SupervisorEvent(self.sup.name, child.spec.name, kind, error, delay))
        except Exception as exc:
            # Raising here would leave children behind; stop them and raise it from run().
            self.hook_error = self.hook_error or exc
            self.stop_scope.cancel()

    async def host(self, inc: _Incarnation) -> None:
        current_drain.set(inc.drain)
        try:
            with inc.scope:
                await inc.child.spec.run(task_status=inc)
        except Exception as exc:
            inc.error = exc
        finally:
            inc.ended_at = anyio.current_time()
            inc.ready.set()
            inc.done.set()
            # Queue first, then wake: supervise() re-arms before it looks at the queue.
            self.ended.append(inc)
            self.wakeup.set()

    async def start(self, child: _Child) -> _Incarnation:
        """Start ``child`` and wait until it is ready or has ended."""
        await anyio.lowlevel.checkpoint_if_cancelled()  # a stopping supervisor starts nothing
        inc = child.current = _Incarnation(child)
        child.restart_at = None
        self.tg.start_soon(self.host, inc, name=f"{self.sup.name}/{child.spec.name}")
        await inc.ready.wait()
        if inc.ready_at is not None:
            self.emit(EventKind.STARTED, child)
        return inc

    async def start_all(self) -> StartupError | None:
        for child in self.children:
            inc = await self.start(child)
            if inc.ready_at is None and inc.error is not None:
                child.current = None
                self.emit(EventKind.EXITED, child, inc.error)
                failure = StartupError(
                    f"supervisor {self.sup.name!r}: child {child.spec.name!r} failed to start",
                    supervisor=self.sup.name,
                    child=child.spec.name,
                )
                failure.__cause__ = inc.error
                return failure
        return None

    async def supervise(self) -> RestartIntensityExceeded | None:
        """Handle children's ends and due restarts; return when none is left, or on giving up."""
        while True:
            # Once stop() was called, no end is handled and no restart scheduled.
            await anyio.lowlevel.checkpoint_if_cancelled()
            self.wakeup = anyio.Event()
            if self.ended:
                failure = await self.handle_end(self.ended.popleft())
                if failure is not None:
                    return failure
                continue
            waiting = {c: c.restart_at for c in self.children if c.restart_at is not None}
            if not waiting and all(c.current is None for c in self.children):
                return None
            now = anyio.current_time()
            due = [c for c, at in waiting.items() if at <= now]
            for child in due:
                await self.start(child)
            if not due:
                with anyio.CancelScope(deadline=min(waiting.values(), default=math.inf)):
                    await self.wakeup.wait()

    async def handle_end(self, inc: _Incarnation) -> RestartIntensityExceeded | None:
        if inc.stopping:  # stop() has reported it already
            return None
        child = inc.child
        child.current = None
        self.emit(EventKind.EXITED, child, inc.error)
        if not child.spec.restart.restarts_after(inc.error):
            return None
        now = anyio.current_time()
        self.restart_times.append(now)
        while self.restart_times[0] <= now - self.sup.within:
            self.restart_times.popleft()
        if len(self.restart_times) > self.sup.max_restarts:
            failure = RestartIntensityExceeded(
                f"supervisor {self.sup.name!r}: more than {self.sup.max_restarts} restarts"
                f" within {self.sup.within} s; last child to end: {child.spec.name!r}",
                supervisor=self.sup.name,
                child=child.spec.name,
            )
            failure.__cause__ = inc.error
            return failure
        if inc.ready_at is not None and inc.ended_at - inc.ready_at >= self.sup.backoff.reset_after:
            child.attempts = 0
        delay = self.sup.backoff.delay(child.attempts)
        child.attempts += 1

        index = self.children.index(child)
        if self.sup.strategy is Strategy.ONE_FOR_ONE:
            group = [child]
        elif self.sup.strategy is Strategy.REST_FOR_ONE:
            group = self.children[index:]
        else:
            group = self.children
        restart = [child]
        for sibling in reversed(group):
            running = sibling.current
            if running is not None:
                if await self.stop(sibling):  # it ended by itself meanwhile
                    keep = sibling.spec.restart.restarts_after(running.error)
                else:
                    keep = sibling.spec.restart is not Restart.TEMPORARY
                if keep:
                    restart.append(sibling)
            elif sibling.restart_at is not None:
                restart.append(sibling)
        restart_at = anyio.current_time() + delay
        for member in group:  # in start order
            if member in restart:
                member.restart_at = restart_at
                self.emit(EventKind.RESTARTING, member, delay=delay)
        return None

    async def stop(self, child: _Child) -> bool:
        """Cancel ``child``, wait for it to finish within its grace, and report it.

        Returns whether it had ended by itself before (its end not yet handled).
        """
        inc = child.current
        assert inc is not None
        ended = inc.done.is_set() and not inc.stopping
        self.cut_off(inc, anyio.current_time() + child.grace)
        await inc.done.wait()
        child.current = None
        self.emit(EventKind.EXITED if ended else EventKind.STOPPED, child, inc.error)
        return ended

    def cut_off(self, inc: _Incarnation, deadline: float) -> None:
        inc.stopping = True
        inc.drain.cut_at(deadline)
        inc.scope.cancel()

    async def stop_all(self) -> None:
        """Stop the running children in reverse start order, within this supervisor's grace."""
        with draining():
            for child in reversed(self.children):
                if child.current is not None:
                    await self.stop(child)
        # Only if our own grace ran out above: the rest must end now, as the task group
        # waits for them and our parent waits for us.
        for child in reversed(self.children):
            if child.current is not None:
                self.cut_off(child.current, -math.inf)
                child.current = None
                self.emit(EventKind.STOPPED, child)
