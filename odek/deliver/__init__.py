"""Delivering a run's result: to standard output, to ``ODEK_HOME/schedule.log`` or to a
Telegram chat, chosen by the job's delivery kind (:func:`build_deliverer`)."""

from odek.deliver.format import Chunk, format_chunks, to_markdown_v2, utf16_len
from odek.deliver.logfile import LogFileDeliverer
from odek.deliver.router import DeliveryRouter, build_deliverer
from odek.deliver.stdout import StdoutDeliverer
from odek.deliver.telegram import TelegramDeliverer, open_bot

__all__ = [
    "Chunk",
    "DeliveryRouter",
    "LogFileDeliverer",
    "StdoutDeliverer",
    "TelegramDeliverer",
    "build_deliverer",
    "format_chunks",
    "open_bot",
    "to_markdown_v2",
    "utf16_len",
]
