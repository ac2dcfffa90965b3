"""Next-fire search with Debian cron / cronie daylight-saving rules, on UTC instants.

The fires of an expression in a zone are a set of real instants, built from its matching
wall times:

* a wall time that exists once fires at that instant;
* a wall time in a repeated period (a fold) fires on its first pass only for a
  *fixed-time* expression (neither minute nor hour field begins with ``*``), and on both
  passes for a *wildcard* expression;
* a wall time that does not exist (a gap) fires at the end of the gap (the first instant
  after the jump) for a fixed-time expression, so several such wall times make one fire,
  and not at all for a wildcard expression.

The next fire after an instant ``a`` is the earliest of these instants that is strictly
after ``a``. The search walks matching wall times in order; the earliest instant a wall time
stands for never decreases along that walk, which bounds the walk: it stops as soon as that
instant passes the best fire found. Each step jumps over a whole gap or fold at once, and
the number of steps is capped explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from odek.cron.describe import join_words
from odek.cron.wallclock import WallMatcher, WallTime
from odek.cron.zones import (
    Kind,
    ZoneDays,
    day_key,
    local_wall,
    resolve,
    transition_between,
    wall_seconds,
    zone_days,
)

__all__ = ["Fire", "FireSearch", "Found"]

# Candidate wall times examined per search. A search looks at one wall time per gap or fold
# it meets, plus, from inside a fold, at most one per minute of that fold (folds are at
# most a day long); so this bound is never reached.
_MAX_CANDIDATES = 5000
_WALL_EPOCH = datetime(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_LAST_MINUTE: WallTime = (9999, 12, 31, 23, 59)


@dataclass(frozen=True, slots=True)
class Fire:
    """One upcoming fire: the aware datetime ``at`` (in the job's zone) and a ``note`` that
    explains how daylight saving time moved, merged or repeated it (``None`` if it did not)."""

    at: datetime
    note: str | None


#: A fire as the search finds it: (instant, kind of its wall time, the matching wall time,
#: whether it is the second pass of a fold).
Found = tuple[int, Kind, WallTime, bool]


def _wall_at(seconds: int) -> WallTime:
    moment = _WALL_EPOCH + timedelta(seconds=seconds)
    return moment.year, moment.month, moment.day, moment.hour, moment.minute


def _plus_minute(wall: WallTime) -> WallTime | None:
    year, month, day, hour, minute = wall
    if minute < 59:
        return year, month, day, hour, minute + 1
    if wall == _LAST_MINUTE:
        return None
    return _wall_at(wall_seconds(wall) + 60)


def _ceil_wall(tz: ZoneInfo, instant: int) -> WallTime | None:
    """The first whole wall minute at or after ``instant``."""
    wall, second, _ = local_wall(tz, instant)
    return _plus_minute(wall) if second else wall


def _fmt(moment: datetime) -> str:
    text = f"{moment:%H:%M}"
    return f"{text}:{moment:%S}" if moment.second else text


def _fmt_wall(wall: WallTime) -> str:
    return f"{wall[3]:02}:{wall[4]:02}"


class FireSearch:
    """The DST-aware search for one compiled expression (see the module docstring)."""

    __slots__ = ("fixed", "matcher")

    def __init__(self, matcher: WallMatcher, *, fixed: bool) -> None:
        self.matcher = matcher
        self.fixed = fixed

    def _start(self, tz: ZoneInfo, after: int) -> WallTime | None:
        """The first wall time to examine for fires after the instant ``after``."""
        wall, _, moment = local_wall(tz, after)
        start = _plus_minute(wall)
        if not self.fixed and not moment.fold:
            # In the first pass of a fold, wall times already passed will come round again
            # and their second passes are still ahead: start one fold length back.
            offset = moment.utcoffset()
            other = moment.replace(fold=1).utcoffset()
            if offset is not None and other is not None and other < offset:
                start = _wall_at(wall_seconds(wall) - (offset - other) // _SECOND)
        return start

    def _search(self, tz: ZoneInfo, after: int, start: WallTime | None) -> Found | None:
        matcher = self.matcher
        fixed = self.fixed
        best: Found | None = None
        wall = matcher.next_match(start) if start is not None else None
        for _ in range(_MAX_CANDIDATES):
            if wall is None:
                return best
            kind, first, second = resolve(tz, wall)
            if best is not None and first >= best[0]:
                return best
            if kind is Kind.UNIQUE:
                if first > after:
                    return (first, kind, wall, False)
                following = _plus_minute(wall)
            elif kind is Kind.GAP:
                if fixed and first > after:
                    return (first, kind, wall, False)
                following = _ceil_wall(tz, first)
            else:
                if first > after:
                    return (first, kind, wall, False)
                if not fixed and second > after and (best is None or second < best[0]):
                    best = (second, kind, wall, True)
                jump = transition_between(tz, first, second)
                if after >= jump:
                    # Past the jump every first pass of this fold lies behind us, and
                    # second passes later in the fold cannot beat ``best``: go to its end.
                    following = _ceil_wall(tz, jump + (second - first))
                else:
                    following = _plus_minute(wall)
            wall = matcher.next_match(following) if following is not None else None
        raise AssertionError("cron search exceeded its step bound")  # pragma: no cover

    @staticmethod
    def moment(tz: ZoneInfo, found: Found) -> datetime:
        """The aware datetime in ``tz`` of a found fire."""
        instant, kind, wall, second_pass = found
        if kind is Kind.GAP:
            return datetime.fromtimestamp(instant, tz)
        if second_pass:
            return datetime(*wall, 0, 0, tz, fold=1)
        return datetime(*wall, 0, 0, tz)

    def _next_plain(self, days: ZoneDays, wall: WallTime) -> tuple[WallTime | None, int | None]:
        """The first matching wall time after ``wall`` (``None`` past the year 9999) and,
        when it falls on a day without transition, its instant (else ``None``)."""
        start = _plus_minute(wall)
        following = self.matcher.next_match(start) if start is not None else None
        if following is None:
            return None, None
        year, month, day, hour, minute = following
        key = day_key(year, month, day)
        bases = days.bases
        base = bases[key] if key in bases else days.base(year, month, day)
        if base is None:
            return following, None
        return following, base + hour * 3600 + minute * 60

    def first(self, after: datetime, tz: ZoneInfo) -> Found | None:
        """The first fire strictly after ``after`` (aware): the first that :meth:`fires`
        yields."""
        if after.utcoffset() is None:
            raise ValueError(f"after must be a timezone-aware datetime, not {after!r}")
        days = zone_days(tz)
        base = days.base(after.year, after.month, after.day) if after.tzinfo is tz else None
        if base is not None:
            # Already in the zone, on a day without transition: its fields are its wall time.
            wall: WallTime = (after.year, after.month, after.day, after.hour, after.minute)
            instant = base + after.hour * 3600 + after.minute * 60 + after.second
        else:
            # Exact integer arithmetic: a float timestamp can round x.999999 up to x + 1.
            instant = (after - _EPOCH) // _SECOND
            wall, _, _ = local_wall(tz, instant)
            base = days.base(*wall[:3])
        if base is not None:
            # No fold on this day, so the search starts at the next minute; the next match
            # on a day without transition is the answer if it is still ahead (a fold between
            # two days could put it behind: the full search handles that).
            following, at = self._next_plain(days, wall)
            if following is None:
                return None
            if at is not None and at > instant:
                return (at, Kind.UNIQUE, following, False)
        return self._search(tz, instant, self._start(tz, instant))

    def fires(self, after: datetime, tz: ZoneInfo) -> Iterator[Found]:
        """Every fire strictly after ``after`` (aware), in order."""
        found = self.first(after, tz)
        days = zone_days(tz)
        while found is not None:
            yield found
            instant, kind, wall, _ = found
            if kind is not Kind.UNIQUE:
                found = self._search(tz, instant, self._start(tz, instant))
                continue
            # Fast path: a wall time that exists once lies in no fold, so the next fire is
            # the next matching wall time, as long as it falls on a day without transition.
            while True:
                following, at = self._next_plain(days, wall)
                if following is None:
                    return
                if at is None:
                    found = self._search(tz, instant, _plus_minute(wall))
                    break
                wall = following
                instant = at
                yield at, Kind.UNIQUE, wall, False

    def note(self, tz: ZoneInfo, moment: datetime, found: Found) -> str | None:
        """The DST explanation for a fire, or ``None`` for an ordinary one."""
        instant, kind, wall, second_pass = found
        if kind is Kind.UNIQUE:
            return None
        if kind is Kind.GAP:
            return self._gap_note(tz, moment, instant)
        _, first, second = resolve(tz, wall)
        jump = transition_between(tz, first, second)
        back_from, back_to = _clocks(tz, jump)
        when = f"{wall[0]:04}-{wall[1]:02}-{wall[2]:02}"
        head = (
            f"{_fmt_wall(wall)} occurs twice on {when} in {tz.key} "
            f"(clocks go back from {back_from} to {back_to})"
        )
        if self.fixed:
            return f"{head}: runs once, on the first pass ({moment:%Z})"
        which = "second" if second_pass else "first"
        return f"{head}: runs on both passes; this is the {which} ({moment:%Z})"

    def _gap_note(self, tz: ZoneInfo, moment: datetime, jump: int) -> str:
        gap_from, gap_to = _clocks(tz, jump)
        offset_before = _offset_seconds(datetime.fromtimestamp(jump - 1, tz))
        end = wall_seconds(_wall_of(moment))
        missing: list[str] = []
        wall = self.matcher.next_match(_wall_at(jump + offset_before))
        # Bounded by the length of the gap in minutes.
        while wall is not None and wall_seconds(wall) < end:
            missing.append(_fmt_wall(wall))
            wall = self.matcher.next_match(_wall_at(wall_seconds(wall) + 60))
        shown = missing if len(missing) <= 6 else [*missing[:5], f"{len(missing) - 5} more"]
        verb = "does not exist" if len(missing) == 1 else "do not exist"
        head = (
            f"{join_words(shown)} {verb} on {moment:%Y-%m-%d} in {tz.key} "
            f"(clocks jump from {gap_from} to {gap_to})"
        )
        if len(missing) > 1 or self.matcher.matches(_wall_of(moment)):
            return f"{head}: merged into one fire at {_fmt(moment)} {moment:%Z}, the end of the gap"
        return f"{head}: moved to {_fmt(moment)} {moment:%Z}, the end of the gap"


def _offset_seconds(moment: datetime) -> int:
    return (moment.utcoffset() or timedelta()) // _SECOND


def _wall_of(moment: datetime) -> WallTime:
    return moment.year, moment.month, moment.day, moment.hour, moment.minute


def _clocks(tz: ZoneInfo, jump: int) -> tuple[str, str]:
    """The wall clock reading just before and at the transition at instant ``jump``, such
    as ``("02:00 EST", "03:00 EDT")``."""
    before = datetime.fromtimestamp(jump - 1, tz)
    at = datetime.fromtimestamp(jump, tz)
    reading = _WALL_EPOCH + timedelta(seconds=jump + _offset_seconds(before))
    return f"{_fmt(reading)} {before:%Z}", f"{_fmt(at)} {at:%Z}"
