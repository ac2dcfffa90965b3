"""The missed-run policy: what to do about fires that passed while odek was not watching.

Used once at start (fires missed while the service was down) and by the timer whenever it
wakes up long after a fire (a suspended machine, a wall clock stepped forward). A job with
catch-up (``job.catchup`` or ``schedules.catchup``) runs once, for the latest missed fire,
however many were missed, but only if that fire is at most ``schedules.catchup_window``
old; otherwise the miss is recorded ``skipped: missed``. A job's next fire is stored as
soon as it is scheduled, so a job that never ran can catch up too; a job that is disabled
has its stored next fire cleared, so enabling it again is not a miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from odek.errors import InputError
from odek.scheduler.journal import RunEntry
from odek.scheduler.table import Compiled, Compiler, Entry, next_fire
from odek.store import Job, JobsSnapshot, RunState

__all__ = ["Missed", "StartPlan", "latest_missed", "plan_start"]

TINY = timedelta(microseconds=1)


def latest_missed(
    compiled: Compiled, first: datetime, now: datetime, window: timedelta
) -> datetime | None:
    """The latest fire in ``[first, now]`` that is at most ``window`` old at ``now``
    (``first`` being a fire), or ``None`` when there is none."""
    oldest = now - window
    fire = first if first >= oldest else next_fire(compiled, oldest - TINY)
    if fire > now:
        return None
    while (following := next_fire(compiled, fire)) <= now:
        fire = following
    return fire


@dataclass(frozen=True, slots=True)
class Missed:
    """A job's fire at ``nominal`` was missed; ``catch_up`` says whether to run it now."""

    job: Job
    nominal: datetime
    catch_up: bool


@dataclass(slots=True)
class StartPlan:
    """What the service does when it starts: the table's entries, the next fires to store
    (``fresh``: ids whose stored ``next_run`` changed), the misses, the catch-up runs of
    interrupted runs, the jobs to unschedule in the state file, and the jobs that could
    not be scheduled, with why."""

    entries: list[Entry] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)
    rerun: list[tuple[Job, datetime]] = field(default_factory=list)
    unscheduled: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)


def plan_start(
    snapshot: JobsSnapshot,
    states: dict[str, RunState],
    interrupted: list[RunEntry],
    journaled: Mapping[str, datetime],
    now: datetime,
    *,
    default_zone: str,
    catchup: bool,
    window: float,
) -> StartPlan:
    """Decide, for every job of ``snapshot``, its next fire and what happens to the fires it
    missed while odek was down.

    A stored ``next_run`` counts only when its signature (cron and effective zone) is the
    job's current one, and is moved past the latest nominal time the run journal has for
    the job (``journaled``); a future one is kept as is. A run that was interrupted is run
    again only with catch-up, within the window, and if no catch-up run is due anyway.
    """
    plan = StartPlan(invalid=dict(snapshot.invalid))
    span = timedelta(seconds=window)
    interrupted_by_job: dict[str, datetime] = {}
    for run in interrupted:
        interrupted_by_job[run.job] = max(run.nominal, interrupted_by_job.get(run.job, run.nominal))
    compile_job = Compiler(default_zone)
    for job in snapshot.jobs:
        if not job.id or job.id in snapshot.invalid:
            continue
        state = states.get(job.id)
        if not job.enabled:
            if state is not None and state.next_run is not None:
                plan.unscheduled.append(job.id)
            continue
        try:
            compiled = compile_job(job)
        except InputError as exc:
            plan.invalid[job.id] = str(exc)
            continue
        stored = state.next_run if state is not None and state.sig == compiled.sig else None
        reached = journaled.get(job.id)
        if stored is not None and reached is not None and reached >= stored:
            # The journal saw this fire (the state file is written in batches, so a crash
            # can leave its next_run behind): the next fire is the one after it.
            stored = next_fire(compiled, reached)
        wants_catchup = job.catchup or catchup
        if stored is not None and stored > now:
            plan.entries.append(Entry(job, compiled, stored))
        else:
            plan.entries.append(Entry(job, compiled, next_fire(compiled, now)))
            plan.fresh.append(job.id)
            if stored is not None:
                latest = latest_missed(compiled, stored, now, span) if wants_catchup else None
                plan.missed.append(Missed(job, latest or stored, latest is not None))
                if latest is not None:
                    continue  # the catch-up run covers an interrupted run too
        nominal = interrupted_by_job.get(job.id)
        if wants_catchup and nominal is not None and now - nominal <= span:
            plan.rerun.append((job, nominal))
    return plan
