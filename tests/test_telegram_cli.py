"""``odek telegram`` as a real subprocess: start-up refusals and a conversation with the
fake model through the fake Bot API; plus the allowlist rules and command parsing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakes.botapi import FakeBotApi
from fakes.openai import FakeOpenAI, answer
from fakes.telegram_harness import CHAT, OTHER_CHAT, OdekProcess, odek_env, sent_to, wait_sync

from odek.config import Config, TelegramConfig
from odek.errors import ConfigError
from odek.telegram import ALLOWLIST_VARIABLES, Access, parse_command


def run_odek(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odek", "telegram"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_bot_refuses_to_start_without_an_allowlist_and_names_the_variables(
    odek_home: Path, tmp_path: Path
) -> None:
    with FakeBotApi().serving_in_thread() as api:
        env = odek_env(api, odek_home, "http://127.0.0.1:9/v1")
        del env["ODEK_TELEGRAM_ALLOWED_CHATS"]
        done = run_odek(env, tmp_path)
    assert done.returncode == 2
    for variable in ALLOWLIST_VARIABLES:
        assert variable in done.stderr
    assert api.calls == []  # refused before any request


def test_a_revoked_token_stops_the_bot_with_exit_1_and_a_clear_message(
    odek_home: Path, tmp_path: Path
) -> None:
    with FakeBotApi().serving_in_thread() as api:
        env = odek_env(api, odek_home, "http://127.0.0.1:9/v1")
        env["ODEK_TELEGRAM_BOT_TOKEN"] = "999:revoked-token-value"
        done = run_odek(env, tmp_path)
    assert done.returncode == 1
    assert "refused the bot token (401 Unauthorized)" in done.stderr
    assert "revoked-token-value" not in done.stderr  # the token is redacted


def test_a_conversation_with_odek_telegram(odek_home: Path, tmp_path: Path) -> None:
    with FakeBotApi().serving_in_thread() as api, FakeOpenAI() as llm:
        llm.push(answer("Hello! I am **odek**."), answer("You said hi before."))
        env = odek_env(api, odek_home, llm.url)
        bot = OdekProcess(["telegram"], env, tmp_path)
        try:
            bot.wait_for_line("bot_ready")
            second = subprocess.run(
                [sys.executable, "-m", "odek", "telegram"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert second.returncode == 1
            assert f"already running (PID {bot.proc.pid}); the bot lock" in second.stderr
            api.text_update("hi", chat_id=CHAT)
            wait_sync(lambda: "Hello! I am odek." in sent_to(api, CHAT))
            api.text_update("what did I say?", chat_id=CHAT)
            wait_sync(lambda: "You said hi before." in sent_to(api, CHAT))
            api.text_update("hello from a stranger", chat_id=1234)
            api.text_update("/schedules", chat_id=OTHER_CHAT)
            wait_sync(lambda: any("No scheduled jobs" in t for t in sent_to(api, OTHER_CHAT)))
        finally:
            code = bot.stop()
    assert code == 0
    roles = [m["role"] for m in llm.requests[1].json["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert sent_to(api, 1234) == []
    assert len(llm.requests) == 2


def test_access_needs_every_list_that_is_set() -> None:
    both = Access.from_config(Config(telegram=TelegramConfig(allowed_chats=[1], allowed_users=[7])))
    assert both.allows(1, 7)
    assert not both.allows(1, 8)
    assert not both.allows(2, 7)
    everyone = Access.from_config(Config(telegram=TelegramConfig(allow_all_users=True)))
    assert everyone.allows(99, None)
    with pytest.raises(ConfigError, match="ODEK_TELEGRAM_ALLOW_ALL"):
        Access.from_config(Config()).check_configured()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/help", ("help", "")),
        ("/schedule@odek_test_bot add @daily x", ("schedule", "add @daily x")),
        ("/schedule@ODEK_TEST_BOT ls", ("schedule", "ls")),
        ("/schedule@other_bot ls", None),
        (
            "/schedule add 0 9 * * *\nline one\nline two",
            ("schedule", "add 0 9 * * *\nline one\nline two"),
        ),
        ("hello", None),
    ],
)
def test_commands_are_parsed_and_commands_for_other_bots_ignored(
    text: str, parsed: tuple[str, str] | None
) -> None:
    assert parse_command(text, "odek_test_bot") == parsed
