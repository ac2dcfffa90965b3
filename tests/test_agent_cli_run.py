"""``odek run`` in a real subprocess against the fake OpenAI server."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai import FakeOpenAI, answer, error, tool_call

from odek.agent import TokenBudget

KEY = "sk-run-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def environment(home: Path, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ODEK_")}
    base.pop("OPENAI_API_KEY", None)
    base.pop("DEEPSEEK_API_KEY", None)
    return {
        **base,
        "ODEK_HOME": str(home),
        "ODEK_BASE_URL": fake.url,
        "ODEK_API_KEY": KEY,
        "ODEK_LOG_FORMAT": "json",
        **extra,
    }


def odek_run(
    home: Path, cwd: Path, fake: FakeOpenAI, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odek", "run", *args],
        cwd=cwd,
        env=environment(home, fake, **extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tool_messages(fake: FakeOpenAI) -> list[str]:
    return [m["content"] for m in fake.requests[-1].json["messages"] if m["role"] == "tool"]


def test_run_prints_the_answer(fake: FakeOpenAI, odek_home: Path, tmp_path: Path) -> None:
    fake.push(
        tool_call("shell", {"command": "echo from-the-shell"}),
        answer("The shell said hello.", prompt_tokens=30, completion_tokens=7),
    )
    result = odek_run(odek_home, tmp_path, fake, "--model", "cli-model", "say", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The shell said hello.\n"
    assert "odek: 52 tokens" in result.stderr
    first = fake.requests[0].json
    assert first["model"] == "cli-model"
    assert first["messages"][1] == {"role": "user", "content": "say hello"}
    assert "This run is unattended" not in first["messages"][0]["content"]
    assert f"Current working directory: {tmp_path}" in first["messages"][0]["content"]
    assert "from-the-shell" in tool_messages(fake)[0]
    assert TokenBudget(odek_home, 0).used() == 52


def test_prompt_without_a_terminal_is_denied(
    fake: FakeOpenAI, odek_home: Path, tmp_path: Path
) -> None:
    fake.push(tool_call("shell", {"command": "python3 -c 'print(6*7)'"}), answer("denied"))
    result = odek_run(odek_home, tmp_path, fake, "compute")
    assert result.returncode == 0, result.stderr
    assert tool_messages(fake) == ["denied: not approved, class code_execution"]


@pytest.mark.parametrize(("reply", "runs"), [("y\n", True), ("n\n", False)])
def test_prompt_on_a_terminal_asks_and_obeys(
    fake: FakeOpenAI, odek_home: Path, tmp_path: Path, reply: str, runs: bool
) -> None:
    fake.push(tool_call("shell", {"command": "python3 -c 'print(6*7)'"}), answer("ok"))
    controller, terminal = pty.openpty()
    try:
        os.write(controller, reply.encode())
        proc = subprocess.run(
            [sys.executable, "-m", "odek", "run", "compute"],
            cwd=tmp_path,
            env=environment(odek_home, fake),
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, proc.stderr
    assert "odek wants to run shell [code_execution]" in proc.stderr
    assert "python3 -c 'print(6*7)'" in proc.stderr
    (fed,) = tool_messages(fake)
    if runs:
        assert "42" in fed
    else:
        assert fed == "denied: not approved, class code_execution"


def test_deliver_log_appends_to_schedule_log(
    fake: FakeOpenAI, odek_home: Path, tmp_path: Path
) -> None:
    fake.push(answer("logged answer"))
    result = odek_run(odek_home, tmp_path, fake, "--deliver", "log", "write", "it", "down")
    assert result.returncode == 0, result.stderr
    assert "logged answer" not in result.stdout
    log = (odek_home / "schedule.log").read_text()
    assert "logged answer" in log
    assert "write it down" in log


def test_spent_budget_refuses_the_run(fake: FakeOpenAI, odek_home: Path, tmp_path: Path) -> None:
    TokenBudget(odek_home, 0).record(500)
    result = odek_run(odek_home, tmp_path, fake, "anything", ODEK_TELEGRAM_DAILY_TOKEN_BUDGET="500")
    assert result.returncode == 1
    assert "daily token budget exhausted (500/500 tokens)" in result.stderr
    assert fake.requests == []


def test_model_error_exits_1_without_the_key(
    fake: FakeOpenAI, odek_home: Path, tmp_path: Path
) -> None:
    fake.push(error(401, f"invalid key {KEY}"))
    result = odek_run(odek_home, tmp_path, fake, "anything")
    assert result.returncode == 1
    assert "odek: llm: invalid key [REDACTED] (status 401)" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_bad_usage_exits_2(fake: FakeOpenAI, odek_home: Path, tmp_path: Path) -> None:
    assert odek_run(odek_home, tmp_path, fake).returncode == 2
    bad = odek_run(odek_home, tmp_path, fake, "--deliver", "email", "x")
    assert bad.returncode == 2
    assert 'unknown delivery "email"' in bad.stderr
    bad = odek_run(odek_home, tmp_path, fake, "x", ODEK_MAX_ITER="lots")
    assert bad.returncode == 2
    assert "environment variable ODEK_MAX_ITER: expected an integer" in bad.stderr
    assert fake.requests == []
