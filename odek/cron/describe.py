"""Short English descriptions of parsed expressions ("at 09:00, Monday through Friday")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["MONTH_NAMES", "describe", "join_words"]

#: English month names; ``MONTH_NAMES[m - 1]`` for month ``m``.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MAX_LISTED_TIMES = 6


def join_words(words: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs in sorted ``values``: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _listing(values: Sequence[int], name: Callable[[int], str]) -> str:
    """Runs of three or more read "A through C"; shorter runs are listed."""
    words: list[str] = []
    for low, high in _runs(values):
        if high - low >= 2:
            words.append(f"{name(low)} through {name(high)}")
        else:
            words.extend(name(value) for value in range(low, high + 1))
    return join_words(words)


def _step(values: Sequence[int], low: int, high: int) -> int | None:
    """The step ``n`` when ``values`` is every n-th value from one below ``low + n`` to the
    end of the field (``*/n`` or ``a/n``), else ``None``."""
    if len(values) < 2:
        return None
    step = values[1] - values[0]
    if step < 2 or values[0] - low >= step:
        return None
    if list(values) != list(range(values[0], high + 1, step)):
        return None
    return step


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _hour_window(hours: Sequence[int]) -> str:
    spans = [f"from {low:02}:00 to {high:02}:59" for low, high in _runs(hours)]
    return join_words(spans)


def _time_phrase(minutes: Sequence[int], hours: Sequence[int]) -> str:
    every_hour = len(hours) == 24
    minute_step = _step(minutes, 0, 59)
    hour_step = _step(hours, 0, 23)
    if len(minutes) == 60:
        return "every minute" if every_hour else f"every minute {_hour_window(hours)}"
    if minute_step is not None:
        start = f" from minute {minutes[0]}" if minutes[0] else ""
        phrase = f"every {minute_step} minutes{start}"
        return phrase if every_hour else f"{phrase}, {_hour_window(hours)}"
    if not every_hour and len(minutes) * len(hours) <= _MAX_LISTED_TIMES:
        return "at " + join_words(
            [f"{hour:02}:{minute:02}" for hour in hours for minute in minutes]
        )
    minute_words = join_words([str(minute) for minute in minutes])
    label = "minute" if len(minutes) == 1 else "minutes"
    if every_hour:
        return f"at {label} {minute_words} of every hour"
    if hour_step is not None:
        start = f" from {hours[0]:02}:00" if hours[0] else ""
        return f"at {label} {minute_words} of every {hour_step} hours{start}"
    hour_label = "hour" if len(hours) == 1 else "hours"
    return f"at {label} {minute_words} of {hour_label} {_listing(hours, str)}"


def _day_of_month_phrase(days: Sequence[int]) -> str:
    step = _step(days, 1, 31)
    if step is not None:
        start = f" from the {_ordinal(days[0])}" if days[0] != 1 else ""
        return f"every {_ordinal(step)} day of the month{start}"
    return f"on the {_listing(days, _ordinal)} of the month"


def _weekday_listing(weekdays: Sequence[int]) -> str:
    # Monday first, so that Saturday and Sunday read as a run.
    ordered = sorted((day - 1) % 7 for day in weekdays)
    return _listing(ordered, lambda day: _WEEKDAYS[(day + 1) % 7])


def _weekday_phrase(weekdays: Sequence[int]) -> str:
    listing = _weekday_listing(weekdays)
    return listing if " through " in listing and "," not in listing else f"on {listing}"


def describe(
    minutes: Sequence[int],
    hours: Sequence[int],
    days: Sequence[int],
    months: Sequence[int],
    weekdays: Sequence[int],
    *,
    day_and: bool,
) -> str:
    """Describe sorted field values; ``day_and`` is the day rule (both fields must match)."""
    parts = [_time_phrase(minutes, hours)]
    all_days = len(days) == 31
    all_weekdays = len(weekdays) == 7
    if day_and:
        if not all_days and not all_weekdays:
            parts.append(
                f"{_day_of_month_phrase(days)}, if it falls on {_weekday_listing(weekdays)}"
            )
        elif not all_days:
            parts.append(_day_of_month_phrase(days))
        elif not all_weekdays:
            parts.append(_weekday_phrase(weekdays))
    else:
        parts.append(f"{_day_of_month_phrase(days)} or {_weekday_phrase(weekdays)}")
    if len(months) < 12:
        parts.append("in " + _listing(months, lambda month: MONTH_NAMES[month - 1]))
    return ", ".join(parts)
