"""The bot's actors in-process (poller, router, conversation workers, approvals) against
the fake Bot API on loopback, with the fake OpenAI-compatible server as the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest
from fakes.botapi import FakeBotApi
from fakes.openai import FakeOpenAI, answer, tool_call
from fakes.telegram_harness import (
    CHAT,
    OTHER_CHAT,
    bot_config,
    running_bot,
    sent_to,
    wait_for_message,
)

from odek.errors import TelegramFatalError
from odek.protocols import Approver, RunOutcome
from odek.store import JobStore
from odek.telegram import COMMANDS, AgentChat, OffsetStore, Turn, interactive_toolset_factory
from odek.telegram.poller import OFFSET_FILE

pytestmark = pytest.mark.anyio


def model_messages(llm: FakeOpenAI, index: int) -> list[dict[str, str]]:
    return [
        {"role": m["role"], "content": m.get("content") or ""}
        for m in llm.requests[index].json["messages"]
    ]


async def test_a_message_is_answered_with_the_chats_history_and_new_starts_over(
    odek_home: Path, tmp_path: Path
) -> None:
    with FakeOpenAI() as llm:
        llm.push(answer("Paris is the **capital**."), answer("About 2.1 million."))
        llm.push(answer("Fresh start."))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url)
            async with running_bot(
                config, odek_home, agent=AgentChat(config, home=odek_home, cwd=tmp_path)
            ):
                api.text_update("What is the capital of France?", chat_id=CHAT)
                first = await wait_for_message(api, CHAT, "Paris is the capital.")
                assert first.params["parse_mode"] == "MarkdownV2"
                assert first.params["text"] == r"Paris is the *capital*\."
                assert api.calls_to("sendChatAction")[0].params["action"] == "typing"

                api.text_update("How many people live there?", chat_id=CHAT)
                await wait_for_message(api, CHAT, "About 2.1 million.")
                second = model_messages(llm, 1)
                assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
                assert second[1]["content"] == "What is the capital of France?"
                assert second[2]["content"] == "Paris is the **capital**."

                api.text_update("/new", chat_id=CHAT)
                await wait_for_message(api, CHAT, "Started a new conversation")
                api.text_update("Hello again", chat_id=CHAT)
                await wait_for_message(api, CHAT, "Fresh start.")
                assert [m["role"] for m in model_messages(llm, 2)] == ["system", "user"]
    assert api.commands == [{"command": n, "description": d} for n, d in COMMANDS]


async def test_strangers_are_ignored_and_edited_messages_never_run_a_command(
    odek_home: Path,
) -> None:
    async with FakeBotApi().serving() as api:
        config = bot_config(api, telegram={"allowed_users": [7]})
        async with running_bot(config, odek_home):
            api.text_update("/schedule add @daily stranger task", chat_id=999, user_id=7)
            api.text_update("/help", chat_id=CHAT, user_id=8)  # allowed chat, wrong user
            edited = {
                "message_id": 50,
                "date": 0,
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": 7, "is_bot": False, "first_name": "T"},
                "text": "/schedule add @daily edited twice",
            }
            api.push_update({"edited_message": edited})
            api.text_update("/help", chat_id=CHAT, user_id=7)
            await wait_for_message(api, CHAT, "/schedule help")
    assert sent_to(api, 999) == []
    assert len(api.calls_to("sendMessage")) == 1  # only the allowed user's /help
    assert JobStore(odek_home).load().jobs == []


class _GatedAgent:
    """An agent whose answers wait for the test: chat texts starting with "slow" block
    until ``release`` is set."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.slow_started = anyio.Event()
        self.started: list[str] = []

    async def reply(self, history: Sequence[Turn], text: str, *, approver: Approver) -> RunOutcome:
        self.started.append(text)
        if text.startswith("slow"):
            self.slow_started.set()
            await self.release.wait()
        return RunOutcome(f"answer to {text}", 1)


async def test_a_slow_run_in_one_chat_does_not_hold_up_another_chat_and_stop_cancels_it(
    odek_home: Path,
) -> None:
    agent = _GatedAgent()
    async with (
        FakeBotApi().serving() as api,
        running_bot(bot_config(api), odek_home, agent=agent),
    ):
        api.text_update("slow question", chat_id=CHAT)
        api.text_update("quick question", chat_id=OTHER_CHAT)
        await wait_for_message(api, OTHER_CHAT, "answer to quick question")
        with anyio.fail_after(5):
            await agent.slow_started.wait()
        api.text_update("/stop", chat_id=CHAT)
        await wait_for_message(api, CHAT, "Stopped.")
        api.text_update("/stop", chat_id=CHAT)
        await wait_for_message(api, CHAT, "Nothing is running.")
        api.text_update("next one", chat_id=CHAT)
        await wait_for_message(api, CHAT, "answer to next one")
    assert not any("answer to slow" in t for t in sent_to(api, CHAT))
    assert sorted(agent.started) == ["next one", "quick question", "slow question"]


async def test_an_approval_pressed_by_the_asking_user_runs_the_tool(
    odek_home: Path, tmp_path: Path
) -> None:
    command = "python3 -c 'print(6*7)'"
    with FakeOpenAI() as llm:
        llm.push(tool_call("shell", {"command": command}), answer("It is 42."))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url, telegram={"allowed_chats": [-100]})
            agent = AgentChat(
                config,
                home=odek_home,
                cwd=tmp_path,
                toolset_factory=interactive_toolset_factory(config, cwd=tmp_path),
            )
            async with running_bot(config, odek_home, agent=agent):
                api.text_update("compute 6*7", chat_id=-100, user_id=5)
                question = await wait_for_message(api, -100, "Approval required")
                assert command in question.params["text"]
                buttons = question.json("reply_markup")["inline_keyboard"][0]
                assert [b["text"] for b in buttons] == ["✅ Approve", "❌ Deny"]
                message_id = next(
                    mid
                    for (chat, mid), message in api.messages.items()
                    if chat == -100 and "Approval" in message["text"]
                )
                # Another member of the group cannot answer for the user who asked.
                api.press_update(
                    buttons[0]["callback_data"], chat_id=-100, message_id=message_id, user_id=6
                )
                toast = await api.wait_for_calls("answerCallbackQuery")
                assert "Only the user who started" in toast[0].params["text"]
                api.press_update(
                    buttons[0]["callback_data"], chat_id=-100, message_id=message_id, user_id=5
                )
                await wait_for_message(api, -100, "It is 42.")
    tool_result = llm.requests[1].json["messages"][-1]
    assert tool_result["role"] == "tool"
    assert "42" in tool_result["content"]
    edits = [c.params["text"] for c in api.calls_to("editMessageText")]
    assert any("Approved" in e for e in edits)


async def test_an_unanswered_approval_is_denied_when_its_timeout_ends(
    odek_home: Path, tmp_path: Path
) -> None:
    with FakeOpenAI() as llm:
        llm.push(tool_call("shell", {"command": "python3 -c 'print(1)'"}), answer("Could not."))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url)
            agent = AgentChat(
                config,
                home=odek_home,
                cwd=tmp_path,
                toolset_factory=interactive_toolset_factory(config, cwd=tmp_path),
            )
            async with running_bot(config, odek_home, agent=agent, approval_timeout=0.2):
                api.text_update("run it", chat_id=CHAT)
                await wait_for_message(api, CHAT, "Could not.")
    assert llm.requests[1].json["messages"][-1]["content"].startswith("denied: not approved")
    [edit] = api.calls_to("editMessageText")
    assert "No answer within 0.2 s: denied." in edit.params["text"].replace("\\", "")


async def test_the_budget_warns_at_80_percent_and_refuses_when_spent(odek_home: Path) -> None:
    with FakeOpenAI() as llm:
        llm.push(answer("first", prompt_tokens=70, completion_tokens=15))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url, telegram={"daily_token_budget": 100})
            async with running_bot(config, odek_home):
                api.text_update("one", chat_id=CHAT)
                await wait_for_message(api, CHAT, "Budget: 85% of today's 100 tokens used")
                llm.push(answer("second", prompt_tokens=10, completion_tokens=10))
                api.text_update("two", chat_id=CHAT)
                await wait_for_message(api, CHAT, "second")
                api.text_update("three", chat_id=CHAT)
                await wait_for_message(api, CHAT, "daily token budget exhausted (105/100 tokens)")
    assert len(llm.requests) == 2  # the third message never reached the model
    assert sum("Budget:" in t for t in sent_to(api, CHAT)) == 1  # warned once a day


async def test_the_offset_survives_a_restart_so_no_update_is_handled_twice(
    odek_home: Path,
) -> None:
    agent = _GatedAgent()
    async with FakeBotApi().serving() as api:
        async with running_bot(bot_config(api), odek_home, agent=agent):
            api.text_update("hello", chat_id=CHAT)
            await wait_for_message(api, CHAT, "answer to hello")
        assert OffsetStore(odek_home).load() == 2
        assert (odek_home / OFFSET_FILE).stat().st_mode & 0o777 == 0o600
        # Updates Telegram still holds, but that the last process already took.
        old = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "T"},
            "text": "hello",
        }
        api.push_update({"update_id": 1, "message": old})
        async with running_bot(bot_config(api), odek_home, agent=agent):
            api.text_update("again", chat_id=CHAT)
            await wait_for_message(api, CHAT, "answer to again")
    assert agent.started == ["hello", "again"]
    assert json.loads(api.calls_to("getUpdates")[-1].params["offset"]) >= 2


async def test_another_poller_on_the_same_token_stops_the_bot_with_a_clear_error(
    odek_home: Path,
) -> None:
    async with FakeBotApi().serving() as api:
        api.fail("getUpdates", status=409, times=5)
        async with running_bot(bot_config(api), odek_home, conflict_grace=0.0) as bot:
            with anyio.fail_after(10):
                await bot.done.wait()
    assert isinstance(bot.failure, TelegramFatalError)
    assert "another process is polling" in str(bot.failure)
    assert len(api.calls_to("getUpdates")) == 1  # not a retry loop


async def test_a_revoked_token_is_a_clear_error_at_start(odek_home: Path) -> None:
    from odek.telegram import open_telegram

    async with FakeBotApi().serving() as api:
        config = bot_config(api, telegram={"bot_token": "1:revoked"})
        with pytest.raises(TelegramFatalError, match="refused the bot token"):
            async with open_telegram(config):
                pass
