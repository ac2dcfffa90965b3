"""The configuration: one typed, immutable :class:`Config` resolved field by field from
``ODEK_HOME/secrets.env``, ``ODEK_HOME/config.json``, ``./odek.json``, ``ODEK_*``
environment variables and flags (lowest first). See ``docs/CONFIG.md``."""

from __future__ import annotations

from odek.config.fields import FIELDS, Field
from odek.config.load import Resolved, load_config, resolve_config
from odek.config.model import Config, SchedulesConfig, TelegramConfig
from odek.config.values import parse_duration, parse_run_timeout

__all__ = [
    "FIELDS",
    "Config",
    "Field",
    "Resolved",
    "SchedulesConfig",
    "TelegramConfig",
    "load_config",
    "parse_duration",
    "parse_run_timeout",
    "resolve_config",
]
