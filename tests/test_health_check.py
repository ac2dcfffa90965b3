"""``odek health``: its verdict and exit code for each state of the heartbeat, run as a real
subprocess against the test's ODEK_HOME; and the verdict's rules (:func:`evaluate`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from odek.health import HEARTBEAT_FILE, STALE_AFTER, Heartbeat, evaluate
from odek.health.check import TIMER_SLEEP_CAP
from odek.health.heartbeat import WRITE_INTERVAL, process_start
from odek.scheduler.timer import MAX_SLEEP
from odek.store.files import atomic_write


def beat(**changes: object) -> Heartbeat:
    """A heartbeat of this very process whose timer woke just now."""
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_start": process_start(os.getpid()),
        "started_at": now - timedelta(hours=1),
        "updated_at": now,
        "last_wake": now,
        "next_fire": now + timedelta(minutes=5),
        "jobs_loaded": 3,
        "runs_in_flight": 1,
    }
    return Heartbeat(**(fields | changes))  # type: ignore[arg-type]


def write(home: Path, heartbeat: Heartbeat) -> None:
    home.mkdir(mode=0o700, exist_ok=True)
    atomic_write(home / HEARTBEAT_FILE, msgspec.json.encode(heartbeat))


def odek_health(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odek", "health", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def dead_pid() -> int:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as child:
        child.wait()
    return child.pid


def test_no_heartbeat_is_unhealthy_and_says_so(odek_home: Path) -> None:
    result = odek_health()
    assert result.returncode == 1
    assert result.stdout.startswith("unhealthy:\n")
    assert "no heartbeat" in result.stdout
    assert str(odek_home / HEARTBEAT_FILE) in result.stdout
    assert not odek_home.exists()  # a health check creates nothing


def test_fresh_heartbeat_of_a_live_process_is_healthy(odek_home: Path) -> None:
    write(odek_home, beat())
    result = odek_health()
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"healthy: scheduler PID {os.getpid()} on ")
    assert "3 job(s) loaded, 1 run(s) in flight" in result.stdout


def test_stale_timer_is_unhealthy(odek_home: Path) -> None:
    write(odek_home, beat(last_wake=datetime.now(UTC) - timedelta(minutes=10)))
    result = odek_health()
    assert result.returncode == 1
    assert "the timer is stale: its last wake-up was at" in result.stdout
    assert "the limit is 120 s" in result.stdout


def test_dead_process_is_unhealthy(odek_home: Path) -> None:
    pid = dead_pid()
    write(odek_home, beat(pid=pid, pid_start=None))
    result = odek_health()
    assert result.returncode == 1
    assert f"the scheduler process (PID {pid}) is not running" in result.stdout


def test_restarting_actors_make_it_unhealthy(odek_home: Path) -> None:
    write(
        odek_home,
        beat(
            restarting=True,
            restarting_actors=["pool", "timer"],
            last_error="actor timer: RuntimeError: boom",
        ),
    )
    result = odek_health()
    assert result.returncode == 1
    assert (
        "the supervisor is restarting pool, timer after: actor timer: RuntimeError: boom"
        in result.stdout
    )


def test_json_output_carries_the_verdict_and_the_heartbeat(odek_home: Path) -> None:
    write(odek_home, beat(last_wake=datetime.now(UTC) - timedelta(minutes=10)))
    result = odek_health("--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert len(document["reasons"]) == 1
    assert document["reasons"][0].startswith("the timer is stale")
    assert document["heartbeat"]["pid"] == os.getpid()
    assert document["heartbeat"]["jobs_loaded"] == 3


def test_unreadable_heartbeat_is_unhealthy_with_the_reason(odek_home: Path) -> None:
    odek_home.mkdir(mode=0o700)
    (odek_home / HEARTBEAT_FILE).write_text("{not json")
    result = odek_health()
    assert result.returncode == 1
    assert "cannot read the heartbeat" in result.stdout
    assert "not a heartbeat" in result.stdout


# The rules, without a subprocess.

NOW = datetime(2026, 6, 4, 10, 0, tzinfo=UTC)


def test_a_pid_now_owned_by_another_process_is_not_the_scheduler() -> None:
    own_start = process_start(os.getpid())
    if own_start is None:
        pytest.skip("no /proc here")
    report = evaluate(beat(pid_start=own_start - 1, last_wake=NOW), NOW)
    assert report.ok is False
    assert report.reasons == [
        f"the scheduler process (PID {os.getpid()}) is not running: "
        f"that PID now belongs to another process"
    ]


def test_the_pid_of_another_host_is_not_looked_up() -> None:
    """A heartbeat written in another container names a PID of another namespace."""
    report = evaluate(beat(pid=dead_pid(), host="another-container", last_wake=NOW), NOW)
    assert report.ok is True


def test_staleness_begins_just_past_the_limit() -> None:
    fresh = evaluate(beat(last_wake=NOW - timedelta(seconds=STALE_AFTER)), NOW)
    stale = evaluate(beat(last_wake=NOW - timedelta(seconds=STALE_AFTER + 1)), NOW)
    assert (fresh.ok, stale.ok) == (True, False)


def test_a_wake_up_in_the_future_counts_as_fresh() -> None:
    assert evaluate(beat(last_wake=NOW + timedelta(hours=1)), NOW).ok is True


def test_a_scheduler_whose_timer_never_woke_is_starting_then_stale() -> None:
    starting = evaluate(beat(started_at=NOW - timedelta(seconds=5), last_wake=None), NOW)
    assert starting.reasons == ["the scheduler is starting: its timer has not woken yet"]
    stuck = evaluate(beat(started_at=NOW - timedelta(minutes=5), last_wake=None), NOW)
    assert stuck.reasons[0].startswith("the timer has not woken once since the scheduler started")


def test_stale_limit_covers_the_timer_sleep_cap_and_the_write_interval() -> None:
    assert TIMER_SLEEP_CAP == MAX_SLEEP
    assert STALE_AFTER > TIMER_SLEEP_CAP + WRITE_INTERVAL
