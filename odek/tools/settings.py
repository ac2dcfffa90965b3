"""Configuration shapes owned by the tools package (cheap to import: no MCP SDK here)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from odek.policy import RiskClass

__all__ = ["McpServerSettings", "McpServerSpec"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")


class McpServerSpec(Protocol):
    """What :class:`odek.tools.mcp.McpHub` reads from one configured server; both
    :class:`McpServerSettings` and the configuration's own struct satisfy it."""

    @property
    def name(self) -> str: ...
    @property
    def command(self) -> str: ...
    @property
    def args(self) -> Sequence[str]: ...
    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def risk(self) -> str: ...


class McpServerSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry of ``mcp_servers``: a ``name`` (1-32 of ``A-Z a-z 0-9 _ -``; tools are
    offered as ``mcp__<name>__<tool>``), then either a stdio ``command`` with ``args`` and
    extra ``env`` (added to a minimal inherited environment: HOME, PATH, ...), or a
    streamable-HTTP ``url`` with optional ``headers``. ``risk`` is the risk class the
    policy gives every call to this server's tools (default ``unknown``, which the default
    policy denies).

    Decoding validates the entry; a bad one raises :class:`msgspec.ValidationError`
    naming the field and the path.
    """

    name: str
    command: str = ""
    args: list[str] = []
    env: dict[str, str] = {}
    url: str = ""
    headers: dict[str, str] = {}
    risk: str = "unknown"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name: {self.name!r} must be 1-32 letters, digits, '_' or '-'")
        if bool(self.command) == bool(self.url):
            raise ValueError(f"server {self.name!r}: set exactly one of command or url")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"server {self.name!r}: url must start with http:// or https://")
        if self.risk not in RiskClass.__members__.values():
            classes = ", ".join(RiskClass)
            raise ValueError(f"server {self.name!r}: unknown risk {self.risk!r} ({classes})")
