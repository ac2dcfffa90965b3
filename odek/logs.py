"""Structured logging for odek: structlog events on standard error, secrets redacted.

Output format: a readable console line when standard error is a terminal, one JSON object
per line otherwise. ``ODEK_LOG_FORMAT`` (``console`` | ``json``) and ``ODEK_LOG_LEVEL``
(``debug`` | ``info`` | ``warning`` | ``error`` | ``critical``) override the defaults;
the keyword arguments of :func:`configure_logging` (command-line flags) override both.

Every string in every event, including nested values and formatted tracebacks, goes
through :func:`odek.redact.redact` before it is rendered. Records from the standard
library's :mod:`logging` (httpx, python-telegram-bot, ...) are rendered and redacted the
same way; httpx's per-request lines are kept at WARNING because their URLs carry the bot
token.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from odek.errors import ConfigError
from odek.redact import redact

__all__ = ["configure_logging", "get_logger"]

ENV_FORMAT = "ODEK_LOG_FORMAT"
ENV_LEVEL = "ODEK_LOG_LEVEL"
FORMATS = ("console", "json")
LEVELS: Mapping[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
# Chatty libraries whose INFO lines hold request URLs (and so the bot token).
_QUIET_LIBRARIES = ("httpx", "httpcore", "telegram", "hpack")


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return value


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact every string value of the event, recursively.

    Exceptions must already be formatted to text (``format_exc_info`` runs first)."""
    for key, value in event_dict.items():
        event_dict[key] = _redact_value(value)
    return event_dict


def _choose(
    value: str | None, env: str, allowed: Mapping[str, object] | tuple[str, ...], default: str
) -> str:
    source = "argument"
    if value is None:
        value, source = os.environ.get(env, "").strip(), env
    if not value:
        return default
    value = value.strip().lower()
    if value not in allowed:
        raise ConfigError(
            f"{source}: invalid log setting {value!r} (expected one of {', '.join(allowed)})"
        )
    return value


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, so a replaced
    stream (a test's capture, a daemon's redirection) never leaves a stale handle."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(*, fmt: str | None = None, level: str | None = None) -> None:
    """Configure structlog and the standard :mod:`logging` root logger to write to stderr.

    ``fmt`` is ``"console"`` or ``"json"``; ``level`` a level name. ``None`` means: take
    ``ODEK_LOG_FORMAT`` / ``ODEK_LOG_LEVEL``, else console on a terminal (JSON otherwise)
    and ``info``. Raises :class:`odek.errors.ConfigError` naming the source of an invalid
    value. Calling it again replaces the previous configuration.
    """
    stream = sys.stderr
    default_fmt = "console" if stream.isatty() else "json"
    chosen_fmt = _choose(fmt, ENV_FORMAT, FORMATS, default_fmt)
    chosen_level = LEVELS[_choose(level, ENV_LEVEL, LEVELS, "info")]

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_event,
    ]
    renderer: Any
    if chosen_fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False, default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Not cached, so a later configure_logging() also reaches loggers already handed out.
        cache_logger_on_first_use=False,
    )

    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in root.handlers[:]:
        if isinstance(old, _StderrHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(chosen_level)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(chosen_level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named ``name`` (shown as ``logger`` in every event)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def _configure_default() -> None:
    """Until the program calls :func:`configure_logging`, events still go to stderr (never
    into a stdout delivery) and are still redacted; a bad environment value is ignored here
    and reported by the program's own call."""
    try:
        configure_logging()
    except ConfigError:
        configure_logging(fmt="console" if sys.stderr.isatty() else "json", level="info")


if not structlog.is_configured():
    _configure_default()
