"""The model endpoint: an OpenAI-compatible chat-completions client and its messages."""

from __future__ import annotations

from odek.llm.client import ChatClient, Sleep
from odek.llm.messages import Completion, FunctionCall, Message, ToolCall, Usage

__all__ = ["ChatClient", "Completion", "FunctionCall", "Message", "Sleep", "ToolCall", "Usage"]
