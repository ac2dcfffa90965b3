"""The run journal: group commit, crash recovery, history and compaction; the locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from odek.errors import LockHeldError
from odek.scheduler import DaemonLock, read_history
from odek.scheduler import journal as journal_module
from odek.scheduler.journal import (
    HISTORY_LIMIT,
    JOURNAL_FILE,
    Delivered,
    Delivering,
    Finish,
    Intent,
    Journal,
    Skip,
    append_records,
    recover,
)
from odek.scheduler.running import JobRunLock

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def intent(run: str, job: str = "jb-1", minutes: int = 0) -> Intent:
    at = T0 + timedelta(minutes=minutes)
    return Intent(run, job, at, "scheduled", at)


@pytest.mark.anyio
async def test_group_commit_makes_many_records_durable_with_few_fsyncs(odek_home, monkeypatch):
    fsyncs = 0
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", counting_fsync)
    journal = Journal(odek_home)
    async with anyio.create_task_group() as tg:
        await tg.start(journal.run)

        async def writer(n: int) -> None:
            await journal.write(intent(f"run-{n}", job=f"jb-{n % 100}"))

        async with anyio.create_task_group() as writers:
            for n in range(10_000):
                writers.start_soon(writer, n)
        tg.cancel_scope.cancel()
    lines = (odek_home / JOURNAL_FILE).read_bytes().splitlines()
    assert len(lines) == 10_000
    assert fsyncs <= 10


def test_recovery_marks_unfinished_runs_interrupted_and_unconfirmed_sends_failed(odek_home):
    append_records(
        odek_home,
        [
            intent("run-done"),
            Finish("run-done", "jb-1", "ok", T0, result="all good"),
            Delivering("run-done", T0),
            Delivered("run-done", T0),
            intent("run-cut", minutes=1),
            intent("run-sending", minutes=2),
            Finish("run-sending", "jb-1", "ok", T0, result="maybe sent"),
            Delivering("run-sending", T0),
        ],
    )
    with open(odek_home / JOURNAL_FILE, "ab") as f:
        f.write(b'{"t":"finish","run":"run-cut","jo')  # a write cut short by SIGKILL
    found = recover(odek_home, T0 + timedelta(hours=1))

    assert [run.run for run in found.interrupted] == ["run-cut"]
    assert [run.run for run in found.unconfirmed] == ["run-sending"]
    runs = {run.run: run for run in read_history(odek_home, "jb-1")}
    assert (runs["run-done"].outcome, runs["run-done"].delivery) == ("ok", "delivered")
    assert runs["run-cut"].outcome == "interrupted"
    assert runs["run-sending"].outcome == "error"
    assert runs["run-sending"].delivery == "unconfirmed"
    assert runs["run-sending"].error.startswith("delivery: unconfirmed")
    assert runs["run-sending"].result == "maybe sent"
    # Recovering again finds nothing left open; the partial line is gone.
    assert recover(odek_home, T0 + timedelta(hours=2)).interrupted == []
    assert (odek_home / JOURNAL_FILE).read_bytes().endswith(b"\n")


def test_recovery_leaves_runs_of_a_live_process_alone(odek_home):
    append_records(odek_home, [intent("run-live")])
    found = recover(odek_home, T0, is_live=lambda job_id: job_id == "jb-1")
    assert found.interrupted == []
    assert read_history(odek_home, "jb-1")[0].outcome == ""


def test_compaction_keeps_the_last_runs_of_each_job(odek_home, monkeypatch):
    monkeypatch.setattr(journal_module, "COMPACT_EVERY", 10)
    records = []
    for n in range(HISTORY_LIMIT + 20):
        records.append(intent(f"run-{n}", minutes=n))
        records.append(Finish(f"run-{n}", "jb-1", "ok", T0, result="x" * 1000))
        records.append(Delivering(f"run-{n}", T0))
        records.append(Delivered(f"run-{n}", T0))
    records.append(Skip("run-other", "jb-2", T0, "scheduled", T0, "missed"))
    append_records(odek_home, records)
    recover(odek_home, T0)

    history = read_history(odek_home, "jb-1")
    assert [run.run for run in history] == [f"run-{n}" for n in range(20, HISTORY_LIMIT + 20)]
    assert all(run.result == "x" * 280 + "…" for run in history)
    assert [run.error for run in read_history(odek_home, "jb-2")] == ["missed"]
    assert len((odek_home / JOURNAL_FILE).read_bytes().splitlines()) == HISTORY_LIMIT + 1


def test_second_daemon_lock_is_refused_with_the_holders_pid(odek_home):
    with DaemonLock.acquire(odek_home), pytest.raises(LockHeldError) as refused:
        DaemonLock.acquire(odek_home)
    assert refused.value.pid == os.getpid()
    assert f"already running (PID {os.getpid()})" in str(refused.value)
    DaemonLock.acquire(odek_home).release()  # free again once released


def test_lock_of_a_killed_process_never_blocks(odek_home: Path):
    code = (
        "import sys, time; from pathlib import Path; from odek.scheduler import DaemonLock;"
        "DaemonLock.acquire(Path(sys.argv[1])); print('locked', flush=True); time.sleep(60)"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(odek_home)], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(LockHeldError):
            DaemonLock.acquire(odek_home)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (odek_home / "schedule.lock").read_text().strip() == str(holder.pid)
    DaemonLock.acquire(odek_home).release()


@pytest.mark.parametrize("byte_range", [True, False], ids=["byte-range", "file-per-job"])
def test_job_run_lock_is_exclusive_per_job(odek_home, monkeypatch, byte_range):
    if byte_range and not JobRunLock.byte_range:
        pytest.skip("no open-file-description locks on this system")
    monkeypatch.setattr(JobRunLock, "byte_range", byte_range)
    lock = JobRunLock.try_acquire(odek_home, "jb-1")
    assert lock is not None
    assert JobRunLock.try_acquire(odek_home, "jb-1") is None
    assert JobRunLock.is_held(odek_home, "jb-1")
    with JobRunLock.try_acquire(odek_home, "jb-2") as other:
        assert other is not None
        assert JobRunLock.is_held(odek_home, "jb-2")
    assert not JobRunLock.is_held(odek_home, "jb-2")
    assert JobRunLock.path(odek_home, "jb-1").exists()
    lock.release()
    assert not JobRunLock.is_held(odek_home, "jb-1")
