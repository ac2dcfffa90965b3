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

The daemon's pool takes its locks through :class:`RunLocks`, which keeps one open file
description of ``running.lock`` for all of them (one ``fcntl`` per lock and unlock instead
of an ``open`` and a ``close``). OFD locks taken through different open file descriptions
conflict even within one process, so the pool and any :meth:`JobRunLock.try_acquire`
(``odek schedule run``, ``/schedule run``, :meth:`JobRunLock.is_held`) still exclude each
other.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import struct
from collections.abc import Callable
from pathlib import Path

from odek.errors import StoreError
from odek.store.files import ensure_dir

__all__ = ["RUNNING_DIR", "RUNNING_LOCK", "JobRunLock", "RunLocks", "RunningJobs"]

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

    def __init__(self, fd: int, *, release: Callable[[], None] | None = None) -> None:
        # ``release``: how to drop a lock whose descriptor is shared (see RunLocks);
        # by default the descriptor is the lock's own and closing it drops the lock.
        self._fd: int | None = fd
        self._release = release

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
        fd = _open(path)
        try:
            if cls.byte_range:
                locked = _lock_byte(fd, cls.offset(job_id), path)
            else:
                locked = _flock(fd, path)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            return None
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
            if self._release is not None:
                self._release()
                return
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> JobRunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class RunLocks:
    """The pool's run locks: :class:`JobRunLock` s that share one open file description.

    With byte-range locks, :meth:`try_acquire` locks the job's byte through a descriptor of
    ``running.lock`` opened once (on first use) and kept until :meth:`close`; releasing
    the lock unlocks the byte. Locks of one description never conflict with each other,
    so two running jobs whose ids share a byte would not exclude each other through it:
    the second of them takes a lock of its own through :meth:`JobRunLock.try_acquire`,
    which the shared description's lock on that byte refuses, exactly as before. Without
    byte-range locks every lock is a :meth:`JobRunLock.try_acquire`.

    Not thread-safe: one event loop's tasks use it.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self._fd: int | None = None
        self._held: set[int] = set()

    def try_acquire(self, job_id: str) -> JobRunLock | None:
        """``job_id``'s lock, or ``None`` when another holder (any process, or another
        description in this one) has it. Raises :class:`StoreError` when the lock file
        cannot be opened or locked."""
        if not JobRunLock.byte_range:
            return JobRunLock.try_acquire(self.home, job_id)
        offset = JobRunLock.offset(job_id)
        if offset in self._held:
            return JobRunLock.try_acquire(self.home, job_id)
        path = JobRunLock.path(self.home, job_id)
        if self._fd is None:
            self._fd = _open(path)
        fd = self._fd
        if not _lock_byte(fd, offset, path):
            return None
        self._held.add(offset)

        def unlock() -> None:
            self._held.discard(offset)
            with contextlib.suppress(OSError):
                _set_byte(fd, offset, fcntl.F_UNLCK)

        return JobRunLock(fd, release=unlock)

    def close(self) -> None:
        """Close the shared description, which drops every lock still taken through it
        (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._held.clear()
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> RunLocks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _open(path: Path) -> int:
    """A read-write descriptor of the lock file ``path`` (created 0600 with its directory)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        try:
            return os.open(path, flags, 0o600)
        except FileNotFoundError:  # the directory is missing: only the first time
            ensure_dir(path.parent)
            return os.open(path, flags, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc.strerror}", path=str(path)) from exc


def _set_byte(fd: int, offset: int, kind: int) -> None:
    """Set (``F_WRLCK``) or clear (``F_UNLCK``) the OFD lock on byte ``offset`` of ``fd``."""
    if _OFD_SETLK is None:  # JobRunLock.byte_range set where the platform lacks it
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))
    fcntl.fcntl(fd, _OFD_SETLK, _FLOCK.pack(kind, os.SEEK_SET, offset, 1, 0))


def _lock_byte(fd: int, offset: int, path: Path) -> bool:
    """Take the OFD write lock on byte ``offset`` of ``fd``; ``False`` if held elsewhere."""
    try:
        _set_byte(fd, offset, fcntl.F_WRLCK)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise StoreError(f"cannot lock {path}: {exc.strerror}", path=str(path)) from exc
    return True


def _flock(fd: int, path: Path) -> bool:
    """Take ``flock`` on ``fd``; ``False`` if another description holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise StoreError(f"cannot lock {path}: {exc.strerror}", path=str(path)) from exc
    return True
