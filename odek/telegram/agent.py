"""One chat turn through the agent: the chat's history, then the new message.

:class:`ChatAgent` is what a conversation worker needs; :class:`AgentChat` is the real one.
It reuses :func:`odek.agent.run_agent` unchanged: the loop builds ``[system, user task]``,
and :class:`_WithHistory` slips the chat's earlier messages in between before each model
call, so the agent loop itself knows nothing about conversations.

Interactive runs use the global ``dangerous`` policy (not the unattended floor), and
the approver of the chat: a call whose action is ``prompt`` asks in the chat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import anyio

from odek.agent import TokenBudget, run_agent, system_prompt
from odek.agent.loop import Completer
from odek.config import Config
from odek.llm import ChatClient, Completion, Message
from odek.policy import build_policy
from odek.protocols import Approver, RunOutcome, Toolset
from odek.telegram.history import Turn
from odek.tools import Tool, build_toolset

__all__ = ["AgentChat", "ChatAgent", "InteractiveToolsetFactory", "interactive_toolset_factory"]

#: Builds the tool set of one interactive turn from the chat's approver.
InteractiveToolsetFactory = Callable[[Approver], Toolset]

#: Prefix the bot puts before a run's system prompt.
CHAT_CONTEXT = (
    "You are talking with a user in a Telegram chat. Answer in Markdown; keep answers "
    "short enough to read on a phone. Tool calls that need approval are shown to the "
    "user with Approve and Deny buttons."
)


class ChatAgent(Protocol):
    """Answers one message of a chat, given the chat's history."""

    async def reply(
        self, history: Sequence[Turn], text: str, *, approver: Approver
    ) -> RunOutcome: ...


def interactive_toolset_factory(
    config: Config,
    *,
    cwd: Path | None = None,
    extra_tools: Callable[[], Sequence[Tool[Any]]] | None = None,
) -> InteractiveToolsetFactory:
    """The built-in tools (plus ``extra_tools()``, the MCP tools connected at that moment)
    under the global ``dangerous`` policy (interactive), asking ``approver`` about
    ``prompt`` calls."""
    policy = build_policy(config.dangerous, unattended=False)

    def build(approver: Approver) -> Toolset:
        extra = extra_tools() if extra_tools is not None else ()
        return build_toolset(policy, approver, cwd=cwd or Path.cwd(), extra=extra)

    return build


class AgentChat:
    """The real :class:`ChatAgent`: the configured model through :func:`run_agent`.

    The day's token budget (shared with scheduled runs) is checked before the model is
    called (:class:`odek.errors.BudgetExhaustedError`) and every model call is recorded.
    """

    def __init__(
        self,
        config: Config,
        *,
        home: Path,
        toolset_factory: InteractiveToolsetFactory | None = None,
        cwd: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._home = home
        self._cwd = cwd or Path.cwd()
        self._toolset_factory = toolset_factory or interactive_toolset_factory(config, cwd=cwd)
        self._clock = clock
        self.budget = TokenBudget(home, config.telegram.daily_token_budget, clock=clock)

    async def reply(self, history: Sequence[Turn], text: str, *, approver: Approver) -> RunOutcome:
        """Run ``text`` after ``history``; raises what :func:`run_agent` raises."""
        await anyio.to_thread.run_sync(self.budget.check)
        config = self._config
        system = system_prompt(
            config,
            home=self._home,
            now=self._clock().astimezone(ZoneInfo(config.schedules.timezone)),
            cwd=self._cwd,
            unattended=False,
        )

        async def record(tokens: int) -> None:
            await anyio.to_thread.run_sync(self.budget.record, tokens)

        async with ChatClient.from_config(config) as llm:
            result = await run_agent(
                _WithHistory(llm, history),
                self._toolset_factory(approver),
                system=f"{system}\n\n{CHAT_CONTEXT}",
                task=text,
                max_iterations=config.max_iterations,
                on_usage=record,
            )
        return RunOutcome(result.text, result.tokens)


class _WithHistory:
    """A :class:`Completer` that puts ``history`` right after the system message."""

    def __init__(self, llm: Completer, history: Sequence[Turn]) -> None:
        self._llm = llm
        self._history = [Message(role=t.role, content=t.content) for t in history]

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[dict[str, Any]] = ()
    ) -> Completion:
        return await self._llm.complete([*messages[:1], *self._history, *messages[1:]], tools=tools)
