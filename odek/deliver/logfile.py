"""Delivery to ``ODEK_HOME/schedule.log``: redacted records, mode 0600, rotated by size."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread

from odek.errors import DeliveryError
from odek.logs import get_logger
from odek.redact import redact

if TYPE_CHECKING:
    from odek.store import Job

__all__ = ["LOG_FILE_NAME", "LogFileDeliverer"]

LOG_FILE_NAME = "schedule.log"

log = get_logger("odek.deliver.logfile")


class LogFileDeliverer:
    """Appends ``[<nominal fire time, RFC 3339>] <name> (<id>)\\n<result>\\n\\n`` to ``path``.

    Name and result are redacted. The file is created, and kept, with mode 0600. Before a
    record that would take the file past ``max_bytes``, the file is rotated: ``path`` becomes
    ``path.1``, ``path.1`` becomes ``path.2``, ... and the oldest beyond ``backups`` is
    deleted. Appends and rotations are serialised across threads and processes by an
    ``flock`` on ``<path>.lock``, so concurrent writers never interleave or lose records.
    A failed write raises a transient :class:`DeliveryError` naming the file.
    """

    def __init__(self, path: Path, *, max_bytes: int = 5 * 1024 * 1024, backups: int = 3) -> None:
        if max_bytes <= 0 or backups < 0:
            raise ValueError(f"invalid log rotation: max_bytes={max_bytes}, backups={backups}")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        stamp = nominal.isoformat(timespec="seconds")
        record = f"[{stamp}] {redact(job.name)} ({job.id})\n{redact(text).rstrip()}\n\n"
        try:
            await anyio.to_thread.run_sync(self._append, record.encode())
        except OSError as exc:
            raise DeliveryError(f"job {job.id}: cannot write {self.path}: {exc.strerror}") from exc
        log.info("delivered", job_id=job.id, kind="log", path=str(self.path))

    def _append(self, data: bytes) -> None:
        with self._lock, self._flock():
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) > self.max_bytes:
                self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # an older file may have been created with a wider mode
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)

    def _rotate(self) -> None:
        if not self.backups:
            self.path.unlink()
            return
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))

    @contextmanager
    def _flock(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock
