"""Plain-text rendering shared by the commands: instants, durations and aligned tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

#: Shown in a cell that has no value (no next fire, never ran).
NONE = "—"


def format_instant(at: datetime, *, offset: bool = True) -> str:
    """``Sun 2026-03-08 03:00 EDT (-04:00)``: weekday, date and wall time in ``at``'s own
    zone, its abbreviation, and (with ``offset``) its UTC offset, which tells the two passes
    of a repeated hour apart even where the abbreviation does not."""
    text = f"{at:%a %Y-%m-%d %H:%M} {at.tzname()}"
    if not offset:
        return text
    shift = at.utcoffset()
    minutes = int(shift.total_seconds()) // 60 if shift is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text} ({sign}{hours:02d}:{mins:02d})"


def format_duration(seconds: float) -> str:
    """``90`` -> ``1m30s``, ``900`` -> ``15m``, ``3600`` -> ``1h``, ``0.5`` -> ``0.5s``: the
    shortest spelling that the duration parser reads back to the same value."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest = int(seconds)
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces; the last column is not padded, so no
    line ends in blanks."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
