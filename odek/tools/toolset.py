"""One run's tool set: the tools, the run's policy and its approver, behind
:class:`odek.protocols.Toolset`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from odek.logs import get_logger
from odek.policy import Action, Policy
from odek.protocols import Approver
from odek.tools.base import Tool
from odek.tools.files import list_dir_tool, read_file_tool, write_file_tool
from odek.tools.http import http_get_tool
from odek.tools.shell import shell_tool

__all__ = ["PolicedToolset", "build_toolset"]

log = get_logger(__name__)


class PolicedToolset:
    """Every call is decoded, classified and decided by the policy before it runs.

    ``deny`` returns ``denied: <reason>`` (for an unattended run ``denied: unattended run,
    class <class>``); ``prompt`` asks the approver and returns ``denied: not approved,
    class <class>`` on a no; a tool failure returns ``error: ...``. Nothing is raised
    except cancellation.
    """

    def __init__(self, tools: Sequence[Tool[Any]], policy: Policy, approver: Approver) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool
        self._policy = policy
        self._approver = approver

    @property
    def names(self) -> list[str]:
        """The tool names, in the order offered."""
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI ``tools`` entries for every tool."""
        return [tool.schema() for tool in self._tools.values()]

    async def call(self, name: str, arguments: str) -> str:
        """Run one call; see the class docstring for what comes back."""
        tool = self._tools.get(name)
        if tool is None:
            return f"error: unknown tool {name!r} (available: {', '.join(self._tools)})"
        try:
            args = msgspec.json.decode(arguments or "{}", type=tool.args_type)
        except msgspec.DecodeError as exc:
            return f"error: invalid arguments for {name}: {exc}"
        classification = tool.classify(args)
        decision = self._policy.decide(classification, command=tool.command(args))
        log.info(
            "tool call",
            tool=name,
            risk=decision.risk.value,
            action=decision.action.value,
            unattended=self._policy.unattended,
        )
        if decision.action is Action.DENY:
            return decision.denial()
        if decision.action is Action.PROMPT and not await self._approver.approve(
            tool=name, risk=decision.risk.value, detail=tool.describe(args)
        ):
            return f"denied: not approved, class {decision.risk}"
        try:
            return await tool.run(args)
        except Exception as exc:  # a tool failure is a result for the model, not a crash
            log.warning("tool failed", tool=name, error=str(exc))
            return f"error: {name} failed: {type(exc).__name__}: {exc}"


def build_toolset(
    policy: Policy,
    approver: Approver,
    *,
    cwd: Path,
    extra: Sequence[Tool[Any]] = (),
) -> PolicedToolset:
    """The built-in tools (``shell``, ``read_file``, ``write_file``, ``list_dir``,
    ``http_get``) working in ``cwd``, followed by ``extra`` (MCP tools), all under
    ``policy``; ``approver`` answers calls whose action is ``prompt``."""
    builtins: list[Tool[Any]] = [
        shell_tool(cwd=cwd),
        read_file_tool(cwd=cwd),
        write_file_tool(cwd=cwd),
        list_dir_tool(cwd=cwd),
        http_get_tool(),
    ]
    return PolicedToolset([*builtins, *extra], policy, approver)
