"""Resolving the configuration from its sources, field by field.

Sources, lowest first: ``ODEK_HOME/secrets.env``, ``ODEK_HOME/config.json``,
``./odek.json`` (untrusted), the environment, flags. For every field the highest source
that sets it wins; ``dangerous.classes`` and ``schedules.dangerous.classes`` merge class by
class. Every value given by any source is validated, also one that a higher source
overrides, so a typo never hides until the day the override is removed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from odek.config.fields import API_KEY_FALLBACKS, FIELDS, Field
from odek.config.model import Config, SchedulesConfig, TelegramConfig
from odek.config.sources import (
    Layer,
    RawValue,
    read_environ,
    read_flags,
    read_json_file,
    read_secrets_env,
)
from odek.errors import ConfigError
from odek.home import odek_home
from odek.logs import get_logger
from odek.policy import PolicySettings
from odek.redact import register_secret

PROJECT_FILE = "odek.json"
DEFAULT_SOURCE = "default"

_log = get_logger("odek.config")


@dataclass(slots=True)
class Resolved:
    """A resolved configuration with, per field path (per class for ``*.classes.<class>``),
    the source that set it (``"default"`` when none did), and the warnings raised while
    reading the sources."""

    config: Config
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_config(
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Config:
    """Resolve the configuration (see :func:`resolve_config`), report each warning, register
    every secret for redaction and return it. Raises :class:`ConfigError`.

    Warnings are logged when logging is configured; before that (a command that has not
    set up logging) they are printed to stderr as ``odek: warning: ...``, never to stdout,
    where they would corrupt a command's output."""
    resolved = resolve_config(cwd=cwd, environ=environ, flags=flags)
    for warning in resolved.warnings:
        if structlog.is_configured():
            _log.warning(warning)
        else:
            print(f"odek: warning: {warning}", file=sys.stderr)
    return resolved.config


def resolve_config(
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Resolved:
    """Read every source and build the :class:`Config`.

    ``cwd`` (default: the process's) is where ``odek.json`` is looked for; ``environ``
    (default: ``os.environ``) supplies ``ODEK_*`` and the API-key fallbacks; ``flags`` maps
    dotted field paths to values. ``ODEK_HOME`` is taken from ``environ`` too. The API key,
    the bot token, MCP server credentials and every ``secrets.env`` value are registered
    with :func:`odek.redact.register_secret`. Raises :class:`ConfigError` naming the source
    and field of the first invalid value."""
    env = os.environ if environ is None else environ
    home = _home(env)
    warnings: list[str] = []
    secrets = read_secrets_env(home / "secrets.env", warnings)
    for value in secrets.values:
        register_secret(value)
    env_layer, env_fallbacks = read_environ(env)
    layers: list[Layer] = [
        secrets.layer,
        read_json_file(home / "config.json", warnings, untrusted=False),
        read_json_file((cwd or Path.cwd()) / PROJECT_FILE, warnings, untrusted=True),
        env_layer,
        read_flags(flags or {}),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in FIELDS:
        _merge_field(spec, layers, values, sources)
    if not values.get("api_key"):
        _api_key_fallback(values, sources, [env_fallbacks, secrets.fallbacks])
    _admin_fallback(values, sources)
    _health_addr_fallback(values, sources)
    config = _build(values)
    _register_secrets(config)
    return Resolved(config, sources, warnings)


def _home(env: Mapping[str, str]) -> Path:
    raw = env.get("ODEK_HOME", "").strip()
    if raw:
        return Path(raw).expanduser()
    return odek_home(create=False)


def _parse(spec: Field, value: RawValue) -> Any:
    try:
        return spec.parse(value.raw, value.text)
    except ValueError as exc:
        raise ConfigError(f"{value.source}: {exc}") from None


def _merge_field(
    spec: Field, layers: list[Layer], values: dict[str, Any], sources: dict[str, str]
) -> None:
    for layer in layers:
        raw = layer.get(spec.path)
        if raw is None:
            continue
        parsed = _parse(spec, raw)
        if spec.per_key:
            merged = values.setdefault(spec.path, {})
            merged.update(parsed)
            sources.update({f"{spec.path}.{key}": raw.source for key in parsed})
        else:
            values[spec.path] = parsed
            sources[spec.path] = raw.source
    if spec.path not in values:
        sources[spec.path] = DEFAULT_SOURCE


def _api_key_fallback(
    values: dict[str, Any], sources: dict[str, str], fallback_layers: list[dict[str, RawValue]]
) -> None:
    for name in API_KEY_FALLBACKS:
        for layer in fallback_layers:
            raw = layer.get(name)
            if raw is not None and raw.raw.strip():
                values["api_key"] = raw.raw.strip()
                sources["api_key"] = raw.source
                return


def _admin_fallback(values: dict[str, Any], sources: dict[str, str]) -> None:
    """With no admin lists at all, the default chat administers schedules (as in odek)."""
    chat = values.get("telegram.default_chat_id", 0)
    admin_chats = values.get("schedules.telegram_admin_chats")
    admin_users = values.get("schedules.telegram_admin_users")
    if chat and not admin_chats and not admin_users:
        values["schedules.telegram_admin_chats"] = [chat]
        sources["schedules.telegram_admin_chats"] = "derived from telegram.default_chat_id"


def _health_addr_fallback(values: dict[str, Any], sources: dict[str, str]) -> None:
    """odek (Go) read the endpoint's address from ``telegram.health_addr`` (and then lost
    it); it still turns the endpoint on when ``schedules.http_addr`` is not set."""
    alias = values.get("telegram.health_addr", "")
    if alias and not values.get("schedules.http_addr"):
        values["schedules.http_addr"] = alias
        sources["schedules.http_addr"] = "derived from telegram.health_addr"


def _section(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The values directly inside ``prefix`` (not in its sub-sections), keyed by name."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        if path.startswith(prefix) and "." not in path[len(prefix) :]:
            out[path[len(prefix) :]] = value
    return out


def _build(values: dict[str, Any]) -> Config:
    return Config(
        **_section(values, ""),
        dangerous=PolicySettings(**_section(values, "dangerous.")),
        telegram=TelegramConfig(**_section(values, "telegram.")),
        schedules=SchedulesConfig(
            **_section(values, "schedules."),
            dangerous=PolicySettings(**_section(values, "schedules.dangerous.")),
        ),
    )


def _register_secrets(config: Config) -> None:
    register_secret(config.api_key)
    register_secret(config.telegram.bot_token)
    for server in config.mcp_servers:
        for value in (*server.env.values(), *server.headers.values()):
            register_secret(value)
