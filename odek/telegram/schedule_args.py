"""The grammar of ``/schedule add`` as typed in a chat.

``/schedule add <cron> <task> [| options]``: the cron is an ``@macro`` or exactly five
whitespace-separated fields; the task is everything after it, verbatim (its lines and
inner spacing are kept); the options are the part after the *last* ``|``, written as
shell-style words (``name="Morning digest" tz=Europe/Berlin catchup``). A task that itself
contains ``|`` keeps it when the message ends with a bare ``|`` (an empty option list).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from odek.errors import UsageError

ADD_USAGE = "/schedule add <cron> <task> [| options]"

#: Options and what each takes, in the order the help lists them.
OPTIONS: dict[str, str] = {
    "deliver": "deliver=stdout|log|telegram|telegram:<chat>",
    "tz": "tz=<IANA zone>",
    "name": 'name=<label> (quote it if it has spaces: name="Morning digest")',
    "catchup": "catchup or catchup=true|false",
    "disabled": "disabled or disabled=true|false",
    "timeout": "timeout=<duration> (for example 90s, 15m)",
}

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_FIELD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class AddRequest:
    """A parsed ``/schedule add``; ``None`` means the option was not given."""

    cron: str
    task: str
    deliver: str | None = None
    tz: str | None = None
    name: str | None = None
    catchup: bool | None = None
    disabled: bool | None = None
    timeout: str | None = None


def parse_add(text: str) -> AddRequest:
    """Parse the text after ``/schedule add``.

    Raises :class:`UsageError` naming what is missing or wrong: no cron, no task, an
    unknown option (the message lists the valid ones), a boolean option with a value
    other than true/false, or unbalanced quotes in the options.
    """
    body, options = _split_options(text)
    cron, task = _split_cron_task(body)
    values, flags = _parse_options(options)
    return AddRequest(
        cron=cron,
        task=task,
        deliver=values.get("deliver"),
        tz=values.get("tz"),
        name=values.get("name"),
        timeout=values.get("timeout"),
        catchup=flags.get("catchup"),
        disabled=flags.get("disabled"),
    )


def _split_options(text: str) -> tuple[str, str]:
    body, bar, options = text.rpartition("|")
    if not bar:
        return text, ""
    return body, options


def _split_cron_task(body: str) -> tuple[str, str]:
    stripped = body.strip()
    need = 1 if stripped.startswith("@") else 5
    fields = list(_FIELD.finditer(stripped))
    if len(fields) <= need:
        what = "an @macro" if need == 1 else "five cron fields"
        raise UsageError(
            f"could not read the cron and the task: give {what}, then the task "
            f"(for example: /schedule add 0 9 * * 1-5 Summarize my unread email)"
        )
    cron = " ".join(m.group() for m in fields[:need])
    task = stripped[fields[need].start() :].strip()
    return cron, task


def _parse_options(text: str) -> tuple[dict[str, str], dict[str, bool]]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"options after '|': {exc}") from exc
    values: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for word in words:
        key, eq, value = word.partition("=")
        key = key.lower()
        if key not in OPTIONS:
            valid = ", ".join(OPTIONS.values())
            raise UsageError(f"unknown option {key!r} after '|'; valid options: {valid}")
        if key in ("catchup", "disabled"):
            flags[key] = _boolean(key, value) if eq else True
        elif not value:
            raise UsageError(f"option {key!r} needs a value: {OPTIONS[key]}")
        else:
            values[key] = value
    return values, flags


def _boolean(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise UsageError(f"option {key!r} takes true or false, not {value!r}")
