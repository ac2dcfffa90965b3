"""The Telegram bot: its actors on one supervision tree, its commands, and how it starts.

Children of the ``telegram`` supervisor, in start order (so they stop in the reverse
order: first no more updates, then the conversations drain, the scheduler, the endpoint
last)::

    [health] -> scheduler (with schedules.enabled) -> conversations -> router -> poller

``health`` serves ``GET /healthz`` and ``GET /metrics`` when ``schedules.http_addr`` is set
(see :mod:`odek.telegram.embedded` for what they report while the scheduler stands by or is
disabled); a port that cannot be listened on stops the bot at start.

The poller feeds the router through an unbounded memory stream owned here; a 401 or 409
from the Bot API stops the whole bot and :meth:`TelegramBot.run` raises
:class:`odek.errors.TelegramFatalError`.

:func:`run_bot` is what ``odek telegram`` runs: it refuses to start without an allowlist,
a token or an API key, opens the bot client on ``telegram.api_base_url``, checks the token
(``getMe``), removes any webhook, registers the command menu (``setMyCommands``) and runs
the bot under the process's signals: SIGTERM and SIGINT stop it, SIGHUP restarts it.
"""

from __future__ import annotations

import enum
import math
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import telegram
from anyio.abc import TaskStatus
from telegram import BotCommand
from telegram.error import TelegramError

from odek.config import Config
from odek.deliver import build_deliverer, open_bot
from odek.errors import ConfigError, TelegramFatalError
from odek.health.heartbeat import utc_now
from odek.logs import get_logger
from odek.protocols import Runner
from odek.scheduler import WallClock
from odek.store import Job, JobStore
from odek.telegram.access import Access
from odek.telegram.agent import AgentChat, ChatAgent, interactive_toolset_factory
from odek.telegram.approvals import APPROVAL_TIMEOUT, ApprovalBroker
from odek.telegram.conversation import ConversationManager, ManualRun
from odek.telegram.embedded import BotDeliverer, EmbeddedScheduler, stored_heartbeat
from odek.telegram.history import HistoryStore
from odek.telegram.poller import OffsetStore, Poller, fatal_error
from odek.telegram.restart import RestartControl
from odek.telegram.router import Command, CommandHandler, Pressed, Router
from odek.telegram.schedule_commands import ScheduleCommands
from odek.telegram.sender import ChatSender
from supervisors import (
    ChildSpec,
    EventKind,
    Restart,
    StartupError,
    Supervisor,
    SupervisorEvent,
)

if TYPE_CHECKING:
    from odek.health.heartbeat import Heartbeat
    from odek.health.metrics import Metrics
    from odek.tools import McpHub

__all__ = ["COMMANDS", "BotExit", "TelegramBot", "check_startable", "open_telegram", "run_bot"]

log = get_logger("odek.telegram")

#: The command menu registered with ``setMyCommands``.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "What this bot does"),
    ("help", "Commands and how to use them"),
    ("new", "Start a new conversation"),
    ("stop", "Stop the current run"),
    ("schedules", "List scheduled jobs"),
    ("schedule", "Manage jobs: add, view, next, run, enable, disable, rm"),
    ("restart", "Restart the bot (operators only)"),
)

HELP = (
    "👋 **odek** runs an AI agent for you: send a message and it works on it with its "
    "tools, asking you first (✅ Approve / ❌ Deny) before anything risky. It remembers "
    "this chat's conversation for a while; /new starts over.\n\n"
    "It also runs scheduled jobs and sends their results here.\n\n"
    "/new — start a new conversation\n"
    "/stop — stop the current run\n"
    "/schedules — list scheduled jobs\n"
    "/schedule help — add, view, preview, run and change jobs\n"
    "/restart — restart the bot (operators only)"
)

RESTART_REFUSED = "🔒 /restart is restricted to configured operator chats/users."
BACK = "✅ **Bot restarted** — I'm back and listening."


class BotExit(enum.Enum):
    """Why :meth:`TelegramBot.run` returned."""

    STOPPED = "stopped"
    RESTART = "restart"
    """A restart was asked for: the caller starts the new process (``exec``)."""


class TelegramBot:
    """The bot's actors, wired together (see the module docstring).

    ``bot`` is an open client whose ``getMe`` succeeded (``username`` is its username).
    ``agent`` answers chat messages (default: the configured model); ``runner_factory``
    builds the runner of scheduled jobs (default: :class:`odek.agent.HeadlessRunner`).
    The timing parameters exist for tests and are the documented values by default.
    """

    def __init__(
        self,
        config: Config,
        *,
        bot: telegram.Bot,
        username: str,
        home: Path,
        agent: ChatAgent | None = None,
        runner_factory: Callable[[], Runner] | None = None,
        approval_timeout: float = APPROVAL_TIMEOUT,
        standby_retry: float = 10.0,
        conflict_grace: float = 5.0,
        restart_cooldown: float = 60.0,
        idle_timeout: float = 600.0,
        scheduler_clock: WallClock | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.bot = bot
        self.username = username
        self.access = Access.from_config(config)
        self.access.check_configured()
        self.sender = ChatSender(bot)
        self.failure: TelegramFatalError | None = None
        self._crash: Exception | None = None
        self.restart = RestartControl(home, request_stop=self.stop, cooldown=restart_cooldown)
        self.approvals = ApprovalBroker(self.sender, timeout=approval_timeout)
        self.history = HistoryStore(home, ttl=timedelta(hours=config.telegram.session_ttl_hours))
        self.conversations = ConversationManager(
            config=config,
            home=home,
            sender=self.sender,
            agent=agent or AgentChat(config, home=home),
            history=self.history,
            approvals=self.approvals,
            idle_timeout=idle_timeout,
            drain_timeout=config.schedules.drain_timeout,
        )
        self.metrics: Metrics | None = None
        if config.schedules.http_addr:
            from odek.health.metrics import Metrics

            self.metrics = Metrics(heartbeat=self.heartbeat)
        self.scheduler: EmbeddedScheduler | None = None
        if config.schedules.enabled:
            self.scheduler = EmbeddedScheduler(
                config,
                home=home,
                runner_factory=runner_factory or _headless_runner(config, home),
                deliverer=BotDeliverer(
                    build_deliverer(config, home=home, bot=bot),
                    default_chat_id=config.telegram.default_chat_id,
                    on_delivered=self.conversations.record_scheduled,
                ),
                retry_interval=standby_retry,
                clock=scheduler_clock,
                metrics=self.metrics,
            )
        self.schedules = ScheduleCommands(
            store=JobStore(home),
            config=config,
            access=self.access,
            reload=self.reload_schedules,
            run_in_chat=self._run_in_chat,
        )
        self._updates = anyio.create_memory_object_stream[telegram.Update](math.inf)
        self.poller = Poller(
            bot,
            self._updates[0],
            OffsetStore(home),
            on_fatal=self._fatal,
            timeout=config.telegram.poll_timeout,
            conflict_grace=conflict_grace,
        )
        self.router = Router(
            updates=self._updates[1],
            access=self.access,
            sender=self.sender,
            conversations=self.conversations,
            commands=self._commands(),
            on_press=self._on_press,
            username=username,
            restarting=lambda: self.restart.requested,
        )
        children = [
            ChildSpec(
                "conversations", self.conversations.run, grace=config.schedules.drain_timeout + 5
            ),
            ChildSpec("router", self.router.run, grace=1.0),
            ChildSpec("poller", self.poller.run, restart=Restart.TRANSIENT, grace=1.0),
        ]
        if self.scheduler is not None:
            # Its own drain (runs, then deliveries of up to 60 s) must fit in its grace.
            grace = config.schedules.drain_timeout + 75.0
            children.insert(0, ChildSpec("scheduler", self.scheduler.run, grace=grace))
        if self.metrics is not None:
            from odek.health.http import health_child

            wall = utc_now if scheduler_clock is None else scheduler_clock.now
            health = health_child(
                config.schedules.http_addr,
                heartbeat=self.heartbeat,
                metrics=self.metrics,
                clock=wall,
            )
            children.insert(0, health)
        self.supervisor = Supervisor(
            "telegram", children, max_restarts=5, within=60.0, on_event=_log_event
        )

    def heartbeat(self) -> Heartbeat | None:
        """What the endpoint reports: the embedded scheduler's heartbeat while it runs, else
        the one in ODEK_HOME (a daemon's)."""
        if self.scheduler is not None:
            return self.scheduler.heartbeat()
        return stored_heartbeat(self.home)

    # --- control -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the bot (drain, write, release). Never blocks."""
        self.supervisor.stop()

    def reload_schedules(self) -> None:
        """Make a change to the jobs take effect now."""
        if self.scheduler is not None:
            self.scheduler.reload()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> BotExit:
        """Run until stopped, restarted or a fatal polling error (raised after the stop).

        Ready (``task_status``) once every actor runs; then the chats that asked for the
        restart that started this process are told it is back."""
        back = await anyio.to_thread.run_sync(self.restart.take_marker)
        try:
            async with anyio.create_task_group() as tasks:
                await tasks.start(self._supervise)
                if self._crash is None:  # else an actor failed to start: raised below
                    log.info(
                        "bot_ready",
                        username=self.username,
                        scheduler="embedded" if self.scheduler is not None else "disabled",
                    )
                    task_status.started()
                    for chat_id in back:
                        await self.sender.send(chat_id, BACK)
                    if back:
                        await anyio.to_thread.run_sync(self.restart.done)
        finally:
            for stream in self._updates:
                stream.close()
        if self._crash is not None:
            raise self._crash
        if self.failure is not None:
            raise self.failure
        if self.restart.requested:
            await anyio.to_thread.run_sync(self.restart.write_marker)
            return BotExit.RESTART
        return BotExit.STOPPED

    async def _supervise(self, *, task_status: TaskStatus[None]) -> None:
        try:
            await self.supervisor.run(task_status=task_status)
        except Exception as exc:  # re-raised plainly by run(), not inside an exception group
            log.error("bot_failed", error=f"{type(exc).__name__}: {exc}")
            self._crash = exc
            if isinstance(exc, StartupError):  # raised before readiness: nothing runs
                task_status.started()

    def _fatal(self, error: TelegramFatalError) -> None:
        self.failure = self.failure or error
        self.stop()

    # --- commands ----------------------------------------------------------------------

    def _commands(self) -> Mapping[str, CommandHandler]:
        return {
            "start": self._help,
            "help": self._help,
            "new": self._new,
            "stop": self._stop,
            "schedules": self._schedules,
            "schedule": self._schedule,
            "restart": self._restart,
        }

    async def _help(self, cmd: Command) -> None:
        await self.sender.send(cmd.chat_id, HELP)

    async def _new(self, cmd: Command) -> None:
        had = await self.conversations.new_conversation(cmd.chat_id)
        note = "" if had else " (there was none to forget)"
        await self.sender.send(cmd.chat_id, f"🆕 Started a new conversation{note}.")

    async def _stop(self, cmd: Command) -> None:
        if self.conversations.stop_run(cmd.chat_id):
            await self.sender.send(cmd.chat_id, "⏹ Stopped.")
        else:
            await self.sender.send(cmd.chat_id, "Nothing is running.")

    async def _schedules(self, cmd: Command) -> None:
        reply = await self.schedules.listing(cmd.chat_id, cmd.user_id)
        await self.sender.send(cmd.chat_id, reply.text, buttons=reply.buttons)

    async def _schedule(self, cmd: Command) -> None:
        reply = await self.schedules.handle(cmd.chat_id, cmd.user_id, cmd.args)
        if reply.text:
            await self.sender.send(cmd.chat_id, reply.text, buttons=reply.buttons)

    async def _restart(self, cmd: Command) -> None:
        if not self.access.is_admin(cmd.chat_id, cmd.user_id):
            await self.sender.send(cmd.chat_id, RESTART_REFUSED)
            return
        wait = self.restart.cooldown_left()
        if wait > 0:
            await self.sender.send(
                cmd.chat_id,
                f"⏳ /restart was used recently. Please wait {math.ceil(wait)} s before "
                "restarting again.",
            )
            return
        await self.sender.send(
            cmd.chat_id,
            "🔄 **Restarting…** Runs in flight get a moment to finish; I'll tell you here "
            "when I'm back.",
        )
        self.restart.request(cmd.chat_id)

    def _run_in_chat(self, chat_id: int, user_id: int, job: Job) -> bool:
        return self.conversations.submit(chat_id, ManualRun(job, user_id))

    async def _on_press(self, pressed: Pressed) -> None:
        if self.approvals.handles(pressed.data):
            toast = await self.approvals.on_press(pressed.data, pressed.user_id)
            await self.sender.answer_callback(pressed.query_id, toast)
            return
        if not self.schedules.handles(pressed.data):
            await self.sender.answer_callback(pressed.query_id, "Unknown button")
            return
        press = await self.schedules.on_press(pressed.chat_id, pressed.user_id, pressed.data)
        await self.sender.answer_callback(pressed.query_id, press.toast)
        if press.edit is not None:
            await self.sender.edit(
                pressed.chat_id, pressed.message_id, press.edit.text, buttons=press.edit.buttons
            )
        if press.send is not None and press.send.text:
            await self.sender.send(pressed.chat_id, press.send.text, buttons=press.send.buttons)


def _headless_runner(config: Config, home: Path, mcp: McpHub | None = None) -> Callable[[], Runner]:
    def build() -> Runner:
        from odek.agent import HeadlessRunner

        return HeadlessRunner(config, home=home, mcp=mcp)

    return build


def _log_event(event: SupervisorEvent) -> None:
    fields = {"actor": event.child, "supervisor": event.supervisor}
    if event.error is not None:
        fields["error"] = f"{type(event.error).__name__}: {event.error}"
    if event.kind is EventKind.RESTARTING:
        log.warning("actor_restart", delay=event.delay, **fields)
    elif event.kind is EventKind.EXITED and event.error is not None:
        log.error("actor_exited", **fields)
    else:
        log.debug(event.kind.value, **fields)


def check_startable(config: Config) -> None:
    """Raise :class:`ConfigError` for what would stop the bot from working: no allowlist,
    no bot token, no API key for the model."""
    Access.from_config(config).check_configured()
    if not config.telegram.bot_token.strip():
        raise ConfigError(
            "telegram: no bot token configured; set ODEK_TELEGRAM_BOT_TOKEN (from @BotFather)"
        )
    if not config.api_key.strip():
        raise ConfigError(
            "no API key configured for the model; set ODEK_API_KEY (or DEEPSEEK_API_KEY / "
            "OPENAI_API_KEY), or api_key in ODEK_HOME/secrets.env"
        )


@asynccontextmanager
async def open_telegram(config: Config) -> AsyncIterator[tuple[telegram.Bot, str]]:
    """Open the bot client of ``config`` and get it ready to poll: check the token
    (``getMe``), remove any webhook (it would make ``getUpdates`` fail) and register the
    command menu. Yields the client and the bot's username. Raises
    :class:`TelegramFatalError` for a refused token or an unreachable API."""
    tg = config.telegram
    async with open_bot(tg.bot_token, api_base_url=tg.api_base_url) as bot:
        try:
            me = await bot.get_me()
            await bot.delete_webhook(drop_pending_updates=False)
            await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        except TelegramError as exc:
            fatal = fatal_error(exc)
            if fatal is not None:
                raise fatal from None
            raise TelegramFatalError(
                f"telegram: cannot reach the Bot API at {tg.api_base_url}: {exc}"
            ) from None
        yield bot, me.username or ""


async def run_bot(config: Config, *, home: Path) -> BotExit:
    """Run the bot of ``config`` until a signal stops it (see the module docstring).

    Raises :class:`ConfigError` before any request when it cannot start, and
    :class:`TelegramFatalError` for a refused token or a second poller."""
    check_startable(config)
    failure: Exception | None = None
    result = BotExit.STOPPED
    async with open_telegram(config) as (bot, username), anyio.create_task_group() as tasks:
        hub = None
        if config.mcp_servers:
            from odek.tools import McpHub

            hub = McpHub(config.mcp_servers, stderr_dir=home)
            await tasks.start(hub.run)
        mcp_tools = hub.tools if hub is not None else None
        service = TelegramBot(
            config,
            bot=bot,
            username=username,
            home=home,
            agent=AgentChat(
                config,
                home=home,
                toolset_factory=interactive_toolset_factory(config, extra_tools=mcp_tools),
            ),
            runner_factory=_headless_runner(config, home, hub),
        )
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:

            async def handle_signals() -> None:
                async for signum in signals:
                    if signum == signal.SIGHUP:
                        service.restart.request(None)
                    else:
                        log.info("stopping", signal=signal.Signals(signum).name)
                        service.stop()

            tasks.start_soon(handle_signals)
            try:
                result = await service.run()
            except Exception as exc:  # raised plainly, not inside the task group's group
                failure = exc
            finally:
                tasks.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result
