"""File primitives of the store: capped reads, atomic replacement and the cross-process lock.

Every function turns an :class:`OSError` into :class:`odek.errors.StoreError` naming the
file, so callers report one clear line instead of a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from odek.errors import StoreCorruptError, StoreError

MAX_FILE_BYTES = 256 << 20
"""Largest store file read or written (256 MiB; a file exactly this size is read).

odek's 10 MiB cap refused a store of some 25,000 jobs; 100,000 jobs take about 40 MiB.
The cap only guards against reading a runaway file whole into memory."""

_FILE_MODE = 0o600


def read_capped(path: Path, *, max_bytes: int | None = None) -> bytes | None:
    """Return the contents of ``path``, or ``None`` when it does not exist.

    The size is checked on the open descriptor, so a file swapped in between a check and the
    read cannot slip past the cap. Raises :class:`StoreCorruptError` for a file over
    ``max_bytes`` (default :data:`MAX_FILE_BYTES`, read at each call), saying how to
    recover, and :class:`StoreError` for one that cannot be read.
    """
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}", path=str(path)) from exc
    chunks: list[bytes] = []
    total = 0
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise StoreCorruptError(_too_large(path, size, limit), path=str(path))
        # Ask for one byte past the cap so a file that grew after the fstat is caught too;
        # the first read takes the whole file (one copy, however large it is).
        want = min(size, limit) + 1
        while total <= limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = limit + 1 - total
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}", path=str(path)) from exc
    finally:
        os.close(fd)
    if total > limit:
        raise StoreCorruptError(_too_large(path, total, limit), path=str(path))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(path: Path, size: int, max_bytes: int) -> str:
    return (
        f"{path} is too large ({size} bytes, the limit is {max_bytes}); odek never writes a "
        f"file this big, so move it aside (odek then starts from an empty file) and restore "
        f"what you need from it by hand"
    )


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a mix.

    The data goes to a new temporary file (mode 0600, created with ``O_EXCL`` next to the
    target), is fsynced, and is renamed over the target; then the directory is fsynced so the
    rename survives a crash. ``durable=False`` skips both fsyncs, for a file that means
    nothing after a crash (the heartbeat): readers still never see a mix, and the write costs
    microseconds instead of a disk flush. A symlink at ``path`` is replaced itself, never
    followed. On any failure the temporary file is removed, the target is left as it was and
    :class:`StoreError` is raised.
    """
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(8)}")
    try:
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            _FILE_MODE,
        )
        try:
            # The umask may have narrowed the mode; state files must be exactly 0600.
            os.fchmod(fd, _FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise StoreError(f"cannot write {path}: {exc.strerror}", path=str(path)) from exc
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600, never through a symlink).

    Blocks until the lock is free; every holder only reads and rewrites small files, so
    the wait is short. ``flock`` locks belong to the open file, so two threads of one
    process exclude each other as two processes do. The kernel drops the lock if the holder
    dies. Raises :class:`StoreError` if the file cannot be opened or locked.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, _FILE_MODE)
    except OSError as exc:
        raise StoreError(f"cannot open lock file {path}: {exc.strerror}", path=str(path)) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise StoreError(f"cannot lock {path}: {exc.strerror}", path=str(path)) from exc
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def ensure_dir(directory: Path) -> None:
    """Create ``directory`` (and its parents) mode 0700 if it is missing."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {directory}: {exc.strerror}", path=str(directory)) from exc
