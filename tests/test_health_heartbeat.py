"""The heartbeat writer: what it writes, when, and how it follows a real supervisor."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import trio
from trio.testing import MockClock

from odek.errors import StoreCorruptError
from odek.health import HEARTBEAT_FILE, Heartbeat, HeartbeatWriter, check_health, read_heartbeat
from odek.health.heartbeat import process_start
from odek.redact import register_secret
from supervisors import Backoff, ChildSpec, EventKind, Supervisor, SupervisorEvent

START = datetime(2026, 6, 4, 10, 0, tzinfo=UTC)


def virtual_now() -> datetime:
    """The wall clock of these tests: START plus trio's (virtual) time."""
    return START + timedelta(seconds=trio.current_time())


@pytest.fixture
def home(odek_home: Path) -> Path:
    """ODEK_HOME, created as the scheduler finds it."""
    odek_home.mkdir(mode=0o700)
    return odek_home


async def file_shows(home: Path, predicate: Callable[[Heartbeat], bool]) -> None:
    """Wait (as :func:`settle`) until the heartbeat file satisfies ``predicate``."""
    deadline = time.monotonic() + 10
    while True:
        beat = read_heartbeat(home)
        if beat is not None and predicate(beat):
            return
        assert time.monotonic() < deadline, f"the heartbeat file still reads {beat}"
        await trio.lowlevel.checkpoint()


async def settle(writer: HeartbeatWriter, writes: int) -> None:
    """Wait until ``writer`` has written ``writes`` files. The write runs in a thread, which
    virtual time knows nothing of, so this spins on checkpoints (no clock jump meanwhile),
    bounded in real time."""
    deadline = time.monotonic() + 10
    while writer.writes < writes:
        assert time.monotonic() < deadline, f"only {writer.writes} of {writes} writes"
        await trio.lowlevel.checkpoint()


@pytest.mark.trio
async def test_heartbeat_is_written_at_start_owner_only(
    home: Path, autojump_clock: MockClock
) -> None:
    writer = HeartbeatWriter(home, clock=virtual_now)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await settle(writer, 1)
        nursery.cancel_scope.cancel()
    path = home / HEARTBEAT_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    beat = read_heartbeat(home)
    assert beat is not None
    assert beat.pid == os.getpid()
    assert beat.pid_start == process_start(os.getpid())
    assert beat.started_at == START
    assert beat.last_wake is None
    assert (beat.jobs_loaded, beat.runs_in_flight, beat.restarting) == (0, 0, False)


@pytest.mark.trio
async def test_heartbeat_records_wake_jobs_next_fire_and_runs(
    home: Path, autojump_clock: MockClock
) -> None:
    writer = HeartbeatWriter(home, clock=virtual_now, interval=15)
    next_fire = START + timedelta(minutes=5)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await settle(writer, 1)
        await trio.sleep(30)
        writer.timer_woke(virtual_now(), next_fire=next_fire, jobs=3)
        writer.run_started()
        writer.run_started()
        writer.run_finished()
        await settle(writer, 2)
        nursery.cancel_scope.cancel()
    beat = read_heartbeat(home)
    assert beat is not None
    assert beat.last_wake == START + timedelta(seconds=30)
    assert beat.next_fire == next_fire
    assert (beat.jobs_loaded, beat.runs_in_flight) == (3, 1)
    assert beat.updated_at == START + timedelta(seconds=30)


@pytest.mark.trio
async def test_idle_scheduler_writes_nothing_but_its_wake_ups(
    home: Path, autojump_clock: MockClock
) -> None:
    writer = HeartbeatWriter(home, clock=virtual_now)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await settle(writer, 1)
        await trio.sleep(3600)
        assert writer.writes == 1
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_busy_timer_is_written_at_most_once_per_interval(
    home: Path, autojump_clock: MockClock
) -> None:
    writer = HeartbeatWriter(home, clock=virtual_now, interval=15)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await settle(writer, 1)
        for _ in range(600):  # a wake-up and a run every second for ten minutes
            await trio.sleep(1)
            writer.timer_woke(virtual_now(), next_fire=None, jobs=1)
            writer.run_started()
            writer.run_finished()
        await trio.sleep(15)
        await file_shows(home, lambda beat: beat.last_wake == START + timedelta(seconds=600))
        nursery.cancel_scope.cancel()
    # One at start, the first wake-up at once, then at most one per 15 s. (Fewer when the
    # virtual clock runs on while a write is in its thread.)
    assert 2 <= writer.writes <= 2 + 615 // 15


@pytest.mark.trio
async def test_actor_restart_is_written_at_once_and_cleared_when_it_is_back(
    home: Path, autojump_clock: MockClock
) -> None:
    register_secret("sk-heartbeat-secret-123")
    writer = HeartbeatWriter(home, clock=virtual_now, interval=3600)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await settle(writer, 1)
        writer.timer_woke(virtual_now(), next_fire=None, jobs=0)
        await settle(writer, 2)
        error = RuntimeError("boom with sk-heartbeat-secret-123")
        writer.supervisor_event(SupervisorEvent("scheduler", "pool", EventKind.EXITED, error))
        writer.supervisor_event(SupervisorEvent("scheduler", "pool", EventKind.RESTARTING))
        await settle(writer, 3)
        beat = read_heartbeat(home)
        assert beat is not None
        assert beat.restarting is True
        assert beat.restarting_actors == ["pool"]
        assert beat.last_error == "actor pool: RuntimeError: boom with [REDACTED]"
        writer.supervisor_event(SupervisorEvent("scheduler", "pool", EventKind.STARTED))
        await settle(writer, 4)
        huge = ValueError("x" * 100_000)
        writer.supervisor_event(SupervisorEvent("scheduler", "state", EventKind.EXITED, huge))
        await settle(writer, 5)
        nursery.cancel_scope.cancel()
    beat = read_heartbeat(home)
    assert beat is not None
    assert (beat.restarting, beat.restarting_actors) == (False, [])
    assert beat.last_error.startswith("actor state: ValueError: xxx")
    assert len(beat.last_error) == 500


@pytest.mark.trio
async def test_health_follows_a_real_supervisor_through_a_crash_and_a_stopped_timer(
    home: Path, autojump_clock: MockClock
) -> None:
    """The wiring the scheduler uses: the writer is a child and hears the supervisor's
    events; a 'timer' child reports its wake-ups. Crashing an actor makes the service
    unhealthy until the actor is back; stopping the timer makes it stale."""
    writer = HeartbeatWriter(home, clock=virtual_now, interval=15)
    crashed = trio.Event()
    timer_scope = trio.CancelScope()

    async def timer(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        with timer_scope:
            while True:
                writer.timer_woke(virtual_now(), next_fire=None, jobs=2)
                await trio.sleep(60)
        await trio.sleep_forever()

    async def worker(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        if not crashed.is_set():
            await trio.sleep(100)
            crashed.set()
            raise RuntimeError("worker crashed")
        await trio.sleep_forever()

    supervisor = Supervisor(
        "scheduler",
        [
            ChildSpec("heartbeat", writer.run),
            ChildSpec("timer", timer),
            ChildSpec("worker", worker),
        ],
        backoff=Backoff(initial=30, maximum=30),
        on_event=writer.supervisor_event,
    )

    def health() -> list[str]:
        return check_health(home, virtual_now()).reasons

    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await trio.sleep(50)
        await file_shows(home, lambda beat: beat.last_wake is not None)
        assert health() == []

        await crashed.wait()  # at 100 s; the restart is written at once
        await file_shows(home, lambda beat: beat.restarting)
        reasons = health()
        assert len(reasons) == 1
        assert reasons[0].startswith("the supervisor is restarting worker after: actor worker")

        await trio.sleep(40)  # the worker is back after its 30 s backoff
        await file_shows(home, lambda beat: not beat.restarting)
        assert health() == []

        timer_scope.cancel()  # its last wake-up was at 120 s
        await trio.sleep(200)
        reasons = health()
        assert len(reasons) == 1
        assert reasons[0].startswith("the timer is stale: its last wake-up was at")
        supervisor.stop()


def test_a_file_that_is_not_a_heartbeat_is_an_error_naming_it(home: Path) -> None:
    (home / HEARTBEAT_FILE).write_text('{"pid": "seven"}')
    with pytest.raises(StoreCorruptError, match=HEARTBEAT_FILE):
        read_heartbeat(home)


def test_a_heartbeat_with_a_non_positive_pid_is_refused(home: Path) -> None:
    beat = {"pid": 0, "host": "h", "started_at": "2026-06-04T10:00:00Z"}
    (home / HEARTBEAT_FILE).write_bytes(
        msgspec.json.encode(beat | {"updated_at": beat["started_at"]})
    )
    with pytest.raises(StoreCorruptError, match="pid"):
        read_heartbeat(home)


def test_no_heartbeat_file_reads_as_none(home: Path) -> None:
    assert read_heartbeat(home) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_process_start_tells_processes_apart() -> None:
    mine = process_start(os.getpid())
    assert isinstance(mine, int)
    assert mine == process_start(os.getpid())
    with subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    ) as child:
        later = process_start(child.pid)
        child.communicate(b"")
    assert isinstance(later, int)
    assert later > mine
    assert process_start(child.pid) is None  # reaped
