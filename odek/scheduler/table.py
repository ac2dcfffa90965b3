"""The schedule table: every enabled job's compiled schedule and next fire, in a heap.

Owned by the service, not by the timer actor, so a restarted timer finds every next fire
where its predecessor left it: a crash never loses or repeats a fire.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from odek.cron import CronExpr, load_zone, parse
from odek.store import Job

__all__ = [
    "Compiled",
    "Compiler",
    "Entry",
    "ScheduleTable",
    "compile_job",
    "next_fire",
    "signature",
]

ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A job's parsed expression, its effective zone and its schedule signature."""

    expr: CronExpr
    zone: ZoneInfo
    sig: str


def signature(job: Job, default_zone: str) -> str:
    """``cron|zone`` with the zone the job actually fires in: a change of the default zone
    (``schedules.timezone``) changes the signature of the jobs that use it."""
    return f"{job.cron.strip()}|{job.timezone or default_zone}"


def compile_job(job: Job, default_zone: str) -> Compiled:
    """Parse ``job``'s cron in its zone (``job.timezone`` or ``default_zone``). Raises
    :class:`odek.errors.CronError` or :class:`odek.errors.UnknownTimeZoneError`."""
    return Compiled(
        parse(job.cron), load_zone(job.timezone or default_zone), signature(job, default_zone)
    )


class Compiler:
    """:func:`compile_job` for many jobs at once (start-up, a reload): jobs with the same
    signature share one :class:`Compiled`, so each distinct cron and zone is parsed once
    and held once in memory. Errors are raised as by :func:`compile_job`, every time."""

    def __init__(self, default_zone: str) -> None:
        self.default_zone = default_zone
        self._compiled: dict[str, Compiled] = {}

    def __call__(self, job: Job) -> Compiled:
        """The compiled schedule of ``job``."""
        sig = signature(job, self.default_zone)
        compiled = self._compiled.get(sig)
        if compiled is None:
            compiled = self._compiled[sig] = compile_job(job, self.default_zone)
        return compiled


def next_fire(compiled: Compiled, after: datetime) -> datetime:
    """The first fire strictly after ``after``.

    ``CronExpr.next_after`` promises that; the guard makes a broken promise cost a skipped
    minute instead of a fire that repeats forever (odek's fold bug).
    """
    fire = compiled.expr.next_after(after, compiled.zone)
    if fire <= after:
        fire = compiled.expr.next_after(after + ONE_MINUTE, compiled.zone)
    return fire


@dataclass(slots=True)
class Entry:
    """One scheduled job: its definition, compiled schedule and next fire."""

    job: Job
    compiled: Compiled
    next: datetime
    seq: int = 0


class ScheduleTable:
    """Enabled jobs by id, with a heap ordered by next fire.

    The heap holds ``(timestamp, seq, job id)``; an item is current only while its ``seq``
    is the entry's, so rescheduling or removing a job never needs a heap search.
    """

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self.entries

    def get(self, job_id: str) -> Entry | None:
        """The entry of ``job_id``, if scheduled."""
        return self.entries.get(job_id)

    def schedule(self, job: Job, compiled: Compiled, at: datetime) -> Entry:
        """Make ``at`` the next fire of ``job`` (adding or replacing its entry)."""
        entry = Entry(job, compiled, at, next(self._seq))
        self.entries[job.id] = entry
        heapq.heappush(self._heap, (at.timestamp(), entry.seq, job.id))
        return entry

    def bulk_load(self, entries: list[Entry]) -> None:
        """Replace the table with ``entries`` in one heapify (start-up of many jobs)."""
        self.entries = {}
        for entry in entries:
            entry.seq = next(self._seq)
            self.entries[entry.job.id] = entry
        self._heap = [(e.next.timestamp(), e.seq, e.job.id) for e in self.entries.values()]
        heapq.heapify(self._heap)

    def remove(self, job_id: str) -> Entry | None:
        """Stop scheduling ``job_id``; returns its entry if it had one."""
        return self.entries.pop(job_id, None)

    def earliest(self) -> datetime | None:
        """The earliest next fire, or ``None`` with no jobs."""
        while self._heap:
            _, seq, job_id = self._heap[0]
            entry = self.entries.get(job_id)
            if entry is not None and entry.seq == seq:
                return entry.next
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: datetime) -> Entry | None:
        """Take out the earliest entry whose next fire is at or before ``now``, if any.

        It stays in the table but leaves the heap: the caller must :meth:`schedule` it again
        (without awaiting in between, so that no cancellation can come between the two)."""
        limit = now.timestamp()
        while self._heap and self._heap[0][0] <= limit:
            _, seq, job_id = heapq.heappop(self._heap)
            entry = self.entries.get(job_id)
            if entry is not None and entry.seq == seq:
                return entry
        return None
