"""``/restart``: a graceful restart of the bot process, asked from the chat.

Admins only, at most once per ``cooldown`` seconds (60; the time of the last restart
survives it, in the marker). A request stops the bot's tree: turns in flight and the
embedded scheduler's runs get their drain time, state is written and the locks are
released; then the process replaces itself (``exec``, so the PID and its supervisor stay
the same) and, once the new process is up and polling, the chats that asked are told.

The chats travel in ``ODEK_HOME/restart.json`` (0600): ``{"chat_ids": [...],
"requested_at": "<RFC 3339>"}``, written before the exec and removed by the new process
once it has told them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec

from odek.errors import OdekError
from odek.logs import get_logger
from odek.store.files import atomic_write, ensure_dir, read_capped

__all__ = ["MARKER_FILE", "RestartControl"]

MARKER_FILE = "restart.json"

log = get_logger("odek.telegram")


class _Marker(msgspec.Struct):
    chat_ids: list[int]
    requested_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RestartControl:
    """Accepts restart requests and carries the asking chats across the restart."""

    def __init__(
        self,
        home: Path,
        *,
        request_stop: Callable[[], None],
        cooldown: float = 60.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.path = home / MARKER_FILE
        self.request_stop = request_stop
        self.cooldown = cooldown
        self.clock = clock
        self.requested = False
        self.chat_ids: list[int] = []
        self._last: datetime | None = None

    def cooldown_left(self) -> float:
        """Seconds until ``/restart`` may be used again (0 when it may)."""
        if self._last is None:
            return 0.0
        return max(0.0, self.cooldown - (self.clock() - self._last).total_seconds())

    def request(self, chat_id: int | None) -> None:
        """Restart on behalf of ``chat_id`` (``None``: a signal); a chat asking while a
        restart is under way is told too. The caller checks the cooldown first."""
        if chat_id is not None and chat_id not in self.chat_ids:
            self.chat_ids.append(chat_id)
        if self.requested:
            return
        self.requested = True
        self._last = self.clock()
        log.info("restart_requested", chat_id=chat_id)
        self.request_stop()

    def write_marker(self) -> None:
        """Write the asking chats and the time for the next process (just before exec)."""
        ensure_dir(self.path.parent)
        atomic_write(
            self.path,
            msgspec.json.encode(_Marker(chat_ids=self.chat_ids, requested_at=self._last)),
        )

    def take_marker(self) -> list[int]:
        """At start-up: read (and keep, for :meth:`done`) the previous process's marker.
        Returns the chats to tell that the bot is back; a broken marker is logged and
        ignored (it only carries a courtesy message)."""
        try:
            data = read_capped(self.path, max_bytes=65536)
            if data is None:
                return []
            marker = msgspec.json.decode(data, type=_Marker)
        except (msgspec.DecodeError, msgspec.ValidationError, OdekError) as exc:
            log.warning("restart_marker_unreadable", path=str(self.path), error=str(exc))
            self.done()
            return []
        self._last = marker.requested_at
        return list(dict.fromkeys(marker.chat_ids))

    def done(self) -> None:
        """Remove the marker (the chats have been told)."""
        self.path.unlink(missing_ok=True)
