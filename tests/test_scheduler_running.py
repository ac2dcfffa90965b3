"""The pool's run locks: one shared description, still exclusive against every other."""

from __future__ import annotations

import subprocess
import sys

import pytest

from odek.scheduler.running import JobRunLock, RunLocks


@pytest.fixture(params=[True, False], ids=["byte-range", "file-per-job"])
def byte_range(request, monkeypatch):
    if request.param and not JobRunLock.byte_range:
        pytest.skip("no open-file-description locks on this system")
    monkeypatch.setattr(JobRunLock, "byte_range", request.param)
    return request.param


def held_elsewhere(home, job_id: str) -> bool:
    """Whether another process sees ``job_id``'s run lock as held."""
    code = f"from pathlib import Path; from odek.scheduler.running import JobRunLock as L; L.byte_range = {JobRunLock.byte_range}; print(L.is_held(Path({str(home)!r}), {job_id!r}))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_pool_locks_exclude_manual_runs_and_other_processes(odek_home, byte_range):
    with RunLocks(odek_home) as locks:
        first = locks.try_acquire("jb-1")
        second = locks.try_acquire("jb-2")
        assert first is not None
        assert second is not None
        assert JobRunLock.try_acquire(odek_home, "jb-1") is None
        assert held_elsewhere(odek_home, "jb-2")
        first.release()
        manual = JobRunLock.try_acquire(odek_home, "jb-1")
        assert manual is not None
        assert locks.try_acquire("jb-1") is None  # held by the manual run
        manual.release()
        assert JobRunLock.is_held(odek_home, "jb-2")
        second.release()
        assert not JobRunLock.is_held(odek_home, "jb-2")


def test_closing_the_pool_locks_drops_the_byte_range_locks(odek_home):
    if not JobRunLock.byte_range:
        pytest.skip("no open-file-description locks on this system")
    with RunLocks(odek_home) as locks:
        assert locks.try_acquire("jb-1") is not None
        assert JobRunLock.is_held(odek_home, "jb-1")
    assert not JobRunLock.is_held(odek_home, "jb-1")


def test_released_pool_lock_can_be_taken_again(odek_home, byte_range):
    with RunLocks(odek_home) as locks:
        for _ in range(3):
            lock = locks.try_acquire("jb-1")
            assert lock is not None
            assert JobRunLock.is_held(odek_home, "jb-1")
            lock.release()
            lock.release()  # idempotent: must not unlock a later holder
            assert not JobRunLock.is_held(odek_home, "jb-1")


def test_jobs_sharing_a_byte_still_exclude_each_other(odek_home, monkeypatch):
    if not JobRunLock.byte_range:
        pytest.skip("no open-file-description locks on this system")
    monkeypatch.setattr(JobRunLock, "offset", staticmethod(lambda job_id: 7))
    with RunLocks(odek_home) as locks:
        first = locks.try_acquire("jb-1")
        assert first is not None
        # Through the shared description the byte would be taken twice and the first
        # release would free it for both; the second job must wait instead.
        assert locks.try_acquire("jb-2") is None
        first.release()
        second = locks.try_acquire("jb-2")
        assert second is not None
        assert JobRunLock.is_held(odek_home, "jb-1")  # same byte: still excluded
        second.release()
        assert not JobRunLock.is_held(odek_home, "jb-1")
