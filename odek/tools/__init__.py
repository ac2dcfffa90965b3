"""The tools a run offers to the model, each call decided by the run's policy.

``McpHub`` (the MCP client) is imported lazily, so that loading the configuration or
running a built-in-only tool set does not import the MCP SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odek.tools.base import Tool, schema_of
from odek.tools.files import list_dir_tool, read_file_tool, write_file_tool
from odek.tools.http import http_get, http_get_tool
from odek.tools.settings import McpServerSettings, McpServerSpec
from odek.tools.shell import run_shell, shell_tool
from odek.tools.toolset import PolicedToolset, build_toolset

if TYPE_CHECKING:
    from odek.tools.mcp import McpHub

__all__ = [
    "McpHub",
    "McpServerSettings",
    "McpServerSpec",
    "PolicedToolset",
    "Tool",
    "build_toolset",
    "http_get",
    "http_get_tool",
    "list_dir_tool",
    "read_file_tool",
    "run_shell",
    "schema_of",
    "shell_tool",
    "write_file_tool",
]


def __getattr__(name: str) -> Any:
    if name == "McpHub":
        from odek.tools.mcp import McpHub

        return McpHub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
