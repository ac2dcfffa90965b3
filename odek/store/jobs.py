"""JobStore: the jobs in ``schedules.json`` and their run records in ``schedule-state.json``.

Reads take no lock: every write replaces a file atomically, so a reader sees the old or the
new file. Every change is a read-modify-write under an exclusive ``flock`` on
``schedules.lock`` (one lock for both files, as odek), so concurrent processes, odek's
among them, never lose each other's changes. Jobs and state entries that a write does not
touch are re-emitted byte for byte as read, unknown fields included.

The methods block on file I/O and the lock; async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from odek.errors import JobNotFoundError, JobValidationError, StoreCorruptError, StoreError
from odek.store.files import MAX_FILE_BYTES, atomic_write, ensure_dir, exclusive_lock, read_capped
from odek.store.jsonpos import corrupt, decode
from odek.store.models import (
    FILE_VERSION,
    ZERO_TIME,
    Job,
    JobsDocument,
    JobsSnapshot,
    RunState,
    StatesDocument,
)
from odek.store.validate import JobChecker, normalized, validate_job

JOBS_FILE = "schedules.json"
STATES_FILE = "schedule-state.json"
LOCK_FILE = "schedules.lock"

EDITABLE_FIELDS = frozenset(
    {"cron", "task", "name", "timezone", "deliver", "catchup", "enabled", "timeout"}
)
"""The job fields :meth:`JobStore.update` changes."""

_ID_ATTEMPTS = 64  # 8 hex digits: even with a million jobs a draw collides 1 time in 4000


def new_job_id() -> str:
    """A random job id: ``jb-`` and 8 lowercase hex digits (4 bytes from ``secrets``)."""
    return "jb-" + secrets.token_hex(4)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class JobStore:
    """The jobs and run records kept under ``home`` (normally :func:`odek.home.odek_home`).

    ``clock`` gives the time stamped into a new job's ``created_at``. ``home`` is created
    mode 0700 on the first write if it is missing.
    """

    def __init__(self, home: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.home = home
        self.jobs_path = home / JOBS_FILE
        self.states_path = home / STATES_FILE
        self.lock_path = home / LOCK_FILE
        self._clock = clock
        # The state file as this object last wrote it: its identity (inode, size, times)
        # and entries. While the file is still that one, a batch of changes skips reading
        # and re-validating 100,000 records it wrote itself.
        self._states_written: tuple[tuple[int, ...], dict[str, msgspec.Raw]] | None = None

    # -- jobs -------------------------------------------------------------------------

    def load(self) -> JobsSnapshot:
        """Every job in file order, with the unusable ones listed in ``invalid``.

        A missing or empty file is an empty store. Raises :class:`StoreCorruptError` (file,
        line and column, field path) for invalid JSON, a value of the wrong type, a missing
        required field, an unknown version or a file over the size limit; a job that is
        well-formed but cannot run (bad cron, zone or delivery) is only reported in
        ``invalid`` and never hides the others.
        """
        data = read_capped(self.jobs_path)
        if not data:
            return JobsSnapshot(jobs=[], invalid={})
        try:
            # One decode of the whole file; the slow path below only runs to say where a
            # broken file is broken.
            doc = msgspec.json.decode(data, type=_TypedJobs)
        except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
            _, jobs = self._parse_jobs(data)
        else:
            _check_version(doc.version, self.jobs_path, data)
            jobs = doc.jobs or []
        return JobsSnapshot(jobs=jobs, invalid=_invalid_jobs(jobs))

    def get(self, job_id: str) -> Job:
        """The job with id ``job_id``; raises :class:`JobNotFoundError`."""
        _, jobs = self._read_jobs()
        return jobs[_index_of(jobs, job_id)]

    def add(self, job: Job) -> Job:
        """Validate ``job`` and append it; return the stored job.

        An empty ``id`` gets a fresh ``jb-`` + 8 hex digits (a draw that collides with an
        existing id is drawn again); a zero ``created_at`` gets the clock's time in UTC; an
        empty name becomes the first six words of the task. Raises
        :class:`JobValidationError` (the file is left untouched) for an invalid job or an
        id already in use.
        """
        job = normalized(job)
        validate_job(job, need_id=False)
        with self._locked():
            raws, jobs = self._read_jobs()
            taken = {existing.id for existing in jobs}
            if not job.id:
                job = msgspec.structs.replace(job, id=self._new_id(taken))
            elif job.id in taken:
                raise JobValidationError(
                    f'job ID "{job.id}" already exists', job=job.id, field="id"
                )
            if job.created_at == ZERO_TIME:
                job = msgspec.structs.replace(job, created_at=self._clock().astimezone(UTC))
            self._write(self.jobs_path, JobsDocument(FILE_VERSION, [*raws, _raw(job)]))
        return job

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a job in place and return it; the job keeps its id, position
        and ``created_at``, and fields of the file it does not change stay as they were.

        ``changes`` may name ``cron``, ``task``, ``name`` (empty: the first words of the
        task), ``timezone``, ``deliver`` (a :class:`Delivery`), ``catchup``, ``enabled`` and
        ``timeout``; another name raises :class:`TypeError`. The changed job is validated
        as a whole: :class:`JobValidationError` leaves the file untouched.
        """
        unknown = sorted(set(changes) - EDITABLE_FIELDS)
        if unknown:
            raise TypeError(f"JobStore.update() got fields it cannot change: {unknown}")
        return self._edit(job_id, lambda job: msgspec.structs.replace(job, **changes))

    def set_enabled(self, job_id: str, enabled: bool) -> Job:
        """Enable or disable a job and return it. Enabling validates the job; disabling
        never does, so a broken job can always be switched off. Disabling also clears the
        job's stored next fire, so enabling it later is never taken for a missed fire."""
        return self._edit(
            job_id, lambda job: msgspec.structs.replace(job, enabled=enabled), check=enabled
        )

    def remove(self, job_id: str) -> None:
        """Delete a job and its run record; raises :class:`JobNotFoundError`."""
        with self._locked():
            raws, jobs = self._read_jobs()
            index = _index_of(jobs, job_id)
            del raws[index], jobs[index]
            self._write(self.jobs_path, JobsDocument(FILE_VERSION, raws))
            if any(job.id == job_id for job in jobs):
                return  # the id was used twice; the remaining job keeps its record
            # The job is gone either way; a broken history file must not undo that, and
            # load_states() keeps reporting the breakage.
            with contextlib.suppress(StoreCorruptError):
                self._change_states({job_id: None})

    def fingerprint(self) -> tuple[int, int, str]:
        """``(mtime_ns, size, sha256 hex)`` of ``schedules.json``, ``(0, 0, "")`` if missing.

        The hash catches changes that keep the mtime (coarse clocks, ``cp -p``, a restore).
        """
        try:
            with open(self.jobs_path, "rb") as f:
                info = os.fstat(f.fileno())
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except FileNotFoundError:
            return 0, 0, ""
        except OSError as exc:
            raise StoreError(
                f"cannot read {self.jobs_path}: {exc.strerror}", path=str(self.jobs_path)
            ) from exc
        return info.st_mtime_ns, info.st_size, digest

    # -- run records ------------------------------------------------------------------

    def load_states(self) -> dict[str, RunState]:
        """Every run record, keyed by job id. A missing or empty file gives ``{}``; errors
        are reported as by :meth:`load`. A record's ``job_id`` is its key, and times odek
        wrote as its zero value read as ``None``."""
        data = read_capped(self.states_path)
        if not data:
            return {}
        try:
            doc = msgspec.json.decode(data, type=_TypedStates)
        except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
            _, states = self._parse_states(data)
        else:
            _check_version(doc.version, self.states_path, data)
            states = doc.states or {}
        return {key: _normal_state(key, state) for key, state in states.items()}

    def update_states(self, changes: Mapping[str, RunState | None]) -> None:
        """Set (or, for ``None``, delete) the records of the given jobs in one locked atomic
        write; other jobs' records are kept as they are. Each record replaces the job's
        previous one whole, so pass every field to keep (``msgspec.structs.replace`` of the
        loaded record). Raises :class:`ValueError` for an empty key, a record whose
        ``job_id`` is another job's, or a time without a UTC offset."""
        encoded: dict[str, msgspec.Raw | None] = {}
        for key, state in changes.items():
            if not key:
                raise ValueError("update_states: empty job id")
            if state is None:
                encoded[key] = None
                continue
            if state.job_id not in ("", key):
                raise ValueError(f"update_states: record of {state.job_id!r} given for {key!r}")
            raw = _raw(msgspec.structs.replace(state, job_id=key))
            try:
                msgspec.json.decode(raw, type=RunState)
            except msgspec.ValidationError as exc:
                raise ValueError(f"update_states: record of {key!r}: {exc}") from exc
            encoded[key] = raw
        if encoded:
            with self._locked():
                self._change_states(encoded)

    # -- internals --------------------------------------------------------------------

    def _edit(self, job_id: str, change: Callable[[Job], Job], *, check: bool = True) -> Job:
        with self._locked():
            raws, jobs = self._read_jobs()
            index = _index_of(jobs, job_id)
            old = jobs[index]
            new = normalized(change(old))
            if check:
                validate_job(new)
            if new != old:
                raws[index] = _merged(raws[index], old, new)
                self._write(self.jobs_path, JobsDocument(FILE_VERSION, raws))
                if old.enabled and not new.enabled:
                    self._forget_next_fire(job_id)
        return new

    def _forget_next_fire(self, job_id: str) -> None:
        # A disabled job has no next fire. Without this, enabling it again while no
        # scheduler runs would make the stale fire look missed (skipped, or caught up).
        with contextlib.suppress(StoreCorruptError):
            state = self.load_states().get(job_id)
            if state is not None and state.next_run is not None:
                self._change_states({job_id: _raw(msgspec.structs.replace(state, next_run=None))})

    def _change_states(self, changes: Mapping[str, msgspec.Raw | None]) -> None:
        """Apply ``changes`` to the state file; the caller holds the lock."""
        written, self._states_written = self._states_written, None
        if written is not None and written[0] == self._states_identity():
            states = written[1]
        else:
            states, _ = self._read_states()
        changed = False
        for key, raw in changes.items():
            if raw is None:
                changed |= states.pop(key, None) is not None
            elif states.get(key) != raw:
                states[key] = raw
                changed = True
        if changed:
            self._write(self.states_path, StatesDocument(FILE_VERSION, states))
        self._states_written = (self._states_identity(), states)

    def _states_identity(self) -> tuple[int, ...]:
        """What tells one state file from another: a writer replaces the file (a new
        inode), an edit in place changes its size or times."""
        try:
            info = os.stat(self.states_path)
        except OSError:
            return ()
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def _read_jobs(self) -> tuple[list[msgspec.Raw], list[Job]]:
        data = read_capped(self.jobs_path)
        if not data:
            return [], []
        return self._parse_jobs(data)

    def _parse_jobs(self, data: bytes) -> tuple[list[msgspec.Raw], list[Job]]:
        doc = decode(data, JobsDocument, file=self.jobs_path, data=data)
        _check_version(doc.version, self.jobs_path, data)
        raws = doc.jobs or []
        jobs = [
            decode(raw, Job, file=self.jobs_path, data=data, at=("jobs", index))
            for index, raw in enumerate(raws)
        ]
        return raws, jobs

    def _read_states(self) -> tuple[dict[str, msgspec.Raw], dict[str, RunState]]:
        data = read_capped(self.states_path)
        if not data:
            return {}, {}
        try:
            typed = msgspec.json.decode(data, type=_TypedStates)
            raws = msgspec.json.decode(data, type=StatesDocument).states or {}
        except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
            return self._parse_states(data)
        _check_version(typed.version, self.states_path, data)
        return raws, typed.states or {}

    def _parse_states(self, data: bytes) -> tuple[dict[str, msgspec.Raw], dict[str, RunState]]:
        """Entry by entry, so that an error names the entry at fault."""
        doc = decode(data, StatesDocument, file=self.states_path, data=data)
        _check_version(doc.version, self.states_path, data)
        raws = doc.states or {}
        states = {
            key: decode(raw, RunState, file=self.states_path, data=data, at=("states", key))
            for key, raw in raws.items()
        }
        return raws, states

    def _write(self, path: Path, doc: JobsDocument | StatesDocument) -> None:
        data = msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"
        if len(data) > MAX_FILE_BYTES:
            # Never write what the next read would refuse.
            raise StoreError(
                f"{path} would grow to {len(data)} bytes, over the limit of {MAX_FILE_BYTES}; "
                f"nothing was written",
                path=str(path),
            )
        atomic_write(path, data)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_dir(self.home)
        with exclusive_lock(self.lock_path):
            yield

    def _new_id(self, taken: set[str]) -> str:
        for _ in range(_ID_ATTEMPTS):
            candidate = new_job_id()
            if candidate not in taken:
                return candidate
        raise StoreError(f"no free job id after {_ID_ATTEMPTS} draws", path=str(self.jobs_path))


class _TypedJobs(msgspec.Struct):
    """``schedules.json`` decoded in one pass (the fast path of :meth:`JobStore.load`)."""

    version: int = 0
    jobs: list[Job] | None = None


class _TypedStates(msgspec.Struct):
    """``schedule-state.json`` decoded in one pass."""

    version: int = 0
    states: dict[str, RunState] | None = None


def _raw(record: Job | RunState) -> msgspec.Raw:
    return msgspec.Raw(msgspec.json.encode(record))


def _merged(raw: msgspec.Raw, old: Job, new: Job) -> msgspec.Raw:
    """``raw`` (the stored form of ``old``) with the fields ``new`` changed rewritten, so
    unknown keys and the exact text of unchanged values survive an edit."""
    stored: dict[str, Any] = msgspec.json.decode(raw)
    fresh: dict[str, Any] = msgspec.to_builtins(new)
    for field in Job.__struct_fields__:
        if getattr(old, field) == getattr(new, field):
            continue
        if field in fresh:
            stored[field] = fresh[field]
        else:  # back to its default, which odek's format leaves out
            stored.pop(field, None)
    return msgspec.Raw(msgspec.json.encode(stored))


def _check_version(version: int, path: Path, data: bytes) -> None:
    if version not in (0, FILE_VERSION):
        raise corrupt(path, data, ["version"], f"unsupported version {version} (this odek reads 1)")


def _index_of(jobs: Sequence[Job], job_id: str) -> int:
    for index, job in enumerate(jobs):
        if job.id == job_id:
            return index
    raise JobNotFoundError(job_id)


def _invalid_jobs(jobs: Sequence[Job]) -> dict[str, str]:
    checker = JobChecker()
    places: dict[str, list[int]] = {}
    for index, job in enumerate(jobs):
        places.setdefault(job.id, []).append(index)
    invalid: dict[str, str] = {}
    for index, job in enumerate(jobs):
        if not job.id:
            invalid[f"jobs[{index}]"] = "no id"
        elif len(places[job.id]) > 1:
            where = ", ".join(f"jobs[{i}]" for i in places[job.id])
            invalid[job.id] = f"the id is used by several jobs ({where}); give each its own"
        elif (problem := checker.problem(job)) is not None:
            invalid[job.id] = problem[1]
    return invalid


def _normal_state(key: str, state: RunState) -> RunState:
    return msgspec.structs.replace(
        state,
        job_id=key,
        last_run=None if state.last_run == ZERO_TIME else state.last_run,
        next_run=None if state.next_run == ZERO_TIME else state.next_run,
    )
