"""The scheduler inside the bot: the same :class:`odek.scheduler.SchedulerService` the
daemon runs, hosted as one child of the bot's supervision tree.

Only the holder of the scheduler lock (``ODEK_HOME/schedule.lock``) fires jobs, so a job
never fires twice however many bots and daemons share a home. When a daemon holds the
lock, the bot says so once in its log and tries again every ``retry_interval`` seconds
(10): when the daemon stops, the bot's scheduler takes over within that interval plus its
start-up. On stop the service drains its runs and writes its state, then the lock is
released.

Results for Telegram go out through the bot's live client (:class:`BotDeliverer`); a
result delivered to a chat that has a conversation is also added to that conversation,
so the user can ask about it.

With ``schedules.http_addr`` set the bot serves ``/healthz`` and ``/metrics`` itself, for
its whole life (see :class:`odek.telegram.TelegramBot`): while this scheduler runs they
describe it (:meth:`EmbeddedScheduler.heartbeat`, and the ``metrics`` it counts into);
while it stands by, ``/healthz`` judges the heartbeat in ``ODEK_HOME`` (the daemon's) and
``/metrics`` has that heartbeat's gauges and this bot's counters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import msgspec
from anyio.abc import TaskStatus

from odek.config import Config
from odek.errors import LockHeldError, OdekError, StoreError
from odek.health.heartbeat import Heartbeat, read_heartbeat
from odek.logs import get_logger
from odek.protocols import Deliverer, Runner
from odek.scheduler import DaemonLock, SchedulerService, WallClock
from odek.store import Job

if TYPE_CHECKING:
    from odek.health.metrics import Metrics

__all__ = ["BotDeliverer", "EmbeddedScheduler", "OnDelivered", "stored_heartbeat"]

log = get_logger("odek.telegram")

#: Called after a telegram delivery with the chat, the job and the result.
OnDelivered = Callable[[int, Job, str], Awaitable[object]]


class BotDeliverer:
    """Delivers through ``inner`` (the deliverer of every kind, sharing the live bot) and
    then hands Telegram results to ``on_delivered``; a failure there is only logged."""

    def __init__(
        self, inner: Deliverer, *, default_chat_id: int, on_delivered: OnDelivered
    ) -> None:
        self._inner = inner
        self._default_chat_id = default_chat_id
        self._on_delivered = on_delivered

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        await self._inner.deliver(job, text, nominal=nominal)
        chat_id = job.deliver.chat_id or self._default_chat_id
        if job.deliver.kind != "telegram" or not chat_id:
            return
        try:
            await self._on_delivered(chat_id, job, text)
        except Exception as exc:  # the result is delivered; the transcript is a nicety
            log.warning("record_scheduled_failed", job_id=job.id, chat_id=chat_id, error=str(exc))


def stored_heartbeat(home: Path) -> Heartbeat | None:
    """The heartbeat in ``home`` (another process's scheduler), or ``None`` when there is
    none or it cannot be read (logged): the endpoint then reports no heartbeat."""
    try:
        return read_heartbeat(home)
    except OdekError as exc:
        log.warning("heartbeat_unreadable", error=str(exc))
        return None


class EmbeddedScheduler:
    """The bot's scheduler child (see the module docstring). ``metrics``, when the bot
    serves the endpoint, is where every scheduler this child runs counts."""

    def __init__(
        self,
        config: Config,
        *,
        home: Path,
        runner_factory: Callable[[], Runner],
        deliverer: Deliverer,
        retry_interval: float = 10.0,
        clock: WallClock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.runner_factory = runner_factory
        self.deliverer = deliverer
        self.retry_interval = retry_interval
        self.clock = clock
        self.metrics = metrics
        self.service: SchedulerService | None = None

    @property
    def active(self) -> bool:
        """Whether this process's scheduler runs (holds the lock)."""
        return self.service is not None

    def heartbeat(self) -> Heartbeat | None:
        """This process's scheduler's heartbeat while it runs, else the one in ODEK_HOME."""
        if self.service is not None:
            return self.service.heartbeat.snapshot()
        return stored_heartbeat(self.home)

    def reload(self) -> None:
        """Ask the running scheduler to reload ``schedules.json`` now. Without one (a daemon
        holds the lock) nothing is needed: the daemon watches the file itself."""
        if self.service is not None:
            self.service.reload()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Stand by until the lock is ours, then run the scheduler until stopped."""
        task_status.started()  # standing by is a normal state, not a slow start
        try:
            runner = self.runner_factory()
        except Exception as exc:
            log.error("scheduler_unavailable", error=f"{type(exc).__name__}: {exc}")
            await anyio.sleep_forever()  # keep chatting; restarting would not fix it
            return
        lock = await self._take_lock()
        try:
            service = SchedulerService(
                # The bot serves the endpoint (it must outlive a standby and a takeover).
                msgspec.structs.replace(self.config.schedules, http_addr=""),
                runner=runner,
                deliverer=self.deliverer,
                home=self.home,
                clock=self.clock,
                metrics=self.metrics,
            )
            self.service = service
            await service.run()
        finally:
            self.service = None
            lock.release()

    async def _take_lock(self) -> DaemonLock:
        waiting = False
        while True:
            try:
                lock = await anyio.to_thread.run_sync(DaemonLock.acquire, self.home)
            except LockHeldError as exc:
                if not waiting:
                    log.warning(
                        "scheduler_standby",
                        holder_pid=exc.pid,
                        retry_every=self.retry_interval,
                        detail="a scheduler daemon holds the scheduler lock; this bot's "
                        "scheduler stands by and takes over when the daemon stops",
                    )
            except StoreError as exc:
                if not waiting:
                    log.error("scheduler_lock_failed", error=str(exc))
            else:
                if waiting:
                    log.info("scheduler_takeover", detail="the scheduler lock is free again")
                return lock
            waiting = True
            await anyio.sleep(self.retry_interval)
