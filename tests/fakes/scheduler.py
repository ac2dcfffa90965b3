"""Shared fakes and helpers for the scheduler tests (this module holds no tests).

The runner and deliverer are the scheduler's edge: they record what they are asked to do
and take virtual time, so the timing of a simulated year is exact on trio's mock clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
import trio
import trio.testing
from structlog.testing import capture_logs

from odek.config.model import SchedulesConfig
from odek.errors import DeliveryError
from odek.protocols import RunOutcome
from odek.scheduler import SchedulerService, VirtualClock, WallClock
from odek.store import Delivery, Job, JobStore, RunState

START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def make_job(job_id: str, cron: str, **fields: Any) -> Job:
    """A job delivering to ``log`` with the given id and cron."""
    fields.setdefault("enabled", True)
    return Job(
        id=job_id,
        name=job_id,
        cron=cron,
        task=f"task of {job_id}",
        deliver=Delivery("log"),
        created_at=datetime(2025, 12, 1, tzinfo=UTC),
        **fields,
    )


@dataclass
class FakeRunner:
    """Answers after ``duration(job)`` seconds of (virtual) time; records every call."""

    clock: WallClock
    duration: Callable[[Job], float] = lambda job: 0.0
    fail: Callable[[Job, datetime], Exception | None] = lambda job, nominal: None
    calls: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)

    async def run(self, job: Job, *, nominal: datetime) -> RunOutcome:
        self.calls.append((job.id, nominal, self.clock.now(), job.task))
        await anyio.sleep(self.duration(job))
        error = self.fail(job, nominal)
        if error is not None:
            raise error
        return RunOutcome(f"answer of {job.id} for {nominal.isoformat()}", tokens=7)

    def nominals(self, job_id: str) -> list[datetime]:
        return [nominal for jid, nominal, _, _ in self.calls if jid == job_id]


@dataclass
class FakeDeliverer:
    """Takes ``duration`` seconds per send; raises the queued ``errors`` first, in order."""

    clock: WallClock
    duration: float = 0.0
    errors: list[Exception] = field(default_factory=list)
    sent: list[tuple[str, str, datetime]] = field(default_factory=list)
    attempts: list[datetime] = field(default_factory=list)

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        self.attempts.append(self.clock.now())
        await anyio.sleep(self.duration)
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((job.id, text, nominal))


def transient(message: str = "network down") -> DeliveryError:
    return DeliveryError(message)


def settings(**changes: Any) -> SchedulesConfig:
    return msgspec.structs.replace(SchedulesConfig(), **changes)


@dataclass
class Harness:
    """A home with jobs, a virtual clock and fakes, and a way to run the service."""

    home: Path
    clock: VirtualClock
    runner: FakeRunner
    deliverer: FakeDeliverer
    store: JobStore

    def service(self, config: SchedulesConfig | None = None, **options: Any) -> SchedulerService:
        options.setdefault("state_interval", 1.0)
        return SchedulerService(
            config or settings(),
            runner=self.runner,
            deliverer=self.deliverer,
            home=self.home,
            clock=self.clock,
            **options,
        )

    def add(self, *jobs: Job) -> None:
        for job in jobs:
            self.store.add(job)

    def set_state(self, job_id: str, **fields: Any) -> None:
        self.store.update_states({job_id: RunState(job_id=job_id, **fields)})

    async def sleep_until(self, moment: datetime) -> None:
        await anyio.sleep((moment - self.clock.now()).total_seconds())

    async def run_for(
        self, seconds: float, config: SchedulesConfig | None = None, **options: Any
    ) -> SchedulerService:
        """Run a service for ``seconds`` of virtual time, then stop it and wait."""
        service = self.service(config, **options)
        async with anyio.create_task_group() as tg:
            await tg.start(service.run)
            await anyio.sleep(seconds)
            service.stop()
        return service


def harness(home: Path, start: datetime = START) -> Harness:
    """Must be called inside the test's event loop (the clock reads the loop's time)."""
    clock = VirtualClock(start)
    return Harness(home, clock, FakeRunner(clock), FakeDeliverer(clock), JobStore(home))


async def wait_until(predicate: Callable[[], bool], *, step: float = 0.01) -> None:
    """Poll ``predicate`` in small virtual steps (for work done in worker threads, which
    signal nothing the test could wait on)."""
    with anyio.fail_after(60):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(step)


#: Real seconds :func:`wait_frozen` waits before it gives up.
FROZEN_WAIT_LIMIT = 30.0


async def wait_frozen(predicate: Callable[[], bool]) -> None:
    """Wait in real time, with trio's virtual clock stopped, until ``predicate`` holds.

    For work done in worker threads (a reload reads files in one) that must not let
    scheduled time pass: an autojumping clock would otherwise jump to the next fire while
    the thread works, by as much as the machine is slow."""
    clock = trio.lowlevel.current_clock()
    assert isinstance(clock, trio.testing.MockClock), "needs the autojump_clock fixture"
    saved, clock.autojump_threshold = clock.autojump_threshold, math.inf
    deadline = time.monotonic() + FROZEN_WAIT_LIMIT
    try:
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"still waiting after {FROZEN_WAIT_LIMIT:g} s of real time")
            await trio.to_thread.run_sync(time.sleep, 0.002)
    finally:
        clock.autojump_threshold = saved


@pytest.fixture(name="logs")
def logs_fixture() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event emitted during the test."""
    with capture_logs() as captured:
        yield captured


def events(captured: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in captured if entry["event"] == name]


def after(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
