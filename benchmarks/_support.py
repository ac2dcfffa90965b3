"""Shared pieces of the scheduler benchmarks (this module measures nothing itself).

- :func:`job_mix` builds a realistic, fixed (seeded) set of jobs: a spread of cron
  expressions (dense, business hours, daily, weekly, monthly, sparse) in a dozen zones
  and the default one, tasks of assorted length, every delivery kind, some with catch-up,
  a few disabled;
- :func:`write_jobs` writes them to ``schedules.json`` in the store's own format in one go
  (``JobStore.add`` rewrites the file per job, which would make the set-up quadratic);
- :class:`NoopRunner` / :class:`NoopDeliverer` are the scheduler's edge doing nothing;
- :func:`rss_mb` / :func:`cpu_seconds` read the process's figures from ``/proc``;
- :func:`verdict` / :func:`row` print a figure with its target in brackets and a mark.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import msgspec

from odek.protocols import RunOutcome
from odek.store import Delivery, Job
from odek.store.jobs import JOBS_FILE

ZONES = (
    "",
    "",
    "",
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
)
"""Job zones; "" (the configured default) three times as often as any other."""

_TASK_TEXT = (
    "summarise the overnight alerts from the payments cluster and list anything that still "
    "needs a human check the latest release notes of our dependencies and flag breaking "
    "changes draft a short status note for the team channel about open incidents and "
    "on call handover compare yesterday's sales with the weekly average"
)
WORDS = tuple(_TASK_TEXT.split())


def cron_mix(rng: random.Random) -> str:
    """One cron expression drawn from a realistic spread of kinds."""
    minute, hour = rng.randrange(60), rng.randrange(24)
    kind = rng.random()
    if kind < 0.05:
        return f"*/{rng.choice((1, 2, 5, 10, 15, 30))} * * * *"
    if kind < 0.15:
        return f"{minute} * * * *"
    if kind < 0.45:
        return f"{minute} {hour} * * *"
    if kind < 0.65:
        return f"{minute} {rng.randrange(7, 10)} * * 1-5"
    if kind < 0.75:
        return (
            f"*/{rng.choice((15, 20, 30))} {rng.randrange(6, 10)}-{rng.randrange(16, 20)} * * 1-5"
        )
    if kind < 0.85:
        return f"{minute} {hour} * * {rng.choice(('mon', 'fri', '0', '3', '1,3,5'))}"
    if kind < 0.95:
        return f"{minute} {hour} {rng.randrange(1, 29)} * *"
    day, month = rng.choice(("1", "15", "31", "29")), rng.choice(("*", "1", "*/3"))
    return f"{minute} {hour} {day} {month} *"


def job_mix(count: int, *, seed: int = 20260101) -> list[Job]:
    """``count`` jobs with ids ``bench-<n>`` (see the module docstring)."""
    rng = random.Random(seed)
    created = datetime(2025, 12, 1, tzinfo=UTC)
    jobs = []
    for index in range(count):
        kind = rng.random()
        deliver = (
            Delivery("telegram", rng.randrange(10_000, 10**10))
            if kind < 0.6
            else Delivery("log")
            if kind < 0.9
            else Delivery("stdout")
        )
        task = " ".join(rng.choices(WORDS, k=rng.randrange(6, 30)))
        jobs.append(
            Job(
                id=f"bench-{index:06d}",
                name=" ".join(task.split()[:6]),
                cron=cron_mix(rng),
                task=task,
                deliver=deliver,
                enabled=rng.random() > 0.03,
                catchup=rng.random() < 0.1,
                timezone=rng.choice(ZONES),
                created_at=created,
            )
        )
    return jobs


def write_jobs(home: Path, jobs: list[Job]) -> int:
    """Write ``jobs`` as ``home/schedules.json`` (the store's layout: version 1, two-space
    indent, mode 0600); returns the file's size in bytes."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = msgspec.json.format(msgspec.json.encode({"version": 1, "jobs": jobs}), indent=2)
    path = home / JOBS_FILE
    path.write_bytes(data + b"\n")
    path.chmod(0o600)
    return path.stat().st_size


class ShiftedClock:
    """The system's wall clock moved by a constant offset: it advances in real time (the
    scheduler sleeps on the real monotonic clock), only its phase is chosen, so that a
    minute boundary comes when the benchmark wants it instead of after up to a minute."""

    def __init__(self, offset: float) -> None:
        self.offset = timedelta(seconds=offset)

    @classmethod
    def boundary_in(cls, seconds: float) -> ShiftedClock:
        """A clock on which the next minute boundary is ``seconds`` (< 60) from now."""
        now = datetime.now(UTC)
        target = now + timedelta(seconds=seconds)
        boundary = target.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return cls((boundary - target).total_seconds())

    def now(self) -> datetime:
        """The system's time plus the offset."""
        return datetime.now(UTC) + self.offset


@dataclass
class NoopRunner:
    """A runner that answers at once; ``started`` holds (job id, nominal, monotonic start)
    for every call, and ``on_start`` is called with the count after each one."""

    clock: Callable[[], float]
    started: list[tuple[str, datetime, float]] = field(default_factory=list)
    on_start: Callable[[int], None] = lambda count: None

    async def run(self, job: Job, *, nominal: datetime) -> RunOutcome:
        self.started.append((job.id, nominal, self.clock()))
        self.on_start(len(self.started))
        return RunOutcome("done", tokens=1)


@dataclass
class NoopDeliverer:
    """A deliverer that sends nowhere; ``on_deliver`` is called with the count after each."""

    count: int = 0
    on_deliver: Callable[[int], None] = lambda count: None

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        self.count += 1
        self.on_deliver(self.count)


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MiB (``VmRSS``, ``VmHWM``)."""
    figures: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) / 1024
    return figures["VmRSS"], figures["VmHWM"]


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of ``pid`` so far, from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def children_cpu_seconds() -> float:
    """CPU time of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def temporary_home() -> Iterator[Path]:
    """A fresh ODEK_HOME (mode 0700) that is removed afterwards; ``ODEK_HOME`` points to it."""
    with tempfile.TemporaryDirectory(prefix="odek-bench-") as parent:
        home = Path(parent) / "home"
        home.mkdir(mode=0o700)
        old = os.environ.get("ODEK_HOME")
        os.environ["ODEK_HOME"] = str(home)
        try:
            yield home
        finally:
            if old is None:
                os.environ.pop("ODEK_HOME", None)
            else:
                os.environ["ODEK_HOME"] = old


@contextmanager
def logs_to(path: Path) -> Iterator[TextIO]:
    """Send odek's structlog output (JSON, level info, as the daemon's) to ``path`` instead
    of the terminal, so the benchmark pays for logging as the daemon does."""
    from odek.logs import configure_logging

    saved = sys.stderr
    with open(path, "a", encoding="utf-8") as stream:
        sys.stderr = stream
        try:
            configure_logging(fmt="json", level="info")
            yield stream
        finally:
            sys.stderr = saved


def verdict(ok: bool) -> str:
    """The pass/fail mark."""
    return "PASS" if ok else "FAIL"


def row(label: str, value: float, unit: str, target: float, *, digits: int = 3) -> bool:
    """Print ``label  value unit  [<= target unit]  PASS|FAIL``; returns whether it passed."""
    ok = value <= target
    print(f"  {label:<44} {value:10.{digits}f} {unit:<4} [<= {target:g} {unit}]  {verdict(ok)}")
    return ok


def ratio(label: str, ours: float, peer: float, peer_name: str) -> None:
    """Print how many times the peer's figure ours is."""
    times = ours / peer if peer else float("inf")
    print(f"  {label:<44} {times:10.2f} x    ({peer_name})")


def summary(results: list[bool]) -> int:
    """Print the overall mark; the exit status (0 when every target was met)."""
    ok = all(results)
    print(f"\n  overall: {verdict(ok)} ({sum(results)}/{len(results)} targets met)")
    return 0 if ok else 1
