"""Judging a heartbeat: is the scheduler up, and is its timer turning?

The scheduler is healthy when its heartbeat exists, its process is alive, its timer woke
within ``stale_after`` seconds, and no actor is being restarted. The timer wakes at least
every :data:`TIMER_SLEEP_CAP` seconds even with nothing to fire, and the heartbeat records
a wake-up at most :data:`odek.health.heartbeat.WRITE_INTERVAL` seconds late, so
:data:`STALE_AFTER` leaves a margin over both for a loaded machine.
"""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import msgspec

from odek.errors import OdekError
from odek.health.heartbeat import (
    HEARTBEAT_FILE,
    Heartbeat,
    iso_utc,
    pid_alive,
    process_start,
    read_heartbeat,
)

__all__ = ["STALE_AFTER", "TIMER_SLEEP_CAP", "HealthReport", "check_health", "evaluate"]

TIMER_SLEEP_CAP = 60.0
"""The timer's longest sleep (``odek.scheduler.timer.MAX_SLEEP``), in seconds."""
STALE_AFTER = 120.0
"""A timer whose last wake-up is older than this many seconds is stale."""


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict: ``ok``, else the ``reasons`` (one sentence each), and the heartbeat it
    was drawn from (``None`` when there was none)."""

    ok: bool
    reasons: list[str]
    checked_at: datetime
    heartbeat: Heartbeat | None


def check_health(home: Path, now: datetime, *, stale_after: float = STALE_AFTER) -> HealthReport:
    """Judge the heartbeat file in ``home`` at ``now`` (aware); see :func:`evaluate`. A
    missing or unreadable file is unhealthy, with the reason."""
    try:
        beat = read_heartbeat(home)
    except OdekError as exc:
        return HealthReport(
            ok=False, reasons=[f"cannot read the heartbeat: {exc}"], checked_at=now, heartbeat=None
        )
    if beat is None:
        reason = (
            f"no heartbeat ({home / HEARTBEAT_FILE} does not exist): no scheduler has run "
            f"with this ODEK_HOME"
        )
        return HealthReport(ok=False, reasons=[reason], checked_at=now, heartbeat=None)
    return evaluate(beat, now, stale_after=stale_after)


def evaluate(beat: Heartbeat, now: datetime, *, stale_after: float = STALE_AFTER) -> HealthReport:
    """Judge ``beat`` at ``now`` (aware). Unhealthy when its process is gone (checked only
    on the host that wrote it: another container has its own PIDs), when the timer has not
    woken for more than ``stale_after`` seconds (or not at all since start), or when the
    supervisor is restarting actors. A wake-up in the future (a clock stepped back) counts
    as fresh."""
    reasons: list[str] = []
    gone = _process_gone(beat)
    if gone:
        reasons.append(gone)
    else:
        if beat.last_wake is None:
            age = (now - beat.started_at).total_seconds()
            if age > stale_after:
                reasons.append(
                    f"the timer has not woken once since the scheduler started at "
                    f"{iso_utc(beat.started_at)} ({age:.0f} s ago; the limit is {stale_after:g} s)"
                )
            else:
                reasons.append("the scheduler is starting: its timer has not woken yet")
        else:
            age = (now - beat.last_wake).total_seconds()
            if age > stale_after:
                reasons.append(
                    f"the timer is stale: its last wake-up was at {iso_utc(beat.last_wake)} "
                    f"({age:.0f} s ago; the limit is {stale_after:g} s)"
                )
        if beat.restarting:
            actors = ", ".join(beat.restarting_actors) or "an actor"
            after = f" after: {beat.last_error}" if beat.last_error else ""
            reasons.append(f"the supervisor is restarting {actors}{after}")
    return HealthReport(ok=not reasons, reasons=reasons, checked_at=now, heartbeat=beat)


def _process_gone(beat: Heartbeat) -> str | None:
    if beat.host != socket.gethostname() or beat.pid <= 0:
        return None
    if not pid_alive(beat.pid):
        return f"the scheduler process (PID {beat.pid}) is not running"
    if beat.pid_start is not None:
        start = process_start(beat.pid)
        if start is not None and start != beat.pid_start:
            return (
                f"the scheduler process (PID {beat.pid}) is not running: "
                f"that PID now belongs to another process"
            )
    return None
