"""Matching on wall-clock (naive, zone-free) minutes with table lookups.

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


# The helpers below are pure functions of a field's values; expressions share most field
# values ("*", "0", "1-5"), so they are memoised to keep parsing cheap.


@lru_cache(maxsize=1024)
def _mask(values: frozenset[int]) -> int:
    mask = 0
    for value in values:
        mask |= 1 << value
    return mask


@lru_cache(maxsize=1024)
def _next_table(values: frozenset[int], size: int) -> tuple[int, ...]:
    """``table[i]`` = the smallest of ``values`` >= i, or -1; ``table[size]`` = -1."""
    table: list[int] = []
    for value in sorted(values):
        table += [value] * (value + 1 - len(table))
    table += [-1] * (size + 1 - len(table))
    return tuple(table)


@lru_cache(maxsize=8192)
def _day_mask(dom_mask: int, dow_mask: int, day_and: bool, first_weekday: int, length: int) -> int:
    """Bit ``d`` set for each matching day ``d`` of a month whose 1st falls on
    ``first_weekday`` (0 = Sunday) and which has ``length`` days."""
    week = 0
    for day in range(1, 8):
        if dow_mask >> ((first_weekday + day - 1) % 7) & 1:
            week |= 1 << day
    by_weekday = week | week << 7 | week << 14 | week << 21 | week << 28
    in_month = (1 << (length + 1)) - 2
    if day_and:
        return dom_mask & by_weekday & in_month
    return (dom_mask | by_weekday) & in_month


def _lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


class WallMatcher:
    """The field sets of an expression, compiled for fast searching.

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
        "_next_hour",
        "_next_minute",
        "day_and",
    )

    def __init__(
        self,
        minutes: frozenset[int],
        hours: frozenset[int],
        days: frozenset[int],
        months: frozenset[int],
        weekdays: frozenset[int],
        *,
        day_and: bool,
    ) -> None:
        self._minute_mask = _mask(minutes)
        self._hour_mask = _mask(hours)
        self._dom_mask = _mask(days)
        self._month_mask = _mask(months)
        self._dow_mask = _mask(weekdays)
        self.day_and = day_and
        self._next_minute = _next_table(minutes, 60)
        self._next_hour = _next_table(hours, 24)
        self._first_minute = self._next_minute[0]
        self._first_hour = self._next_hour[0]
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
                    if self._hour_mask >> hour & 1:
                        found_minute = self._next_minute[minute]
                        if found_minute >= 0:
                            return year, month, day, hour, found_minute
                    found_hour = self._next_hour[hour + 1]
                    if found_hour >= 0:
                        return year, month, day, found_hour, self._first_minute
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
