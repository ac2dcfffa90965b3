"""The argument parser every ``odek`` command is built from.

Two departures from :class:`argparse.ArgumentParser`:

- a command's flags may come before, between or after its free words
  (``odek schedule add "check mail" --cron @hourly``); ``--`` ends the flags, so the
  words after it are taken literally even when they begin with ``-``;
- a usage error raises :class:`odek.errors.UsageError` (after printing the usage line to
  stderr) instead of exiting, so that the entry point reports every error one way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar, overload

from odek.errors import UsageError

_N = TypeVar("_N")

#: What a command's parser stores as its ``handler`` default: it takes the parsed arguments
#: and returns the exit code.
Handler = Callable[[argparse.Namespace], int]


def help_handler(parser: argparse.ArgumentParser) -> Handler:
    """A handler that prints ``parser``'s help to stdout and returns 0: what a command group
    (``odek``, ``odek schedule``) does when called without a sub-command."""

    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    return show_help


class CommandParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` with intermixed flags and words, no abbreviated
    flags (``--cat`` is not ``--catchup``), and usage errors raised as :class:`UsageError`.

    Sub-parsers made with ``add_subparsers()`` are of this class too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(
        self, args: Iterable[str] | None, namespace: _N
    ) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...
    def parse_known_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> Any:
        """Parse like argparse, after moving every flag (and its value) ahead of the free
        words, so argparse sees ``flags -- words``. A command without sub-commands refuses
        arguments it does not know itself, so that the error names that command."""
        tokens = list(sys.argv[1:] if args is None else args)
        if self._dispatches():
            return super().parse_known_args(tokens, namespace)
        if self._get_positional_actions():
            tokens = self._flags_first(tokens)
        parsed, extras = super().parse_known_args(tokens, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        """Print the usage line to stderr and raise :class:`UsageError` naming the command
        (``schedule add: the following arguments are required: --cron``)."""
        self.print_usage(sys.stderr)
        command = self.prog.partition(" ")[2]
        raise UsageError(f"{command}: {message}" if command else message)

    def _dispatches(self) -> bool:
        # A parser that dispatches to sub-commands must see its tokens in their order.
        return any(a.nargs == argparse.PARSER for a in self._get_positional_actions())

    def _flags_first(self, tokens: Sequence[str]) -> list[str]:
        flags: list[str] = []
        words: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if token == "--":
                words.extend(tokens[i:])
                break
            if not token.startswith("-") or token == "-":
                words.append(token)
                continue
            flags.append(token)
            action = self._option_string_actions.get(token)
            if action is None:  # unknown, or --flag=value: argparse judges it as it is
                continue
            wanted = _values_wanted(action.nargs, tokens[i:])
            flags.extend(tokens[i : i + wanted])
            i += wanted
        return [*flags, "--", *words] if words else flags


def _values_wanted(nargs: int | str | None, following: Sequence[str]) -> int:
    """How many of the ``following`` tokens are a flag's values: its fixed count, or for an
    optional value (``nargs="?"``) the next token unless it is a flag itself."""
    if nargs is None:
        return 1
    if isinstance(nargs, int):
        return nargs
    if nargs == "?":
        return int(bool(following) and not following[0].startswith("-"))
    raise TypeError(f"CommandParser does not support flags with nargs={nargs!r}")
