"""Delivery to standard output: a header line, then the result, both redacted."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from odek.logs import get_logger
from odek.redact import redact

if TYPE_CHECKING:
    from odek.store import Job

__all__ = ["StdoutDeliverer", "format_time"]

log = get_logger("odek.deliver.stdout")


def format_time(when: datetime) -> str:
    """``Mon, 04 May 2026 09:00:00 CEST``: RFC 1123 style, in ``when``'s own zone."""
    return when.strftime("%a, %d %b %Y %H:%M:%S %Z").rstrip()


class StdoutDeliverer:
    """Writes ``\\n── <name> · <nominal fire time> ──\\n<result>\\n`` to ``stream``
    (standard output as it is at delivery time when ``None``) and flushes it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        stream = self._stream or sys.stdout
        header = f"── {redact(job.name)} · {format_time(nominal)} ──"
        body = redact(text).rstrip("\n")
        stream.write(f"\n{header}\n{body}\n")
        stream.flush()
        log.info("delivered", job_id=job.id, kind="stdout", nominal=nominal.isoformat())
