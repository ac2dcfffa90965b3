"""Matching on wall-clock (naive, zone-free) minutes with bit operations.

A wall time is a tuple ``(year, month, day, hour, minute)``. :class:`WallMatcher` finds the
first matching wall time at or after a given one without stepping minute by minute: each
field is a bitmask, the days of a month that match are one integer computed from the
weekday of the 1st and the month's length, and the next set bit is found with bit tricks.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from functools import lru_cache

__all__ = ["MAX_MONTHS", "WallMatcher", "WallTime", "month_info"]

WallTime = tuple[int, int, int, int, int]

#: The Gregorian calendar repeats every 400 years, so an expression that fires at all fires
#: within any 400-year window; the search never looks at more months than this.
MAX_MONTHS = 401 * 12

_LAST_YEAR = 9999
_MONTH_CACHE_LIMIT = 20_000


@lru_cache(maxsize=16384)
def month_info(year: int, month: int) -> tuple[int, int]:
    """``(ordinal of the 1st, number of days)``; the cron weekday of the 1st is ``ordinal % 7``."""
    return date(year, month, 1).toordinal(), monthrange(year, month)[1]


# Bits 0, 7, 14, 21 and 28: multiplying a week's bits (1-7) by this repeats them for five
# weeks without overlap.
_FIVE_WEEKS = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28


def _day_mask(dom_mask: int, dow_mask: int, day_and: bool, first_weekday: int, length: int) -> int:
    """Bit ``d`` set for each matching day ``d`` of a month whose 1st falls on
    ``first_weekday`` (0 = Sunday) and which has ``length`` days."""
    # Day d (1-7) falls on weekday (first_weekday + d - 1) % 7: rotate the weekday bits
    # right by first_weekday, then move them up one place to start at day 1.
    week = (dow_mask >> first_weekday | dow_mask << (7 - first_weekday)) & 0x7F
    by_weekday = (week << 1) * _FIVE_WEEKS
    in_month = (1 << (length + 1)) - 2
    if day_and:
        return dom_mask & by_weekday & in_month
    return (dom_mask | by_weekday) & in_month


def _lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


class WallMatcher:
    """The field masks of an expression (bit ``v`` set for each chosen value ``v``; weekday
    0 is Sunday), searched with bit operations.

    ``day_and`` selects the day rule: when true a day must match both day-of-month and
    day-of-week, otherwise either.
    """

    __slots__ = (
        "_dom_mask",
        "_dow_mask",
        "_first_hour",
        "_first_minute",
        "_hour_mask",
        "_minute_mask",
        "_month_days",
        "_month_mask",
        "day_and",
    )

    def __init__(
        self, minutes: int, hours: int, days: int, months: int, weekdays: int, day_and: bool
    ) -> None:
        self._minute_mask = minutes
        self._hour_mask = hours
        self._dom_mask = days
        self._month_mask = months
        self._dow_mask = weekdays
        self.day_and = day_and
        self._first_minute = _lowest_bit(minutes)
        self._first_hour = _lowest_bit(hours)
        self._month_days: dict[int, int] = {}

    def matches(self, wall: WallTime) -> bool:
        """Whether the wall time matches every field (under the day rule)."""
        year, month, day, hour, minute = wall
        if not (self._month_mask >> month & 1 and self._hour_mask >> hour & 1):
            return False
        if not self._minute_mask >> minute & 1:
            return False
        return bool(self._days_of(year, month) >> day & 1)

    def _days_of(self, year: int, month: int) -> int:
        """The matching days of one month, as a bitmask (memoised per month)."""
        key = year << 4 | month
        days = self._month_days.get(key)
        if days is None:
            if len(self._month_days) > _MONTH_CACHE_LIMIT:
                self._month_days.clear()
            first, length = month_info(year, month)
            days = self._month_days[key] = _day_mask(
                self._dom_mask, self._dow_mask, self.day_and, first % 7, length
            )
        return days

    def next_match(self, wall: WallTime) -> WallTime | None:
        """The first matching wall time at or after ``wall``; ``None`` past year 9999.

        Work is bounded by :data:`MAX_MONTHS` month steps.
        """
        year, month, day, hour, minute = wall
        month_mask = self._month_mask
        month_days = self._month_days
        for _ in range(MAX_MONTHS):
            if month_mask >> month & 1:
                days = month_days.get(year << 4 | month)
                if days is None:
                    days = self._days_of(year, month)
                days >>= day
                if days & 1:
                    hours = self._hour_mask >> hour
                    if hours & 1:
                        minutes = self._minute_mask >> minute
                        if minutes:
                            return year, month, day, hour, minute + _lowest_bit(minutes)
                    hours >>= 1
                    if hours:
                        return year, month, day, hour + 1 + _lowest_bit(hours), self._first_minute
                    days &= ~1
                if days:
                    day += _lowest_bit(days)
                    return year, month, day, self._first_hour, self._first_minute
            if month == 12:
                if year == _LAST_YEAR:
                    return None
                year += 1
                month = 1
            else:
                month += 1
            day, hour, minute = 1, 0, 0
        raise AssertionError(f"no match within {MAX_MONTHS} months of {wall}")  # pragma: no cover
