"""The OpenAI chat-completions wire shapes odek sends and reads (msgspec Structs).

Only the fields odek uses are declared; unknown response fields are ignored, so any
OpenAI-compatible provider's extras (logprobs, system_fingerprint, ...) pass through.
"""

from __future__ import annotations

import msgspec


class FunctionCall(msgspec.Struct, frozen=True, omit_defaults=True):
    """The function a tool call names and its arguments, a JSON string from the model."""

    name: str
    arguments: str = ""


class ToolCall(msgspec.Struct, frozen=True, omit_defaults=True):
    """One tool call requested by the model."""

    id: str
    function: FunctionCall
    type: str = "function"


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """A chat message. ``tool_calls`` is set on an assistant message that calls tools;
    ``tool_call_id`` on the ``tool`` message answering one; ``reasoning_content`` (DeepSeek)
    is echoed back to the provider unchanged."""

    role: str
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None


class Usage(msgspec.Struct, frozen=True):
    """Token usage of one completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @property
    def tokens(self) -> int:
        """The tokens billed for the call: ``total_tokens``, else prompt + completion."""
        return self.total_tokens or self.prompt_tokens + self.completion_tokens


class Choice(msgspec.Struct, frozen=True):
    """One choice of a response; odek reads only the first."""

    message: Message
    finish_reason: str | None = None


class ChatResponse(msgspec.Struct, frozen=True):
    """The body of a successful ``/chat/completions`` response."""

    choices: list[Choice]
    usage: Usage = Usage()
    model: str = ""


class Completion(msgspec.Struct, frozen=True):
    """What :meth:`odek.llm.ChatClient.complete` returns: the first choice's message and
    the call's usage."""

    message: Message
    usage: Usage
    finish_reason: str | None = None
