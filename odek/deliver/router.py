"""Routing a result to the deliverer of its job's delivery kind."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import telegram

from odek.deliver.logfile import LOG_FILE_NAME, LogFileDeliverer
from odek.deliver.stdout import StdoutDeliverer
from odek.deliver.telegram import TelegramDeliverer
from odek.errors import DeliveryError
from odek.protocols import Deliverer

if TYPE_CHECKING:
    from odek.config import Config
    from odek.store import Job

__all__ = ["DeliveryRouter", "build_deliverer"]


class DeliveryRouter:
    """A :class:`~odek.protocols.Deliverer` that hands each result to the deliverer
    registered for ``job.deliver.kind``; an unknown kind is a permanent
    :class:`DeliveryError`."""

    def __init__(self, by_kind: Mapping[str, Deliverer]) -> None:
        self._by_kind = dict(by_kind)

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        deliverer = self._by_kind.get(job.deliver.kind)
        if deliverer is None:
            raise DeliveryError(
                f'job {job.id}: unknown delivery kind "{job.deliver.kind}" '
                f"(expected one of {', '.join(sorted(self._by_kind))})",
                permanent=True,
            )
        await deliverer.deliver(job, text, nominal=nominal)


def build_deliverer(config: Config, *, home: Path, bot: telegram.Bot | None = None) -> Deliverer:
    """The deliverer for every kind: ``stdout``, ``log`` (``home/schedule.log``) and
    ``telegram`` (through ``bot`` when given, a live bot shared with the Telegram front end;
    else through a bot opened per delivery from ``config.telegram.bot_token`` and
    ``config.telegram.api_base_url``; ``config.telegram.default_chat_id`` is the chat of
    jobs that name none)."""
    tg = config.telegram
    return DeliveryRouter(
        {
            "stdout": StdoutDeliverer(),
            "log": LogFileDeliverer(home / LOG_FILE_NAME),
            "telegram": TelegramDeliverer(
                default_chat_id=tg.default_chat_id,
                bot=bot,
                token=tg.bot_token,
                api_base_url=tg.api_base_url,
            ),
        }
    )
