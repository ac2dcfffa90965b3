"""Which jobs are running: in this process, and across processes.

:class:`RunningJobs` is the daemon's own set (the timer marks a job when it hands a fire to
the pool, the pool clears it when the run ends), so an overlapping fire is noticed without
any I/O. :class:`JobRunLock` is an ``flock`` on ``ODEK_HOME/running/<job id>.lock`` held for
the length of every run, by the daemon and by ``odek schedule run`` alike, so the two never
run the same job at once. The kernel drops the lock when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from odek.errors import StoreError
from odek.store.files import ensure_dir

__all__ = ["RUNNING_DIR", "JobRunLock", "RunningJobs"]

RUNNING_DIR = "running"


class RunningJobs:
    """The ids of the jobs with a fire handed to the pool and not yet finished."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, job_id: str) -> None:
        """Mark ``job_id`` as running."""
        self._ids.add(job_id)

    def discard(self, job_id: str) -> None:
        """Mark ``job_id`` as no longer running."""
        self._ids.discard(job_id)


class JobRunLock:
    """An exclusive, non-blocking lock on one job's runs, held by an open descriptor.

    Lock files are never deleted (deleting a lock file lets two holders lock two different
    inodes); they are empty and one per job.
    """

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @staticmethod
    def path(home: Path, job_id: str) -> Path:
        """``home/running/<job_id>.lock``."""
        return home / RUNNING_DIR / f"{job_id}.lock"

    @classmethod
    def try_acquire(cls, home: Path, job_id: str) -> JobRunLock | None:
        """The lock, or ``None`` when another holder (any process) has it. Raises
        :class:`StoreError` when the lock file cannot be opened."""
        path = cls.path(home, job_id)
        ensure_dir(path.parent)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror}", path=str(path)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {path}: {exc.strerror}", path=str(path)) from exc
        return cls(fd)

    @classmethod
    def is_held(cls, home: Path, job_id: str) -> bool:
        """Whether some process holds ``job_id``'s lock right now."""
        lock = cls.try_acquire(home, job_id)
        if lock is None:
            return True
        lock.release()
        return False

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> JobRunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
