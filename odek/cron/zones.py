"""Time zones: loading them, and mapping wall times to real instants.

A wall time in a zone exists once (the usual case), twice (a repeated period after the
clocks go back: a *fold*) or not at all (the clocks jumped over it: a *gap*).
:func:`resolve` classifies a wall time and returns the UTC instants, as integer seconds
since the epoch, that it stands for. Everything here works on UTC instants; nothing adds a
``timedelta`` to an aware datetime.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odek.cron.wallclock import WallTime, month_info
from odek.errors import UnknownTimeZoneError

__all__ = [
    "Kind",
    "Resolved",
    "ZoneDays",
    "day_key",
    "load_zone",
    "local_wall",
    "resolve",
    "transition_between",
    "wall_seconds",
    "zone_days",
]

_DAY = 86400
# Ordinal of 1970-01-01: wall seconds = (ordinal - _EPOCH_ORDINAL) * 86400 + seconds of day.
_EPOCH_ORDINAL = 719163
_CACHE_LIMIT = 200_000


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises :class:`~odek.errors.UnknownTimeZoneError` for an
    unknown, empty or malformed name."""
    if not name:
        raise UnknownTimeZoneError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZoneError(name) from None


class Kind(IntEnum):
    """How a wall time maps to real time."""

    UNIQUE = 0
    FOLD = 1
    GAP = 2


class Resolved(NamedTuple):
    """A classified wall time.

    ``UNIQUE``: ``first == second`` is the instant. ``FOLD``: ``first`` and ``second`` are
    the instants of the two passes. ``GAP``: ``first == second`` is the end of the gap,
    the first real instant after the wall time.
    """

    kind: Kind
    first: int
    second: int


_SECOND = timedelta(seconds=1)


def _offset(tz: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, tz).utcoffset()
    assert offset is not None
    return offset // _SECOND


def wall_seconds(wall: WallTime) -> int:
    """Seconds since 1970-01-01 00:00 of a wall time read as if it were UTC."""
    year, month, day, hour, minute = wall
    first, _ = month_info(year, month)
    return (first + day - 1 - _EPOCH_ORDINAL) * _DAY + hour * 3600 + minute * 60


def day_key(year: int, month: int, day: int) -> int:
    """A compact dictionary key for a date."""
    return year << 9 | month << 5 | day


class ZoneDays:
    """Per-zone memo of the local days in which no transition happens.

    ``bases`` maps :func:`day_key` to the instant of 00:00 on that day, for a plain day (one
    UTC offset all day), or to ``None`` for a day with a transition. The instant of wall
    time ``h:m`` on a plain day is then ``base + h * 3600 + m * 60``.
    """

    __slots__ = ("bases", "tz")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.bases: dict[int, int | None] = {}

    def base(self, year: int, month: int, day: int) -> int | None:
        """The instant of 00:00 on a plain day (see the class docstring), else ``None``.

        A day is plain when 00:00 and 23:59 each exist exactly once with the same offset.
        That misses only two transitions within one day that cancel each other out, which
        the tz database has never had.
        """
        key = day_key(year, month, day)
        if key in self.bases:
            return self.bases[key]
        tz = self.tz
        offsets = {
            datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).utcoffset()
            for hour, minute in ((0, 0), (23, 59))
            for fold in (0, 1)
        }
        result: int | None = None
        if len(offsets) == 1:
            (only,) = offsets
            assert only is not None
            result = wall_seconds((year, month, day, 0, 0)) - only // _SECOND
        if len(self.bases) > _CACHE_LIMIT:
            self.bases.clear()
        self.bases[key] = result
        return result


@lru_cache(maxsize=256)
def zone_days(tz: ZoneInfo) -> ZoneDays:
    """The shared :class:`ZoneDays` memo of ``tz``."""
    return ZoneDays(tz)


@lru_cache(maxsize=4096)
def transition_between(tz: ZoneInfo, low: int, high: int) -> int:
    """The first instant in ``(low, high]`` whose offset differs from the offset at ``low``.

    Bisection over whole seconds: at most ~log2(high - low) offset look-ups, cached.
    """
    before = _offset(tz, low)
    for _ in range(64):
        if high - low <= 1:
            return high
        middle = (low + high) // 2
        if _offset(tz, middle) == before:
            low = middle
        else:
            high = middle
    raise AssertionError("bisection did not converge")  # pragma: no cover


def resolve(tz: ZoneInfo, wall: WallTime) -> Resolved:
    """Classify ``wall`` in ``tz`` and give its instant(s); see :class:`Resolved`."""
    year, month, day, hour, minute = wall
    base = zone_days(tz).base(year, month, day)
    if base is not None:
        instant = base + hour * 3600 + minute * 60
        return Resolved(Kind.UNIQUE, instant, instant)
    seconds = wall_seconds(wall)
    moment = datetime(year, month, day, hour, minute, tzinfo=tz)
    offset0 = moment.utcoffset()
    offset1 = moment.replace(fold=1).utcoffset()
    assert offset0 is not None
    assert offset1 is not None
    first = seconds - offset0 // _SECOND
    second = seconds - offset1 // _SECOND
    if first == second:
        return Resolved(Kind.UNIQUE, first, first)
    if first < second:
        return Resolved(Kind.FOLD, first, second)
    # In a gap fold=0 reads the wall time with the offset from before the jump and fold=1
    # with the offset from after it, so the jump lies in (second, first].
    end = transition_between(tz, second, first)
    return Resolved(Kind.GAP, end, end)


def local_wall(tz: ZoneInfo, instant: int) -> tuple[WallTime, int, datetime]:
    """The wall time (to the minute), the second within the minute and the aware datetime of
    an instant in ``tz``."""
    moment = datetime.fromtimestamp(instant, tz)
    wall = (moment.year, moment.month, moment.day, moment.hour, moment.minute)
    return wall, moment.second, moment
