"""What makes a job usable, and the normal form the store writes it in.

The same checks refuse a bad job before it is written (:func:`validate_job`) and mark a bad
job already in the file (:func:`job_problem`), so a hand-edited file and the command line
agree on what is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import msgspec

from odek.cron import load_zone, parse
from odek.errors import CronError, JobValidationError, UnknownTimeZoneError
from odek.store.models import DELIVERY_KINDS, TELEGRAM_CHAT_LIMIT, Job

NAME_WORDS = 6
"""An empty job name becomes this many words of the task."""

_FIELD = re.compile(r" - at `\$\.(?P<field>\w+)")


def first_words(text: str, count: int = NAME_WORDS) -> str:
    """The first ``count`` whitespace-separated words of ``text``, joined by one space."""
    return " ".join(text.split()[:count])


def normalized(job: Job) -> Job:
    """``job`` as the store writes it: the cron expression trimmed and an empty name
    replaced by the first words of the task."""
    return msgspec.structs.replace(
        job, cron=job.cron.strip(), name=job.name or first_words(job.task)
    )


def job_problem(job: Job, *, need_id: bool = True) -> tuple[str, str] | None:
    """Why ``job`` cannot run, as ``(field, reason)``, or ``None`` when it can.

    Checks, in order: field types (a job built in code is not type-checked by msgspec),
    the id (unless ``need_id`` is false: a job about to be given one), the task, the time
    zone, the cron expression (including one that can never fire), the delivery and the
    timeout.
    """
    try:
        msgspec.json.decode(msgspec.json.encode(job), type=Job)
    except (msgspec.ValidationError, TypeError) as exc:
        match = _FIELD.search(str(exc))
        return (match["field"] if match else "job"), str(exc)
    return _value_problem(job, need_id, _zone_problem, _cron_problem)


class JobChecker:
    """:func:`job_problem` for many jobs decoded from a file: their field types were
    checked by the decoder, and each distinct zone and cron expression is checked once
    (100,000 jobs share far fewer expressions)."""

    def __init__(self) -> None:
        self._zones: dict[str, str | None] = {}
        self._crons: dict[str, str | None] = {}

    def problem(self, job: Job) -> tuple[str, str] | None:
        """Why ``job`` (decoded by msgspec) cannot run, or ``None``; as :func:`job_problem`."""
        return _value_problem(job, True, self._zone, self._cron)

    def _zone(self, name: str) -> str | None:
        if name not in self._zones:
            self._zones[name] = _zone_problem(name)
        return self._zones[name]

    def _cron(self, expr: str) -> str | None:
        if expr not in self._crons:
            self._crons[expr] = _cron_problem(expr)
        return self._crons[expr]


def _zone_problem(name: str) -> str | None:
    try:
        load_zone(name)
    except UnknownTimeZoneError as exc:
        return str(exc)
    return None


def _cron_problem(expr: str) -> str | None:
    try:
        parse(expr)
    except CronError as exc:
        return str(exc)
    return None


def _value_problem(
    job: Job,
    need_id: bool,
    zone_problem: Callable[[str], str | None],
    cron_problem: Callable[[str], str | None],
) -> tuple[str, str] | None:
    if need_id and not job.id:
        return "id", "no id"
    if not job.task.strip():
        return "task", "the task is empty"
    if job.timezone and (reason := zone_problem(job.timezone)) is not None:
        return "timezone", reason
    if (reason := cron_problem(job.cron)) is not None:
        return "cron", reason
    reason = _delivery_problem(job)
    if reason:
        return "deliver", reason
    if job.timeout is not None and not (math.isfinite(job.timeout) and job.timeout > 0):
        return "timeout", f"timeout must be a positive number of seconds, not {job.timeout}"
    return None


def _delivery_problem(job: Job) -> str | None:
    kind, chat_id = job.deliver.kind, job.deliver.chat_id
    if not kind:
        return f"no delivery kind (use {', '.join(DELIVERY_KINDS)})"
    if kind not in DELIVERY_KINDS:
        return f'unknown delivery kind "{kind}" (use {", ".join(DELIVERY_KINDS)})'
    if chat_id and kind != "telegram":
        return f'delivery "{kind}" takes no chat id (got {chat_id})'
    if abs(chat_id) >= TELEGRAM_CHAT_LIMIT:
        return f"telegram chat id {chat_id} is out of range"
    return None


def validate_job(job: Job, *, need_id: bool = True) -> None:
    """Raise :class:`JobValidationError` naming the job and the field if ``job`` cannot run
    (see :func:`job_problem`). A job that has no id yet is named by its name."""
    problem = job_problem(job, need_id=need_id)
    if problem is not None:
        field, reason = problem
        label = job.id or job.name or "(unnamed)"
        raise JobValidationError(f'job "{label}": {reason}', job=label, field=field)
