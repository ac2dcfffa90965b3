"""``/restart``: admins only, a 60 s cooldown, runs in flight drained, and the asking chats
told once the new process is up (in-process, then a real ``odek telegram`` that execs
itself)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest
from fakes.botapi import FakeBotApi
from fakes.openai import FakeOpenAI, answer
from fakes.telegram_harness import (
    CHAT,
    OTHER_CHAT,
    OdekProcess,
    bot_config,
    eventually,
    odek_env,
    running_bot,
    sent_to,
    wait_for_message,
    wait_sync,
)

from odek.protocols import Approver, RunOutcome
from odek.telegram import BotExit, Turn
from odek.telegram.restart import MARKER_FILE


class _SlowAgent:
    async def reply(self, history: Sequence[Turn], text: str, *, approver: Approver) -> RunOutcome:
        await anyio.sleep(0.5)
        return RunOutcome(f"done: {text}", 1)


@pytest.mark.anyio
async def test_restart_is_for_admins_drains_runs_and_tells_the_chat_when_back(
    odek_home: Path,
) -> None:
    async with FakeBotApi().serving() as api:
        config = bot_config(api, schedules={"drain_timeout": 10.0})
        async with running_bot(config, odek_home, agent=_SlowAgent()) as bot:
            api.text_update("/restart", chat_id=OTHER_CHAT)
            await wait_for_message(api, OTHER_CHAT, "restricted to configured operator")
            api.text_update("a long task", chat_id=CHAT)
            await api.wait_for_calls("sendChatAction")
            api.text_update("/restart", chat_id=CHAT)
            await wait_for_message(api, CHAT, "Restarting")
            with anyio.fail_after(20):
                await bot.done.wait()
        assert bot.exit is BotExit.RESTART
        assert "done: a long task" in sent_to(api, CHAT)  # finished within the drain
        marker = json.loads((odek_home / MARKER_FILE).read_text())
        assert marker["chat_ids"] == [CHAT]
        assert (odek_home / MARKER_FILE).stat().st_mode & 0o777 == 0o600

        async with running_bot(config, odek_home, agent=_SlowAgent()):
            await wait_for_message(api, CHAT, "Bot restarted")
            await eventually(lambda: not (odek_home / MARKER_FILE).exists())
            api.text_update("/restart", chat_id=CHAT)
            await wait_for_message(api, CHAT, "/restart was used recently. Please wait")
    assert sum("Bot restarted" in t for t in sent_to(api, CHAT)) == 1


@pytest.mark.anyio
async def test_a_run_longer_than_the_drain_is_interrupted_and_the_chat_told(
    odek_home: Path,
) -> None:
    class Stuck:
        async def reply(
            self, history: Sequence[Turn], text: str, *, approver: Approver
        ) -> RunOutcome:
            await anyio.sleep_forever()
            raise AssertionError  # pragma: no cover

    async with FakeBotApi().serving() as api:
        config = bot_config(api, schedules={"drain_timeout": 0.2})
        async with running_bot(config, odek_home, agent=Stuck()) as bot:
            api.text_update("never ends", chat_id=CHAT)
            await api.wait_for_calls("sendChatAction")
            api.text_update("/restart", chat_id=CHAT)
            with anyio.fail_after(20):
                await bot.done.wait()
    assert bot.exit is BotExit.RESTART
    assert any("your request was interrupted" in t for t in sent_to(api, CHAT))


def test_odek_telegram_restarts_in_place_and_says_so(odek_home: Path, tmp_path: Path) -> None:
    with FakeBotApi().serving_in_thread() as api, FakeOpenAI() as llm:
        llm.push(answer("still here"))
        env = odek_env(api, odek_home, llm.url, ODEK_SCHEDULES_ENABLED="false")
        bot = OdekProcess(["telegram"], env, tmp_path)
        try:
            bot.wait_for_line("bot_ready")
            pid = bot.proc.pid
            api.text_update("/restart", chat_id=CHAT)
            wait_sync(lambda: any("Bot restarted" in t for t in sent_to(api, CHAT)), within=60)
            assert bot.proc.poll() is None
            assert bot.proc.pid == pid  # exec: same process, same PID
            assert len(api.calls_to("getMe")) == 2
            api.text_update("are you there?", chat_id=CHAT)
            wait_sync(lambda: "still here" in sent_to(api, CHAT))
        finally:
            code = bot.stop()
    assert code == 0
    assert bot.count('"bot_ready"') == 2
