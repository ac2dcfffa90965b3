"""Text rendering of instants, durations and tables."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from odek.cli.render import format_duration, format_instant, format_table
from odek.config import parse_duration


@pytest.mark.parametrize(
    ("utc", "zone", "expected"),
    [
        ("2026-03-08T07:00", "America/New_York", "Sun 2026-03-08 03:00 EDT (-04:00)"),
        ("2026-11-01T05:30", "America/New_York", "Sun 2026-11-01 01:30 EDT (-04:00)"),
        ("2026-11-01T06:30", "America/New_York", "Sun 2026-11-01 01:30 EST (-05:00)"),
        ("2026-01-10T12:00", "Australia/Lord_Howe", "Sat 2026-01-10 23:00 +11 (+11:00)"),
        ("2026-07-10T12:00", "Australia/Lord_Howe", "Fri 2026-07-10 22:30 +1030 (+10:30)"),
        ("2026-07-10T12:00", "America/St_Johns", "Fri 2026-07-10 09:30 NDT (-02:30)"),
        ("2026-07-10T12:00", "UTC", "Fri 2026-07-10 12:00 UTC (+00:00)"),
    ],
)
def test_instant_shows_wall_time_abbreviation_and_offset(
    utc: str, zone: str, expected: str
) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    assert format_instant(at) == expected
    assert format_instant(at, offset=False) == expected.rsplit(" (", 1)[0]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90, "1m30s"), (900, "15m"), (3600, "1h"), (5400, "1h30m"), (0.5, "0.5s"), (0, "0s")],
)
def test_duration_is_shortest_spelling_that_parses_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_table_aligns_columns_and_leaves_no_trailing_blanks() -> None:
    lines = format_table(("ID", "NAME", "X"), [("jb-1", "a", ""), ("jb-1234", "long name", "y")])
    assert lines == [
        "ID       NAME       X",
        "jb-1     a",
        "jb-1234  long name  y",
    ]
