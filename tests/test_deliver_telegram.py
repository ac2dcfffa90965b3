"""The Telegram deliverer: the real python-telegram-bot client against the fake Bot API
server on loopback."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import telegram
from fakes.botapi import FakeBotApi
from telegram.error import BadRequest

from odek.deliver import TelegramDeliverer, open_bot, utf16_len
from odek.errors import DeliveryError
from odek.store import Delivery, Job

NOMINAL = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def make_job(deliver: str = "telegram:42", name: str = "daily report") -> Job:
    return Job(
        id="job1",
        name=name,
        cron="0 9 * * *",
        task="report",
        deliver=Delivery.parse(deliver),
        enabled=True,
    )


def deliverer_for(api: FakeBotApi, **kwargs: object) -> TelegramDeliverer:
    return TelegramDeliverer(token=api.token, api_base_url=api.base_url, **kwargs)  # type: ignore[arg-type]


def sent_texts(api: FakeBotApi) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage")]


@pytest.mark.anyio
async def test_result_goes_to_the_jobs_chat_as_markdown_v2() -> None:
    async with FakeBotApi().serving() as api:
        await deliverer_for(api).deliver(make_job(), "Hello **world**. Done!", nominal=NOMINAL)
    [call] = api.calls_to("sendMessage")
    assert call.json("chat_id") == 42
    assert call.params["parse_mode"] == "MarkdownV2"
    assert call.params["text"] == r"Hello *world*\. Done\!"


@pytest.mark.anyio
async def test_default_chat_is_used_when_the_job_names_none() -> None:
    async with FakeBotApi().serving() as api:
        await deliverer_for(api, default_chat_id=-100777).deliver(
            make_job("telegram"), "ok", nominal=NOMINAL
        )
    assert [c.json("chat_id") for c in api.calls_to("sendMessage")] == [-100777]


@pytest.mark.anyio
async def test_no_chat_anywhere_is_a_permanent_error_before_any_request() -> None:
    async with FakeBotApi().serving() as api:
        with pytest.raises(DeliveryError, match=r"telegram\.default_chat_id") as info:
            await deliverer_for(api).deliver(make_job("telegram"), "ok", nominal=NOMINAL)
    assert info.value.permanent
    assert api.calls == []


@pytest.mark.anyio
async def test_missing_bot_token_is_a_permanent_error() -> None:
    with pytest.raises(DeliveryError, match="bot_token is not configured") as info:
        await TelegramDeliverer().deliver(make_job(), "ok", nominal=NOMINAL)
    assert info.value.permanent


@pytest.mark.anyio
async def test_long_multibyte_result_is_split_within_the_utf16_limit() -> None:
    paragraphs = [f"第{n}段 " + "漢字と絵文字😀 " * 60 + "🇩🇪" for n in range(30)]
    text = "\n\n".join(paragraphs)
    async with FakeBotApi().serving() as api:
        await deliverer_for(api).deliver(make_job(), text, nominal=NOMINAL)
    texts = sent_texts(api)
    assert len(texts) > 2
    assert all(utf16_len(t) <= 4096 for t in texts)
    assert max(utf16_len(t) for t in texts) > 3000  # packed, not one message per paragraph
    assert "\n\n".join(texts) == text  # no reserved characters: converted == original


@pytest.mark.anyio
async def test_emoji_run_without_spaces_is_cut_between_characters() -> None:
    text = "👍🏽" * 3000  # 4 UTF-16 units each: no surrogate pair or modifier may be split
    async with FakeBotApi().serving() as api:
        await deliverer_for(api).deliver(make_job(), text, nominal=NOMINAL)
    texts = sent_texts(api)
    assert len(texts) == 3
    assert all(utf16_len(t) <= 4096 and t.startswith("👍🏽") for t in texts)
    assert "".join(texts) == text


@pytest.mark.anyio
async def test_code_block_survives_a_split_and_every_part_is_accepted() -> None:
    code = "\n".join(f"print('line {n}.')  # {'x' * 40}" for n in range(300))
    text = f"Output:\n\n```python\n{code}\n```\n\nEnd."
    async with FakeBotApi().serving() as api:
        await deliverer_for(api).deliver(make_job(), text, nominal=NOMINAL)
    calls = api.calls_to("sendMessage")
    assert len(calls) >= 4
    # The fake rejects broken MarkdownV2 with a 400, which would have made a plain resend.
    assert all(c.params.get("parse_mode") == "MarkdownV2" for c in calls)
    blocks = [c.params["text"] for c in calls if "```python" in c.params["text"]]
    assert all(b.count("```") == 2 for b in blocks)  # each part opens and closes the block
    lines = [
        line for b in blocks for line in b.split("```python\n")[1].split("\n```")[0].split("\n")
    ]
    assert lines == code.split("\n")


@pytest.mark.anyio
async def test_parse_error_resends_the_plain_unescaped_text() -> None:
    text = "Price: 1.5 (approx) **bold** and a_b"
    async with FakeBotApi().serving() as api:
        api.fail(
            "sendMessage",
            status=400,
            description="Bad Request: can't parse entities: Can't find end of Bold entity "
            "at byte offset 3",
        )
        await deliverer_for(api).deliver(make_job(), text, nominal=NOMINAL)
    first, second = api.calls_to("sendMessage")
    assert first.params["parse_mode"] == "MarkdownV2"
    assert "parse_mode" not in second.params
    assert second.params["text"] == text


@pytest.mark.anyio
async def test_fake_server_rejects_unescaped_markdown_v2_like_telegram() -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        with pytest.raises(BadRequest, match="reserved and must be escaped"):
            await bot.send_message(42, "1.5", parse_mode="MarkdownV2")
        with pytest.raises(BadRequest, match=r"(?i)can't find end of bold entity"):
            await bot.send_message(42, "*open", parse_mode="MarkdownV2")
        await bot.send_message(42, "1.5 *open")  # plain text: anything goes


@pytest.mark.trio
async def test_rate_limit_waits_retry_after_on_the_virtual_clock(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", status=429, retry_after=45)
        await deliverer_for(api).deliver(make_job(), "hello", nominal=NOMINAL)
    first, second = api.calls_to("sendMessage")
    assert 45 <= second.at - first.at < 46
    assert second.params["text"] == "hello"


@pytest.mark.trio
async def test_rate_limit_longer_than_the_cap_is_a_transient_error(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", status=429, retry_after=3600)
        with pytest.raises(DeliveryError, match="rate limited") as info:
            await deliverer_for(api, max_retry_after=300).deliver(make_job(), "x", nominal=NOMINAL)
    assert not info.value.permanent
    assert len(api.calls_to("sendMessage")) == 1


@pytest.mark.anyio
async def test_forbidden_is_permanent_and_not_retried() -> None:
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", status=403)
        with pytest.raises(DeliveryError, match="bot was blocked by the user") as info:
            await deliverer_for(api).deliver(make_job(), "hello", nominal=NOMINAL)
    assert info.value.permanent
    assert len(api.calls_to("sendMessage")) == 1


@pytest.mark.anyio
async def test_bad_request_other_than_parsing_is_permanent_without_plain_resend() -> None:
    async with FakeBotApi(chats={1}).serving() as api:
        with pytest.raises(DeliveryError, match=r"[Cc]hat not found") as info:
            await deliverer_for(api).deliver(make_job(), "hello", nominal=NOMINAL)
    assert info.value.permanent
    assert len(api.calls_to("sendMessage")) == 1


@pytest.mark.trio
async def test_network_errors_are_retried_with_backoff(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", disconnect=True, times=2)
        await deliverer_for(api).deliver(make_job(), "hello", nominal=NOMINAL)
    calls = api.calls_to("sendMessage")
    assert len(calls) == 3
    assert [round(b.at - a.at) for a, b in itertools.pairwise(calls)] == [1, 2]


@pytest.mark.trio
async def test_persistent_server_errors_end_as_a_transient_error(autojump_clock: object) -> None:
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", status=502, times=10)
        with pytest.raises(DeliveryError, match="network error") as info:
            await deliverer_for(api, attempts=4).deliver(make_job(), "hello", nominal=NOMINAL)
    assert not info.value.permanent
    assert len(api.calls_to("sendMessage")) == 4


@pytest.mark.anyio
async def test_failure_after_some_parts_says_how_many_were_sent() -> None:
    text = "\n\n".join(["word " * 700] * 3)
    async with FakeBotApi().serving() as api:
        api.fail("sendMessage", status=403, after=2)
        with pytest.raises(DeliveryError, match="after 2 of 3 parts") as info:
            await deliverer_for(api).deliver(make_job(), text, nominal=NOMINAL)
    assert info.value.permanent


@pytest.mark.anyio
async def test_a_migrated_chat_is_followed_to_its_supergroup() -> None:
    async with FakeBotApi().serving() as api:
        api.fail(
            "sendMessage",
            description="Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001234,
        )
        await deliverer_for(api).deliver(make_job("telegram:-55"), "hi", nominal=NOMINAL)
    assert [c.json("chat_id") for c in api.calls_to("sendMessage")] == [-55, -1001234]


@pytest.mark.anyio
async def test_secrets_in_the_result_are_redacted_before_sending() -> None:
    key = "sk-" + "A1b2C3d4" * 5
    async with FakeBotApi().serving() as api:
        await deliverer_for(api).deliver(make_job(), f"the key is {key}", nominal=NOMINAL)
    [text] = sent_texts(api)
    assert key not in text
    assert "REDACTED" in text


@pytest.mark.anyio
async def test_a_shared_bot_is_used_and_left_open() -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        deliverer = TelegramDeliverer(bot=bot)
        await deliverer.deliver(make_job(), "first", nominal=NOMINAL)
        await deliverer.deliver(make_job(), "second", nominal=NOMINAL)
        me = await bot.get_me()  # still usable afterwards
    assert isinstance(me, telegram.User)
    assert me.username == "odek_test_bot"
    assert sent_texts(api) == ["first", "second"]


@pytest.mark.anyio
async def test_wrong_token_is_a_permanent_error() -> None:
    async with FakeBotApi().serving() as api:
        deliverer = TelegramDeliverer(token="999:" + "x" * 35, api_base_url=api.base_url)
        with pytest.raises(DeliveryError) as info:
            await deliverer.deliver(make_job(), "hello", nominal=NOMINAL)
    assert info.value.permanent
    assert "x" * 35 not in str(info.value)
