"""Approvers: who answers a tool call whose policy action is ``prompt``.

Unattended runs use :class:`UnattendedApprover`, which answers no without touching any
terminal (the original odek fell back to ``/dev/tty`` and could block a scheduled job on
a keyboard prompt, odek-reference §8 item 5). ``odek run`` uses :class:`TerminalApprover`.
"""

from __future__ import annotations

import sys
from typing import TextIO

import anyio
import anyio.to_thread

__all__ = ["TerminalApprover", "UnattendedApprover"]


class UnattendedApprover:
    """Answers every prompt with no. Never reads or opens a terminal or standard input."""

    async def approve(self, *, tool: str, risk: str, detail: str) -> bool:
        """Always ``False``."""
        return False


class TerminalApprover:
    """Asks on the terminal: prints the tool, its class and the command or argument to
    ``output`` and reads ``y``/``yes`` (anything else is no) from ``input``.

    When ``input`` is not a terminal (a pipe, a closed or redirected stdin) nobody can
    answer: it returns ``non_interactive`` without reading. Prompts from concurrent tool
    calls are asked one at a time. End of input counts as no.
    """

    def __init__(
        self,
        *,
        input: TextIO | None = None,
        output: TextIO | None = None,
        non_interactive: bool = False,
    ) -> None:
        self._input = input if input is not None else sys.stdin
        self._output = output if output is not None else sys.stderr
        self._non_interactive = non_interactive
        self._lock = anyio.Lock()

    def _interactive(self) -> bool:
        try:
            return not self._input.closed and self._input.isatty()
        except (ValueError, OSError):
            return False

    async def approve(self, *, tool: str, risk: str, detail: str) -> bool:
        """Ask once; ``True`` only for an explicit yes."""
        if not self._interactive():
            return self._non_interactive
        async with self._lock:
            question = f"\nodek wants to run {tool} [{risk}]:\n  {detail}\nAllow? [y/N] "
            answer = await anyio.to_thread.run_sync(self._ask, question, abandon_on_cancel=True)
        return answer.strip().lower() in ("y", "yes")

    def _ask(self, question: str) -> str:
        self._output.write(question)
        self._output.flush()
        return self._input.readline()
