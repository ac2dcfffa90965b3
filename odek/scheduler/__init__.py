"""The scheduler service: a supervision tree of actors that fires jobs on their cron
schedules, runs them, delivers their results and records everything durably.

See ``docs/ARCHITECTURE.md`` for the actors and the messages between them.
"""

from odek.scheduler.clock import SystemClock, VirtualClock, WallClock
from odek.scheduler.journal import HISTORY_LIMIT, RunEntry, read_history
from odek.scheduler.lock import DaemonLock
from odek.scheduler.manual import deliver_again, run_now
from odek.scheduler.messages import Outcome, RunRequest, RunResult, Trigger
from odek.scheduler.service import SchedulerService, serve
from odek.scheduler.status import ScheduleStatus, read_status

__all__ = [
    "HISTORY_LIMIT",
    "DaemonLock",
    "Outcome",
    "RunEntry",
    "RunRequest",
    "RunResult",
    "ScheduleStatus",
    "SchedulerService",
    "SystemClock",
    "Trigger",
    "VirtualClock",
    "WallClock",
    "deliver_again",
    "read_history",
    "read_status",
    "run_now",
    "serve",
]
