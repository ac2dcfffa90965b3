"""A small real tool set for agent tests: ``add`` sums numbers, ``fail`` returns an
error, ``deny`` returns a denial, ``dump`` returns a large text. Calls are recorded."""

from __future__ import annotations

import json
from typing import Any


class ArithmeticToolset:
    """Implements :class:`odek.protocols.Toolset`."""

    def __init__(self, *, dump_size: int = 100_000) -> None:
        self.calls: list[tuple[str, str]] = []
        self._dump_size = dump_size

    def schemas(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "function",
                "function": {
                    "name": "add",
                    "description": "Sum a list of numbers.",
                    "parameters": {
                        "type": "object",
                        "properties": {"numbers": {"type": "array", "items": {"type": "number"}}},
                        "required": ["numbers"],
                    },
                },
            }
        ]

    async def call(self, name: str, arguments: str) -> str:
        self.calls.append((name, arguments))
        if name == "add":
            try:
                numbers = json.loads(arguments)["numbers"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                return f"error: bad arguments: {exc}"
            return str(sum(numbers))
        if name == "deny":
            return "denied: unattended run, class network_egress"
        if name == "dump":
            return "x" * self._dump_size
        return f"error: unknown tool {name!r}"
