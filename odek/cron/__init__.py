"""The cron engine: parse five-field expressions and compute their fires in any IANA zone.

Daylight saving time follows Debian cron / cronie in the job's own zone (see
:mod:`odek.cron.schedule` and docs/SCHEDULES.md)::

    from odek.cron import load_zone, parse
    expr = parse("30 2 * * *")
    expr.next_after(after, load_zone("America/New_York"))
"""

from odek.cron.expr import CronExpr, parse, upcoming
from odek.cron.schedule import Fire
from odek.cron.zones import load_zone

__all__ = ["CronExpr", "Fire", "load_zone", "parse", "upcoming"]
