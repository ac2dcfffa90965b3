"""The scheduler inside the bot: standby while a daemon holds the lock, takeover when it
stops (in-process and with a real ``odek schedule daemon``), and scheduled results sent
through the live bot and added to the chat's conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
import structlog
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
    wait_for_message,
    wait_sync,
)
from fakes.toolsets import ArithmeticToolset

from odek.agent import HeadlessRunner
from odek.config import Config
from odek.protocols import Runner
from odek.scheduler import DaemonLock, VirtualClock, read_history
from odek.store import Delivery, Job, JobStore
from odek.telegram import HistoryStore, Turn

pytestmark = pytest.mark.anyio


def headless(config: Config, home: Path) -> Runner:
    return HeadlessRunner(config, home=home, toolset_factory=lambda _job: ArithmeticToolset())


def events(logs: list[dict[str, object]], name: str) -> int:
    return sum(entry.get("event") == name for entry in logs)


async def test_the_bot_stands_by_while_a_daemon_holds_the_lock_then_takes_over(
    odek_home: Path,
) -> None:
    daemon = DaemonLock.acquire(odek_home)
    try:
        async with FakeBotApi().serving() as api:
            config = bot_config(api, schedules={"enabled": True})
            with structlog.testing.capture_logs() as logs:
                async with running_bot(
                    config,
                    odek_home,
                    standby_retry=0.1,
                    runner_factory=lambda: headless(config, odek_home),
                ) as bot:
                    scheduler = bot.service.scheduler
                    assert scheduler is not None
                    await anyio.sleep(0.6)  # several retries
                    assert not scheduler.active
                    assert events(logs, "scheduler_standby") == 1  # said once, not per retry
                    daemon.release()
                    await eventually(lambda: scheduler.active)
                    assert events(logs, "scheduler_takeover") == 1
                    with pytest.raises(Exception, match="already running"):
                        DaemonLock.acquire(odek_home)
    finally:
        daemon.release()
    DaemonLock.acquire(odek_home).release()  # the bot released it on stop


async def test_a_scheduled_result_goes_through_the_live_bot_into_the_conversation(
    odek_home: Path,
) -> None:
    store = JobStore(odek_home)
    talked = store.add(
        Job(
            name="digest",
            cron="0 9 * * *",
            task="Summarize the news",
            deliver=Delivery("telegram", CHAT),
            enabled=True,
            timezone="UTC",
        )
    )
    store.add(
        Job(
            name="ping",
            cron="0 9 * * *",
            task="Ping",
            deliver=Delivery("telegram", OTHER_CHAT),
            enabled=True,
            timezone="UTC",
        )
    )
    history = HistoryStore(odek_home, ttl=timedelta(hours=24))
    history.append(CHAT, [Turn("user", "hi"), Turn("assistant", "hello")])
    with FakeOpenAI() as llm:
        llm.push(answer("All **quiet** today."), answer("All **quiet** today."))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url, schedules={"enabled": True})
            clock = VirtualClock(datetime(2026, 5, 4, 8, 59, 59, 500000, tzinfo=UTC))
            async with running_bot(
                config,
                odek_home,
                scheduler_clock=clock,
                runner_factory=lambda: headless(config, odek_home),
            ):
                await wait_for_message(api, CHAT, "All quiet today.")
                await wait_for_message(api, OTHER_CHAT, "All quiet today.")
                await eventually(
                    lambda: (
                        any(e.delivery == "delivered" for e in read_history(odek_home, talked.id))
                        and bool(history.load(CHAT)[-1].content.startswith("All"))
                    )
                )
    assert history.load(CHAT)[-2:] == [
        Turn("user", '⏰ [scheduled task "digest" ran]\nSummarize the news'),
        Turn("assistant", "All **quiet** today."),
    ]
    assert history.load(OTHER_CHAT) == []  # notification-only chats get no transcript
    assert [e.trigger for e in read_history(odek_home, talked.id)] == ["scheduled"]


def test_odek_telegram_takes_over_from_a_stopped_daemon(odek_home: Path, tmp_path: Path) -> None:
    with FakeBotApi().serving_in_thread() as api, FakeOpenAI() as llm:
        env = odek_env(api, odek_home, llm.url)
        daemon = OdekProcess(["schedule", "daemon"], env, tmp_path)
        bot: OdekProcess | None = None
        try:
            daemon.wait_for_line('"ready"')
            bot = OdekProcess(["telegram"], env, tmp_path)
            bot.wait_for_line("scheduler_standby")
            bot.wait_for_line("bot_ready")
            assert daemon.stop() == 0
            bot.wait_for_line("scheduler_takeover", within=30)
            assert bot.count("scheduler_standby") == 1
            api.text_update("/schedule add @daily check the logs", chat_id=CHAT)
            wait_sync(lambda: any("Added" in c.params["text"] for c in api.calls_to("sendMessage")))
        finally:
            daemon.stop()
            code = bot.stop() if bot is not None else 0
    assert code == 0
    assert [j.task for j in JobStore(odek_home).load().jobs] == ["check the logs"]
