"""The supervision tree: start/stop order, strategies, restart types, escalation, drains.

Tests marked ``anyio`` run on asyncio and trio and never sleep; the timing tests run on
trio's virtual clock (``autojump_clock``) and assert exact times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import anyio
import pytest
import trio
from anyio.abc import TaskStatus

from supervisors import (
    Backoff,
    ChildFn,
    ChildSpec,
    EventKind,
    Restart,
    RestartIntensityExceeded,
    StartupError,
    Strategy,
    Supervisor,
    SupervisorEvent,
    drain_task_group,
    draining,
)

NO_BACKOFF = Backoff(initial=0)


class Boom(Exception):
    """What test children crash with."""


class Recorder:
    """A supervisor's ``on_event``: keeps the events and lets a test wait for one."""

    def __init__(self, *, then: Callable[[SupervisorEvent], None] | None = None) -> None:
        self.events: list[SupervisorEvent] = []
        self.times: list[float] = []
        self._then = then
        self._changed = anyio.Event()

    def __call__(self, event: SupervisorEvent) -> None:
        self.events.append(event)
        self.times.append(anyio.current_time())
        self._changed.set()
        self._changed = anyio.Event()
        if self._then is not None:
            self._then(event)

    def steps(self) -> list[tuple[str, str]]:
        return [(e.kind.name.lower(), e.child) for e in self.events]

    def count(self, kind: EventKind, child: str) -> int:
        return sum(e.kind is kind and e.child == child for e in self.events)

    def starts(self) -> list[tuple[str, float]]:
        """(child, time) of every STARTED event."""
        pairs = zip(self.events, self.times, strict=True)
        return [(e.child, t) for e, t in pairs if e.kind is EventKind.STARTED]

    async def wait_for(self, kind: EventKind, child: str, count: int = 1) -> None:
        while self.count(kind, child) < count:
            await self._changed.wait()


class Actors:
    """Children that log their starts and stops and end when the test says so."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self._end: dict[str, anyio.Event] = {}
        self._error: dict[str, Exception | None] = {}

    def child(self, name: str) -> ChildFn:
        async def run(*, task_status: TaskStatus[None]) -> None:
            end = self._end[name] = anyio.Event()
            self.log.append(f"start {name}")
            task_status.started()
            try:
                await end.wait()
            except anyio.get_cancelled_exc_class():
                self.log.append(f"stop {name}")
                raise
            self.log.append(f"end {name}")
            error = self._error.pop(name)
            if error is not None:
                raise error

        return run

    def spec(self, name: str, restart: Restart = Restart.PERMANENT) -> ChildSpec:
        return ChildSpec(name, self.child(name), restart)

    def end(self, name: str, error: Exception | None = None) -> None:
        """Make the running child ``name`` return, or raise ``error``."""
        self._error[name] = error
        self._end[name].set()


def failing_before_ready(log: list[str], name: str) -> ChildFn:
    async def run(*, task_status: TaskStatus[None]) -> None:
        log.append(f"fail {name}")
        raise Boom(name)

    return run


def crashing_when_ready(name: str) -> ChildFn:
    async def run(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        raise Boom(name)

    return run


# --- start and stop order ------------------------------------------------------------


@pytest.mark.anyio
async def test_children_start_in_order_and_run_is_ready_only_after_all_are() -> None:
    actors = Actors()
    b_waiting, b_go, sup_ready = anyio.Event(), anyio.Event(), anyio.Event()

    async def slow_b(*, task_status: TaskStatus[None]) -> None:
        actors.log.append("start b")
        b_waiting.set()
        await b_go.wait()
        task_status.started()
        await anyio.sleep_forever()

    sup = Supervisor(
        "root", [actors.spec("a"), ChildSpec("b", slow_b), actors.spec("c")], backoff=NO_BACKOFF
    )

    async def start() -> None:
        await tg.start(sup.run)
        actors.log.append("supervisor ready")
        sup_ready.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(start)
        await b_waiting.wait()
        assert actors.log == ["start a", "start b"]  # c waits for b; run is not ready
        b_go.set()
        await sup_ready.wait()
        assert actors.log == ["start a", "start b", "start c", "supervisor ready"]
        sup.stop()


@pytest.mark.anyio
async def test_stop_stops_children_in_reverse_start_order_and_run_returns() -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor("root", [actors.spec(n) for n in "abc"], on_event=rec)
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        sup.stop()
    assert actors.log == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
    assert rec.steps()[3:] == [("stopped", "c"), ("stopped", "b"), ("stopped", "a")]


@pytest.mark.anyio
async def test_cancelling_run_stops_children_one_at_a_time_in_reverse_order() -> None:
    actors = Actors()
    sup = Supervisor("root", [actors.spec(n) for n in "abc"])
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        tg.cancel_scope.cancel()
    assert actors.log[3:] == ["stop c", "stop b", "stop a"]


@pytest.mark.anyio
async def test_stop_before_run_makes_run_return_without_starting_children() -> None:
    actors = Actors()
    sup = Supervisor("root", [actors.spec("a")])
    sup.stop()
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
    assert actors.log == []


# --- strategies and restart types ----------------------------------------------------

STARTED_ABC = [("started", "a"), ("started", "b"), ("started", "c")]
STOPPED_CBA = [("stopped", "c"), ("stopped", "b"), ("stopped", "a")]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("strategy", "restart_steps"),
    [
        (
            Strategy.ONE_FOR_ONE,
            [("exited", "b"), ("restarting", "b"), ("started", "b")],
        ),
        (
            Strategy.REST_FOR_ONE,
            [
                ("exited", "b"),
                ("stopped", "c"),
                ("restarting", "b"),
                ("restarting", "c"),
                ("started", "b"),
                ("started", "c"),
            ],
        ),
        (
            Strategy.ONE_FOR_ALL,
            [
                ("exited", "b"),
                ("stopped", "c"),
                ("stopped", "a"),
                ("restarting", "a"),
                ("restarting", "b"),
                ("restarting", "c"),
                *STARTED_ABC,
            ],
        ),
    ],
)
async def test_strategy_restarts_exactly_its_group_in_order(
    strategy: Strategy, restart_steps: list[tuple[str, str]]
) -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root",
        [actors.spec(n) for n in "abc"],
        strategy=strategy,
        backoff=NO_BACKOFF,
        on_event=rec,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        actors.end("b", Boom("b"))
        await rec.wait_for(EventKind.STARTED, restart_steps[-1][1], count=2)
        sup.stop()
    assert rec.steps() == STARTED_ABC + restart_steps + STOPPED_CBA
    crash = rec.events[3]
    assert isinstance(crash.error, Boom)
    assert all(e.delay == 0 for e in rec.events if e.kind is EventKind.RESTARTING)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("restart", "error", "restarted"),
    [
        (Restart.PERMANENT, Boom("x"), True),
        (Restart.PERMANENT, None, True),
        (Restart.TRANSIENT, Boom("x"), True),
        (Restart.TRANSIENT, None, False),
        (Restart.TEMPORARY, Boom("x"), False),
    ],
)
async def test_restart_type_decides_whether_an_ended_child_restarts(
    restart: Restart, error: Exception | None, restarted: bool
) -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root", [actors.spec("keeper"), actors.spec("x", restart)], backoff=NO_BACKOFF, on_event=rec
    )
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        actors.end("x", error)
        if restarted:
            await rec.wait_for(EventKind.STARTED, "x", count=2)
        else:
            await rec.wait_for(EventKind.EXITED, "x")
        sup.stop()
    restart_steps = [("restarting", "x"), ("started", "x"), ("stopped", "x")]
    assert rec.steps()[2:] == [
        ("exited", "x"),
        *(restart_steps if restarted else []),
        ("stopped", "keeper"),
    ]


@pytest.mark.anyio
async def test_temporary_child_stopped_by_a_siblings_crash_is_not_restarted() -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root",
        [actors.spec("t", Restart.TEMPORARY), actors.spec("b")],
        strategy=Strategy.ONE_FOR_ALL,
        backoff=NO_BACKOFF,
        on_event=rec,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        actors.end("b", Boom("b"))
        await rec.wait_for(EventKind.STARTED, "b", count=2)
        sup.stop()
    assert rec.steps() == [
        ("started", "t"),
        ("started", "b"),
        ("exited", "b"),
        ("stopped", "t"),
        ("restarting", "b"),
        ("started", "b"),
        ("stopped", "b"),
    ]


@pytest.mark.anyio
async def test_sibling_that_finished_as_the_group_restarts_is_reported_and_left_ended() -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root",
        [actors.spec("a"), actors.spec("b"), actors.spec("c", Restart.TRANSIENT)],
        strategy=Strategy.REST_FOR_ONE,
        backoff=NO_BACKOFF,
        on_event=rec,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        # In the same instant, so c's end is usually queued behind b's crash when the
        # supervisor stops the rest (trio may also run c's end first: same outcome).
        actors.end("b", Boom("b"))
        actors.end("c")
        await rec.wait_for(EventKind.STARTED, "b", count=2)
        sup.stop()
    steps = rec.steps()
    assert steps[:3] == STARTED_ABC
    assert sorted(steps[3:5]) == [("exited", "b"), ("exited", "c")]
    assert steps[5:] == [("restarting", "b"), ("started", "b"), ("stopped", "b"), ("stopped", "a")]


@pytest.mark.anyio
async def test_run_returns_once_no_child_is_left_to_supervise() -> None:
    actors = Actors()
    sup = Supervisor("root", [actors.spec(n, Restart.TRANSIENT) for n in "ab"])
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        actors.end("a")
        actors.end("b")
    assert sorted(actors.log[2:]) == ["end a", "end b"]


# --- failures before readiness, escalation -------------------------------------------


@pytest.mark.anyio
async def test_child_failing_before_started_fails_startup_without_hanging() -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root",
        [actors.spec("a"), ChildSpec("b", failing_before_ready(actors.log, "b")), actors.spec("c")],
        on_event=rec,
    )
    with anyio.fail_after(10), pytest.raises(StartupError) as caught:
        await sup.run()
    assert type(caught.value) is StartupError
    assert (caught.value.supervisor, caught.value.child) == ("root", "b")
    assert isinstance(caught.value.__cause__, Boom)
    assert actors.log == ["start a", "fail b", "stop a"]
    assert rec.steps() == [("started", "a"), ("exited", "b"), ("stopped", "a")]


@pytest.mark.anyio
async def test_child_failing_before_started_on_restart_counts_as_a_crash() -> None:
    incarnations: list[int] = []

    async def flaky(*, task_status: TaskStatus[None]) -> None:
        incarnations.append(len(incarnations))
        if len(incarnations) == 1:
            task_status.started()
        raise Boom(f"incarnation {len(incarnations)}")

    sup = Supervisor("root", [ChildSpec("f", flaky)], max_restarts=2, within=1000)
    with anyio.fail_after(10), pytest.raises(RestartIntensityExceeded) as caught:
        await sup.run()
    assert incarnations == [0, 1, 2]
    assert str(caught.value.__cause__) == "incarnation 3"


@pytest.mark.anyio
async def test_nested_intensity_escalates_as_one_plain_exception_with_its_cause() -> None:
    inner_rec, outer_rec = Recorder(), Recorder()
    inner = Supervisor(
        "inner",
        [ChildSpec("worker", crashing_when_ready("worker"))],
        max_restarts=0,
        on_event=inner_rec,
    )
    outer = Supervisor(
        "outer",
        [ChildSpec("inner", inner.run)],
        max_restarts=1,
        within=1000,
        backoff=NO_BACKOFF,
        on_event=outer_rec,
    )
    with anyio.fail_after(10), pytest.raises(RestartIntensityExceeded) as caught:
        await outer.run()
    error = caught.value
    assert type(error) is RestartIntensityExceeded
    assert (error.supervisor, error.child) == ("outer", "inner")
    assert type(error.__cause__) is RestartIntensityExceeded
    assert error.__cause__.supervisor == "inner"
    assert isinstance(error.__cause__.__cause__, Boom)
    assert outer_rec.steps() == [
        ("started", "inner"),
        ("exited", "inner"),
        ("restarting", "inner"),
        ("started", "inner"),
        ("exited", "inner"),
    ]
    assert inner_rec.steps() == [("started", "worker"), ("exited", "worker")] * 2


@pytest.mark.anyio
async def test_exception_in_on_event_stops_children_and_is_raised_plainly() -> None:
    actors = Actors()

    def hook(event: SupervisorEvent) -> None:
        if event.kind is EventKind.STARTED and event.child == "b":
            raise ValueError("hook broke")

    sup = Supervisor("root", [actors.spec("a"), actors.spec("b")], on_event=hook)
    with anyio.fail_after(10), pytest.raises(ValueError, match="hook broke"):
        await sup.run()
    assert actors.log == ["start a", "start b", "stop b", "stop a"]


# --- drains --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_drain_within_grace_completes_and_beyond_grace_is_cancelled() -> None:
    log: list[str] = []
    cleaning, release = anyio.Event(), anyio.Event()

    async def patient(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        try:
            await anyio.sleep_forever()
        finally:
            with draining():
                cleaning.set()
                await release.wait()
                log.append("patient flushed")

    async def stubborn(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        try:
            await anyio.sleep_forever()
        finally:
            with draining() as scope:
                await anyio.sleep_forever()
            log.append(f"stubborn cut off: {scope.cancelled_caught}")

    sup = Supervisor(
        "root",
        [ChildSpec("stubborn", stubborn, grace=0), ChildSpec("patient", patient, grace=1000)],
    )
    async with anyio.create_task_group() as tg:
        await tg.start(sup.run)
        sup.stop()
        await cleaning.wait()
        assert log == []  # patient is still draining; stubborn waits its turn
        release.set()
    assert log == ["patient flushed", "stubborn cut off: True"]


@pytest.mark.anyio
async def test_nested_supervisor_with_no_grace_left_cuts_its_childrens_drains_off() -> None:
    log: list[str] = []

    async def endless_cleanup(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        try:
            await anyio.sleep_forever()
        finally:
            with draining() as scope:
                await anyio.sleep_forever()
            log.append(f"cut off: {scope.cancelled_caught}")

    inner_rec = Recorder()
    inner = Supervisor(
        "inner", [ChildSpec("endless", endless_cleanup, grace=1000)], on_event=inner_rec
    )
    outer = Supervisor("outer", [ChildSpec("inner", inner.run, grace=0)])
    async with anyio.create_task_group() as tg:
        await tg.start(outer.run)
        outer.stop()
    assert log == ["cut off: True"]
    assert inner_rec.steps() == [("started", "endless"), ("stopped", "endless")]


@pytest.mark.anyio
async def test_drain_task_group_finishes_work_in_flight_and_reraises_the_blocks_error() -> None:
    finished: list[str] = []
    release = anyio.Event()

    async def job() -> None:
        await release.wait()
        finished.append("job")

    async def release_later() -> None:
        release.set()

    with pytest.raises(ValueError, match="intake failed") as caught:  # noqa: PT012
        async with drain_task_group() as jobs:
            jobs.start_soon(job)
            jobs.start_soon(release_later)
            raise ValueError("intake failed")
    assert type(caught.value) is ValueError
    assert finished == ["job"]


@pytest.mark.trio
async def test_stop_takes_each_childs_cleanup_time_bounded_by_its_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[tuple[str, float]] = []

    def cleaning_for(name: str, seconds: float) -> ChildFn:
        async def run(*, task_status: TaskStatus[None]) -> None:
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                with draining():
                    await trio.sleep(seconds)
                    log.append((f"{name} flushed", trio.current_time()))
                log.append((f"{name} stopped", trio.current_time()))

        return run

    sup = Supervisor(
        "root",
        [ChildSpec("a", cleaning_for("a", 1), grace=2), ChildSpec("b", cleaning_for("b", 5))],
        grace=2,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        sup.stop()
    assert log == [("b stopped", 2), ("a flushed", 3), ("a stopped", 3)]
    assert trio.current_time() == 3


@pytest.mark.trio
async def test_nested_supervisors_drain_is_bounded_by_the_grace_its_parent_gives_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    stopped_at: list[float] = []

    async def slow_cleanup(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            with draining():
                await trio.sleep(3)
            stopped_at.append(trio.current_time())

    inner_rec = Recorder()
    inner = Supervisor("inner", [ChildSpec("slow", slow_cleanup, grace=5)], on_event=inner_rec)
    outer = Supervisor("outer", [ChildSpec("inner", inner.run, grace=1)])
    async with trio.open_nursery() as nursery:
        await nursery.start(outer.run)
        outer.stop()
    assert stopped_at == [1]
    assert trio.current_time() == 1
    assert inner_rec.steps() == [("started", "slow"), ("stopped", "slow")]


@pytest.mark.trio
@pytest.mark.parametrize(("group_grace", "ends_at"), [(math.inf, 3), (2, 2)])
async def test_drain_task_group_lets_work_in_flight_finish_within_grace(
    autojump_clock: trio.testing.MockClock, group_grace: float, ends_at: float
) -> None:
    finished: list[tuple[str, float]] = []

    async def job(name: str, seconds: float) -> None:
        try:
            await trio.sleep(seconds)
            finished.append((name, trio.current_time()))
        except trio.Cancelled:
            finished.append((f"{name} cancelled", trio.current_time()))
            raise

    async def pool(*, task_status: TaskStatus[None]) -> None:
        async with drain_task_group(group_grace) as jobs:
            jobs.start_soon(job, "short", 1)
            jobs.start_soon(job, "long", 10)
            task_status.started()
            await trio.sleep_forever()

    sup = Supervisor("root", [ChildSpec("pool", pool, grace=3)])
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        sup.stop()
    assert finished == [("short", 1), ("long cancelled", ends_at)]
    assert trio.current_time() == ends_at


# --- backoff and intensity on the virtual clock ---------------------------------------


def stop_after_starts(sup_box: list[Supervisor], starts: int) -> Callable[[SupervisorEvent], None]:
    seen: list[SupervisorEvent] = []

    def then(event: SupervisorEvent) -> None:
        if event.kind is EventKind.STARTED:
            seen.append(event)
            if len(seen) == starts:
                sup_box[0].stop()

    return then


def crashing_after(ups: Iterator[float]) -> ChildFn:
    """A child that, on its n-th start, stays up for the n-th of ``ups`` seconds, then crashes."""

    async def run(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(next(ups))
        raise Boom("crash")

    return run


@pytest.mark.trio
async def test_backoff_doubles_up_to_its_maximum(autojump_clock: trio.testing.MockClock) -> None:
    box: list[Supervisor] = []
    rec = Recorder(then=stop_after_starts(box, 6))
    sup = Supervisor(
        "root",
        [ChildSpec("c", crashing_after(iter([0.0] * 10)))],
        max_restarts=10,
        within=1000,
        backoff=Backoff(initial=1, factor=2, maximum=5),
        on_event=rec,
    )
    box.append(sup)
    await sup.run()
    assert rec.starts() == [("c", t) for t in [0, 1, 3, 7, 12, 17]]
    assert [e.delay for e in rec.events if e.kind is EventKind.RESTARTING] == [1, 2, 4, 5, 5]


@pytest.mark.trio
async def test_backoff_resets_after_a_child_stayed_up_long_enough(
    autojump_clock: trio.testing.MockClock,
) -> None:
    box: list[Supervisor] = []
    rec = Recorder(then=stop_after_starts(box, 5))
    sup = Supervisor(
        "root",
        [ChildSpec("c", crashing_after(iter([0.0, 0.0, 10.0, 0.0, 0.0])))],
        max_restarts=10,
        within=1000,
        backoff=Backoff(initial=1, factor=2, maximum=60, reset_after=10),
        on_event=rec,
    )
    box.append(sup)
    await sup.run()
    # up 0 s, wait 1; up 0 s, wait 2; up 10 s (reset), wait 1; up 0 s, wait 2
    assert rec.starts() == [("c", t) for t in [0, 1, 3, 14, 16]]


@pytest.mark.trio
async def test_one_childs_backoff_does_not_delay_a_siblings_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    box: list[Supervisor] = []
    rec = Recorder(then=stop_after_starts(box, 6))
    sup = Supervisor(
        "root",
        [
            ChildSpec("looping", crashing_after(iter([0.0] * 10))),
            ChildSpec("once", crashing_after(iter([2.0, math.inf]))),
        ],
        max_restarts=10,
        within=1000,
        backoff=Backoff(initial=1, factor=10, maximum=100),
        on_event=rec,
    )
    box.append(sup)
    await sup.run()
    assert rec.starts() == [
        ("looping", 0),
        ("once", 0),
        ("looping", 1),
        ("once", 3),
        ("looping", 11),
        ("looping", 111),
    ]


@pytest.mark.trio
async def test_intensity_exceeded_stops_children_and_raises_at_the_exact_crash(
    autojump_clock: trio.testing.MockClock,
) -> None:
    actors, rec = Actors(), Recorder()
    sup = Supervisor(
        "root",
        [actors.spec("steady"), ChildSpec("c", crashing_after(iter([0.0] * 10)))],
        max_restarts=3,
        within=10,
        backoff=Backoff(initial=1, factor=1, maximum=1),
        on_event=rec,
    )
    with pytest.raises(RestartIntensityExceeded) as caught:
        await sup.run()
    assert trio.current_time() == 3
    assert rec.starts() == [("steady", 0), ("c", 0), ("c", 1), ("c", 2), ("c", 3)]
    assert rec.steps()[-2:] == [("exited", "c"), ("stopped", "steady")]
    assert actors.log == ["start steady", "stop steady"]
    assert isinstance(caught.value.__cause__, Boom)


@pytest.mark.trio
@pytest.mark.parametrize(
    ("up", "gives_up_at"),
    [(5.0, None), (4.0, 12.0)],
    ids=["restarts-exactly-within-apart-never-escalate", "closer-restarts-escalate"],
)
async def test_intensity_counts_only_restarts_inside_the_window(
    autojump_clock: trio.testing.MockClock, up: float, gives_up_at: float | None
) -> None:
    box: list[Supervisor] = []
    rec = Recorder(then=stop_after_starts(box, 7))
    sup = Supervisor(
        "root",
        [ChildSpec("c", crashing_after(iter([up] * 10)))],
        max_restarts=2,
        within=10,
        backoff=NO_BACKOFF,
        on_event=rec,
    )
    box.append(sup)
    if gives_up_at is None:
        await sup.run()
        assert rec.starts() == [("c", t) for t in [0, 5, 10, 15, 20, 25, 30]]
    else:
        with pytest.raises(RestartIntensityExceeded):
            await sup.run()
        assert trio.current_time() == gives_up_at


@pytest.mark.trio
async def test_stop_during_a_backoff_wait_returns_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rec = Recorder()
    sup = Supervisor(
        "root",
        [ChildSpec("c", crashing_after(iter([0.0])))],
        backoff=Backoff(initial=100, maximum=100),
        on_event=rec,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await rec.wait_for(EventKind.RESTARTING, "c")
        await trio.sleep(1)
        sup.stop()
    assert trio.current_time() == 1
    assert rec.steps() == [("started", "c"), ("exited", "c"), ("restarting", "c")]
