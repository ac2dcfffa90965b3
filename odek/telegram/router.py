"""The router actor: checks who sent an update and sends it where it belongs.

- Access is checked first (:class:`odek.telegram.access.Access`): updates from anyone
  else are dropped without an answer (and logged).
- Edited messages are dropped: editing ``/schedule add …`` must not add a second job,
  and an edit is not a new question for the agent.
- ``/name[@bot] args`` goes to the command of that name (a command addressed to another
  bot is ignored); an unknown one is answered ``Unknown command``. ``args`` keeps its
  lines.
- Any other text goes to the chat's conversation worker.
- An inline-button press goes to ``on_press``.

Each command and press is handled in its own task, so a slow one never holds up the
updates behind it. While the bot restarts, new messages are answered "restarting".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import anyio
import telegram
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from odek.logs import get_logger
from odek.telegram.access import Access
from odek.telegram.conversation import RESTARTING, ConversationManager, Prompt
from odek.telegram.sender import ChatSender

__all__ = ["Command", "CommandHandler", "PressHandler", "Pressed", "Router", "parse_command"]

log = get_logger("odek.telegram")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Command:
    """A command message: ``/name args`` from ``user_id`` in ``chat_id``."""

    chat_id: int
    user_id: int | None
    message_id: int
    name: str
    args: str


@dataclass(frozen=True, slots=True)
class Pressed:
    """An inline-button press: callback ``data`` of the button under ``message_id``."""

    chat_id: int
    user_id: int
    message_id: int
    query_id: str
    data: str


_COMMAND = re.compile(r"/(\S+)")

CommandHandler = Callable[[Command], Awaitable[None]]
PressHandler = Callable[[Pressed], Awaitable[None]]


def parse_command(text: str, username: str) -> tuple[str, str] | None:
    """``(name, args)`` of a command text, or ``None`` if it is not a command for this bot
    (``/cmd@OtherBot``). ``username`` is this bot's username (compared ignoring case)."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    name, _, target = match.group(1).partition("@")
    if target and target.lower() != username.lower():
        return None
    return name, text[match.end() :].strip()


class Router:
    """Routes updates from ``updates`` (see the module docstring)."""

    def __init__(
        self,
        *,
        updates: MemoryObjectReceiveStream[telegram.Update],
        access: Access,
        sender: ChatSender,
        conversations: ConversationManager,
        commands: Mapping[str, CommandHandler],
        on_press: PressHandler,
        username: str,
        restarting: Callable[[], bool] = lambda: False,
    ) -> None:
        self.updates = updates
        self.access = access
        self.sender = sender
        self.conversations = conversations
        self.commands = commands
        self.on_press = on_press
        self.username = username
        self.restarting = restarting

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Route updates until cancelled."""
        async with anyio.create_task_group() as tasks:
            task_status.started()
            async for update in self.updates:
                self.dispatch(update, tasks)

    def dispatch(self, update: telegram.Update, tasks: TaskGroup) -> None:
        """Route one update; handlers are started in ``tasks``."""
        if update.callback_query is not None:
            self._press(update.callback_query, tasks)
            return
        if update.edited_message is not None:
            log.info("edit_ignored", update_id=update.update_id)
            return
        message = update.message
        if message is None or message.text is None:
            return
        chat_id = message.chat.id
        user_id = message.from_user.id if message.from_user else None
        if not self.access.allows(chat_id, user_id):
            log.info("update_ignored", chat_id=chat_id, user_id=user_id, reason="not allowed")
            return
        if self.restarting():
            tasks.start_soon(self.sender.send, chat_id, RESTARTING)
            return
        command = parse_command(message.text, self.username)
        if command is not None:
            name, args = command
            handler = self.commands.get(name)
            if handler is None:
                tasks.start_soon(
                    self.sender.send, chat_id, f"Unknown command: /{name}. Send /help for the list."
                )
                return
            cmd = Command(chat_id, user_id, message.message_id, name, args)
            tasks.start_soon(self._guard, chat_id, handler, cmd, name=f"telegram/command/{name}")
        elif message.text.startswith("/"):
            return  # a command for another bot
        elif not self.conversations.submit(
            chat_id, Prompt(message.text, user_id or chat_id, message.message_id)
        ):
            tasks.start_soon(self.sender.send, chat_id, RESTARTING)

    def _press(self, query: telegram.CallbackQuery, tasks: TaskGroup) -> None:
        message = query.message
        user_id = query.from_user.id
        if message is None or not query.data:
            return
        chat_id = message.chat.id
        if not self.access.allows(chat_id, user_id):
            log.info("update_ignored", chat_id=chat_id, user_id=user_id, reason="not allowed")
            return
        pressed = Pressed(chat_id, user_id, message.message_id, query.id, query.data)
        tasks.start_soon(self._guard, chat_id, self.on_press, pressed, name="telegram/press")

    async def _guard(
        self, chat_id: int, handler: Callable[[_T], Awaitable[None]], argument: _T
    ) -> None:
        try:
            await handler(argument)
        except Exception as exc:  # one failing command must not take the router down
            log.exception("command_failed", chat_id=chat_id)
            await self.sender.send(chat_id, f"❌ Internal error: {type(exc).__name__}: {exc}")
