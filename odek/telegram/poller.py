"""The poller actor: long-polls ``getUpdates`` and hands each update to the router.

The offset (the id after the last update taken) is written to
``ODEK_HOME/telegram-offset.json`` (0600) *before* the updates of a batch are handed on,
and is sent back to Telegram with the next poll, which confirms them. So an update is
handled at most once, also across restarts and crashes: a crash between the write and the
hand-off loses that batch rather than running a command twice.

Errors: a network error, a timeout or a 5xx is retried with backoff (1 s doubling up to
30 s); ``RetryAfter`` waits what Telegram asks. Two are fatal and end the poller with
:class:`odek.errors.TelegramFatalError`: 401 (the token is wrong or was revoked) and 409
(another process polls the same token; 409s within ``conflict_grace`` seconds of the
start are retried, since the process this one replaced may still hold a poll open).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import anyio
import msgspec
import telegram
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectSendStream
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from odek.errors import StoreCorruptError, TelegramFatalError
from odek.logs import get_logger
from odek.store.files import atomic_write, ensure_dir, read_capped

__all__ = ["OFFSET_FILE", "OffsetStore", "Poller", "fatal_error"]

OFFSET_FILE = "telegram-offset.json"

#: The update kinds the bot asks for (anything else is never sent to it).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

log = get_logger("odek.telegram")


class _Offset(msgspec.Struct):
    offset: int


class OffsetStore:
    """The poll offset kept in ``home/telegram-offset.json``."""

    def __init__(self, home: Path) -> None:
        self.path = home / OFFSET_FILE

    def load(self) -> int:
        """The stored offset, 0 when there is none. A corrupt file raises
        :class:`StoreCorruptError` saying how to recover."""
        data = read_capped(self.path, max_bytes=4096)
        if data is None:
            return 0
        try:
            return msgspec.json.decode(data, type=_Offset).offset
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise StoreCorruptError(
                f"{self.path}: not a poll offset ({exc}); delete the file to start from the "
                "updates Telegram still holds",
                path=str(self.path),
            ) from None

    def save(self, offset: int) -> None:
        """Store ``offset`` atomically."""
        ensure_dir(self.path.parent)
        atomic_write(self.path, msgspec.json.encode(_Offset(offset)))


def fatal_error(exc: TelegramError) -> TelegramFatalError | None:
    """The fatal error a Bot API error stands for (401 or 409), else ``None``."""
    if isinstance(exc, InvalidToken):
        return TelegramFatalError(
            "telegram: the Bot API refused the bot token (401 Unauthorized): it is wrong or "
            "was revoked; set a valid ODEK_TELEGRAM_BOT_TOKEN (from @BotFather)"
        )
    if isinstance(exc, Conflict):
        return TelegramFatalError(
            "telegram: another process is polling updates for this bot token (409 Conflict: "
            f"{exc.message}); stop the other bot, or give this one its own token"
        )
    return None


class Poller:
    """Long-polls ``bot`` and sends every update to ``updates`` (see the module docstring).

    ``on_fatal`` is called with the :class:`TelegramFatalError` before the poller returns;
    the bot uses it to stop everything and report the error.
    """

    def __init__(
        self,
        bot: telegram.Bot,
        updates: MemoryObjectSendStream[telegram.Update],
        offsets: OffsetStore,
        *,
        on_fatal: Callable[[TelegramFatalError], None],
        timeout: int = 30,
        conflict_grace: float = 5.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.bot = bot
        self.updates = updates
        self.offsets = offsets
        self.on_fatal = on_fatal
        self.timeout = timeout
        self.conflict_grace = conflict_grace
        self.max_backoff = max_backoff

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Poll until cancelled, or until a fatal error (then ``on_fatal`` and return)."""
        offset = await anyio.to_thread.run_sync(self.offsets.load)
        started = anyio.current_time()
        backoff = 1.0
        task_status.started()
        while True:
            try:
                batch = await self.bot.get_updates(
                    offset=offset or None,
                    timeout=self.timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except RetryAfter as exc:
                wait = exc.retry_after
                await anyio.sleep(wait.total_seconds() if isinstance(wait, timedelta) else wait)
                continue
            except Conflict as exc:
                if anyio.current_time() - started < self.conflict_grace:
                    log.warning("poll_conflict_retry", error=exc.message)
                    await anyio.sleep(1.0)
                    continue
                self._fail(exc)
                return
            except InvalidToken as exc:
                self._fail(exc)
                return
            except (NetworkError, TelegramError) as exc:
                log.warning("poll_failed", error=str(exc), retry_in=backoff)
                await anyio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                continue
            backoff = 1.0
            if not batch:
                continue
            offset = max(u.update_id for u in batch) + 1
            await anyio.to_thread.run_sync(self.offsets.save, offset)
            for update in batch:
                await self.updates.send(update)

    def _fail(self, exc: TelegramError) -> None:
        fatal = fatal_error(exc)
        assert fatal is not None
        log.error("poll_fatal", error=str(fatal))
        self.on_fatal(fatal)
