"""Talking back to chats: formatted, split messages, edits, typing, callback answers.

Every text is redacted, then cut and converted exactly as the Telegram deliverer does
(:func:`odek.deliver.format_chunks`: MarkdownV2 chunks of at most 4096 UTF-16 units); a
chunk Telegram cannot parse is sent once more as its plain original. ``RetryAfter`` waits
the time Telegram asks (up to ``max_retry_after``), network errors are retried with
backoff, up to ``attempts`` tries. Replies are best effort: a failure is logged, never
raised, so one chat that blocked the bot cannot stop another chat's worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import anyio
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from odek.deliver import format_chunks
from odek.deliver.format import TELEGRAM_LIMIT, to_markdown_v2, utf16_len
from odek.deliver.telegram import is_parse_error
from odek.logs import get_logger
from odek.redact import redact

__all__ = ["Button", "ChatSender", "keyboard"]

log = get_logger("odek.telegram")

#: An inline button: its label and its callback data.
Button = tuple[str, str]
#: A Bot API call taking the parse mode and the text to send.
_Call = Callable[[str | None, str], Awaitable[object]]


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """An inline keyboard of ``rows`` of ``(label, callback data)`` buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


class ChatSender:
    """Sends to chats through the live ``bot`` (see the module docstring)."""

    def __init__(
        self, bot: telegram.Bot, *, attempts: int = 4, max_retry_after: float = 60.0
    ) -> None:
        self.bot = bot
        self._attempts = attempts
        self._max_retry_after = max_retry_after

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> list[int]:
        """Send ``text`` (Markdown) as one or more messages; ``buttons`` go on the last one.
        Returns the ids of the messages sent (empty when sending failed)."""
        chunks = format_chunks(redact(text)) or format_chunks("(empty answer)")
        sent: list[int] = []
        for index, chunk in enumerate(chunks):
            markup = buttons if index == len(chunks) - 1 else None
            reply = _reply(reply_to) if index == 0 else None

            async def send_one(
                mode: str | None,
                text: str,
                markup: InlineKeyboardMarkup | None = markup,
                reply: ReplyParameters | None = reply,
            ) -> telegram.Message:
                return await self.bot.send_message(
                    chat_id=chat_id,
                    text=text,
                    parse_mode=mode,
                    reply_markup=markup,
                    reply_parameters=reply,
                )

            message = await self._call(
                "sendMessage", chat_id, send_one, chunk.markdown_v2, chunk.plain
            )
            if not isinstance(message, telegram.Message):
                break
            sent.append(message.message_id)
        return sent

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> None:
        """Replace a message's text (cut to one message) and its buttons (none: removed)."""
        plain = redact(text)
        while utf16_len(plain) > TELEGRAM_LIMIT - 100 or utf16_len(to_markdown_v2(plain)) > (
            TELEGRAM_LIMIT
        ):
            plain = plain[: len(plain) * 3 // 4] + "…"
        await self._call(
            "editMessageText",
            chat_id,
            lambda mode, t: self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=t,
                parse_mode=mode,
                reply_markup=buttons,
            ),
            to_markdown_v2(plain),
            plain,
        )

    async def typing(self, chat_id: int) -> None:
        """Show "typing…" in the chat for a few seconds (one try, errors ignored)."""
        try:
            await self.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("typing_failed", chat_id=chat_id, error=str(exc))

    async def answer_callback(self, query_id: str, text: str = "") -> None:
        """Acknowledge an inline-button press, with a short toast when ``text`` is given."""
        try:
            await self.bot.answer_callback_query(query_id, text=text[:200] or None)
        except TelegramError as exc:
            log.debug("answer_callback_failed", error=str(exc))

    async def _call(
        self,
        method: str,
        chat_id: int,
        call: _Call,
        formatted: str,
        plain: str,
    ) -> object:
        """Run ``call`` with MarkdownV2, then plain on a parse error; retry transient errors."""
        text: str = formatted
        mode: str | None = ParseMode.MARKDOWN_V2
        backoff = 1.0
        for attempt in range(1, self._attempts + 1):
            try:
                return await call(mode, text)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if attempt == self._attempts or wait > self._max_retry_after:
                    log.warning(f"{method}_failed", chat_id=chat_id, error=exc.message)
                    return None
                await anyio.sleep(wait)
            except BadRequest as exc:
                if mode is not None and is_parse_error(exc):
                    log.warning("markdown_refused", chat_id=chat_id, error=exc.message)
                    text, mode = plain, None
                    continue
                if "not modified" not in exc.message.lower():
                    log.warning(f"{method}_failed", chat_id=chat_id, error=exc.message)
                return None
            except NetworkError as exc:
                if attempt == self._attempts:
                    log.warning(f"{method}_failed", chat_id=chat_id, error=exc.message)
                    return None
                await anyio.sleep(backoff)
                backoff *= 2
            except TelegramError as exc:
                log.warning(f"{method}_failed", chat_id=chat_id, error=exc.message)
                return None
        return None


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
