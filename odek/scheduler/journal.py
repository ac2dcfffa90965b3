"""The run journal: every fire's intent, outcome and delivery, durably, in order.

File: ``ODEK_HOME/schedule-runs.jsonl``, one JSON object per line (mode 0600), appended under
an ``flock`` on ``schedule-runs.lock`` so the daemon and ``odek schedule run`` can write it
at the same time. Record kinds (field ``t``):

- ``intent``: a run is about to start (run id, job, nominal time, trigger, start);
- ``finish``: how it ended (outcome, end, redacted error, redacted result, tokens);
- ``skip``: a fire that was not run (``missed``, ``overlap``, ``shutdown``);
- ``delivering`` / ``delivered`` / ``delivery_failed``: the send of an ``ok`` result;
- ``run``: one whole run, as written by compaction.

The intent is durable before the runner is called, and ``delivering`` before the deliverer
is, so after a crash (SIGKILL included) :func:`recover` can tell a run that never finished
(recorded ``interrupted``) from a send that may or may not have happened (recorded as a
delivery error and never sent again: a completed run is delivered at most once).

Writes use group commit: :meth:`Journal.append` queues a record, :meth:`Journal.commit`
waits until everything queued so far is on disk, and one fsync covers all the records
queued while the previous one ran, so 10,000 intents cost a handful of fsyncs, not 10,000.
The history of a job is the journal folded by run id, the last :data:`HISTORY_LIMIT` runs
per job being kept when the file is compacted.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio
import anyio.lowlevel
import msgspec
from anyio.abc import TaskStatus

from odek.errors import StoreError
from odek.store.files import atomic_write, ensure_dir, exclusive_lock

__all__ = [
    "HISTORY_LIMIT",
    "JOURNAL_FILE",
    "PREVIEW_CHARS",
    "Delivered",
    "Delivering",
    "DeliveryFailed",
    "Finish",
    "Intent",
    "Journal",
    "Record",
    "Recovery",
    "RunEntry",
    "Skip",
    "append_records",
    "preview",
    "read_history",
    "recover",
]

JOURNAL_FILE = "schedule-runs.jsonl"
LOCK_FILE = "schedule-runs.lock"
HISTORY_LIMIT = 50
"""Runs kept per job when the journal is compacted."""
PREVIEW_CHARS = 280
"""Length of a result preview (as odek's ``last_result``), before the ``…``."""
COMPACT_EVERY = 50_000
"""Records appended by one process between two compactions."""

INTERRUPTED_ERROR = "interrupted: odek stopped during the run"
UNCONFIRMED_ERROR = (
    "unconfirmed: odek stopped while sending; not sent again, so it may not have arrived"
)


class Intent(msgspec.Struct, tag="intent", tag_field="t", frozen=True):
    """Run ``run`` of job ``job`` for nominal time ``nominal`` starts at ``start``."""

    run: str
    job: str
    nominal: datetime
    trigger: str
    start: datetime


class Finish(msgspec.Struct, tag="finish", tag_field="t", frozen=True, omit_defaults=True):
    """Run ``run`` ended at ``end`` with ``outcome``."""

    run: str
    job: str
    outcome: str
    end: datetime
    error: str = ""
    result: str = ""
    tokens: int = 0


class Skip(msgspec.Struct, tag="skip", tag_field="t", frozen=True):
    """The fire of ``job`` at ``nominal`` was not run, for ``reason``; recorded at ``at``."""

    run: str
    job: str
    nominal: datetime
    trigger: str
    at: datetime
    reason: str


class Delivering(msgspec.Struct, tag="delivering", tag_field="t", frozen=True):
    """The result of run ``run`` is about to be sent."""

    run: str
    at: datetime


class Delivered(msgspec.Struct, tag="delivered", tag_field="t", frozen=True):
    """The result of run ``run`` was sent."""

    run: str
    at: datetime


class DeliveryFailed(msgspec.Struct, tag="delivery_failed", tag_field="t", frozen=True):
    """The result of run ``run`` could not be sent; it stays in the journal."""

    run: str
    at: datetime
    error: str


class RunEntry(msgspec.Struct, tag="run", tag_field="t", omit_defaults=True):
    """One run as the journal knows it (also the record compaction writes).

    ``outcome`` is ``""`` while the run is going. ``delivery`` is ``""`` (nothing to send),
    ``sending``, ``delivered``, ``failed`` or ``unconfirmed``; a failed or unconfirmed
    delivery turns an ``ok`` outcome into ``error`` with ``error`` ``delivery: ...`` and
    keeps the full ``result`` so that it can be delivered again.
    """

    run: str
    job: str
    trigger: str
    nominal: datetime
    start: datetime | None = None
    end: datetime | None = None
    outcome: str = ""
    error: str = ""
    result: str = ""
    tokens: int = 0
    delivery: str = ""

    @property
    def preview(self) -> str:
        """The result cut to :data:`PREVIEW_CHARS` characters."""
        return preview(self.result)


Record = Intent | Finish | Skip | Delivering | Delivered | DeliveryFailed | RunEntry

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


def preview(text: str) -> str:
    """``text`` cut to :data:`PREVIEW_CHARS` characters plus ``…`` when longer."""
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _encode(records: Iterable[Record]) -> bytes:
    return b"".join(_encoder.encode(record) + b"\n" for record in records)


def _paths(home: Path) -> tuple[Path, Path]:
    return home / JOURNAL_FILE, home / LOCK_FILE


def _append_locked(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` and fsync; the caller holds the journal lock."""
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(f"cannot append to {path}: {exc.strerror}", path=str(path)) from exc


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[Path]:
    path, lock = _paths(home)
    if not home.is_dir():  # a stat, cheaper than the mkdir that would fail each flush
        ensure_dir(home)
    with exclusive_lock(lock):
        yield path


def append_records(home: Path, records: Iterable[Record]) -> None:
    """Durably append ``records`` now (for one-shot writers such as ``odek schedule run``)."""
    data = _encode(records)
    if data:
        with _locked(home) as path:
            _append_locked(path, data)


def _read(path: Path) -> tuple[list[Record], int]:
    """The records of ``path`` and the length of its complete lines.

    A trailing partial line (a write cut by a crash) is left out; a damaged line elsewhere
    is skipped, so one bad record never hides the history around it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}", path=str(path)) from exc
    complete = data.rfind(b"\n") + 1
    body = data[:complete]
    try:
        return _decoder.decode_lines(body), complete
    except msgspec.DecodeError:
        records: list[Record] = []
        for line in body.splitlines():
            with contextlib.suppress(msgspec.DecodeError):
                records.append(_decoder.decode(line))
        return records, complete


def fold(records: Iterable[Record]) -> dict[str, RunEntry]:
    """The runs described by ``records``, by run id, in the order they began."""
    runs: dict[str, RunEntry] = {}
    for record in records:
        match record:
            case RunEntry():
                runs[record.run] = msgspec.structs.replace(record)
            case Intent():
                runs[record.run] = RunEntry(
                    run=record.run,
                    job=record.job,
                    trigger=record.trigger,
                    nominal=record.nominal,
                    start=record.start,
                )
            case Skip():
                runs[record.run] = RunEntry(
                    run=record.run,
                    job=record.job,
                    trigger=record.trigger,
                    nominal=record.nominal,
                    end=record.at,
                    outcome="skipped",
                    error=record.reason,
                )
            case _:
                entry = runs.get(record.run)
                if entry is not None:
                    _apply(entry, record)
    return runs


def _apply(entry: RunEntry, record: Finish | Delivering | Delivered | DeliveryFailed) -> None:
    match record:
        case Finish():
            entry.outcome, entry.end, entry.error = record.outcome, record.end, record.error
            entry.result, entry.tokens = record.result, record.tokens
        case Delivering():
            entry.delivery = "sending"
        case Delivered():
            # Only ok runs are delivered: a result sent again after a failed delivery
            # makes the run ok again.
            entry.delivery = "delivered"
            entry.outcome, entry.error = "ok", ""
        case DeliveryFailed():
            entry.delivery = "unconfirmed" if record.error == UNCONFIRMED_ERROR else "failed"
            entry.outcome, entry.error = "error", f"delivery: {record.error}"


def _compacted(runs: dict[str, RunEntry]) -> bytes:
    """The last :data:`HISTORY_LIMIT` runs of each job plus every unfinished one, in order;
    a delivered result is cut to its preview (the full text is only kept while it may still
    have to be delivered)."""
    kept: list[RunEntry] = []
    seen: dict[str, int] = defaultdict(int)
    for entry in reversed(runs.values()):
        seen[entry.job] += 1
        if seen[entry.job] <= HISTORY_LIMIT or not entry.outcome:
            if entry.delivery == "delivered":
                entry = msgspec.structs.replace(entry, result=entry.preview)
            kept.append(entry)
    kept.reverse()
    return _encode(kept)


def _compact_locked(path: Path) -> None:
    records, _ = _read(path)
    atomic_write(path, _compacted(fold(records)))


def read_history(home: Path, job_id: str, *, limit: int = HISTORY_LIMIT) -> list[RunEntry]:
    """The last ``limit`` runs of ``job_id`` by nominal time, oldest first (a run still
    going has outcome ``""``)."""
    path, _ = _paths(home)
    records, _ = _read(path)
    runs = [entry for entry in fold(records).values() if entry.job == job_id]
    runs.sort(key=lambda entry: entry.nominal)
    return runs[-limit:] if limit > 0 else []


@dataclass(frozen=True, slots=True)
class Recovery:
    """What :func:`recover` found: runs that never finished (now ``interrupted``), sends
    that were never confirmed (now delivery errors, never re-sent), and per job the latest
    nominal time any scheduled or catch-up fire of it reached the journal (the state file
    is written in batches, so after a crash its ``next_run`` can be older than that)."""

    interrupted: list[RunEntry]
    unconfirmed: list[RunEntry]
    latest: dict[str, datetime]


def recover(
    home: Path, now: datetime, *, is_live: Callable[[str], bool] = lambda job_id: False
) -> Recovery:
    """Close what a previous process left open, before a new one starts scheduling.

    A run with an intent and no outcome is recorded ``interrupted`` at ``now``; a
    ``delivering`` mark with no confirmation is recorded as a failed delivery (the send may
    have happened, so it is not repeated). Runs of a job for which ``is_live(job_id)`` is
    true (another process, such as ``odek schedule run``, holds its run lock) are left
    alone. A partial last line left by a crash is cut off, and the journal is compacted
    when most of it is history beyond the kept runs.
    """
    with _locked(home) as path:
        records, complete = _read(path)
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size != complete:
                os.truncate(path, complete)
        runs = fold(records)
        fixes: list[Record] = []
        interrupted: list[RunEntry] = []
        unconfirmed: list[RunEntry] = []
        for entry in runs.values():
            fix: Finish | DeliveryFailed
            if not entry.outcome and not is_live(entry.job):
                fix = Finish(entry.run, entry.job, "interrupted", now, error=INTERRUPTED_ERROR)
                interrupted.append(entry)
            elif entry.delivery == "sending" and not is_live(entry.job):
                fix = DeliveryFailed(entry.run, now, UNCONFIRMED_ERROR)
                unconfirmed.append(entry)
            else:
                continue
            _apply(entry, fix)
            fixes.append(fix)
        latest: dict[str, datetime] = {}
        for entry in runs.values():
            seen = latest.get(entry.job)
            if entry.trigger != "manual" and (seen is None or entry.nominal > seen):
                latest[entry.job] = entry.nominal
        if fixes:
            _append_locked(path, _encode(fixes))
        if len(records) + len(fixes) > 2 * len(runs) + COMPACT_EVERY // 10:
            _compact_locked(path)
    return Recovery(interrupted, unconfirmed, latest)


class Journal:
    """The daemon's writer: queued appends made durable by group commit.

    :meth:`run` is the flusher actor; :meth:`append` and :meth:`commit` are called by the
    other actors. Queued records survive a crash of the flusher (they are written when it
    restarts) and are flushed when it stops.
    """

    def __init__(self, home: Path, *, compact_every: int = COMPACT_EVERY) -> None:
        self.home = home
        self._pending: list[Record] = []
        self._appended = 0
        self._durable = 0
        self._since_compaction = 0
        self._compact_every = compact_every
        self._wakeup: anyio.Event | None = None
        self._flushed: anyio.Event | None = None

    def append(self, record: Record) -> None:
        """Queue ``record``; it is written by the next flush. Never blocks."""
        self._pending.append(record)
        self._appended += 1
        if self._wakeup is not None:
            self._wakeup.set()

    async def commit(self) -> None:
        """Return once every record appended before the call is on disk."""
        target = self._appended
        while self._durable < target:
            if self._flushed is None:
                self._flushed = anyio.Event()
            await self._flushed.wait()

    async def write(self, record: Record) -> None:
        """:meth:`append` then :meth:`commit`."""
        self.append(record)
        await self.commit()

    def flush(self) -> None:
        """Write every queued record now (one fsync). On failure the records stay queued
        and :class:`StoreError` is raised."""
        if not self._pending:
            return
        count = self._appended
        batch = self._pending
        data = _encode(batch)
        with _locked(self.home) as path:
            _append_locked(path, data)
            self._pending = []
            self._durable = count
            self._since_compaction += len(batch)
            if self._since_compaction >= self._compact_every:
                self._since_compaction = 0
                _compact_locked(path)
        flushed, self._flushed = self._flushed, None
        if flushed is not None:
            flushed.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """The flusher: writes queued records as soon as there are any; flushes on stop."""
        task_status.started()
        try:
            while True:
                if not self._pending:
                    self._wakeup = anyio.Event()
                    await self._wakeup.wait()
                # Let every task that is ready to run queue its record first: one fsync each.
                await anyio.lowlevel.checkpoint()
                # The write is synchronous on purpose: an fsync of an append is ~0.2 ms here,
                # and keeping it on the loop keeps the order of records and virtual-clock
                # tests deterministic (a worker thread would let a mock clock jump meanwhile).
                self.flush()
        finally:
            self._wakeup = None
            self.flush()
