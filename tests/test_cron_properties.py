"""Property tests of the cron engine.

* Against cronsim (Debian cron semantics) over random expressions, zones and instants around
  DST transitions. cronsim is known to be wrong in three places, which are left out: wildcard
  jobs in zones whose shifts are not whole hours (Lord Howe, Chatham), a fixed-time search
  starting in the second pass of a fold (it answers with the first pass, before the start),
  and wildcard jobs on days whose midnight does not exist (it answers with the nonexistent
  midnight). Single-value stepped ranges (``5-5/2``) are not generated: cronsim reads them
  as ``5/2``.
* Against a brute-force model of the same rules that walks every real minute, in every zone,
  Lord Howe and Chatham included.
* The invariants: every fire strictly after its start, in order, from any instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from cronsim import CronSim
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from odek.cron import CronExpr, load_zone, parse
from odek.errors import CronNeverFiresError

ORACLE_ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Havana",
    "America/St_Johns",
    "Asia/Tehran",
)
ODD_SHIFT_ZONES = ("Australia/Lord_Howe", "Pacific/Chatham")
ALL_ZONES = ORACLE_ZONES + ODD_SHIFT_ZONES
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """Approximate instants (to the day) of the zone's offset changes in 2017-2026."""
    tz = ZoneInfo(zone)
    found = []
    day = datetime(2017, 1, 1, 12, tzinfo=UTC)
    previous = day.astimezone(tz).utcoffset()
    while day.year < 2027:
        day += timedelta(days=1)
        offset = day.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(day - timedelta(hours=12))
        previous = offset
    return tuple(found) or (datetime(2024, 1, 1, tzinfo=UTC),)


def _name(value: int, names: tuple[str, ...], base: int, use_name: bool) -> str:
    return names[value - base] if use_name and 0 <= value - base < len(names) else str(value)


@st.composite
def items(draw: st.DrawFn, low: int, high: int, names: tuple[str, ...] = (), base: int = 0) -> str:
    def value(number: int) -> str:
        return _name(number, names, base, bool(names) and draw(st.booleans()))

    start = draw(st.integers(low, high - 1))
    end = draw(st.integers(start + 1, high))
    step = draw(st.integers(1, max(2, (high - low) // 2)))
    kind = draw(st.sampled_from(["value", "range", "star-step", "range-step", "open-step"]))
    return {
        "value": value(start),
        "range": f"{value(start)}-{value(end)}",
        "star-step": f"*/{step}",
        "range-step": f"{value(start)}-{value(end)}/{step}",
        "open-step": f"{value(start)}/{step}",
    }[kind]


def fields(
    low: int, high: int, star: float, names: tuple[str, ...] = (), base: int = 0
) -> st.SearchStrategy[str]:
    listed = st.lists(items(low, high, names, base), min_size=1, max_size=3).map(",".join)
    return st.one_of(st.just("*"), listed) if star < 1 else listed


@st.composite
def expressions(draw: st.DrawFn) -> CronExpr:
    # Dense minute/hour fields, day fields mostly '*', so that a few days hold fires.
    text = " ".join(
        [
            draw(st.one_of(st.just("*"), fields(0, 59, 0))),
            draw(st.one_of(st.just("*"), fields(0, 23, 0))),
            draw(st.one_of(st.just("*"), st.just("*"), fields(1, 31, 0))),
            draw(st.one_of(st.just("*"), st.just("*"), st.just("*"), fields(1, 12, 0, MONTHS, 1))),
            draw(st.one_of(st.just("*"), st.just("*"), fields(0, 7, 0, WEEKDAYS, 0))),
        ]
    )
    try:
        return parse(text)
    except CronNeverFiresError:
        assume(False)
        raise


@st.composite
def near_transition(draw: st.DrawFn, zone: str) -> datetime:
    """An instant (with seconds and microseconds) within two days of a transition."""
    base = draw(st.sampled_from(transitions(zone)))
    shift = draw(st.integers(-2 * 86400 * 10**6, 2 * 86400 * 10**6))
    return (base + timedelta(microseconds=shift)).astimezone(ZoneInfo(zone))


def _exists(moment: datetime) -> bool:
    return moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None) == moment.replace(
        tzinfo=None
    )


@SETTINGS
@given(st.data())
def test_agrees_with_cronsim_around_transitions(data):
    zone = data.draw(st.sampled_from(ORACLE_ZONES + ODD_SHIFT_ZONES))
    expr = data.draw(expressions())
    if zone in ODD_SHIFT_ZONES:
        assume(expr.is_fixed_time)
    after = data.draw(near_transition(zone))
    assume(not (expr.is_fixed_time and after.fold))
    tz = load_zone(zone)
    try:
        expected = list(islice(CronSim(expr.text, after), 6))
    except StopIteration:
        assume(False)
    assume(all(_exists(moment) for moment in expected))
    got = list(islice(expr.iter_after(after, tz), len(expected)))
    assert [moment.astimezone(UTC) for moment in got] == [m.astimezone(UTC) for m in expected]
    assert [(m.hour, m.minute, m.utcoffset()) for m in got] == [
        (m.hour, m.minute, m.utcoffset()) for m in expected
    ]


def _matches(expr: CronExpr, moment: datetime) -> bool:
    dom_ok = moment.day in expr.days
    dow_ok = moment.isoweekday() % 7 in expr.weekdays
    day_ok = (dom_ok and dow_ok) if expr.day_and else (dom_ok or dow_ok)
    return (
        day_ok
        and moment.minute in expr.minutes
        and moment.hour in expr.hours
        and moment.month in expr.months
    )


def brute_force(expr: CronExpr, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The fires in (start, end] by the rules, walking every real minute: a wildcard job fires
    at every minute whose wall time matches; a fixed-time job on first passes only, plus
    once at the end of a gap that swallowed a matching wall time."""
    minute = timedelta(minutes=1)
    instant = start.astimezone(UTC).replace(second=0, microsecond=0) + minute
    previous = (instant - minute).astimezone(tz).replace(tzinfo=None)
    fires = []
    while instant <= end:
        local = instant.astimezone(tz)
        wall = local.replace(tzinfo=None)
        fire = _matches(expr, local) and (not expr.is_fixed_time or local.fold == 0)
        if expr.is_fixed_time and not fire:
            skipped = previous + minute
            while skipped < wall and not fire:
                fire = _matches(expr, skipped)
                skipped += minute
        if fire:
            fires.append(local)
        previous = wall
        instant += minute
    return fires


@SETTINGS
@given(st.data())
def test_agrees_with_a_minute_by_minute_model_in_every_zone(data):
    zone = data.draw(st.sampled_from(ALL_ZONES))
    expr = data.draw(expressions())
    after = data.draw(near_transition(zone))
    tz = load_zone(zone)
    end = after.astimezone(UTC) + timedelta(days=2)
    expected = brute_force(expr, tz, after, end)
    got = []
    for fire in expr.iter_after(after, tz):
        if fire.astimezone(UTC) > end:
            break
        got.append(fire)
    assert [(f.astimezone(UTC), f.hour, f.minute) for f in got] == [
        (f.astimezone(UTC), f.hour, f.minute) for f in expected
    ]


@SETTINGS
@given(
    st.data(),
    st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2025, 12, 31, 23, 59, 59, 999999),
        timezones=st.just(UTC),
    ),
)
def test_every_fire_is_strictly_after_its_start_and_in_order(data, after):
    zone = data.draw(st.sampled_from(ALL_ZONES))
    expr = data.draw(expressions())
    tz = load_zone(zone)
    local = after.astimezone(tz)
    for start in (after, local, data.draw(near_transition(zone))):
        fires = list(islice(expr.iter_after(start, tz), 8))
        assert fires, "every accepted expression fires again"
        assert all(fire.tzinfo is tz for fire in fires)
        # Compared as UTC instants: datetimes sharing a tzinfo compare by wall time and
        # ignore fold, which would make the two passes of a repeated hour look equal.
        instants = [fire.astimezone(UTC) for fire in fires]
        assert instants[0] > start.astimezone(UTC)
        assert all(a < b for a, b in pairwise(instants))
        # Each fire, asked again from itself or from just before it, is consistent.
        for fire, instant in zip(fires, instants, strict=True):
            assert expr.next_after(fire, tz).astimezone(UTC) > instant
        just_before = instants[0] - timedelta(microseconds=1)
        assert expr.next_after(just_before, tz).astimezone(UTC) == instants[0]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["0 0 29 2 *", "0 0 29 2 */7", "0 0 */29 2 1", "0 0 13 * 5", "0 0 31 12 sat"]),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2300, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(ALL_ZONES),
)
def test_sparse_expressions_reach_far_futures(text, after, zone):
    tz = load_zone(zone)
    fires = list(islice(parse(text).iter_after(after, tz), 3))
    assert len(fires) == 3
    instants = [fire.astimezone(UTC) for fire in fires]
    assert instants[0] > after
    assert instants[0] - after < timedelta(days=366 * 41)  # Sunday 29 Feb: <= 40 years apart
    assert all(a < b for a, b in pairwise(instants))
