"""The Telegram bot: chat with the agent, approve its risky tool calls, manage and run
scheduled jobs from the chat, and host the scheduler in the same process.

:func:`run_bot` is ``odek telegram``; :class:`TelegramBot` is the bot's supervision tree
(poller, router, conversation workers, embedded scheduler). See ``docs/TELEGRAM.md``.
"""

from odek.telegram.access import ALLOWLIST_VARIABLES, Access
from odek.telegram.agent import AgentChat, ChatAgent, interactive_toolset_factory
from odek.telegram.approvals import APPROVAL_TIMEOUT, ApprovalBroker, TelegramApprover
from odek.telegram.conversation import ConversationManager, ManualRun, Prompt
from odek.telegram.embedded import BotDeliverer, EmbeddedScheduler
from odek.telegram.history import HistoryStore, Turn
from odek.telegram.poller import OffsetStore, Poller
from odek.telegram.restart import RestartControl
from odek.telegram.router import Command, Pressed, Router, parse_command
from odek.telegram.schedule_commands import Press, Reply, ScheduleCommands
from odek.telegram.sender import ChatSender, keyboard
from odek.telegram.service import (
    COMMANDS,
    BotExit,
    TelegramBot,
    check_startable,
    open_telegram,
    run_bot,
)

__all__ = [
    "ALLOWLIST_VARIABLES",
    "APPROVAL_TIMEOUT",
    "COMMANDS",
    "Access",
    "AgentChat",
    "ApprovalBroker",
    "BotDeliverer",
    "BotExit",
    "ChatAgent",
    "ChatSender",
    "Command",
    "ConversationManager",
    "EmbeddedScheduler",
    "HistoryStore",
    "ManualRun",
    "OffsetStore",
    "Poller",
    "Press",
    "Pressed",
    "Prompt",
    "Reply",
    "RestartControl",
    "Router",
    "ScheduleCommands",
    "TelegramApprover",
    "TelegramBot",
    "Turn",
    "check_startable",
    "interactive_toolset_factory",
    "keyboard",
    "open_telegram",
    "parse_command",
    "run_bot",
]
