"""What a tool is: a name, a JSON schema, a classifier and a coroutine that runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from odek.policy import Classification

__all__ = ["Tool", "schema_of"]

A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Tool(Generic[A]):
    """One tool offered to the model.

    The model's JSON arguments are decoded into ``args_type`` (a msgspec type; a decoding
    error is returned to the model as ``error: ...``). ``classify`` gives the call's risk
    classes, ``describe`` the one line shown in prompts and denials (the command, the path,
    the URL), ``run`` does the work and returns the text fed back to the model. ``command``
    returns the shell command line when the tool runs one (the allow- and denylists apply
    to it), else ``None``.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    args_type: Any
    classify: Callable[[A], Classification]
    describe: Callable[[A], str]
    run: Callable[[A], Awaitable[str]]
    command: Callable[[A], str | None] = lambda _args: None

    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry of this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


def schema_of(args_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON schema of a msgspec Struct, inlined (no ``$ref``), for a tool's parameters."""
    full = msgspec.json.schema(args_type)
    name = full["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = dict(full["$defs"][name])
    schema.pop("title", None)
    schema["additionalProperties"] = False
    return schema
