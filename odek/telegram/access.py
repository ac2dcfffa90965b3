"""Who may talk to the bot, and who may change jobs and restart it.

The allowlist is fail-closed: with no ``telegram.allowed_chats``, no
``telegram.allowed_users`` and no ``telegram.allow_all_users`` the bot refuses to start.
When a list is set, a chat (or user) must be on it; when both are set, both must pass;
``allow_all_users`` admits everyone only while both lists are empty.

Admins (changing ``/schedule`` verbs, ``/restart``) are the chats in
``schedules.telegram_admin_chats`` and the users in ``schedules.telegram_admin_users``;
with both empty, ``telegram.default_chat_id`` (when set) is the admin chat, as in odek.
Nobody else, ever: empty lists mean no admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from odek.config import Config
from odek.errors import ConfigError

__all__ = ["ALLOWLIST_VARIABLES", "Access"]

#: The environment variables that open the bot to someone, named in the start-up refusal.
ALLOWLIST_VARIABLES = (
    "ODEK_TELEGRAM_ALLOWED_CHATS",
    "ODEK_TELEGRAM_ALLOWED_USERS",
    "ODEK_TELEGRAM_ALLOW_ALL",
)


@dataclass(frozen=True, slots=True)
class Access:
    """The bot's allowlist and its admin gate (see the module docstring)."""

    allowed_chats: frozenset[int]
    allowed_users: frozenset[int]
    allow_all_users: bool
    admin_chats: frozenset[int]
    admin_users: frozenset[int]
    management_enabled: bool

    @classmethod
    def from_config(cls, config: Config) -> Access:
        """The access rules of ``config``'s ``telegram`` and ``schedules`` sections."""
        tg, sched = config.telegram, config.schedules
        admin_chats = frozenset(sched.telegram_admin_chats)
        admin_users = frozenset(sched.telegram_admin_users)
        if not admin_chats and not admin_users and tg.default_chat_id:
            admin_chats = frozenset({tg.default_chat_id})
        return cls(
            allowed_chats=frozenset(tg.allowed_chats),
            allowed_users=frozenset(tg.allowed_users),
            allow_all_users=tg.allow_all_users,
            admin_chats=admin_chats,
            admin_users=admin_users,
            management_enabled=sched.allow_telegram_management,
        )

    def check_configured(self) -> None:
        """Raise :class:`ConfigError` naming the variables to set when nobody is allowed."""
        if self.allowed_chats or self.allowed_users or self.allow_all_users:
            return
        chats, users, everyone = ALLOWLIST_VARIABLES
        raise ConfigError(
            "telegram: no allowlist configured, so the bot would answer nobody; set "
            f"{chats} and/or {users} (comma-separated ids; telegram.allowed_chats / "
            f"telegram.allowed_users in config.json), or {everyone}=true to answer everyone"
        )

    def allows(self, chat_id: int, user_id: int | None) -> bool:
        """Whether an update from ``user_id`` in ``chat_id`` is answered at all."""
        if not self.allowed_chats and not self.allowed_users:
            return self.allow_all_users
        if self.allowed_chats and chat_id not in self.allowed_chats:
            return False
        return not self.allowed_users or (user_id is not None and user_id in self.allowed_users)

    def is_admin(self, chat_id: int, user_id: int | None) -> bool:
        """Whether ``user_id`` in ``chat_id`` may change jobs and restart the bot."""
        return chat_id in self.admin_chats or (user_id is not None and user_id in self.admin_users)
