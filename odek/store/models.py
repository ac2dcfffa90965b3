"""The store's records and the two file documents, as msgspec structs.

Field names and omissions follow odek's JSON (odek-reference.md §1.2-1.3) so that files
written by odek load unchanged and odek can read ours: ``enabled`` is always written, the
other optional fields are left out while they hold their default. Times are written as
RFC 3339 (``2026-06-04T10:00:00.123456Z``; ``next_run`` keeps the job zone's offset,
``+02:00``); odek's nanosecond fractions are read and rounded to microseconds. Unknown
fields in a file are ignored when read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec

from odek.errors import InputError

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A datetime that must carry a UTC offset (odek always writes one)."""

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Go's zero ``time.Time``: a ``created_at`` not yet stamped, or an unset time in an old file."""

FILE_VERSION = 1
"""The document version odek writes; a missing or 0 version is read as 1."""

DELIVERY_KINDS = ("stdout", "log", "telegram")

TELEGRAM_CHAT_LIMIT = 1 << 52
"""Telegram chat ids have at most 52 significant bits."""

_CHAT = re.compile(r"-?[0-9]+")


class Delivery(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where a job's result goes. ``chat_id`` 0 means ``telegram.default_chat_id``; other
    kinds carry no chat."""

    kind: str
    chat_id: int = 0

    def __str__(self) -> str:
        """``telegram:42`` for a telegram delivery with a chat, else the kind."""
        return f"{self.kind}:{self.chat_id}" if self.chat_id else self.kind

    @classmethod
    def parse(cls, text: str) -> Delivery:
        """Read ``stdout``, ``log``, ``telegram`` or ``telegram:<chat id>`` (a decimal,
        possibly negative, integer). An empty string means ``stdout``, as in odek. Raises
        :class:`InputError` saying what is wrong."""
        text = text.strip()
        kind, colon, chat = text.partition(":")
        if kind in ("", "stdout", "log") and not colon:
            return cls(kind or "stdout")
        if kind == "telegram":
            if not colon:
                return cls("telegram")
            if not _CHAT.fullmatch(chat):
                raise InputError(f'invalid telegram chat id "{chat}" (expected an integer)')
            chat_id = int(chat)
            if abs(chat_id) >= TELEGRAM_CHAT_LIMIT:
                raise InputError(f"telegram chat id {chat_id} is out of range")
            return cls("telegram", chat_id)
        if kind in ("stdout", "log"):
            raise InputError(f'delivery "{kind}" takes no chat id (got "{text}")')
        raise InputError(
            f'unknown delivery "{text}" (use stdout, log, telegram or telegram:<chat id>)'
        )


class Job(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A scheduled task, as one entry of ``schedules.json``.

    ``id`` and ``created_at`` are assigned by :meth:`JobStore.add` when left empty/zero;
    an empty ``name`` becomes the first six words of the task. ``timezone`` "" means the
    scheduler's default zone. ``timeout`` is this job's run timeout in seconds (``None``:
    the configured default); odek ignores the field.
    """

    id: str = ""
    name: str = ""
    cron: str
    task: str
    deliver: Delivery
    enabled: bool
    catchup: bool = False
    timezone: str = ""
    created_at: AwareDatetime = ZERO_TIME
    timeout: float | None = None


class RunState(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The last run of one job, as one entry of ``schedule-state.json``.

    ``last_status`` is ``ok``, ``error`` or ``skipped`` in odek; ``runs`` counts fires
    (skips excluded); ``sig`` is ``cron|timezone`` of the schedule ``next_run`` belongs to.
    A time odek wrote as its zero value reads as ``None``.
    """

    job_id: str = ""
    last_run: AwareDatetime | None = None
    last_status: str = ""
    last_error: str = ""
    last_result: str = ""
    next_run: AwareDatetime | None = None
    runs: int = 0
    sig: str = ""


class JobsSnapshot(msgspec.Struct, frozen=True):
    """Every job of ``schedules.json`` in file order, and the ones that cannot run.

    ``invalid`` maps a job id to why that job is unusable (bad cron, unknown zone, bad
    delivery, empty task, an id used twice); a job with no id is keyed ``jobs[<index>]``.
    """

    jobs: list[Job]
    invalid: dict[str, str]


class JobsDocument(msgspec.Struct):
    """``schedules.json`` with each job kept as its raw JSON, so that a write re-emits the
    jobs it does not change exactly as they were (unknown fields, nanosecond times)."""

    version: int = 0
    jobs: list[msgspec.Raw] | None = None


class StatesDocument(msgspec.Struct):
    """``schedule-state.json`` with each entry kept as its raw JSON (see JobsDocument)."""

    version: int = 0
    states: dict[str, msgspec.Raw] | None = None
