"""The table of every configuration field: its path, parser, environment variable, and
whether it is secret or may be set only by the operator (not by ``./odek.json``).

The loader, ``odek config show`` and the tests all work from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from odek.config import values as v
from odek.health.address import ListenAddress
from odek.tools.settings import McpServerSettings


@dataclass(frozen=True, slots=True)
class Field:
    """One configuration field. ``path`` is dotted (``telegram.bot_token``); ``env`` is its
    environment variable or ``None``; ``secret`` fields are redacted when shown and
    registered for redaction; ``operator_only`` fields are ignored (with a warning) when
    the untrusted project file ``./odek.json`` sets them; ``per_key`` fields are objects
    merged key by key across sources instead of replaced."""

    path: str
    parse: v.Parser
    env: str | None
    help: str
    secret: bool = False
    operator_only: bool = False
    per_key: bool = False


def _mcp_servers(raw: Any, is_text: bool) -> list[McpServerSettings]:
    if is_text:
        raise ValueError("mcp_servers can only be set in config.json")
    try:
        servers = msgspec.convert(raw, list[McpServerSettings])
    except msgspec.ValidationError as exc:
        raise ValueError(f"expected a list of MCP servers: {exc}") from None
    names = [server.name for server in servers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate server names: {', '.join(duplicates)}")
    return servers


def _listen_address(raw: Any, is_text: bool) -> str:
    value = v.text(raw, is_text).strip()
    return str(ListenAddress.parse(value)) if value else ""


def _policy_fields(prefix: str, env_prefix: str | None, *, what: str) -> list[Field]:
    def env(name: str) -> str | None:
        return f"{env_prefix}_{name}" if env_prefix else None

    return [
        Field(
            f"{prefix}.classes",
            v.class_actions,
            env("CLASSES"),
            f"{what}: action (allow, prompt, deny) per risk class; text sources give a JSON object",
            operator_only=True,
            per_key=True,
        ),
        Field(
            f"{prefix}.allowlist",
            v.str_list,
            env("ALLOWLIST"),
            f"{what}: shell commands always allowed (exact match); text sources are CSV",
            operator_only=True,
        ),
        Field(
            f"{prefix}.denylist",
            v.str_list,
            env("DENYLIST"),
            f"{what}: shell command prefixes always denied; text sources are CSV",
            operator_only=True,
        ),
        Field(
            f"{prefix}.action",
            v.choice("", "allow", "prompt", "deny"),
            env("ACTION"),
            f'{what}: action for every class not named in classes ("" = built-in defaults)',
            operator_only=True,
        ),
        Field(
            f"{prefix}.non_interactive",
            v.choice("allow", "deny"),
            env("NON_INTERACTIVE"),
            f"{what}: what a prompt becomes when nobody can answer (allow or deny)",
            operator_only=True,
        ),
    ]


FIELDS: tuple[Field, ...] = (
    Field("model", v.nonempty_text, "ODEK_MODEL", "model name sent to the endpoint"),
    Field(
        "base_url",
        v.http_url,
        "ODEK_BASE_URL",
        "OpenAI-compatible endpoint; requests go to {base_url}/chat/completions",
        operator_only=True,
    ),
    Field(
        "api_key",
        v.text,
        "ODEK_API_KEY",
        "API key (Bearer); falls back to DEEPSEEK_API_KEY, then OPENAI_API_KEY",
        secret=True,
        operator_only=True,
    ),
    Field(
        "system",
        v.text,
        "ODEK_SYSTEM",
        "system prompt; empty = ODEK_HOME/IDENTITY.md, else the built-in default",
        operator_only=True,
    ),
    Field(
        "thinking",
        v.choice("", "enabled", "disabled", "low", "medium", "high"),
        "ODEK_THINKING",
        'reasoning mode sent to the model ("" = the provider default)',
    ),
    Field(
        "max_iterations",
        v.integer(minimum=1),
        "ODEK_MAX_ITER",
        "most model rounds per run; one more is an error",
    ),
    Field(
        "request_timeout",
        v.duration(positive=True),
        "ODEK_REQUEST_TIMEOUT",
        "timeout of one HTTP request to the model",
    ),
    *_policy_fields("dangerous", None, what="global safety policy"),
    Field(
        "mcp_servers",
        _mcp_servers,
        None,
        "MCP tool servers: [{name, command, args, env} | {name, url, headers}, risk]",
        secret=True,
        operator_only=True,
    ),
    Field(
        "telegram.bot_token",
        v.text,
        "ODEK_TELEGRAM_BOT_TOKEN",
        "Telegram bot token (bot and telegram delivery)",
        secret=True,
        operator_only=True,
    ),
    Field(
        "telegram.bot_username",
        v.text,
        "ODEK_TELEGRAM_BOT_USERNAME",
        "the bot's @username (without @), for commands addressed to it in groups",
        operator_only=True,
    ),
    Field(
        "telegram.allowed_chats",
        v.int_list,
        "ODEK_TELEGRAM_ALLOWED_CHATS",
        "chats the bot answers; text sources are CSV",
        operator_only=True,
    ),
    Field(
        "telegram.allowed_users",
        v.int_list,
        "ODEK_TELEGRAM_ALLOWED_USERS",
        "users the bot answers; text sources are CSV",
        operator_only=True,
    ),
    Field(
        "telegram.allow_all_users",
        v.boolean,
        "ODEK_TELEGRAM_ALLOW_ALL",
        "answer everyone (no allowlist)",
        operator_only=True,
    ),
    Field(
        "telegram.default_chat_id",
        v.integer(),
        "ODEK_TELEGRAM_DEFAULT_CHAT_ID",
        "chat for telegram deliveries without a chat id (0 = none)",
        operator_only=True,
    ),
    Field(
        "telegram.api_base_url",
        v.http_url,
        "ODEK_TELEGRAM_API_URL",
        "Bot API base URL",
        operator_only=True,
    ),
    Field(
        "telegram.daily_token_budget",
        v.integer(minimum=0),
        "ODEK_TELEGRAM_DAILY_TOKEN_BUDGET",
        "tokens all agent runs may use per UTC day (0 = unlimited)",
        operator_only=True,
    ),
    Field(
        "telegram.poll_timeout",
        v.integer(minimum=0),
        "ODEK_TELEGRAM_POLL_TIMEOUT",
        "long-poll timeout of getUpdates, seconds",
        operator_only=True,
    ),
    Field(
        "telegram.session_ttl_hours",
        v.integer(minimum=1),
        "ODEK_TELEGRAM_SESSION_TTL_HOURS",
        "hours an idle chat session is kept",
        operator_only=True,
    ),
    Field(
        "telegram.agent_timeout_seconds",
        v.duration(positive=True),
        "ODEK_TELEGRAM_AGENT_TIMEOUT",
        "timeout of one interactive agent run in the bot",
        operator_only=True,
    ),
    Field(
        "telegram.health_addr",
        _listen_address,
        "ODEK_TELEGRAM_HEALTH_ADDR",
        "odek (Go)'s name of the endpoint's address: used when schedules.http_addr is empty",
        operator_only=True,
    ),
    Field(
        "schedules.enabled",
        v.boolean,
        "ODEK_SCHEDULES_ENABLED",
        "the bot hosts the scheduler",
    ),
    Field(
        "schedules.max_concurrent",
        v.integer(minimum=1),
        "ODEK_SCHEDULES_MAX_CONCURRENT",
        "most scheduled runs at once",
    ),
    Field(
        "schedules.timezone",
        v.time_zone,
        "ODEK_SCHEDULES_TIMEZONE",
        "IANA zone of jobs that name none",
    ),
    Field(
        "schedules.catchup",
        v.boolean,
        "ODEK_SCHEDULES_CATCHUP",
        "run a missed fire once at start-up (jobs may also opt in)",
    ),
    Field(
        "schedules.catchup_window",
        v.duration(positive=False),
        "ODEK_SCHEDULES_CATCHUP_WINDOW",
        "a missed fire older than this is not caught up",
    ),
    Field(
        "schedules.run_timeout",
        v.duration(positive=True),
        "ODEK_SCHEDULES_RUN_TIMEOUT",
        "default timeout of one scheduled run",
    ),
    Field(
        "schedules.drain_timeout",
        v.duration(positive=False),
        "ODEK_SCHEDULES_DRAIN_TIMEOUT",
        "how long a stopping scheduler lets running jobs finish",
    ),
    Field(
        "schedules.http_addr",
        _listen_address,
        "ODEK_HTTP_ADDR",
        'host:port of GET /healthz and /metrics; a bare port means 127.0.0.1 ("" = off)',
        operator_only=True,
    ),
    Field(
        "schedules.allow_telegram_management",
        v.boolean,
        "ODEK_SCHEDULES_ALLOW_TELEGRAM_MANAGEMENT",
        "allow the mutating /schedule commands in Telegram",
        operator_only=True,
    ),
    Field(
        "schedules.telegram_admin_chats",
        v.int_list,
        "ODEK_SCHEDULES_TELEGRAM_ADMIN_CHATS",
        "chats that may manage schedules; default [telegram.default_chat_id]",
        operator_only=True,
    ),
    Field(
        "schedules.telegram_admin_users",
        v.int_list,
        "ODEK_SCHEDULES_TELEGRAM_ADMIN_USERS",
        "users that may manage schedules",
        operator_only=True,
    ),
    *_policy_fields(
        "schedules.dangerous", "ODEK_SCHEDULES_DANGEROUS", what="extra policy of unattended runs"
    ),
)

FIELDS_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}
FIELDS_BY_ENV: dict[str, Field] = {f.env: f for f in FIELDS if f.env}

#: Environment variables read for ``api_key`` when no source sets it, in order.
API_KEY_FALLBACKS: tuple[str, ...] = ("DEEPSEEK_API_KEY", "OPENAI_API_KEY")

#: Dotted paths that are objects holding fields (``telegram``, ``schedules.dangerous``).
SECTIONS: frozenset[str] = frozenset(
    f.path.rsplit(".", i)[0] for f in FIELDS for i in range(1, f.path.count(".") + 1)
)
