"""Agent runs: the loop, the system prompt, the daily token budget and the runners."""

from __future__ import annotations

from odek.agent.budget import TokenBudget
from odek.agent.loop import AgentResult, run_agent
from odek.agent.prompt import DEFAULT_SYSTEM, system_prompt
from odek.agent.runner import (
    HeadlessRunner,
    ToolsetFactory,
    run_task,
    unattended_toolset_factory,
)

__all__ = [
    "DEFAULT_SYSTEM",
    "AgentResult",
    "HeadlessRunner",
    "TokenBudget",
    "ToolsetFactory",
    "run_agent",
    "run_task",
    "system_prompt",
    "unattended_toolset_factory",
]
