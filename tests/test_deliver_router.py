"""build_deliverer: routing by delivery kind, with the Telegram part on the fake Bot API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes.botapi import FakeBotApi

from odek.config import Config, TelegramConfig
from odek.deliver import build_deliverer, open_bot
from odek.errors import DeliveryError
from odek.store import Delivery, Job

NOMINAL = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("UTC"))


def make_job(deliver: Delivery) -> Job:
    return Job(id="j1", name="n", cron="* * * * *", task="t", deliver=deliver, enabled=True)


def telegram_config(api: FakeBotApi, *, default_chat_id: int = 0) -> Config:
    return Config(
        telegram=TelegramConfig(
            bot_token=api.token, api_base_url=api.base_url, default_chat_id=default_chat_id
        )
    )


@pytest.mark.anyio
async def test_each_kind_reaches_its_destination(
    odek_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeBotApi().serving() as api:
        deliverer = build_deliverer(telegram_config(api, default_chat_id=9), home=odek_home)
        await deliverer.deliver(make_job(Delivery("stdout")), "to stdout", nominal=NOMINAL)
        await deliverer.deliver(make_job(Delivery("log")), "to log", nominal=NOMINAL)
        await deliverer.deliver(make_job(Delivery("telegram")), "to chat", nominal=NOMINAL)
        await deliverer.deliver(make_job(Delivery("telegram", 5)), "to five", nominal=NOMINAL)
    assert capsys.readouterr().out.endswith("\nto stdout\n")
    assert (odek_home / "schedule.log").read_text().endswith("\nto log\n\n")
    sent = [(c.json("chat_id"), c.params["text"]) for c in api.calls_to("sendMessage")]
    assert sent == [(9, "to chat"), (5, "to five")]


@pytest.mark.anyio
async def test_unknown_kind_is_a_permanent_error(odek_home: Path) -> None:
    deliverer = build_deliverer(Config(), home=odek_home)
    with pytest.raises(DeliveryError, match='unknown delivery kind "pigeon"') as info:
        await deliverer.deliver(make_job(Delivery("pigeon")), "x", nominal=NOMINAL)
    assert info.value.permanent


@pytest.mark.anyio
async def test_a_live_bot_is_shared_instead_of_opening_one(odek_home: Path) -> None:
    async with FakeBotApi().serving() as api, open_bot(api.token, api_base_url=api.base_url) as bot:
        # The configuration has no token: only the shared bot can deliver.
        deliverer = build_deliverer(Config(), home=odek_home, bot=bot)
        await deliverer.deliver(make_job(Delivery("telegram", 3)), "shared", nominal=NOMINAL)
        assert [c.params["text"] for c in api.calls_to("sendMessage")] == ["shared"]


@pytest.mark.anyio
async def test_telegram_without_token_fails_but_other_kinds_work(odek_home: Path) -> None:
    deliverer = build_deliverer(Config(), home=odek_home)
    with pytest.raises(DeliveryError, match="bot_token"):
        await deliverer.deliver(make_job(Delivery("telegram", 1)), "x", nominal=NOMINAL)
    await deliverer.deliver(make_job(Delivery("log")), "still logged", nominal=NOMINAL)
    assert "still logged" in (odek_home / "schedule.log").read_text()
