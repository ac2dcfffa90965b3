"""The fake Bot API server itself: long polling, the other methods, thread hosting for
subprocess clients."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import anyio
import pytest
from fakes.botapi import FakeBotApi
from telegram import BotCommand

from odek.deliver import open_bot


@pytest.mark.trio
async def test_long_poll_returns_when_an_update_arrives(autojump_clock: object) -> None:
    async def push_later(api: FakeBotApi) -> None:
        await anyio.sleep(7)
        api.text_update("/jobs", chat_id=42)

    async with (
        FakeBotApi().serving() as api,
        open_bot(api.token, api_base_url=api.base_url) as bot,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(push_later, api)
        started = anyio.current_time()
        updates = await bot.get_updates(timeout=30)
        waited = anyio.current_time() - started
    assert 7 <= waited < 8
    [update] = updates
    assert update.message is not None
    assert update.message.text == "/jobs"
    assert update.message.chat.id == 42


@pytest.mark.trio
async def test_long_poll_times_out_empty_and_offset_confirms(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        assert await bot.get_updates(timeout=20) == ()
        first = api.text_update("one", chat_id=1)
        api.text_update("two", chat_id=1)
        assert len(await bot.get_updates(timeout=0)) == 2
        remaining = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
        assert [u.message.text for u in remaining if u.message] == ["two"]


@pytest.mark.anyio
async def test_bot_methods_used_by_a_telegram_front_end() -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        me = await bot.get_me()
        await bot.delete_webhook()
        await bot.set_my_commands([BotCommand("jobs", "list jobs")])
        await bot.send_chat_action(42, "typing")
        sent = await bot.send_message(42, "working…")
        edited = await bot.edit_message_text("done", chat_id=42, message_id=sent.message_id)
        await bot.answer_callback_query("cb1", text="ok")
    assert me.username == "odek_test_bot"
    assert api.commands == [{"command": "jobs", "description": "list jobs"}]
    assert edited.text == "done"
    assert [c.method for c in api.calls] == [
        "getMe",
        "deleteWebhook",
        "setMyCommands",
        "sendChatAction",
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
    ]


def test_thread_hosted_server_serves_a_subprocess_client() -> None:
    script = textwrap.dedent(
        """
        import os, anyio
        from datetime import datetime, UTC
        from odek.deliver import TelegramDeliverer
        from odek.store import Delivery, Job

        async def main():
            job = Job(id="j1", name="n", cron="* * * * *", task="t",
                      deliver=Delivery("telegram", 77), enabled=True)
            d = TelegramDeliverer(token=os.environ["TOKEN"], api_base_url=os.environ["API"])
            await d.deliver(job, "from a subprocess.", nominal=datetime.now(UTC))

        anyio.run(main, backend="trio")
        """
    )
    api = FakeBotApi()
    with api.serving_in_thread():
        env = {**os.environ, "TOKEN": api.token, "API": api.base_url}
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
        update = api.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1}}})
    [call] = api.calls_to("sendMessage")
    assert call.json("chat_id") == 77
    assert call.params["text"] == r"from a subprocess\."
    assert update["update_id"] == 1
