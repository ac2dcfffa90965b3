"""The cron dialect: what parses to what, every error message, descriptions, and the
plain (UTC) next-fire vectors of the original implementation (odek-reference.md §1.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

import pytest

from odek.cron import CronExpr, load_zone, parse, upcoming
from odek.errors import CronError, CronNeverFiresError, InputError, UnknownTimeZoneError

ALL_MINUTES = tuple(range(60))
ALL_HOURS = tuple(range(24))
ALL_DAYS = tuple(range(1, 32))
ALL_MONTHS = tuple(range(1, 13))
ALL_WEEKDAYS = tuple(range(7))


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def sets(expr: CronExpr) -> tuple[tuple[int, ...], ...]:
    return expr.minutes, expr.hours, expr.days, expr.months, expr.weekdays


@pytest.mark.parametrize(
    ("text", "field", "values"),
    [
        ("* * * * *", 0, ALL_MINUTES),
        ("5 * * * *", 0, (5,)),
        ("05 * * * *", 0, (5,)),
        ("1-4 * * * *", 0, (1, 2, 3, 4)),
        ("*/15 * * * *", 0, (0, 15, 30, 45)),
        ("10-30/10 * * * *", 0, (10, 20, 30)),
        ("50/5 * * * *", 0, (50, 55)),
        ("5/1 * * * *", 0, tuple(range(5, 60))),  # a/1 means a-max, not just a
        ("1,2-4/2 * * * *", 0, (1, 2, 4)),
        ("*/5,7 * * * *", 0, (0, 5, 7, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55)),
        ("*/61 * * * *", 0, (0,)),
        ("0 9-17/4 * * *", 1, (9, 13, 17)),
        ("0 0 1,15,31 * *", 2, (1, 15, 31)),
        ("0 0 * JAN-MAR/2 *", 3, (1, 3)),
        ("0 0 * jan,Jul,DEC *", 3, (1, 7, 12)),
        ("0 0 * 2-APR *", 3, (2, 3, 4)),
        ("0 0 * * MON-5", 4, (1, 2, 3, 4, 5)),
        ("0 0 * * sun", 4, (0,)),
        ("0 0 * * 7", 4, (0,)),
        ("0 0 * * 7-7", 4, (0,)),
        ("0 0 * * 5-7", 4, (0, 5, 6)),
        ("0 0 * * 1/2", 4, (0, 1, 3, 5)),  # 1-7/2 = 1,3,5,7 and 7 is Sunday
        ("0 0 * * */2", 4, (0, 2, 4, 6)),
    ],
)
def test_field_items_parse_to_values(text, field, values):
    assert sets(parse(text))[field] == values


@pytest.mark.parametrize(
    ("macro", "expansion"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
        ("  @Weekly\t", "0 0 * * 0"),
    ],
)
def test_macros_expand_in_any_case(macro, expansion):
    expr = parse(macro)
    assert sets(expr) == sets(parse(expansion))
    assert expr.text == macro.strip()
    assert expr.is_fixed_time == parse(expansion).is_fixed_time


def test_text_is_the_trimmed_original_and_whitespace_runs_separate_fields():
    expr = parse("  0\t9  * *   1-5 ")
    assert expr.text == "0\t9  * *   1-5"
    assert sets(expr) == sets(parse("0 9 * * 1-5"))


def test_parse_is_cached():
    assert parse("7 7 * * *") is parse("7 7 * * *")


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("0 9 * * *", True),
        ("0,30 1 * * *", True),
        ("0-59 1 * * *", True),
        ("@daily", True),
        ("*/30 1 * * *", False),
        ("0 * * * *", False),
        ("* 9 * * *", False),
        ("@hourly", False),
    ],
)
def test_fixed_time_means_neither_minute_nor_hour_begins_with_star(text, fixed):
    assert parse(text).is_fixed_time is fixed


@pytest.mark.parametrize(
    ("text", "day_and"),
    [
        ("0 0 13 * 5", False),
        ("0 0 * * 5", True),
        ("0 0 13 * *", True),
        ("0 0 */2 * 5", True),
        ("0 0 13 * */2", True),
        ("0 0 */2,15 * 5", True),
        ("0 0 1-31 * 1-5", False),
    ],
)
def test_day_rule_is_both_when_either_day_field_begins_with_star(text, day_and):
    assert parse(text).day_and is day_and


# The exact messages: each names the field and the item that failed.
@pytest.mark.parametrize(
    ("text", "message", "field", "item"),
    [
        ("", "cron: empty expression", None, None),
        ("   ", "cron: empty expression", None, None),
        (
            "* * * *",
            "cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            'got 4 in "* * * *"',
            None,
            None,
        ),
        (
            "* * * * * *",
            "cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            'got 6 in "* * * * * *"',
            None,
            None,
        ),
        ("60 * * * *", 'cron: minute: 60 is out of range 0-59 (in "60")', "minute", "60"),
        ("* 24 * * *", 'cron: hour: 24 is out of range 0-23 (in "24")', "hour", "24"),
        ("* * 0 * *", 'cron: day-of-month: 0 is out of range 1-31 (in "0")', "day-of-month", "0"),
        (
            "* * 32 * *",
            'cron: day-of-month: 32 is out of range 1-31 (in "32")',
            "day-of-month",
            "32",
        ),
        ("* * * 13 *", 'cron: month: 13 is out of range 1-12 (in "13")', "month", "13"),
        ("* * * * 8", 'cron: day-of-week: 8 is out of range 0-7 (in "8")', "day-of-week", "8"),
        (
            "0 0 * * 1-8",
            'cron: day-of-week: 8 is out of range 0-7 (in "1-8")',
            "day-of-week",
            "1-8",
        ),
        (
            "*/0 * * * *",
            'cron: minute: step "0" is not a whole number of at least 1 (in "*/0")',
            "minute",
            "*/0",
        ),
        (
            "*/x * * * *",
            'cron: minute: step "x" is not a whole number of at least 1 (in "*/x")',
            "minute",
            "*/x",
        ),
        ("1/ * * * *", "cron: minute: missing step after '/' (in \"1/\")", "minute", "1/"),
        (
            "5-1 * * * *",
            'cron: minute: range start 5 is after its end 1 (in "5-1")',
            "minute",
            "5-1",
        ),
        (
            "0 0 * * FRI-MON",
            'cron: day-of-week: range start 5 is after its end 1 (in "FRI-MON")',
            "day-of-week",
            "FRI-MON",
        ),
        ("a * * * *", 'cron: minute: "a" is not a number (in "a")', "minute", "a"),
        (
            "* * * FOO *",
            'cron: month: "FOO" is not a number or a month name (jan-dec) (in "FOO")',
            "month",
            "FOO",
        ),
        (
            "* * * * monday",
            'cron: day-of-week: "monday" is not a number or a day name (sun-sat) (in "monday")',
            "day-of-week",
            "monday",
        ),
        ("* * L * *", 'cron: day-of-month: "L" is not a number (in "L")', "day-of-month", "L"),
        ("* * ? * *", 'cron: day-of-month: "?" is not a number (in "?")', "day-of-month", "?"),
        ("zz-5 * * * *", 'cron: minute: "zz" is not a number (in "zz-5")', "minute", "zz-5"),
        ("5-zz * * * *", 'cron: minute: "zz" is not a number (in "5-zz")', "minute", "5-zz"),
        ("-5 * * * *", 'cron: minute: missing start of range (in "-5")', "minute", "-5"),
        ("5- * * * *", 'cron: minute: missing end of range (in "5-")', "minute", "5-"),
        ("1,,2 * * * *", 'cron: minute: empty item (in "1,,2")', "minute", "1,,2"),
        (
            "*-5 * * * *",
            'cron: minute: "*" must stand alone or as "*/n" (in "*-5")',
            "minute",
            "*-5",
        ),
        # A fullwidth digit is a digit to str.isdigit, but not to cron.
        (
            "\uff11 * * * *",
            'cron: minute: "\uff11" is not a number (in "\uff11")',
            "minute",
            "\uff11",
        ),
        (
            "@every 5m",
            'cron: unknown macro "@every 5m" (known: @yearly, @annually, @monthly, @weekly, '
            "@daily, @midnight, @hourly)",
            None,
            None,
        ),
        (
            "@bogus",
            'cron: unknown macro "@bogus" (known: @yearly, @annually, @monthly, @weekly, '
            "@daily, @midnight, @hourly)",
            None,
            None,
        ),
    ],
)
def test_parse_errors_name_field_and_item(text, message, field, item):
    with pytest.raises(CronError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.field == field
    assert caught.value.item == item
    assert not isinstance(caught.value, CronNeverFiresError)
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize("text", ["@reboot", "@REBOOT", " @Reboot "])
def test_reboot_is_refused_pointing_at_catch_up(text):
    with pytest.raises(CronError, match=r"^cron: @reboot is not supported; .*catch-up option"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "0 0 30 2 *",
            'cron: "0 0 30 2 *" can never fire: no day-of-month it names (30 or later) '
            "occurs in February",
        ),
        (
            "0 0 31 4 *",
            'cron: "0 0 31 4 *" can never fire: no day-of-month it names (31 or later) '
            "occurs in April",
        ),
        (
            "0 0 31 2,4 *",
            'cron: "0 0 31 2,4 *" can never fire: no day-of-month it names (31 or later) '
            "occurs in February or April",
        ),
        (
            "0 0 31 feb,apr,jun,sep,nov *",
            'cron: "0 0 31 feb,apr,jun,sep,nov *" can never fire: no day-of-month it names '
            "(31 or later) occurs in February, April, June, September or November",
        ),
        (
            "0 0 31 2 */2",
            'cron: "0 0 31 2 */2" can never fire: no day-of-month it names (31 or later) '
            "occurs in February",
        ),
    ],
)
def test_expressions_that_can_never_fire_are_refused_at_parse_time(text, message):
    with pytest.raises(CronNeverFiresError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.field == "day-of-month"


@pytest.mark.parametrize(
    "text",
    [
        "0 0 29 2 *",  # leap years only
        "0 0 31 2,3 *",  # March has a 31st
        "0 0 30 2 5",  # either rule: every Friday in February
        "0 0 31 4 mon",
        "0 0 */30 2 *",  # day-of-month begins with '*': day 1 is in it
        "0 0 29 2 */7",  # a Sunday 29 February (2032, ...)
    ],
)
def test_expressions_that_fire_rarely_are_accepted(text):
    expr = parse(text)
    first = expr.next_after(utc(2026, 1, 1), load_zone("UTC"))
    assert first > utc(2026, 1, 1)


def test_never_fires_verdict_ignores_the_current_date():
    # Structural: the same verdict whatever the date the question is asked on.
    assert parse("0 0 29 2 *").next_after(utc(2096, 3, 1), load_zone("UTC")) == utc(2104, 2, 29)
    with pytest.raises(CronNeverFiresError):
        parse("0 0 30 2 *")


def test_unknown_zones_are_refused():
    for name in ["Mars/Phobos", "", "../etc/passwd", "Europe", "europe/berlin "]:
        with pytest.raises(UnknownTimeZoneError) as caught:
            load_zone(name)
        assert caught.value.name == name
    assert load_zone("Europe/Berlin").key == "Europe/Berlin"
    with pytest.raises(UnknownTimeZoneError):
        upcoming("* * * * *", "Mars/Phobos", utc(2026, 1, 1), 1)


# odek-reference.md §1.6, chained where the original chained.
@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("* * * * *", datetime(2026, 6, 4, 10, 30, 15, tzinfo=UTC), [utc(2026, 6, 4, 10, 31)]),
        ("0 * * * *", utc(2026, 6, 4, 10, 30), [utc(2026, 6, 4, 11)]),
        ("0 9 * * 1-5", utc(2026, 6, 5, 10), [utc(2026, 6, 8, 9)]),
        (
            "*/15 * * * *",
            utc(2026, 6, 4, 10, 7),
            [utc(2026, 6, 4, 10, 15), utc(2026, 6, 4, 10, 30), utc(2026, 6, 4, 10, 45)],
        ),
        ("0,30 * * * *", utc(2026, 6, 4, 10, 10), [utc(2026, 6, 4, 10, 30), utc(2026, 6, 4, 11)]),
        ("30 9 * * *", utc(2026, 6, 4, 9, 30), [utc(2026, 6, 5, 9, 30)]),
        (
            "0 0 13 * 5",
            utc(2026, 6, 1),
            [utc(2026, 6, 5), utc(2026, 6, 12), utc(2026, 6, 13), utc(2026, 6, 19)],
        ),
        ("0 0 1,15 * *", utc(2026, 6, 4), [utc(2026, 6, 15), utc(2026, 7, 1)]),
        ("0 0 * JAN MON", utc(2026, 12, 1), [utc(2027, 1, 4)]),
        ("0 0 * * 7", utc(2026, 6, 4), [utc(2026, 6, 7)]),
        ("0 0 29 2 *", utc(2026, 3, 1), [utc(2028, 2, 29)]),
        ("0 0 29 2 *", utc(2096, 3, 1), [utc(2104, 2, 29), utc(2108, 2, 29)]),
        (
            "5/20 * * * *",
            utc(2026, 6, 4, 10),
            [
                utc(2026, 6, 4, 10, 5),
                utc(2026, 6, 4, 10, 25),
                utc(2026, 6, 4, 10, 45),
                utc(2026, 6, 4, 11, 5),
            ],
        ),
        (
            "0 0 31 * *",
            utc(2026, 1, 31),
            [utc(2026, 3, 31), utc(2026, 5, 31), utc(2026, 7, 31), utc(2026, 8, 31)],
        ),
        (
            "0 0 1 * MON",
            utc(2026, 6, 1, 10),
            [utc(2026, 6, 8), utc(2026, 6, 15), utc(2026, 6, 22)],
        ),
        ("@weekly", utc(2026, 6, 4, 12, 34), [utc(2026, 6, 7), utc(2026, 6, 14)]),
        ("0 0 */2 * 5", utc(2026, 6, 1), [utc(2026, 6, 5), utc(2026, 6, 19), utc(2026, 7, 3)]),
        ("0 0 29 2 */7", utc(2026, 1, 1), [utc(2032, 2, 29), utc(2060, 2, 29)]),
    ],
)
def test_reference_vectors_in_utc(text, after, expected):
    assert upcoming(text, "UTC", after, len(expected)) == expected


@pytest.mark.parametrize(
    "macro", ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
)
def test_macros_fire_like_their_expansions(macro):
    after = utc(2026, 6, 4, 12, 34)
    expansion = {
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    }[macro]
    assert upcoming(macro, "UTC", after, 3) == upcoming(expansion, "UTC", after, 3)


def test_results_are_aware_and_in_the_requested_zone():
    berlin = load_zone("Europe/Berlin")
    fire = parse("0 9 * * *").next_after(utc(2026, 6, 4, 8), berlin)
    assert fire.tzinfo is berlin
    assert (fire.hour, fire.minute, fire.utcoffset()) == (9, 0, berlin.utcoffset(fire))
    assert fire == datetime(2026, 6, 5, 9, tzinfo=berlin)


def test_after_with_seconds_and_microseconds_still_gets_the_same_minute_if_later():
    expr = parse("* * * * *")
    tz = load_zone("UTC")
    assert expr.next_after(datetime(2026, 6, 4, 10, 30, 59, 999999, tzinfo=UTC), tz) == utc(
        2026, 6, 4, 10, 31
    )
    assert expr.next_after(datetime(2026, 6, 4, 10, 31, 0, 1, tzinfo=UTC), tz) == utc(
        2026, 6, 4, 10, 32
    )


def test_naive_after_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("* * * * *").next_after(datetime(2026, 1, 1), load_zone("UTC"))


def test_iter_after_yields_increasing_fires_and_count_limits_upcoming():
    fires = list(islice(parse("*/20 * * * *").iter_after(utc(2026, 1, 1), load_zone("UTC")), 4))
    assert fires == [
        utc(2026, 1, 1, 0, 20),
        utc(2026, 1, 1, 0, 40),
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 1, 20),
    ]
    assert upcoming("*/20 * * * *", "UTC", utc(2026, 1, 1), 0) == []


def test_last_fire_before_year_10000_ends_the_iteration():
    tz = load_zone("UTC")
    assert upcoming("0 0 31 12 *", "UTC", utc(9998, 6, 1), 5) == [
        utc(9998, 12, 31),
        utc(9999, 12, 31),
    ]
    with pytest.raises(ValueError, match="does not fire"):
        parse("0 0 31 12 *").next_after(utc(9999, 12, 31), tz)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("0 9 * * 1-5", "at 09:00, Monday through Friday"),
        ("* * * * *", "every minute"),
        ("*/15 * * * *", "every 15 minutes"),
        ("5/20 * * * *", "every 20 minutes from minute 5"),
        ("*/15 9-17 * * 1-5", "every 15 minutes, from 09:00 to 17:59, Monday through Friday"),
        ("@hourly", "at minute 0 of every hour"),
        ("0 */2 * * *", "at minute 0 of every 2 hours"),
        ("0 8,12,16 * * mon-fri", "at 08:00, 12:00 and 16:00, Monday through Friday"),
        ("0 0 13 * 5", "at 00:00, on the 13th of the month or on Friday"),
        ("0 0 */2 * 5", "at 00:00, every 2nd day of the month, if it falls on Friday"),
        ("0 0 29 2 *", "at 00:00, on the 29th of the month, in February"),
        ("0 22 * * 6,0", "at 22:00, on Saturday and Sunday"),
        ("@weekly", "at 00:00, on Sunday"),
        (
            "15 10 1,2,3,22 jan-mar *",
            "at 10:15, on the 1st through 3rd and 22nd of the month, in January through March",
        ),
        ("0,30 9-11,14 * * *", "every 30 minutes, from 09:00 to 11:59 and from 14:00 to 14:59"),
        ("0,20 9-11,14 * * *", "at minutes 0 and 20 of hours 9 through 11 and 14"),
    ],
)
def test_describe_reads_as_short_english(text, description):
    assert parse(text).describe() == description
