"""Parsing whole expressions into :class:`CronExpr`, and the ``upcoming`` helper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from odek.cron.describe import MONTH_NAMES, describe
from odek.cron.fields import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELDS,
    HOUR,
    MINUTE,
    MONTH,
    mask_values,
    parse_field,
)
from odek.cron.schedule import Fire, FireSearch
from odek.cron.wallclock import WallMatcher
from odek.cron.zones import load_zone
from odek.errors import CronError, CronNeverFiresError

__all__ = ["CronExpr", "parse", "upcoming"]

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# The longest each month can be; February counts its leap-year 29th.
_LONGEST_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# _MONTHS_REACHING[d]: the mask of the months that can have a day d.
_MONTHS_REACHING = tuple(
    sum(1 << month for month in range(1, 13) if day <= _LONGEST_MONTH[month]) for day in range(32)
)


class CronExpr:
    """A parsed five-field expression; immutable, shared by :func:`parse`'s cache.

    ``minutes``, ``hours``, ``days``, ``months`` and ``weekdays`` hold the sorted values of
    each field (weekday 0 is Sunday). ``day_and`` is the day rule: true when either
    day field begins with ``*``, so that a day must match both; otherwise either suffices.
    """

    __slots__ = ("_masks", "_search", "day_and", "is_fixed_time", "text")

    text: str
    is_fixed_time: bool
    day_and: bool

    def __init__(
        self, text: str, masks: tuple[int, int, int, int, int], *, fixed: bool, day_and: bool
    ) -> None:
        self.text = text
        self.is_fixed_time = fixed
        self.day_and = day_and
        self._masks = masks
        self._search = FireSearch(WallMatcher(*masks, day_and), fixed=fixed)

    @property
    def minutes(self) -> tuple[int, ...]:
        return mask_values(self._masks[0])

    @property
    def hours(self) -> tuple[int, ...]:
        return mask_values(self._masks[1])

    @property
    def days(self) -> tuple[int, ...]:
        return mask_values(self._masks[2])

    @property
    def months(self) -> tuple[int, ...]:
        return mask_values(self._masks[3])

    @property
    def weekdays(self) -> tuple[int, ...]:
        return mask_values(self._masks[4])

    def __repr__(self) -> str:
        return f"CronExpr({self.text!r})"

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime:
        """The first fire strictly after the aware datetime ``after``, as an aware datetime
        in ``tz``. Raises ``ValueError`` for a naive ``after`` or when no fire happens
        before the year 10000."""
        found = self._search.first(after, tz)
        if found is not None:
            return FireSearch.moment(tz, found)
        raise ValueError(f"cron: {self.text!r} does not fire between {after} and the year 10000")

    def iter_after(self, after: datetime, tz: ZoneInfo) -> Iterator[datetime]:
        """The fires strictly after ``after``, in order, as aware datetimes in ``tz``."""
        moment = FireSearch.moment
        return (moment(tz, found) for found in self._search.fires(after, tz))

    def fires_after(self, after: datetime, tz: ZoneInfo, count: int) -> list[Fire]:
        """The next ``count`` fires, each with a note when daylight saving time moved it to
        the end of a gap, merged several wall times into it, or made it one of (or the only
        one of) the two passes of a repeated wall time."""
        search = self._search
        fires: list[Fire] = []
        for found in islice(search.fires(after, tz), max(count, 0)):
            moment = search.moment(tz, found)
            fires.append(Fire(moment, search.note(tz, moment, found)))
        return fires

    def describe(self) -> str:
        """A short English description, such as ``"at 09:00, Monday through Friday"``."""
        return describe(
            self.minutes, self.hours, self.days, self.months, self.weekdays, day_and=self.day_and
        )


def _check_fires(expr: str, days: int, months: int) -> None:
    """Refuse an expression that names no existing date, judged from the fields alone.

    Called when day-of-week begins with ``*`` and day-of-month does not, so that a day must
    match the day-of-month: every weekday falls on every day number of every month in some
    year, so the only way never to fire is that no chosen month is long enough for the
    smallest chosen day.
    """
    smallest = (days & -days).bit_length() - 1
    if months & _MONTHS_REACHING[smallest]:
        return
    chosen = mask_values(months)
    month_words = [MONTH_NAMES[month - 1] for month in chosen]
    month_text = month_words[0] if len(chosen) == 1 else ", ".join(month_words[:-1])
    if len(chosen) > 1:
        month_text += f" or {month_words[-1]}"
    raise CronNeverFiresError(
        f'cron: "{expr}" can never fire: no day-of-month it names ({smallest} or later) '
        f"occurs in {month_text}",
        expr=expr,
        field=DAY_OF_MONTH.name,
    )


@lru_cache(maxsize=1024)
def parse(expr: str) -> CronExpr:
    """Parse a five-field expression or a macro (cached).

    Raises :class:`~odek.errors.CronError` naming the field and item at fault, or
    :class:`~odek.errors.CronNeverFiresError` for an expression that can never fire.
    """
    text = expr.strip()
    if not text:
        raise CronError("cron: empty expression", expr=expr)
    if text.startswith("@"):
        macro = text.lower()
        if macro == "@reboot":
            raise CronError(
                "cron: @reboot is not supported; to run a job's fires missed while odek was "
                "down, turn on the job's catch-up option (catchup) instead",
                expr=text,
            )
        if macro not in _MACROS:
            raise CronError(
                f'cron: unknown macro "{text}" (known: {", ".join(_MACROS)})', expr=text
            )
        body = _MACROS[macro]
    else:
        body = text
    parts = body.split()
    if len(parts) != len(FIELDS):
        raise CronError(
            f"cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            f'got {len(parts)} in "{text}"',
            expr=text,
        )
    minute, hour, day, month, weekday = parts
    masks = (
        parse_field(MINUTE, minute, text),
        parse_field(HOUR, hour, text),
        parse_field(DAY_OF_MONTH, day, text),
        parse_field(MONTH, month, text),
        parse_field(DAY_OF_WEEK, weekday, text),
    )
    # The day rule and the fixed-time test look at whether a field's text begins with "*".
    day_star = day[0] == "*"
    weekday_star = weekday[0] == "*"
    if weekday_star and not day_star:
        _check_fires(text, masks[2], masks[3])
    return CronExpr(
        text,
        masks,
        fixed=not (minute[0] == "*" or hour[0] == "*"),
        day_and=day_star or weekday_star,
    )


def upcoming(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fires of ``expr`` strictly after ``after``, as aware datetimes in
    the zone named ``tz``. Raises the errors of :func:`parse` and
    :func:`~odek.cron.zones.load_zone`."""
    return list(islice(parse(expr).iter_after(after, load_zone(tz)), max(count, 0)))
