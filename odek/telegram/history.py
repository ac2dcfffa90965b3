"""Each chat's conversation with the agent, kept under ``ODEK_HOME/telegram/chats/``.

One file per chat, ``<chat id>.json`` (0600, in a 0700 directory): the user and assistant
messages, oldest first, and when the conversation last changed. A conversation idle for
longer than the TTL (``telegram.session_ttl_hours``) has expired: it reads as empty and its
file is removed. Only the last ``max_messages`` are kept. Everything written is redacted.

Every change is a read-modify-write under an ``flock`` on the chat's lock file, so an
interactive turn and a scheduled result arriving at the same time are both kept.
The methods block on file I/O; async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import msgspec

from odek.errors import StoreCorruptError
from odek.redact import redact
from odek.store.files import atomic_write, ensure_dir, exclusive_lock, read_capped

__all__ = ["CHATS_DIR", "HistoryStore", "Turn"]

CHATS_DIR = Path("telegram") / "chats"


class Turn(msgspec.Struct, frozen=True):
    """One message of a conversation: ``role`` is ``user`` or ``assistant``."""

    role: str
    content: str


class _ChatFile(msgspec.Struct):
    updated: Annotated[datetime, msgspec.Meta(tz=True)]
    messages: list[Turn]
    version: int = 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HistoryStore:
    """The conversations of every chat (see the module docstring)."""

    def __init__(
        self,
        home: Path,
        *,
        ttl: timedelta,
        max_messages: int = 40,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.directory = home / CHATS_DIR
        self.ttl = ttl
        self.max_messages = max_messages
        self._clock = clock

    def path(self, chat_id: int) -> Path:
        """The file of ``chat_id``'s conversation."""
        return self.directory / f"{chat_id}.json"

    def load(self, chat_id: int) -> list[Turn]:
        """The chat's conversation, empty when there is none or it expired."""
        with self._locked(chat_id):
            return self._read(chat_id)

    def append(self, chat_id: int, turns: Sequence[Turn]) -> None:
        """Add ``turns`` at the end of the chat's conversation (starting one if needed)."""
        with self._locked(chat_id):
            self._write(chat_id, [*self._read(chat_id), *turns])

    def append_scheduled(self, chat_id: int, label: str, task: str, result: str) -> bool:
        """Add a scheduled job's result to the chat's conversation, if it has one.

        A chat with no live conversation gets none (notification-only chats never get a
        transcript). When the conversation ends with a user message (a turn in flight),
        only an assistant message is added, so roles keep alternating; otherwise the task
        and the result are added as a user and an assistant message. Returns whether
        anything was added."""
        if not result.strip():
            return False
        head = f'⏰ [scheduled task "{label}" ran]'
        with self._locked(chat_id):
            turns = self._read(chat_id)
            if not turns:
                return False
            if turns[-1].role == "user":
                added = [Turn("assistant", f"{head}\n{result}")]
            else:
                added = [Turn("user", f"{head}\n{task}"), Turn("assistant", result)]
            self._write(chat_id, [*turns, *added])
        return True

    def clear(self, chat_id: int) -> bool:
        """Forget the chat's conversation (a corrupt file too); returns whether there was
        one."""
        with self._locked(chat_id):
            try:
                had = bool(self._read(chat_id))
            except StoreCorruptError:
                had = True
            self.path(chat_id).unlink(missing_ok=True)
        return had

    @contextlib.contextmanager
    def _locked(self, chat_id: int) -> Iterator[None]:
        ensure_dir(self.directory)
        with exclusive_lock(self.directory / f"{chat_id}.lock"):
            yield

    def _read(self, chat_id: int) -> list[Turn]:
        path = self.path(chat_id)
        data = read_capped(path)
        if data is None:
            return []
        try:
            doc = msgspec.json.decode(data, type=_ChatFile)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise StoreCorruptError(
                f"{path}: not a conversation file ({exc}); send /new to start over",
                path=str(path),
            ) from None
        if self._clock() - doc.updated > self.ttl:
            path.unlink(missing_ok=True)
            return []
        return list(doc.messages)

    def _write(self, chat_id: int, turns: list[Turn]) -> None:
        kept = [Turn(t.role, redact(t.content)) for t in turns[-self.max_messages :]]
        # Never start with an assistant message: a cut in the middle of a pair drops it.
        while kept and kept[0].role != "user":
            kept.pop(0)
        doc = _ChatFile(updated=self._clock(), messages=kept)
        atomic_write(self.path(chat_id), msgspec.json.encode(doc))
