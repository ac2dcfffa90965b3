"""Parsers that turn one raw configuration value into its typed form.

Each parser takes the raw value (a JSON value from a file or a flag, or the string of an
environment variable) and returns the typed value, or raises :class:`ValueError` whose
message says what is expected; the loader adds the source (file and field, or variable).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from odek.errors import InputError
from odek.policy import Action, RiskClass

#: A parser takes a raw value and whether it came from a string-only source (environment,
#: secrets.env), where numbers, booleans and lists arrive as text.
Parser = Callable[[Any, bool], Any]

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_CLASS_NAMES = ", ".join(c.value for c in RiskClass)
_ACTION_NAMES = ", ".join(a.value for a in Action)

DURATION_HELP = 'a duration: seconds as a number, or a string such as "90s", "15m", "24h"'


def parse_duration(raw: Any) -> float:
    """Seconds from a number (``90``, ``1.5``) or a string of one or more number+unit parts
    (``"90s"``, ``"15m"``, ``"1h30m"``, ``"500ms"``, ``"2d"``; a bare ``"90"`` is seconds).
    Negative values are refused."""
    if isinstance(raw, bool):
        raise ValueError(f"expected {DURATION_HELP}, got {raw!r}")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not text or "".join(n + u for n, u in parts) != text:
                raise ValueError(f"expected {DURATION_HELP}, got {raw!r}") from None
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"expected {DURATION_HELP}, got {raw!r}")
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"expected {DURATION_HELP} that is not negative, got {raw!r}")
    return seconds


def parse_run_timeout(text: str | None, *, source: str) -> float | None:
    """A job's run timeout in seconds from what a user typed (``"90s"``, ``"15m"``); ``None``
    (the configured default) for absent or blank text. Raises :class:`InputError` naming
    ``source`` (a flag or option) for a malformed or non-positive duration."""
    if text is None or not text.strip():
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as err:
        raise InputError(f"{source}: {err}") from None
    if seconds <= 0:
        raise InputError(f"{source}: expected a duration greater than zero, got {text!r}")
    return seconds


def duration(*, positive: bool) -> Parser:
    """A duration parser; with ``positive`` zero is refused too."""

    def parse(raw: Any, _text: bool) -> float:
        seconds = parse_duration(raw)
        if positive and seconds == 0:
            raise ValueError(f"expected {DURATION_HELP} greater than zero, got {raw!r}")
        return seconds

    return parse


def text(raw: Any, _text: bool) -> str:
    """Any string."""
    if not isinstance(raw, str):
        raise ValueError(f"expected a string, got {_describe(raw)}")
    return raw


def nonempty_text(raw: Any, is_text: bool) -> str:
    """A string that is not empty or blank."""
    value = text(raw, is_text).strip()
    if not value:
        raise ValueError("expected a non-empty string")
    return value


def http_url(raw: Any, is_text: bool) -> str:
    """An ``http://`` or ``https://`` URL with a host; a trailing slash is dropped."""
    value = text(raw, is_text).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def boolean(raw: Any, is_text: bool) -> bool:
    """``true``/``false`` in JSON; in text also ``1/0``, ``yes/no``, ``on/off``."""
    if isinstance(raw, bool):
        return raw
    if is_text and isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"expected true or false, got {_describe(raw)}")


def integer(*, minimum: int | None = None) -> Parser:
    """An integer (a JSON number without fraction, or decimal text), at least ``minimum``."""

    def parse(raw: Any, is_text: bool) -> int:
        value = _to_int(raw, is_text)
        if value is None:
            raise ValueError(f"expected an integer, got {_describe(raw)}")
        if minimum is not None and value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def int_list(raw: Any, is_text: bool) -> list[int]:
    """A list of integers: a JSON array, or comma-separated text (``"1, -100"``)."""
    items: list[Any]
    if is_text and isinstance(raw, str):
        items = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise ValueError(f"expected a list of integers, got {_describe(raw)}")
    out: list[int] = []
    for item in items:
        value = _to_int(item, is_text)
        if value is None:
            raise ValueError(f"expected a list of integers, but {item!r} is not an integer")
        out.append(value)
    return out


def str_list(raw: Any, is_text: bool) -> list[str]:
    """A list of strings: a JSON array, or comma-separated text; blank items are dropped."""
    if is_text and isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"expected a list of strings, got {_describe(raw)}")
    return [item.strip() for item in raw if item.strip()]


def choice(*allowed: str) -> Parser:
    """One of ``allowed`` (case-insensitive in text sources)."""

    def parse(raw: Any, is_text: bool) -> str:
        if isinstance(raw, str):
            value = raw.strip().lower() if is_text else raw
            if value in allowed:
                return value
        names = ", ".join(repr(a) if a == "" else a for a in allowed)
        raise ValueError(f"expected one of {names}, got {_describe(raw)}")

    return parse


def time_zone(raw: Any, is_text: bool) -> str:
    """An IANA time zone name such as ``Europe/Berlin``."""
    name = nonempty_text(raw, is_text)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone such as Europe/Berlin, got {name!r}"
        ) from None
    return name


def class_actions(raw: Any, is_text: bool) -> dict[str, str]:
    """A ``{risk class: action}`` object (in text sources: a JSON object)."""
    if is_text and isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"expected a JSON object of class: action, got invalid JSON ({exc})"
            ) from None
    if not isinstance(raw, dict):
        raise ValueError(f"expected an object of risk class: action, got {_describe(raw)}")
    out: dict[str, str] = {}
    for name, action in raw.items():
        if name not in RiskClass.__members__.values():
            raise ValueError(f"unknown risk class {name!r} (expected one of {_CLASS_NAMES})")
        if action not in Action.__members__.values():
            raise ValueError(f"class {name}: expected one of {_ACTION_NAMES}, got {action!r}")
        out[name] = action
    return out


def risk_class(raw: Any, is_text: bool) -> str:
    """A risk class name (``network_egress``, ``unknown``, ...)."""
    name: str = choice(*(c.value for c in RiskClass))(raw, is_text)
    return name


def _to_int(raw: Any, is_text: bool) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if is_text and isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        return int(raw)
    return None


def _describe(raw: Any) -> str:
    if isinstance(raw, str):
        return repr(raw)
    return f"{type(raw).__name__} {json.dumps(raw, default=repr)[:60]}"
