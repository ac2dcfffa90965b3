"""A tiny MCP server over stdio for the MCP client tests, built on the official SDK.

Run as ``python tests/fakes/mcp_server.py``. Tools: ``echo`` returns its text, ``pid``
the server's process id, ``fail`` an error result, ``die`` exits the process at once.
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

app = MCPServer("fake")


@app.tool()
def echo(text: str) -> str:
    """Return the text, prefixed with 'echo: '."""
    return f"echo: {text}"


@app.tool()
def pid() -> str:
    """Return the server's process id."""
    return str(os.getpid())


@app.tool()
def fail() -> str:
    """Always fail."""
    raise ValueError("this tool always fails")


@app.tool()
def die() -> str:
    """Exit the server process without answering."""
    os._exit(3)


if __name__ == "__main__":
    app.run()
