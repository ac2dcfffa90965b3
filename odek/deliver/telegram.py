"""Delivery to a Telegram chat through python-telegram-bot's ``telegram.Bot``.

The bot is used only as a typed Bot API client, with request objects owned here so that it
runs on any anyio backend (``async with telegram.Bot`` needs asyncio). A deliverer either
shares a live bot (the Telegram bot process) or opens one per delivery from the token.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import anyio
import telegram
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from odek.config.model import DEFAULT_TELEGRAM_API
from odek.deliver.format import Chunk, format_chunks
from odek.errors import DeliveryError
from odek.logs import get_logger
from odek.redact import redact

if TYPE_CHECKING:
    from odek.store import Job

__all__ = ["TelegramDeliverer", "open_bot"]

# Opt in to python-telegram-bot's timedelta time periods (its announced next default).
# Without it PTB 22.2+ emits a deprecation warning from inside RetryAfter's constructor,
# i.e. on every rate limit.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = get_logger("odek.deliver.telegram")


@asynccontextmanager
async def open_bot(
    token: str, *, api_base_url: str = DEFAULT_TELEGRAM_API, read_timeout: float = 20.0
) -> AsyncIterator[telegram.Bot]:
    """A ``telegram.Bot`` for ``token`` talking to ``api_base_url`` (the API root, without
    ``/bot``), usable on asyncio and trio; its HTTP clients are closed on exit, within 5 s
    even when the caller is cancelled. Makes no request by itself.

    ``read_timeout`` bounds ordinary calls; ``getUpdates`` adds its long-poll timeout."""
    general = HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout)
    updates = HTTPXRequest(connection_pool_size=1, read_timeout=read_timeout)
    bot = telegram.Bot(
        token,
        base_url=api_base_url.rstrip("/") + "/bot",
        base_file_url=api_base_url.rstrip("/") + "/file/bot",
        request=general,
        get_updates_request=updates,
    )
    try:
        yield bot
    finally:
        with anyio.move_on_after(5, shield=True):
            await general.shutdown()
            await updates.shutdown()


def is_parse_error(exc: BadRequest) -> bool:
    """True when Telegram refused a message's MarkdownV2/HTML entities (not its content)."""
    return "can't parse entities" in exc.message.lower()


def _retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramDeliverer:
    """Sends a job's result to ``job.deliver.chat_id``, else ``default_chat_id``.

    The result is redacted, split and converted by :func:`odek.deliver.format.format_chunks`;
    each chunk goes out as MarkdownV2 and, if Telegram cannot parse its entities, once more
    as the plain, unescaped original text.

    Per request: ``RetryAfter`` sleeps the time Telegram asks for (up to ``max_retry_after``
    seconds) and retries; network errors and timeouts are retried after 1, 2, 4, ... s;
    both up to ``attempts`` tries in total, then a transient :class:`DeliveryError`.
    ``Forbidden``, an invalid token, and any other ``BadRequest`` raise a permanent
    :class:`DeliveryError` at once. A chat that migrated to a supergroup is followed.
    Chunks sent before a failure are not sent again; the error says how many went out.

    Give ``bot`` to share a live bot (never closed here); otherwise a bot is opened for
    each delivery from ``token`` and ``api_base_url``.
    """

    def __init__(
        self,
        *,
        default_chat_id: int = 0,
        bot: telegram.Bot | None = None,
        token: str = "",
        api_base_url: str = DEFAULT_TELEGRAM_API,
        attempts: int = 5,
        max_retry_after: float = 300.0,
    ) -> None:
        self._default_chat_id = default_chat_id
        self._bot = bot
        self._token = token
        self._api_base_url = api_base_url
        self._attempts = attempts
        self._max_retry_after = max_retry_after

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        chat_id = job.deliver.chat_id or self._default_chat_id
        if not chat_id:
            raise DeliveryError(
                f"job {job.id} ({redact(job.name)}): no Telegram chat to deliver to; give the "
                "job a chat (deliver telegram:<chat_id>) or set telegram.default_chat_id",
                permanent=True,
            )
        chunks = format_chunks(redact(text)) or format_chunks("(empty result)")
        if self._bot is not None:
            await self._send_all(self._bot, job, chat_id, chunks)
            return
        if not self._token:
            raise DeliveryError(
                f"job {job.id}: telegram.bot_token is not configured", permanent=True
            )
        async with open_bot(self._token, api_base_url=self._api_base_url) as bot:
            await self._send_all(bot, job, chat_id, chunks)

    async def _send_all(
        self, bot: telegram.Bot, job: Job, chat_id: int, chunks: list[Chunk]
    ) -> None:
        for sent, chunk in enumerate(chunks):
            try:
                chat_id = await self._send_chunk(bot, chat_id, chunk)
            except DeliveryError as exc:
                where = f" after {sent} of {len(chunks)} parts" if sent else ""
                raise DeliveryError(
                    f"job {job.id}: Telegram delivery to chat {chat_id} failed{where}: {exc}",
                    permanent=exc.permanent,
                ) from exc
        log.info("delivered", job_id=job.id, kind="telegram", chat_id=chat_id, parts=len(chunks))

    async def _send_chunk(self, bot: telegram.Bot, chat_id: int, chunk: Chunk) -> int:
        """Send one chunk; return the chat id it went to (changed by a migration)."""
        try:
            return await self._send(bot, chat_id, chunk.markdown_v2, ParseMode.MARKDOWN_V2)
        except _Unparsable as exc:
            log.warning("markdown refused, sending plain text", chat_id=chat_id, error=str(exc))
            return await self._send(bot, exc.chat_id, chunk.plain, None)

    async def _send(self, bot: telegram.Bot, chat_id: int, text: str, mode: str | None) -> int:
        backoff = 1.0
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                await bot.send_message(chat_id=chat_id, text=text, parse_mode=mode)
                return chat_id
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc)
                if last or wait > self._max_retry_after:
                    raise DeliveryError(f"rate limited by Telegram: {exc.message}") from exc
                log.info("rate limited, waiting", chat_id=chat_id, retry_after=wait)
                await anyio.sleep(wait)
            except ChatMigrated as exc:
                log.info("chat migrated", chat_id=chat_id, new_chat_id=exc.new_chat_id)
                chat_id = exc.new_chat_id
            except (Forbidden, InvalidToken) as exc:
                raise DeliveryError(exc.message, permanent=True) from exc
            except BadRequest as exc:
                if mode is not None and is_parse_error(exc):
                    raise _Unparsable(exc.message, chat_id) from exc
                raise DeliveryError(exc.message, permanent=True) from exc
            except NetworkError as exc:  # also TimedOut and 5xx answers
                if last:
                    raise DeliveryError(f"network error: {exc.message}") from exc
                log.info("network error, retrying", chat_id=chat_id, error=exc.message)
                await anyio.sleep(backoff)
                backoff *= 2
            except TelegramError as exc:
                raise DeliveryError(exc.message) from exc
        raise DeliveryError(f"gave up after {self._attempts} attempts")


class _Unparsable(Exception):
    """Telegram refused the MarkdownV2 entities of a chunk (internal: triggers the plain
    resend)."""

    def __init__(self, message: str, chat_id: int) -> None:
        super().__init__(message)
        self.chat_id = chat_id
