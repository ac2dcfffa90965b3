"""The shell tool with real subprocesses: streams, exit codes, timeouts, output caps."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from odek.tools import run_shell

pytestmark = pytest.mark.anyio


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def _wait_dead(pid: int) -> bool:
    # SIGKILL is delivered at once but the kernel may take a moment to tear down.
    with anyio.move_on_after(10):
        while _alive(pid):  # noqa: ASYNC110 - no event exists for another process's death
            await anyio.sleep(0.01)
    return not _alive(pid)


async def test_reports_exit_code_and_both_streams(tmp_path: Path) -> None:
    out = await run_shell("echo out; echo err >&2; exit 3", cwd=tmp_path)
    assert out == "exit code: 3\nstdout:\nout\n\nstderr:\nerr\n"


async def test_runs_in_the_working_directory_with_no_stdin(tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("here")
    out = await run_shell("cat marker; cat; echo done", cwd=tmp_path)
    assert out == "exit code: 0\nstdout:\nheredone\n"


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    out = await run_shell(
        f"sleep 60 & echo $! > {pidfile}; echo started; wait", cwd=tmp_path, time_limit=0.5
    )
    assert out.startswith("error: timed out after 0.5s; process group killed")
    assert "started" in out
    assert await _wait_dead(int(pidfile.read_text()))


async def test_cancelled_caller_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    with anyio.move_on_after(0.5):
        await run_shell(f"sleep 60 & echo $! > {pidfile}; wait", cwd=tmp_path)
    assert await _wait_dead(int(pidfile.read_text()))


async def test_background_jobs_do_not_outlive_the_call(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    with anyio.fail_after(20):
        out = await run_shell(f"sleep 60 & echo $! > {pidfile}; echo bg", cwd=tmp_path)
    assert out == "exit code: 0\nstdout:\nbg\n"
    assert await _wait_dead(int(pidfile.read_text()))


async def test_output_is_capped_per_stream(tmp_path: Path) -> None:
    out = await run_shell(
        "head -c 300000 /dev/zero | tr '\\0' a; head -c 50 /dev/zero | tr '\\0' b >&2",
        cwd=tmp_path,
        max_output=100,
    )
    assert out == (
        "exit code: 0\nstdout:\n"
        + "a" * 100
        + "\n[output truncated: 299900 more bytes]\nstderr:\n"
        + "b" * 50
    )


async def test_shell_children_never_see_odek_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from odek.redact import forget_secrets, register_secret

    monkeypatch.setenv("ODEK_API_KEY", "sk-live-not-for-children-0001")
    monkeypatch.setenv("ODEK_TELEGRAM_BOT_TOKEN", "123456:telegram-token-value")
    monkeypatch.setenv("HARMLESS_LOOKING", "contains registered-secret-xyz inside")
    monkeypatch.setenv("ODEK_VISIBLE", "plain value")
    register_secret("registered-secret-xyz")
    try:
        report = await run_shell("env", cwd=tmp_path)
    finally:
        forget_secrets()
    assert "ODEK_VISIBLE=plain value" in report
    for leaked in ("ODEK_API_KEY", "ODEK_TELEGRAM_BOT_TOKEN", "HARMLESS_LOOKING"):
        assert leaked not in report
