"""The typed configuration: one immutable :class:`Config` with its sections.

Every field, its default, its environment variable and which sources may set it are
listed in ``docs/CONFIG.md`` and, as code, in :mod:`odek.config.fields`.
"""

from __future__ import annotations

import msgspec

from odek.policy import PolicySettings
from odek.tools.settings import McpServerSettings

DEFAULT_MODEL = "deepseek-v4-flash"
DEFAULT_BASE_URL = "https://api.deepseek.com/v1"
DEFAULT_TELEGRAM_API = "https://api.telegram.org"


class TelegramConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The ``telegram`` section: the bot, its allowlists, delivery defaults and the daily
    token budget shared by every agent run."""

    bot_token: str = ""
    bot_username: str = ""
    allowed_chats: list[int] = []
    allowed_users: list[int] = []
    allow_all_users: bool = False
    default_chat_id: int = 0
    api_base_url: str = DEFAULT_TELEGRAM_API
    daily_token_budget: int = 0
    poll_timeout: int = 30
    session_ttl_hours: int = 24
    agent_timeout_seconds: float = 900.0
    health_addr: str = ""


class SchedulesConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The ``schedules`` section: the scheduler engine's limits and the extra policy for
    unattended runs (merged over the global ``dangerous`` with a floor, by ``odek.policy``)."""

    enabled: bool = True
    max_concurrent: int = 2
    timezone: str = "UTC"
    catchup: bool = False
    catchup_window: float = 86400.0
    run_timeout: float = 900.0
    drain_timeout: float = 30.0
    http_addr: str = ""
    allow_telegram_management: bool = True
    telegram_admin_chats: list[int] = []
    telegram_admin_users: list[int] = []
    dangerous: PolicySettings = msgspec.field(default_factory=PolicySettings)


class Config(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved configuration. Build it with :func:`odek.config.load_config`; tests may
    construct it directly (every field has a default) and derive variants with
    :func:`msgspec.structs.replace`. Durations are seconds."""

    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    api_key: str = ""
    system: str = ""
    thinking: str = ""
    max_iterations: int = 90
    request_timeout: float = 120.0
    dangerous: PolicySettings = msgspec.field(default_factory=PolicySettings)
    mcp_servers: list[McpServerSettings] = []
    telegram: TelegramConfig = msgspec.field(default_factory=TelegramConfig)
    schedules: SchedulesConfig = msgspec.field(default_factory=SchedulesConfig)
