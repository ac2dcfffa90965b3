"""``odek health [--json]``: is the scheduler up and is its timer turning?

Reads ``ODEK_HOME/schedule-heartbeat.json`` (written by the running scheduler) and judges
it (:func:`odek.health.check_health`). Exit 0 when healthy, 1 otherwise; the output says
why, on standard output, so that ``docker inspect`` shows it under the health log. It is
the image's ``HEALTHCHECK``, so it stays cheap: no network, no HTTP server, no
prometheus-client.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import msgspec

from odek.health.check import STALE_AFTER, HealthReport, check_health
from odek.health.heartbeat import iso_utc
from odek.home import odek_home

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``odek health`` to the root's sub-parsers."""
    parser = commands.add_parser(
        "health",
        help="say whether the scheduler is up and its timer fresh (exit 0) or why not (exit 1)",
        description="Check the scheduler's heartbeat in ODEK_HOME: healthy (exit 0) when "
        "its process runs, its timer woke within the last "
        f"{STALE_AFTER:g} s and no actor is being restarted; otherwise exit 1 and say why.",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"ok": ..., "reasons": [...], "checked_at": ..., "heartbeat": {...}}',
    )
    parser.set_defaults(handler=_health)


def _health(args: argparse.Namespace) -> int:
    report = check_health(odek_home(create=False), datetime.now(UTC))
    if args.json:
        print(msgspec.json.encode(report).decode())
    else:
        print(describe(report))
    return EXIT_HEALTHY if report.ok else EXIT_UNHEALTHY


def describe(report: HealthReport) -> str:
    """``report`` as text: one ``healthy: ...`` line, or ``unhealthy:`` and a line per
    reason."""
    beat = report.heartbeat
    # A healthy report always has a heartbeat with a wake-up; the test narrows the types.
    if not report.ok or beat is None or beat.last_wake is None:
        return "\n".join(["unhealthy:", *(f"  - {reason}" for reason in report.reasons)])
    now = report.checked_at
    parts = [
        f"scheduler PID {beat.pid} on {beat.host}, up since {iso_utc(beat.started_at)}",
        f"timer woke {max(0.0, (now - beat.last_wake).total_seconds()):.0f} s ago",
        f"{beat.jobs_loaded} job(s) loaded, {beat.runs_in_flight} run(s) in flight",
        f"next fire {iso_utc(beat.next_fire) if beat.next_fire else 'none'}",
    ]
    if beat.last_error:
        parts.append(f"last actor error: {beat.last_error}")
    return "healthy: " + "; ".join(parts)
