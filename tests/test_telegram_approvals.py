"""The chat approver on its own: the question, who may answer, and the 120 s timeout on
trio's virtual clock (against the fake Bot API served in the same loop)."""

from __future__ import annotations

from functools import partial

import anyio
import pytest
from fakes.botapi import FakeBotApi

from odek.deliver import open_bot
from odek.telegram import APPROVAL_TIMEOUT, ApprovalBroker, ChatSender


async def _question(api: FakeBotApi) -> tuple[int, str, str]:
    [call] = await api.wait_for_calls("sendMessage")
    message_id = max(mid for (_chat, mid) in api.messages)
    approve, deny = call.json("reply_markup")["inline_keyboard"][0]
    return message_id, approve["callback_data"], deny["callback_data"]


@pytest.mark.trio
async def test_no_answer_within_120_seconds_denies(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        broker = ApprovalBroker(ChatSender(bot))
        approver = broker.approver(42, 42)
        start = anyio.current_time()
        approved = await approver.approve(tool="shell", risk="code_execution", detail="make deploy")
        waited = anyio.current_time() - start
    assert APPROVAL_TIMEOUT == 120
    assert approved is False
    assert 120 <= waited < 125
    [edit] = api.calls_to("editMessageText")
    assert "No answer within 2 minutes: denied" in edit.params["text"]
    assert "reply_markup" not in edit.params  # the buttons are gone
    assert broker.pending == 0


@pytest.mark.trio
async def test_only_the_requesting_user_can_answer(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        broker = ApprovalBroker(ChatSender(bot))
        results: list[bool] = []

        async def ask() -> None:
            results.append(
                await broker.approver(-5, 11).approve(
                    tool="http_get", risk="network_egress", detail="https://example.org"
                )
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            _message_id, approve, deny = await _question(api)
            assert (
                await broker.on_press(approve, 12)
                == "Only the user who started this run can answer."
            )
            await anyio.sleep(60)
            assert results == []
            assert await broker.on_press(deny, 11) == "Denied"
        assert await broker.on_press(approve, 11) == "This question is no longer open."
    assert results == [False]
    assert "❌ Denied." in api.calls_to("editMessageText")[0].params["text"].replace("\\", "")


@pytest.mark.trio
async def test_stopping_the_run_withdraws_the_question(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        broker = ApprovalBroker(ChatSender(bot))
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                partial(broker.ask, 1, 1, tool="shell", risk="install", detail="pip install x")
            )
            await _question(api)
            await anyio.sleep(1)  # the question is on screen
            tg.cancel_scope.cancel()
        assert broker.pending == 0
    assert "Withdrawn" in api.calls_to("editMessageText")[0].params["text"]
