"""Approvers: the unattended one never touches a terminal, the terminal one asks y/n."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from odek.policy import TerminalApprover, UnattendedApprover

# A whole unattended tool call in a fresh process: prompt-class and deny-class commands.
_UNATTENDED_RUN = textwrap.dedent(
    """
    import anyio, sys
    from pathlib import Path
    from odek.policy import PolicySettings, UnattendedApprover, build_policy
    from odek.tools import build_toolset

    async def main():
        policy = build_policy(PolicySettings(), PolicySettings(), unattended=True)
        tools = build_toolset(policy, UnattendedApprover(), cwd=Path("."))
        for cmd in ["curl https://example.invalid", "pip install x", "rm -rf /", "echo ran"]:
            print(await tools.call("shell", '{"command": "%s"}' % cmd), flush=True)

    anyio.run(main)
    """
)


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    master, slave = pty.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def _read_available(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


@pytest.mark.parametrize("stdin", ["terminal", "closed"])
def test_unattended_run_never_prompts(
    stdin: str, terminal: tuple[int, int], tmp_path: Path
) -> None:
    master, slave = terminal
    # With a terminal on stdin nobody ever types: a prompt would hang until the timeout.
    proc = subprocess.run(
        [sys.executable, "-c", _UNATTENDED_RUN],
        stdin=slave if stdin == "terminal" else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "denied: unattended run, class network_egress"
    assert lines[1] == "denied: unattended run, class install"
    assert lines[2].startswith("denied: blocked (rm -r /")
    assert lines[3:5] == ["exit code: 0", "stdout:"]
    assert _read_available(master) == b""  # nothing was written to the terminal


@pytest.mark.anyio
async def test_unattended_approver_always_says_no() -> None:
    approver = UnattendedApprover()
    assert await approver.approve(tool="shell", risk="network_egress", detail="curl x") is False


@pytest.mark.anyio
@pytest.mark.parametrize(("answer", "expected"), [("y\n", True), ("YES\n", True), ("n\n", False)])
async def test_terminal_approver_asks_and_reads_the_answer(
    terminal: tuple[int, int], answer: str, expected: bool
) -> None:
    master, slave = terminal
    with os.fdopen(os.dup(slave)) as tty_in, os.fdopen(os.dup(slave), "w") as tty_out:
        approver = TerminalApprover(input=tty_in, output=tty_out)
        os.write(master, answer.encode())
        approved = await approver.approve(tool="shell", risk="install", detail="pip install x")
    assert approved is expected
    shown = _read_available(master).decode()
    assert "shell [install]" in shown
    assert "pip install x" in shown
    assert "Allow? [y/N]" in shown


@pytest.mark.anyio
async def test_terminal_approver_end_of_input_is_no(terminal: tuple[int, int]) -> None:
    master, slave = terminal
    with os.fdopen(os.dup(slave)) as tty_in, os.fdopen(os.dup(slave), "w") as tty_out:
        approver = TerminalApprover(input=tty_in, output=tty_out)
        os.write(master, b"\x04")  # ^D: end of input on a terminal
        assert await approver.approve(tool="shell", risk="install", detail="x") is False


@pytest.mark.anyio
@pytest.mark.parametrize("fallback", [True, False])
async def test_terminal_approver_without_a_terminal_uses_non_interactive(
    fallback: bool, tmp_path: Path
) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"y\n")
    os.close(write_end)
    with os.fdopen(read_end) as pipe, (tmp_path / "out").open("w") as out:
        approver = TerminalApprover(input=pipe, output=out, non_interactive=fallback)
        with anyio.fail_after(5):
            assert await approver.approve(tool="shell", risk="install", detail="x") is fallback
        assert pipe.read() == "y\n"  # the answer in the pipe was not consumed
    assert (tmp_path / "out").read_text() == ""
