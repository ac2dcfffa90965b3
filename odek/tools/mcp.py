"""MCP tool servers: one long-running hub per host process (daemon or bot).

:class:`McpHub` connects every configured server with the official ``mcp`` SDK once, keeps
each connection in a task of its own, and reconnects a server that dies (with doubling
back-off, checking live connections every ``health_interval`` seconds and at once when a
call finds the connection closed). A server that cannot connect is logged and retried;
meanwhile runs simply go on without its tools. :meth:`McpHub.tools` is the snapshot of
the tools currently reachable, as :class:`odek.tools.base.Tool` objects whose class is
the server's configured risk class, so the run's policy decides them like any built-in.

The SDK is anyio-based; the hub is tested on asyncio (the production backend) and trio.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx2
import mcp_types
from anyio.abc import TaskStatus
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from odek.logs import get_logger
from odek.policy import Classification, RiskClass
from odek.tools.base import Tool
from odek.tools.settings import McpServerSpec

__all__ = ["McpHub"]

log = get_logger(__name__)

_MAX_RESULT = 1 << 20
_MAX_PAGES = 50


@dataclass(eq=False)
class _Link:
    """The live state of one server."""

    spec: McpServerSpec
    risk: RiskClass
    client: Client | None = None
    tools: list[Tool[Any]] = field(default_factory=list)
    # Events need a running event loop: made by McpHub.run.
    dead: anyio.Event = field(init=False)
    changed: anyio.Event = field(init=False)

    def notify(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    def lost(self, client: Client) -> None:
        """``client`` was found closed: hide its tools now and wake the watcher (unless
        the server has been reconnected since)."""
        if self.client is not client:
            return
        self.client = None
        self.tools = []
        self.dead.set()
        self.notify()


def _risk_of(spec: McpServerSpec) -> RiskClass:
    try:
        return RiskClass(spec.risk)
    except ValueError:
        log.warning("unknown MCP risk class, using unknown", server=spec.name, risk=spec.risk)
        return RiskClass.UNKNOWN


def _format_result(result: mcp_types.CallToolResult) -> str:
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.EmbeddedResource):
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource {res.uri}]")
        else:
            parts.append(f"[{block.type} content {getattr(block, 'mime_type', '')}]".rstrip())
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > _MAX_RESULT:
        text = text[:_MAX_RESULT] + f"\n[truncated: {len(text) - _MAX_RESULT} more characters]"
    return f"error: {text}" if result.is_error else text


class McpHub:
    """Connections to the configured MCP servers, shared by every run of the process.

    Start it once with ``await task_group.start(hub.run)``: ``start`` returns after every
    server had its first connection attempt (connected or failed), so the first runs
    already see the tools of the servers that are up. Cancelling ``run`` closes every
    connection (stdio servers are stopped).
    """

    def __init__(
        self,
        servers: Sequence[McpServerSpec],
        *,
        stderr_dir: Path | None = None,
        connect_timeout: float = 30.0,
        call_timeout: float = 300.0,
        health_interval: float = 30.0,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        names = [s.name for s in servers]
        if len(set(names)) != len(names):
            raise ValueError(f"mcp_servers: duplicate server names in {names}")
        self._links = [_Link(spec, _risk_of(spec)) for spec in servers]
        self._stderr_dir = stderr_dir
        self._connect_timeout = connect_timeout
        self._call_timeout = call_timeout
        self._health_interval = health_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff

    def tools(self) -> list[Tool[Any]]:
        """The tools of every server connected right now (a snapshot for one run)."""
        return [tool for link in self._links for tool in link.tools]

    def connected(self) -> list[str]:
        """Names of the servers connected right now."""
        return [link.spec.name for link in self._links if link.client is not None]

    async def wait_connected(self, name: str) -> None:
        """Wait until server ``name`` is connected (returns at once if it is). Only while
        :meth:`run` is running."""
        link = next(link for link in self._links if link.spec.name == name)
        while link.client is None:
            await link.changed.wait()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve every server until cancelled."""
        for link in self._links:
            link.dead, link.changed = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as tg:
            attempts = [anyio.Event() for _ in self._links]
            for link, attempted in zip(self._links, attempts, strict=True):
                tg.start_soon(self._serve, link, attempted)
            for attempted in attempts:
                await attempted.wait()
            task_status.started()

    async def _serve(self, link: _Link, attempted: anyio.Event) -> None:
        delay = self._min_backoff
        name = link.spec.name
        while True:
            try:
                await self._session(link, attempted)
                log.warning("MCP server disconnected; reconnecting", server=name)
                delay = self._min_backoff
            except Exception as exc:
                log.warning(
                    "MCP server unavailable; its tools are skipped",
                    server=name,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in=delay,
                )
            attempted.set()
            await anyio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _session(self, link: _Link, attempted: anyio.Event) -> None:
        """Connect, publish the tools, and return when the connection is found dead."""
        link.dead = anyio.Event()
        # The deadline covers connecting and listing only; it is lifted once connected.
        with anyio.CancelScope(deadline=anyio.current_time() + self._connect_timeout) as scope:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(Client(self._transport(link, stack)))
                link.tools = await self._list_tools(link, client)
                scope.deadline = math.inf
                link.client = client
                link.notify()
                attempted.set()
                log.info("MCP server connected", server=link.spec.name, tools=len(link.tools))
                try:
                    await self._watch(link, client)
                finally:
                    link.client = None
                    link.tools = []
                    link.notify()
        if scope.cancelled_caught:
            raise TimeoutError(f"no answer within {self._connect_timeout:g}s")

    def _transport(self, link: _Link, stack: AsyncExitStack) -> Any:
        spec = link.spec
        if spec.url:
            http = httpx2.AsyncClient(headers=dict(spec.headers), timeout=self._call_timeout)
            stack.push_async_callback(http.aclose)
            return streamable_http_client(spec.url, http_client=http)
        params = StdioServerParameters(
            command=spec.command, args=list(spec.args), env=dict(spec.env) or None
        )
        return stdio_client(params, errlog=stack.enter_context(self._errlog(spec.name)))

    def _errlog(self, name: str) -> TextIO:
        """Where a stdio server's standard error goes: ``<stderr_dir>/mcp-<name>.log``
        (0600, appended) or nowhere."""
        if self._stderr_dir is None:
            return open(os.devnull, "w")  # closed by the exit stack
        path = self._stderr_dir / f"mcp-{name}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")

    async def _watch(self, link: _Link, client: Client) -> None:
        while True:
            with anyio.move_on_after(self._health_interval):
                await link.dead.wait()
                return
            try:
                with anyio.fail_after(self._call_timeout):
                    tools = await self._list_tools(link, client)
            except (MCPError, TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            if [t.name for t in tools] != [t.name for t in link.tools]:
                link.tools = tools
                link.notify()

    async def _list_tools(self, link: _Link, client: Client) -> list[Tool[Any]]:
        listed: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await client.list_tools(cursor=cursor, cache_mode="refresh")
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        return [self._tool(link, t) for t in listed]

    def _tool(self, link: _Link, tool: mcp_types.Tool) -> Tool[dict[str, Any]]:
        server = link.spec.name
        full = f"mcp__{server}__{tool.name}"[:64]
        risk = link.risk

        async def run(args: dict[str, Any]) -> str:
            return await self._call(link, tool.name, args)

        return Tool(
            name=full,
            description=(tool.description or f"{tool.name} (MCP server {server})")[:1024],
            parameters=tool.input_schema or {"type": "object", "properties": {}},
            args_type=dict[str, Any],
            classify=lambda _args: Classification.of(risk, f"MCP tool {server}/{tool.name}"),
            describe=lambda args: f"{server}/{tool.name} {json.dumps(args)[:500]}",
            run=run,
        )

    async def _call(self, link: _Link, tool: str, args: dict[str, Any]) -> str:
        client = link.client
        server = link.spec.name
        if client is None:
            return f"error: MCP server {server!r} is not connected"
        try:
            with anyio.fail_after(self._call_timeout):
                result = await client.call_tool(tool, args)
        except TimeoutError:
            return f"error: MCP tool {server}/{tool} gave no answer within {self._call_timeout:g}s"
        except MCPError as exc:
            if exc.code == mcp_types.CONNECTION_CLOSED:
                link.lost(client)
            return f"error: MCP tool {server}/{tool} failed: {exc.message}"
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            link.lost(client)
            return f"error: MCP server {server!r} connection lost"
        return _format_result(result)
