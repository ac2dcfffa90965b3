"""Helpers for the Telegram bot tests: a configuration pointing at the fake servers, the
bot running in the test's event loop, and waiting for what it sends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec

from fakes.botapi import BotApiCall, FakeBotApi
from odek.config import Config, SchedulesConfig, TelegramConfig
from odek.telegram import BotExit, TelegramBot, open_telegram

CHAT = 42
OTHER_CHAT = 43
ADMIN_USER = 7


def bot_config(
    api: FakeBotApi,
    *,
    llm_url: str = "http://127.0.0.1:9/v1",
    telegram: dict[str, Any] | None = None,
    schedules: dict[str, Any] | None = None,
) -> Config:
    """A configuration for the fake Bot API and the fake model: chats 42 and 43 allowed,
    42 the admin chat, the embedded scheduler off unless ``schedules`` turns it on."""
    tg = {
        "bot_token": api.token,
        "api_base_url": api.base_url,
        "allowed_chats": [CHAT, OTHER_CHAT],
        "poll_timeout": 10,
        **(telegram or {}),
    }
    sched = {"enabled": False, "telegram_admin_chats": [CHAT], **(schedules or {})}
    return Config(
        api_key="test-key",
        base_url=llm_url,
        model="fake",
        telegram=msgspec.convert(tg, TelegramConfig),
        schedules=msgspec.convert(sched, SchedulesConfig),
    )


class RunningBot:
    """A bot running in the test's loop; ``exit`` is set once :meth:`TelegramBot.run`
    returned, ``failure`` if it raised."""

    def __init__(self, service: TelegramBot) -> None:
        self.service = service
        self.exit: BotExit | None = None
        self.failure: Exception | None = None
        self.done = anyio.Event()


@asynccontextmanager
async def running_bot(config: Config, home: Path, **options: Any) -> AsyncIterator[RunningBot]:
    """Run the bot of ``config`` for the block; it is stopped (and awaited) at the end."""
    async with open_telegram(config) as (bot, username):
        service = TelegramBot(config, bot=bot, username=username, home=home, **options)
        running = RunningBot(service)

        async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            try:
                running.exit = await service.run(task_status=task_status)
            except Exception as exc:  # after start-up: a fatal polling error
                running.failure = exc
            finally:
                running.done.set()

        async with anyio.create_task_group() as tg:
            await tg.start(run)
            try:
                yield running
            finally:
                service.stop()
                with anyio.fail_after(60):
                    await running.done.wait()


def plain(text: str) -> str:
    """A MarkdownV2 text as the user reads it (escapes and entity markers dropped)."""
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("*", "").replace("`", "")


def sent_to(api: FakeBotApi, chat_id: int) -> list[str]:
    """The texts sent to ``chat_id`` so far, as the user reads them."""
    return [
        plain(c.params["text"]) for c in api.calls_to("sendMessage") if c.json("chat_id") == chat_id
    ]


async def wait_for_message(
    api: FakeBotApi,
    chat_id: int,
    match: str | Callable[[str], bool],
    *,
    within: float = 20.0,
    method: str = "sendMessage",
) -> BotApiCall:
    """Wait until the bot sends (or edits, with ``method``) a message to ``chat_id`` whose
    readable text contains ``match`` (or satisfies it); return that call."""

    def found() -> BotApiCall | None:
        for call in api.calls_to(method):
            if call.json("chat_id") != chat_id:
                continue
            text = plain(call.params.get("text", ""))
            if (match in text) if isinstance(match, str) else match(text):
                return call
        return None

    with anyio.fail_after(within):
        while (call := found()) is None:
            await api.wait_for_calls(method, len(api.calls_to(method)) + 1)
    return call


class OdekProcess:
    """``python -m odek <args>`` as a subprocess whose stderr lines are collected."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "odek", *args],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for_line(self, text: str, *, within: float = 30.0) -> str:
        """Block until a stderr line contains ``text``; return it."""
        deadline = time.monotonic() + within
        with self._cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no line with {text!r}; stderr:\n" + "\n".join(self.lines)
                    )
                self._cond.wait(min(left, 0.2))

    def count(self, text: str) -> int:
        with self._cond:
            return sum(text in line for line in self.lines)

    def stop(self, sig: int = signal.SIGTERM, *, within: float = 60.0) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(within)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()


def odek_env(api: FakeBotApi, home: Path, llm_url: str, **extra: str) -> dict[str, str]:
    """The environment of an ``odek telegram`` subprocess using the fake servers."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ODEK_", "DEEPSEEK_", "OPENAI_"))
    }
    env.update(
        ODEK_HOME=str(home),
        ODEK_TELEGRAM_BOT_TOKEN=api.token,
        ODEK_TELEGRAM_API_URL=api.base_url,
        ODEK_TELEGRAM_ALLOWED_CHATS=f"{CHAT},{OTHER_CHAT}",
        ODEK_SCHEDULES_TELEGRAM_ADMIN_CHATS=str(CHAT),
        ODEK_TELEGRAM_POLL_TIMEOUT="5",
        ODEK_BASE_URL=llm_url,
        ODEK_API_KEY="test-key",
        ODEK_MODEL="fake",
        ODEK_LOG_FORMAT="json",
        **extra,
    )
    return env


def wait_sync(predicate: Callable[[], bool], *, within: float = 30.0) -> None:
    """Block (in a test without an event loop) until ``predicate()`` holds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


async def eventually(predicate: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait until ``predicate()`` holds: for state kept by threads, files or actors that
    offer no event to wait on."""
    with anyio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await anyio.sleep(0.05)
