"""Wall clocks for the scheduler: the system's, and a virtual one for tests.

Cron fires are wall-clock instants, while anyio sleeps on a monotonic clock. The scheduler
reads "now" from a :class:`WallClock` and converts the distance to the next fire into a
monotonic sleep, capped so that a stepped or suspended wall clock is noticed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio

__all__ = ["SystemClock", "VirtualClock", "WallClock"]


class WallClock(Protocol):
    """Where the scheduler reads the current wall-clock time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


class VirtualClock:
    """A wall clock that advances with ``anyio.current_time()``.

    Under trio's ``MockClock`` the monotonic clock is virtual, so ``now()`` is too: a test
    that sleeps a simulated year sees a year pass on this clock. Must be built inside a
    running event loop. :meth:`step` moves the wall clock alone, as an NTP step or a suspended
    laptop does.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware start time")
        self._start = start.astimezone(UTC)
        self._origin = anyio.current_time()

    def now(self) -> datetime:
        """``start`` plus the monotonic time elapsed since construction (plus any steps)."""
        return self._start + timedelta(seconds=anyio.current_time() - self._origin)

    def step(self, seconds: float) -> None:
        """Jump the wall clock by ``seconds`` (negative: backwards) without moving time."""
        self._start += timedelta(seconds=seconds)
