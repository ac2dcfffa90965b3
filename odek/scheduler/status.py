"""``ODEK_HOME/schedule-status.json``: what the running daemon last loaded, for the CLI.

Written by the daemon when it starts and after every reload (atomically, mode 0600)::

    {"version": 1, "pid": 4242, "updated_at": "2026-06-04T10:00:00Z",
     "jobs": 12, "enabled": 11,
     "error": "",            # why the last reload failed ("" when it worked); the daemon
     "error_at": null,       # then keeps running the definitions it had
     "invalid": {"jb-1a2b3c4d": "cron: ..."}}   # jobs that cannot run, and why

``odek schedule list`` can show ``error`` and ``invalid`` next to the jobs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec

from odek.errors import OdekError
from odek.store.files import atomic_write, read_capped

__all__ = ["STATUS_FILE", "ScheduleStatus", "read_status", "write_status"]

STATUS_FILE = "schedule-status.json"


class ScheduleStatus(msgspec.Struct, kw_only=True):
    """The content of ``schedule-status.json`` (see the module docstring)."""

    version: int = 1
    pid: int
    updated_at: datetime
    jobs: int
    enabled: int
    error: str = ""
    error_at: datetime | None = None
    invalid: dict[str, str] = msgspec.field(default_factory=dict)


def write_status(home: Path, status: ScheduleStatus) -> None:
    """Replace the status file. Raises :class:`odek.errors.StoreError`."""
    atomic_write(home / STATUS_FILE, msgspec.json.encode(status) + b"\n")


def read_status(home: Path) -> ScheduleStatus | None:
    """The status file, or ``None`` when it is missing or unreadable (it is advisory)."""
    try:
        data = read_capped(home / STATUS_FILE)
        return None if data is None else msgspec.json.decode(data, type=ScheduleStatus)
    except (OdekError, msgspec.DecodeError):
        return None
