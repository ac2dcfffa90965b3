"""The ``shell`` tool: ``sh -c`` in its own process group, with a timeout and capped output."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import anyio
import msgspec
from anyio.abc import ByteReceiveStream, Process

from odek.policy import Classification, classify_command
from odek.redact import scrubbed_environ
from odek.tools.base import Tool, schema_of

__all__ = ["DEFAULT_MAX_OUTPUT", "DEFAULT_TIMEOUT", "ShellArgs", "run_shell", "shell_tool"]

#: odek-reference §5: 30 minutes, 1 MiB per stream.
DEFAULT_TIMEOUT = 1800.0
DEFAULT_MAX_OUTPUT = 1 << 20
#: How long to keep reading output after the shell itself has exited.
_DRAIN_AFTER_EXIT = 1.0


class ShellArgs(msgspec.Struct, forbid_unknown_fields=True):
    """Arguments of the ``shell`` tool."""

    command: Annotated[str, msgspec.Meta(description="The command line, run with sh -c.")]
    timeout: Annotated[
        float,
        msgspec.Meta(ge=0, description="Seconds before the command is killed (0 = default)."),
    ] = 0


@dataclass(slots=True)
class _Capture:
    limit: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    async def drain(self, stream: ByteReceiveStream) -> None:
        # Keep reading past the cap (and discard) so the child never blocks on a full pipe.
        async for chunk in stream:
            room = self.limit - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        out = self.data.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[output truncated: {self.dropped} more bytes]"
        return out


def _kill_group(process: Process) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group already exited
        os.killpg(process.pid, signal.SIGKILL)


async def run_shell(
    command: str,
    *,
    cwd: Path,
    time_limit: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> str:
    """Run ``command`` with ``sh -c`` in ``cwd`` and return a report for the model.

    The command gets a new session (so its own process group), standard input from
    ``/dev/null``, the environment without odek's secrets (:func:`odek.redact.scrubbed_environ`),
    and at most ``max_output`` bytes of each of stdout and stderr are kept.
    After ``time_limit`` seconds, when the caller is cancelled, and in any case once the shell
    has exited (background jobs it left behind), the whole process group is killed with
    SIGKILL. The report starts with ``exit code: N`` or
    ``error: timed out after Ns ...`` and holds whatever the command printed.
    """
    out, err = _Capture(max_output), _Capture(max_output)
    process = await anyio.open_process(
        ["sh", "-c", command],
        cwd=cwd,
        env=scrubbed_environ(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        with anyio.move_on_after(time_limit) as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(out.drain, process.stdout)
                tg.start_soon(err.drain, process.stderr)
                await process.wait()
                # A background child may hold the pipes open after the shell exits.
                tg.cancel_scope.deadline = anyio.current_time() + _DRAIN_AFTER_EXIT
        timed_out = scope.cancelled_caught
    finally:
        with anyio.CancelScope(shield=True):
            # Kill the group whatever happened: a timeout, a cancelled caller, or
            # background processes the command left behind.
            _kill_group(process)
            await process.aclose()
    parts = [
        f"error: timed out after {time_limit:g}s; process group killed"
        if timed_out
        else f"exit code: {process.returncode}"
    ]
    if out.data or out.dropped:
        parts.append("stdout:\n" + out.text())
    if err.data or err.dropped:
        parts.append("stderr:\n" + err.text())
    return "\n".join(parts)


def shell_tool(
    *,
    cwd: Path,
    timeout: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> Tool[ShellArgs]:
    """The ``shell`` tool running in ``cwd``; a call may lower but never raise ``timeout``."""

    async def run(args: ShellArgs) -> str:
        limit = min(args.timeout, timeout) if args.timeout else timeout
        return await run_shell(args.command, cwd=cwd, time_limit=limit, max_output=max_output)

    def classify(args: ShellArgs) -> Classification:
        return classify_command(args.command, cwd=cwd)

    return Tool(
        name="shell",
        description=(
            "Run a shell command with sh -c in the working directory. Returns the exit code "
            "and the output. Every command is checked by a safety policy first."
        ),
        parameters=schema_of(ShellArgs),
        args_type=ShellArgs,
        classify=classify,
        describe=lambda args: args.command,
        run=run,
        command=lambda args: args.command,
    )
