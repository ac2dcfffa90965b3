"""``odek schedule daemon`` as a real process: SIGTERM drain, single instance, SIGKILL.

Each test runs the real daemon (``sys.executable -m odek``) on a temporary ODEK_HOME with
the real headless runner talking to the fake OpenAI server on loopback, and jobs that
deliver to ``log`` (``ODEK_HOME/schedule.log``). Jobs are made due at start-up with
catch-up (a stored next fire in the past), so no test waits for a minute to turn.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.openai import FakeOpenAI, answer, hang
from fakes.scheduler import make_job

from odek.scheduler import read_history
from odek.store import JobStore, RunState

WAIT = 20.0


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def environment(home: Path, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODEK_")}
    env.update(
        ODEK_HOME=str(home),
        HOME=str(home.parent),
        ODEK_BASE_URL=fake.url,
        ODEK_API_KEY="sk-test-key",
        ODEK_MODEL="fake-model",
        ODEK_LOG_FORMAT="json",
        ODEK_SCHEDULES_DRAIN_TIMEOUT="1s",
        **extra,
    )
    return env


def start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "odek", "schedule", "daemon"],
        cwd=home.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def due_now(home: Path, *job_ids: str) -> None:
    """Add daily jobs with catch-up whose stored next fire (today 00:00) has passed."""
    store = JobStore(home)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for job_id in job_ids:
        store.add(make_job(job_id, "0 0 * * *", catchup=True))
        store.update_states(
            {job_id: RunState(job_id=job_id, next_run=midnight, sig="0 0 * * *|UTC")}
        )


def delivered_jobs(home: Path) -> list[str]:
    log = home / "schedule.log"
    text = log.read_text() if log.exists() else ""
    return [job_id for job_id in ("first", "second") for _ in range(text.count(f"({job_id})"))]


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=WAIT)
    return stdout, stderr


def check_files_intact(home: Path) -> None:
    json.loads((home / "schedules.json").read_text())
    json.loads((home / "schedule-state.json").read_text())
    for line in (home / "schedule-runs.jsonl").read_text().splitlines():
        json.loads(line)


def test_sigterm_drains_then_records_the_run_interrupted_and_exits_0(odek_home, fake_model):
    due_now(odek_home, "first")
    fake_model.push(hang())
    daemon = start_daemon(odek_home, environment(odek_home, fake_model))
    try:
        wait_for(lambda: len(fake_model.requests) == 1, "the run to reach the model")
        began = time.monotonic()
        _, stderr = stop(daemon)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, stderr
    assert time.monotonic() - began < 10  # the 1 s drain, not the hung run
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events.count("ready") == 1
    (run,) = read_history(odek_home, "first")
    assert (run.trigger, run.outcome) == ("catchup", "interrupted")
    state = JobStore(odek_home).load_states()["first"]
    assert state.last_status == "interrupted"
    assert state.next_run is not None
    assert state.next_run > datetime.now(UTC)
    check_files_intact(odek_home)


def test_second_daemon_is_refused_while_the_first_runs(odek_home, fake_model):
    env = environment(odek_home, fake_model)
    first = start_daemon(odek_home, env)
    try:
        wait_for(lambda: (odek_home / "schedule-status.json").exists(), "the first daemon")
        second = subprocess.run(
            [sys.executable, "-m", "odek", "schedule", "daemon"],
            cwd=odek_home.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert second.returncode == 1
        assert f"already running (PID {first.pid})" in second.stderr
        _, stderr = stop(first)
        assert first.returncode == 0, stderr
    finally:
        first.kill()


def test_sigkill_during_runs_loses_no_file_and_delivers_nothing_twice(odek_home, fake_model):
    due_now(odek_home, "first", "second")
    fake_model.push(answer("the answer"), hang())
    env = environment(odek_home, fake_model)
    daemon = start_daemon(odek_home, env)
    try:
        wait_for(lambda: len(delivered_jobs(odek_home)) == 1, "one delivery")
        wait_for(lambda: len(fake_model.requests) == 2, "the second run to reach the model")
        stop(daemon, signal.SIGKILL)
    finally:
        daemon.kill()
    (done,) = delivered_jobs(odek_home)
    (cut,) = {"first", "second"} - {done}
    check_files_intact(odek_home)

    fake_model.push(answer("the answer again"))
    daemon = start_daemon(odek_home, env)
    try:
        wait_for(lambda: len(delivered_jobs(odek_home)) == 2, "the caught-up run")
        _, stderr = stop(daemon)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, stderr
    assert sorted(delivered_jobs(odek_home)) == ["first", "second"]  # each exactly once
    assert [run.outcome for run in read_history(odek_home, done)] == ["ok"]
    interrupted, rerun = read_history(odek_home, cut)
    assert (interrupted.outcome, rerun.outcome) == ("interrupted", "ok")
    assert interrupted.nominal == rerun.nominal
    assert len(fake_model.requests) == 3
    check_files_intact(odek_home)


def test_manual_run_is_recorded_and_refused_while_the_job_runs(odek_home, fake_model):
    JobStore(odek_home).add(make_job("first", "0 0 1 1 *"))
    env = environment(odek_home, fake_model)
    fake_model.push(answer("manual answer"))
    done = subprocess.run(
        [sys.executable, "-m", "odek", "schedule", "run", "first"],
        cwd=odek_home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    assert delivered_jobs(odek_home) == ["first"]
    (run,) = read_history(odek_home, "first")
    assert (run.trigger, run.outcome, run.delivery) == ("manual", "ok", "delivered")
    assert JobStore(odek_home).load_states()["first"].last_status == "ok"

    history = subprocess.run(
        [sys.executable, "-m", "odek", "schedule", "history", "first", "--json"],
        cwd=odek_home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert history.returncode == 0, history.stderr
    (shown,) = json.loads(history.stdout)
    assert (shown["trigger"], shown["outcome"]) == ("manual", "ok")
    assert shown["result_preview"] == "manual answer"

    # While the daemon runs the job (its run hangs), a manual run is refused.
    state = {
        "first": RunState(
            job_id="first", next_run=datetime.now(UTC) - timedelta(hours=1), sig="0 0 1 1 *|UTC"
        )
    }
    JobStore(odek_home).update("first", catchup=True)
    JobStore(odek_home).update_states(state)
    fake_model.push(hang())
    daemon = start_daemon(odek_home, env)
    try:
        wait_for(lambda: len(fake_model.requests) == 2, "the daemon's run")
        refused = subprocess.run(
            [sys.executable, "-m", "odek", "schedule", "run", "first"],
            cwd=odek_home.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        stop(daemon)
    finally:
        daemon.kill()
    assert refused.returncode == 1
    assert "is running right now" in refused.stderr


def test_a_result_whose_delivery_failed_is_kept_and_redelivered_once(odek_home, fake_model):
    JobStore(odek_home).add(make_job("first", "0 0 1 1 *"))
    env = environment(odek_home, fake_model)

    def odek(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "odek", "schedule", *args],
            cwd=odek_home.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )

    # A directory where the log file should be makes every log delivery fail.
    (odek_home / "schedule.log").mkdir()
    fake_model.push(answer("the kept answer"))
    failed = odek("run", "first")
    assert failed.returncode == 1
    assert "not delivered" in failed.stderr
    (run,) = read_history(odek_home, "first")
    assert (run.outcome, run.delivery, run.result) == ("error", "failed", "the kept answer")
    assert run.error.startswith("delivery: ")

    (odek_home / "schedule.log").rmdir()
    redelivered = odek("redeliver", "first")
    assert redelivered.returncode == 0, redelivered.stderr
    assert delivered_jobs(odek_home) == ["first"]
    assert "the kept answer" in (odek_home / "schedule.log").read_text()
    (run,) = read_history(odek_home, "first")
    assert (run.outcome, run.delivery, run.error) == ("ok", "delivered", "")
    assert JobStore(odek_home).load_states()["first"].last_status == "ok"

    # Nothing is left to send: a second redeliver is refused and sends nothing.
    again = odek("redeliver", "first")
    assert again.returncode == 2
    assert "no run whose result is waiting to be delivered" in again.stderr
    assert delivered_jobs(odek_home) == ["first"]
