"""Single-instance locks: ``ODEK_HOME/schedule.lock`` (one scheduler per ODEK_HOME, the
daemon's or the bot's) and ``ODEK_HOME/telegram.lock`` (one bot per ODEK_HOME).

An ``flock`` held for the life of the process (the kernel drops it when the process dies,
however it dies, so a stale lock never blocks a new start) with the holder's PID written in
the file for display. This replaces odek's racy ``schedule.pid`` check.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from odek.errors import LockHeldError, StoreError
from odek.store.files import ensure_dir

__all__ = ["BOT_LOCK_FILE", "LOCK_FILE", "DaemonLock"]

LOCK_FILE = "schedule.lock"
BOT_LOCK_FILE = "telegram.lock"


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None


class DaemonLock:
    """Proof that this process is the only scheduler on its ODEK_HOME."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, home: Path, *, name: str = LOCK_FILE, role: str = "scheduler") -> DaemonLock:
        """Take the lock file ``name`` in ``home`` and write our PID into it.

        Raises :class:`LockHeldError` ``already running (PID n)`` when another live process
        holds it (``role`` names what it is in the message), and :class:`StoreError` when
        the file cannot be opened or locked.
        """
        ensure_dir(home)
        path = home / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror}", path=str(path)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            shown = str(pid) if pid is not None else "unknown"
            raise LockHeldError(
                f"already running (PID {shown}); the {role} lock {path} is held", pid=pid
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {path}: {exc.strerror}", path=str(path)) from exc
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot write {path}: {exc.strerror}", path=str(path)) from exc
        return cls(fd, path)

    def release(self) -> None:
        """Empty the file and drop the lock (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def __enter__(self) -> DaemonLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
