"""The agent loop: ask the model, run the tools it calls, feed the results back, until it
answers without calling a tool.

Each round is one chat-completions call. The run ends with the first answer that calls
no tool (an empty answer is a :class:`RunError`: there is nothing to deliver); a model
still calling tools after ``max_iterations`` rounds is a
:class:`RunError`. Tool calls run one after another, in the order the model gave them
(an interactive approver asks about one call at a time). Tool results are redacted and,
when longer than :data:`MAX_TOOL_RESULT`, cut to their head and tail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from odek.errors import RunError
from odek.llm import Completion, Message
from odek.logs import get_logger
from odek.protocols import Toolset
from odek.redact import redact

MAX_TOOL_RESULT = 32 * 1024
_TAIL = 8 * 1024

#: Called with the tokens of each model call as soon as it returns (budget accounting).
UsageHook = Callable[[int], Awaitable[None]]

_log = get_logger("odek.agent")


class Completer(Protocol):
    """What the loop needs from a model client (:class:`odek.llm.ChatClient`)."""

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[dict[str, Any]] = ()
    ) -> Completion: ...


@dataclass(frozen=True, slots=True)
class AgentResult:
    """The final answer, the tokens summed over every round, and the number of rounds."""

    text: str
    tokens: int
    rounds: int


async def run_agent(
    llm: Completer,
    toolset: Toolset,
    *,
    system: str,
    task: str,
    max_iterations: int,
    on_usage: UsageHook | None = None,
) -> AgentResult:
    """Run ``task`` to its final answer (see the module docstring). ``on_usage`` is awaited
    after every model call, so usage is accounted even when a later round fails."""
    messages: list[Message] = [
        Message(role="system", content=system),
        Message(role="user", content=task),
    ]
    schemas = toolset.schemas()
    tokens = 0
    for round_ in range(1, max_iterations + 1):
        done = await llm.complete(messages, tools=schemas)
        tokens += done.usage.tokens
        if on_usage is not None:
            await on_usage(done.usage.tokens)
        calls = done.message.tool_calls or []
        if not calls:
            text = (done.message.content or "").strip()
            if not text:
                raise RunError(
                    f"the model ended the run with an empty answer "
                    f"(finish reason {done.finish_reason or 'unknown'})"
                )
            return AgentResult(text, tokens, round_)
        messages.append(
            Message(
                role="assistant",
                content=done.message.content,
                tool_calls=calls,
                reasoning_content=done.message.reasoning_content,
            )
        )
        for call in calls:
            _log.info("tool call", tool=call.function.name, round=round_)
            result = await toolset.call(call.function.name, call.function.arguments)
            messages.append(Message(role="tool", content=_clip(result), tool_call_id=call.id))
    raise RunError(
        f"reached max iterations ({max_iterations}) without a final answer ({tokens} tokens used)"
    )


def _clip(result: str) -> str:
    text = redact(result)
    if len(text) <= MAX_TOOL_RESULT:
        return text
    head = text[: MAX_TOOL_RESULT - _TAIL]
    cut = len(text) - len(head) - _TAIL
    return f"{head}\n[... {cut} characters cut ...]\n{text[-_TAIL:]}"
