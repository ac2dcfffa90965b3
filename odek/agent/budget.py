"""The daily token budget shared by every agent run on the machine.

One counter, ``ODEK_HOME/token-usage.json`` (``{"day": "YYYY-MM-DD", "tokens": N}``, mode
0600), is read and written under an exclusive ``flock`` on ``ODEK_HOME/token-usage.lock``,
so the daemon, the bot and ``odek run`` in other processes share it. The day is the UTC
date: usage recorded on an earlier day counts as zero. A run is refused before it starts
when the day's usage has reached the limit; what a run used is always recorded, even when
that takes the total past the limit, so large runs cannot slip through unbilled.

The methods block on file locks; async callers run them in a worker thread.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from odek.errors import BudgetExhaustedError, RunError

USAGE_FILE = "token-usage.json"
LOCK_FILE = "token-usage.lock"


class _Usage(msgspec.Struct):
    day: str
    tokens: int


class TokenBudget:
    """The budget of ``limit`` tokens per UTC day (0 = unlimited) kept under ``home``.
    ``clock`` returns the current aware time (tests inject one)."""

    def __init__(
        self, home: Path, limit: int, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.home = home
        self.limit = limit
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def path(self) -> Path:
        """The counter file."""
        return self.home / USAGE_FILE

    def used(self) -> int:
        """Tokens recorded today (UTC)."""
        with self._locked():
            return self._read(self._today())

    def check(self) -> None:
        """Raise :class:`BudgetExhaustedError` when a limit is set and today's usage has
        reached it."""
        if self.limit <= 0:
            return
        used = self.used()
        if used >= self.limit:
            raise BudgetExhaustedError(
                f"daily token budget exhausted ({used}/{self.limit} tokens); "
                "it resets at midnight UTC"
            )

    def record(self, tokens: int) -> int:
        """Add ``tokens`` to today's usage (whatever the limit) and return the new total."""
        today = self._today()
        with self._locked():
            total = self._read(today) + max(tokens, 0)
            self._write(_Usage(today, total))
        return total

    def _today(self) -> str:
        return self._clock().astimezone(UTC).date().isoformat()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, today: str) -> int:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        try:
            usage = msgspec.json.decode(data, type=_Usage)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RunError(
                f"{self.path}: corrupt token usage file ({exc}); delete it to reset the count"
            ) from None
        return usage.tokens if usage.day == today else 0

    def _write(self, usage: _Usage) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".token-usage.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(msgspec.json.encode(usage))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
