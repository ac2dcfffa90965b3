"""Structured logging for odek: structlog events on standard error, secrets redacted.

Output format: a readable console line when standard error is a terminal, one JSON object
per line otherwise. ``ODEK_LOG_FORMAT`` (``console`` | ``json``) and ``ODEK_LOG_LEVEL``
(``debug`` | ``info`` | ``warning`` | ``error`` | ``critical``) override the defaults;
the keyword arguments of :func:`configure_logging` (command-line flags) override both.

Events run through structlog's own pipeline (no :mod:`logging` machinery), so one costs a
few microseconds, and one below the level costs a method call that does nothing.

Every line written goes through :func:`odek.redact.redact` once, whole: a JSON line is
redacted as JSON, which covers every string in the event, nested values, formatted
tracebacks, and objects rendered with ``str()``. On the console, where colour codes split
keys from values, every value is also redacted before rendering. Records from the
standard library's :mod:`logging` (httpx, python-telegram-bot, ...) are rendered and
redacted the same way; the chatty libraries are held at WARNING because their INFO lines
carry URLs with the bot token.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any, cast

import msgspec
import structlog
from structlog.typing import FilteringBoundLogger, Processor

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
# Chatty libraries: INFO lines that hold request URLs (and so the bot token), or that
# repeat what odek logs itself (watchfiles' "1 change detected" before every reload).
_QUIET_LIBRARIES = ("httpx", "httpcore", "telegram", "hpack", "watchfiles")

# One lock for structlog events and standard-library records, so lines written from
# several threads never interleave.
_write_lock = threading.Lock()


def _write_line(line: str) -> None:
    """Redact ``line`` and write it to whatever ``sys.stderr`` is now (a test's capture, a
    daemon's redirection), never to a stream captured at configuration time."""
    text = redact(line) + "\n"
    with _write_lock:
        stream = sys.stderr
        stream.write(text)
        stream.flush()


class _StderrLogger:
    """The logger structlog wraps: each rendered event becomes one line on stderr."""

    def msg(self, message: str) -> None:
        _write_line(message)

    # structlog calls the method named like the event's level.
    log = debug = info = warn = warning = error = critical = exception = fatal = msg


_STDERR_LOGGER = _StderrLogger()

# msgspec's JSON is ten times as fast as json.dumps, and escapes exactly as
# json.dumps(ensure_ascii=False) does (non-ASCII kept), the form redact() knows. Objects
# it has no JSON form for are rendered with str(); bytes become base64 (msgspec's choice).
_encode_json = msgspec.json.Encoder(enc_hook=str).encode


def _to_json(event_dict: Any, **_options: Any) -> str:
    return _encode_json(event_dict).decode()


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _STDERR_LOGGER


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # The console shows other objects with repr(); show the redacted text instead when
    # it differs.
    shown = repr(value)
    hidden = redact(shown)
    return value if hidden == shown else hidden


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor for the console: redact every value of the event, recursively,
    before colour codes are mixed in. Exceptions must already be formatted to text
    (``format_exc_info`` runs first)."""
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


class _StderrHandler(logging.Handler):
    """Renders standard-library records with the structlog renderer and writes them as
    structlog events are written."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write_line(self.format(record))
        except Exception:  # logging's contract: report, never raise into the caller
            self.handleError(record)


class _Logger:
    """What :func:`get_logger` hands out: forwards every call to a structlog logger
    assembled from the current configuration, reassembled after each
    :func:`configure_logging`, so loggers created at import time follow it."""

    __slots__ = ("_bound", "_generation", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: FilteringBoundLogger | None = None
        self._generation = -1

    def __getattr__(self, attr: str) -> Any:
        if self._generation != _generation or self._bound is None:
            self._bound = cast(FilteringBoundLogger, structlog.get_logger().bind(logger=self._name))
            self._generation = _generation
        return getattr(self._bound, attr)


_generation = 0


def configure_logging(*, fmt: str | None = None, level: str | None = None) -> None:
    """Configure structlog and the standard :mod:`logging` root logger to write to stderr.

    ``fmt`` is ``"console"`` or ``"json"``; ``level`` a level name. ``None`` means: take
    ``ODEK_LOG_FORMAT`` / ``ODEK_LOG_LEVEL``, else console on a terminal (JSON otherwise)
    and ``info``. Raises :class:`odek.errors.ConfigError` naming the source of an invalid
    value. Calling it again replaces the previous configuration, also for loggers already
    returned by :func:`get_logger`.
    """
    global _generation
    stream = sys.stderr
    default_fmt = "console" if stream.isatty() else "json"
    chosen_fmt = _choose(fmt, ENV_FORMAT, FORMATS, default_fmt)
    chosen_level = LEVELS[_choose(level, ENV_LEVEL, LEVELS, "info")]

    shared: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: Processor
    if chosen_fmt == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_to_json)
    else:
        shared.append(redact_event)
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(chosen_level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _generation += 1

    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.ExtraAdder(),
                structlog.stdlib.add_logger_name,
                *shared,
            ],
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


def get_logger(name: str) -> FilteringBoundLogger:
    """A structlog logger named ``name`` (shown as ``logger`` in every event) that follows
    every later :func:`configure_logging`. Loggers made from it with ``bind()`` keep the
    configuration current when they were made."""
    return cast(FilteringBoundLogger, _Logger(name))


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
