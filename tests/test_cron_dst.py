"""Daylight saving time, Debian cron / cronie rules, golden vectors worked by hand.

Every expectation is written as UTC instants with the offset the wall clock shows, so a
mistake in either the instant or the reading fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from odek.cron import load_zone, parse

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"
CHATHAM = "Pacific/Chatham"
SANTIAGO = "America/Santiago"
SAO_PAULO = "America/Sao_Paulo"


def at(zone: str, text: str) -> datetime:
    """A UTC instant ``"YYYY-MM-DD HH:MM"`` (UTC), converted to ``zone``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).astimezone(load_zone(zone))


def readings(fires: list[datetime]) -> list[str]:
    """Each fire as "wall-clock reading (UTC instant)"."""
    return [f"{fire:%m-%d %H:%M%z} ({fire.astimezone(UTC):%H:%MZ})" for fire in fires]


def fires(text: str, zone: str, after_utc: str, count: int) -> list[str]:
    tz = load_zone(zone)
    result = [fire.at for fire in parse(text).fires_after(at(zone, after_utc), tz, count)]
    assert all(fire.tzinfo is tz for fire in result)
    return readings(result)


# America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z);
# 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z), so 01:00-01:59 happen twice.
@pytest.mark.parametrize(
    ("text", "after_utc", "expected"),
    [
        # Fixed time in the gap: once, at the end of the gap.
        (
            "30 2 * * *",
            "2024-03-09 17:00",
            ["03-10 03:00-0400 (07:00Z)", "03-11 02:30-0400 (06:30Z)"],
        ),
        # Two matches in one gap make one fire.
        (
            "15,45 2 * * *",
            "2024-03-09 17:00",
            ["03-10 03:00-0400 (07:00Z)", "03-11 02:15-0400 (06:15Z)"],
        ),
        # A gap fire that meets a real 03:00 fire is still one fire.
        (
            "30 2,3 * * *",
            "2024-03-09 17:00",
            ["03-10 03:00-0400 (07:00Z)", "03-10 03:30-0400 (07:30Z)"],
        ),
        # Wildcard: nothing for the missing 02:00.
        (
            "0 * * * *",
            "2024-03-10 05:30",
            ["03-10 01:00-0500 (06:00Z)", "03-10 03:00-0400 (07:00Z)", "03-10 04:00-0400 (08:00Z)"],
        ),
        # Fixed time in the fold: once, first pass.
        (
            "30 1 * * *",
            "2024-11-02 16:00",
            ["11-03 01:30-0400 (05:30Z)", "11-04 01:30-0500 (06:30Z)"],
        ),
        # A fixed list of minutes is still fixed: each repeated wall time once.
        (
            "0,30 1 * * *",
            "2024-11-02 16:00",
            ["11-03 01:00-0400 (05:00Z)", "11-03 01:30-0400 (05:30Z)", "11-04 01:00-0500 (06:00Z)"],
        ),
        # Wildcard: both passes.
        (
            "0 * * * *",
            "2024-11-03 04:30",
            [
                "11-03 01:00-0400 (05:00Z)",
                "11-03 01:00-0500 (06:00Z)",
                "11-03 02:00-0500 (07:00Z)",
            ],
        ),
        (
            "*/30 * * * *",
            "2024-11-03 04:30",
            [
                "11-03 01:00-0400 (05:00Z)",
                "11-03 01:30-0400 (05:30Z)",
                "11-03 01:00-0500 (06:00Z)",
                "11-03 01:30-0500 (06:30Z)",
                "11-03 02:00-0500 (07:00Z)",
            ],
        ),
        (
            "*/30 1 * * *",
            "2024-11-03 04:30",
            [
                "11-03 01:00-0400 (05:00Z)",
                "11-03 01:30-0400 (05:30Z)",
                "11-03 01:00-0500 (06:00Z)",
                "11-03 01:30-0500 (06:30Z)",
                "11-04 01:00-0500 (06:00Z)",
            ],
        ),
        # The daily job that hung the Go version keeps going across the fold.
        (
            "0 9 * * *",
            "2024-11-01 16:00",
            ["11-02 09:00-0400 (13:00Z)", "11-03 09:00-0500 (14:00Z)"],
        ),
    ],
)
def test_new_york(text, after_utc, expected):
    assert fires(text, NEW_YORK, after_utc, len(expected)) == expected


@pytest.mark.parametrize(
    ("text", "after_utc", "expected"),
    [
        # From inside the second pass (01:10 EST): the fixed 01:30 already ran on the first.
        ("30 1 * * *", "2024-11-03 06:10", ["11-04 01:30-0500 (06:30Z)"]),
        ("0-59 1 * * *", "2024-11-03 06:10", ["11-04 01:00-0500 (06:00Z)"]),
        # ... but a wildcard job's second pass is still ahead.
        ("* 1 * * *", "2024-11-03 06:10", ["11-03 01:11-0500 (06:11Z)"]),
        ("*/30 * * * *", "2024-11-03 06:10", ["11-03 01:30-0500 (06:30Z)"]),
        # From inside the first pass (01:40 EDT): second passes of earlier wall times.
        (
            "*/30 * * * *",
            "2024-11-03 05:40",
            ["11-03 01:00-0500 (06:00Z)", "11-03 01:30-0500 (06:30Z)"],
        ),
        (
            "* 1 * * *",
            "2024-11-03 05:58",
            ["11-03 01:59-0400 (05:59Z)", "11-03 01:00-0500 (06:00Z)"],
        ),
        ("30 1 * * *", "2024-11-03 05:40", ["11-04 01:30-0500 (06:30Z)"]),
    ],
)
def test_new_york_from_inside_the_fold(text, after_utc, expected):
    assert fires(text, NEW_YORK, after_utc, len(expected)) == expected


def test_after_given_as_the_second_pass_wall_time_is_honoured():
    ny = load_zone(NEW_YORK)
    second_pass = datetime(2024, 11, 3, 1, 40, tzinfo=ny, fold=1)
    first_pass = datetime(2024, 11, 3, 1, 40, tzinfo=ny, fold=0)
    fixed = parse("45 1 * * *")
    assert readings([fixed.next_after(first_pass, ny)]) == ["11-03 01:45-0400 (05:45Z)"]
    assert readings([fixed.next_after(second_pass, ny)]) == ["11-04 01:45-0500 (06:45Z)"]
    wildcard = parse("45 * * * *").next_after(second_pass, ny)
    assert readings([wildcard]) == ["11-03 01:45-0500 (06:45Z)"]
    assert wildcard.fold == 1


# Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET
# (01:00Z).
@pytest.mark.parametrize(
    ("text", "after_utc", "expected"),
    [
        (
            "30 2 * * *",
            "2026-03-28 12:00",
            ["03-29 03:00+0200 (01:00Z)", "03-30 02:30+0200 (00:30Z)"],
        ),
        (
            "*/30 * * * *",
            "2026-03-29 00:15",
            ["03-29 01:30+0100 (00:30Z)", "03-29 03:00+0200 (01:00Z)"],
        ),
        (
            "30 2 * * *",
            "2026-10-24 12:00",
            ["10-25 02:30+0200 (00:30Z)", "10-26 02:30+0100 (01:30Z)"],
        ),
        (
            "*/30 * * * *",
            "2026-10-24 23:45",
            [
                "10-25 02:00+0200 (00:00Z)",
                "10-25 02:30+0200 (00:30Z)",
                "10-25 02:00+0100 (01:00Z)",
                "10-25 02:30+0100 (01:30Z)",
                "10-25 03:00+0100 (02:00Z)",
            ],
        ),
        # A weekly job on the spring-forward Sunday (cronie-crond/cronie#218).
        (
            "30 2 * * 0",
            "2022-03-20 12:00",
            ["03-27 03:00+0200 (01:00Z)", "04-03 02:30+0200 (00:30Z)"],
        ),
    ],
)
def test_berlin(text, after_utc, expected):
    assert fires(text, BERLIN, after_utc, len(expected)) == expected


# Australia/Lord_Howe shifts by 30 minutes: 2024-04-07 02:00 (+11) -> 01:30 (+10:30) at 15:00Z
# on 04-06; 2024-10-06 02:00 (+10:30) -> 02:30 (+11) at 15:30Z on 10-05.
@pytest.mark.parametrize(
    ("text", "after_utc", "expected"),
    [
        (
            "*/15 * * * *",
            "2024-10-05 15:10",
            ["10-06 01:45+1030 (15:15Z)", "10-06 02:30+1100 (15:30Z)", "10-06 02:45+1100 (15:45Z)"],
        ),
        (
            "*/30 * * * *",
            "2024-10-05 14:20",
            ["10-06 01:00+1030 (14:30Z)", "10-06 01:30+1030 (15:00Z)", "10-06 02:30+1100 (15:30Z)"],
        ),
        (
            "15 2 * * *",
            "2024-10-05 03:00",
            ["10-06 02:30+1100 (15:30Z)", "10-07 02:15+1100 (15:15Z)"],
        ),
        (
            "0,15 2 * * *",
            "2024-10-05 03:00",
            ["10-06 02:30+1100 (15:30Z)", "10-07 02:00+1100 (15:00Z)"],
        ),
        (
            "*/15 * * * *",
            "2024-04-06 14:00",
            [
                "04-07 01:15+1100 (14:15Z)",
                "04-07 01:30+1100 (14:30Z)",
                "04-07 01:45+1100 (14:45Z)",
                "04-07 01:30+1030 (15:00Z)",
                "04-07 01:45+1030 (15:15Z)",
                "04-07 02:00+1030 (15:30Z)",
            ],
        ),
        (
            "*/15 * * * *",
            "2024-04-06 14:50",
            ["04-07 01:30+1030 (15:00Z)", "04-07 01:45+1030 (15:15Z)", "04-07 02:00+1030 (15:30Z)"],
        ),
        ("*/15 * * * *", "2024-04-06 15:05", ["04-07 01:45+1030 (15:15Z)"]),
        (
            "45 1 * * *",
            "2024-04-06 01:00",
            ["04-07 01:45+1100 (14:45Z)", "04-08 01:45+1030 (15:15Z)"],
        ),
        ("45 1 * * *", "2024-04-06 15:05", ["04-08 01:45+1030 (15:15Z)"]),
    ],
)
def test_lord_howe_half_hour_shifts(text, after_utc, expected):
    assert fires(text, LORD_HOWE, after_utc, len(expected)) == expected


# Pacific/Chatham, +12:45 / +13:45: 2024-09-29 02:45 -> 03:45 at 14:00Z on 09-28;
# 2024-04-07 03:45 -> 02:45 at 14:00Z on 04-06, so 02:45-03:44 happen twice.
@pytest.mark.parametrize(
    ("text", "after_utc", "expected"),
    [
        (
            "0 * * * *",
            "2024-09-28 12:45",
            ["09-29 02:00+1245 (13:15Z)", "09-29 04:00+1345 (14:15Z)"],
        ),
        (
            "*/30 * * * *",
            "2024-09-28 13:25",
            ["09-29 02:30+1245 (13:45Z)", "09-29 04:00+1345 (14:15Z)"],
        ),
        (
            "0 3 * * *",
            "2024-09-28 01:00",
            ["09-29 03:45+1345 (14:00Z)", "09-30 03:00+1345 (13:15Z)"],
        ),
        (
            "30 2 * * *",
            "2024-09-28 01:00",
            ["09-29 02:30+1245 (13:45Z)", "09-30 02:30+1345 (12:45Z)"],
        ),
        (
            "0 * * * *",
            "2024-04-06 12:45",
            ["04-07 03:00+1345 (13:15Z)", "04-07 03:00+1245 (14:15Z)", "04-07 04:00+1245 (15:15Z)"],
        ),
        (
            "*/30 * * * *",
            "2024-04-06 12:55",
            [
                "04-07 03:00+1345 (13:15Z)",
                "04-07 03:30+1345 (13:45Z)",
                "04-07 03:00+1245 (14:15Z)",
                "04-07 03:30+1245 (14:45Z)",
                "04-07 04:00+1245 (15:15Z)",
            ],
        ),
        (
            "0 3 * * *",
            "2024-04-06 01:00",
            ["04-07 03:00+1345 (13:15Z)", "04-08 03:00+1245 (14:15Z)"],
        ),
    ],
)
def test_chatham_quarter_hour_offsets(text, after_utc, expected):
    assert fires(text, CHATHAM, after_utc, len(expected)) == expected


# Days whose midnight does not exist: America/Santiago 2022-09-11 00:00 -04 -> 01:00 -03
# (04:00Z); America/Sao_Paulo 2018-11-04 00:00 -03 -> 01:00 -02 (03:00Z).
@pytest.mark.parametrize(
    ("zone", "text", "after_utc", "expected"),
    [
        (
            SANTIAGO,
            "0 0 * * *",
            "2022-09-10 12:00",
            ["09-11 01:00-0300 (04:00Z)", "09-12 00:00-0300 (03:00Z)"],
        ),
        (
            SANTIAGO,
            "*/30 0 * * *",
            "2022-09-10 03:50",
            ["09-10 00:00-0400 (04:00Z)", "09-10 00:30-0400 (04:30Z)", "09-12 00:00-0300 (03:00Z)"],
        ),
        (
            SANTIAGO,
            "0 0 * * 0",
            "2022-09-04 12:00",
            ["09-11 01:00-0300 (04:00Z)", "09-18 00:00-0300 (03:00Z)"],
        ),
        # Autumn, 2022-04-03 00:00 -03 -> 2022-04-02 23:00 -04 (03:00Z): 23:00 twice.
        (
            "America/Santiago",
            "0 23 * * *",
            "2022-04-02 12:00",
            ["04-02 23:00-0300 (02:00Z)", "04-03 23:00-0400 (03:00Z)"],
        ),
        (
            SANTIAGO,
            "0 * * * *",
            "2022-04-03 01:30",
            ["04-02 23:00-0300 (02:00Z)", "04-02 23:00-0400 (03:00Z)", "04-03 00:00-0400 (04:00Z)"],
        ),
        (
            SAO_PAULO,
            "0 0 * * *",
            "2018-11-03 12:00",
            ["11-04 01:00-0200 (03:00Z)", "11-05 00:00-0200 (02:00Z)"],
        ),
        (
            SAO_PAULO,
            "* 0 * * *",
            "2018-11-04 02:58",
            ["11-05 00:00-0200 (02:00Z)"],
        ),
    ],
)
def test_days_without_midnight(zone, text, after_utc, expected):
    assert fires(text, zone, after_utc, len(expected)) == expected


def test_gap_fire_note_says_it_was_moved():
    ny = load_zone(NEW_YORK)
    first, second = parse("30 2 * * *").fires_after(at(NEW_YORK, "2024-03-09 17:00"), ny, 2)
    assert first.note == (
        "02:30 does not exist on 2024-03-10 in America/New_York "
        "(clocks jump from 02:00 EST to 03:00 EDT): moved to 03:00 EDT, the end of the gap"
    )
    assert second.note is None


def test_gap_fire_note_lists_merged_wall_times():
    ny = load_zone(NEW_YORK)
    (fire,) = parse("15,45 2 * * *").fires_after(at(NEW_YORK, "2024-03-09 17:00"), ny, 1)
    assert fire.note == (
        "02:15 and 02:45 do not exist on 2024-03-10 in America/New_York "
        "(clocks jump from 02:00 EST to 03:00 EDT): merged into one fire at 03:00 EDT, "
        "the end of the gap"
    )
    (fire,) = parse("0-55/5 2 * * *").fires_after(at(NEW_YORK, "2024-03-09 17:00"), ny, 1)
    assert fire.note is not None
    assert fire.note.startswith("02:00, 02:05, 02:10, 02:15, 02:20 and 7 more do not exist")


def test_fold_note_says_fixed_jobs_run_once():
    ny = load_zone(NEW_YORK)
    first, second = parse("30 1 * * *").fires_after(at(NEW_YORK, "2024-11-02 16:00"), ny, 2)
    assert first.note == (
        "01:30 occurs twice on 2024-11-03 in America/New_York "
        "(clocks go back from 02:00 EDT to 01:00 EST): runs once, on the first pass (EDT)"
    )
    assert second.note is None


def test_fold_notes_mark_both_passes_of_wildcard_jobs():
    ny = load_zone(NEW_YORK)
    notes = [
        fire.note
        for fire in parse("0 * * * *").fires_after(at(NEW_YORK, "2024-11-03 04:30"), ny, 3)
    ]
    head = (
        "01:00 occurs twice on 2024-11-03 in America/New_York "
        "(clocks go back from 02:00 EDT to 01:00 EST): runs on both passes; "
    )
    assert notes == [head + "this is the first (EDT)", head + "this is the second (EST)", None]


def test_fires_after_notes_the_lord_howe_gap_with_offsets_as_abbreviations():
    tz = load_zone(LORD_HOWE)
    (fire,) = parse("15 2 * * *").fires_after(at(LORD_HOWE, "2024-10-05 03:00"), tz, 1)
    assert fire.note == (
        "02:15 does not exist on 2024-10-06 in Australia/Lord_Howe "
        "(clocks jump from 02:00 +1030 to 02:30 +11): moved to 02:30 +11, the end of the gap"
    )


def test_fires_are_strictly_after_even_one_microsecond_before_and_at_the_fire():
    # Arithmetic and comparisons in UTC: aware datetimes sharing a tzinfo compare by wall
    # time and ignore fold.
    ny = load_zone(NEW_YORK)
    for text in ("30 1 * * *", "30 * * * *"):
        expr = parse(text)
        for fire in expr.iter_after(at(NEW_YORK, "2024-11-03 04:00"), ny):
            instant = fire.astimezone(UTC)
            if instant > datetime(2024, 11, 3, 8, tzinfo=UTC):
                break
            just_before = instant - timedelta(microseconds=1)
            assert expr.next_after(just_before, ny).astimezone(UTC) == instant
            assert expr.next_after(fire, ny).astimezone(UTC) > instant
            almost_a_minute = instant + timedelta(seconds=59, microseconds=999999)
            assert expr.next_after(almost_a_minute, ny).astimezone(UTC) > instant
