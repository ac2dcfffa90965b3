"""Which jobs are running: in this process, and across processes.

:class:`RunningJobs` is the daemon's own set (the timer marks a job when it hands a fire to
the pool, the pool clears it when the run ends), so an overlapping fire is noticed without
any I/O. :class:`JobRunLock` is held for the length of every run, by the daemon and by
``odek schedule run`` alike, so the two never run the same job at once. The kernel drops
it when its holder dies.

On Linux the lock is an open-file-description byte-range lock (``F_OFD_SETLK``) on one
byte of ``ODEK_HOME/running.lock``, at an offset derived from the job id: taking it costs
an ``open`` of an existing file. Elsewhere it is an ``flock`` on
``ODEK_HOME/running/<job id>.lock``; creating that file costs a directory entry on a
job's first run, which made a burst of 10,000 first runs spend seconds in the file system.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import struct
from pathlib import Path

from odek.errors import StoreError
from odek.store.files import ensure_dir

__all__ = ["RUNNING_DIR", "RUNNING_LOCK", "JobRunLock", "RunningJobs"]

RUNNING_DIR = "running"
"""Directory of the per-job lock files (where byte-range locks are not available)."""
RUNNING_LOCK = "running.lock"
"""The file whose bytes are the jobs' run locks (Linux)."""

_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
# struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks), padding.
_FLOCK = struct.Struct("hhqqi4x")


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
    inodes). Two job ids whose hashes share an offset (one chance in about 10^13 for
    100,000 jobs) would exclude each other, which delays a run but never doubles one.
    """

    byte_range: bool = _OFD_SETLK is not None
    """Whether locks are byte ranges of :data:`RUNNING_LOCK` (else one file per job)."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @staticmethod
    def offset(job_id: str) -> int:
        """The byte of :data:`RUNNING_LOCK` that stands for ``job_id``."""
        digest = hashlib.blake2b(job_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 2  # a non-negative off_t

    @classmethod
    def path(cls, home: Path, job_id: str) -> Path:
        """The file locked for ``job_id``: ``home/running.lock``, or
        ``home/running/<job_id>.lock`` without byte-range locks."""
        if cls.byte_range:
            return home / RUNNING_LOCK
        return home / RUNNING_DIR / f"{job_id}.lock"

    @classmethod
    def try_acquire(cls, home: Path, job_id: str) -> JobRunLock | None:
        """The lock, or ``None`` when another holder (any process) has it. Raises
        :class:`StoreError` when the lock file cannot be opened."""
        path = cls.path(home, job_id)
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            try:
                fd = os.open(path, flags, 0o600)
            except FileNotFoundError:  # the directory is missing: only the first time
                ensure_dir(path.parent)
                fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror}", path=str(path)) from exc
        try:
            if cls.byte_range and _OFD_SETLK is not None:
                request = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, cls.offset(job_id), 1, 0)
                fcntl.fcntl(fd, _OFD_SETLK, request)
            else:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
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
        """Drop the lock (idempotent). Closing the descriptor releases its locks."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> JobRunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
