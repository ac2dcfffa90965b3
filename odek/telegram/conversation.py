"""Per-chat conversation workers: each chat's messages are answered in order, by its own
task, so a slow run in one chat never holds up another chat or the poller.

:meth:`ConversationManager.submit` queues a :class:`Prompt` (a text message) or a
:class:`ManualRun` (``/schedule run``) for a chat without waiting; the chat's worker is
started on demand and ends after ``idle_timeout`` seconds without work. A turn loads the
chat's history, runs the agent with the chat's approver while a typing indicator shows,
appends the exchange to the history, and sends the answer formatted and split as the
Telegram deliverer does. ``telegram.agent_timeout_seconds`` bounds one turn.
:meth:`stop_run` (``/stop``) cancels the chat's current turn.

The daily token budget is shared with scheduled runs: a spent budget refuses the turn; at
80 % of it the chat is warned once a day.

A manual run goes through :func:`odek.scheduler.run_now`, so it takes the job's run lock,
is journalled as a ``manual`` run and updates the job's state, while the run itself is a
turn of this chat (history, approvals, typing) and its answer goes to this chat.

Stopping the manager (the supervisor stopping the bot) lets turns in flight finish within
``drain_timeout``; turns still running then are cancelled and their chats told so.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from odek.agent import TokenBudget
from odek.config import Config
from odek.errors import BudgetExhaustedError, DeliveryError, LockHeldError, OdekError
from odek.logs import get_logger
from odek.protocols import RunOutcome
from odek.scheduler import Outcome, run_now
from odek.store import Job
from odek.telegram.agent import ChatAgent
from odek.telegram.approvals import ApprovalBroker
from odek.telegram.history import HistoryStore, Turn
from odek.telegram.sender import ChatSender
from supervisors import drain_task_group

__all__ = ["ConversationManager", "ManualRun", "Prompt", "WorkItem"]

log = get_logger("odek.telegram")

TYPING_INTERVAL = 4.5
"""Seconds between typing indicators (Telegram shows one for about 5 s)."""

RESTARTING = "⏳ The bot is restarting; please send that again in a few seconds."
INTERRUPTED = "🔄 The bot is restarting: your request was interrupted. Please send it again."


@dataclass(frozen=True, slots=True)
class Prompt:
    """A text message for the agent, from ``user_id``, as message ``message_id``."""

    text: str
    user_id: int
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ManualRun:
    """``/schedule run``: run ``job``'s task now as a turn of the chat, for ``user_id``."""

    job: Job
    user_id: int


WorkItem = Prompt | ManualRun


@dataclass(eq=False)
class _Worker:
    chat_id: int
    inbox: MemoryObjectReceiveStream[WorkItem]
    outbox: MemoryObjectSendStream[WorkItem]
    current: anyio.CancelScope | None = None


class ConversationManager:
    """The conversation workers of every chat (see the module docstring)."""

    def __init__(
        self,
        *,
        config: Config,
        home: Path,
        sender: ChatSender,
        agent: ChatAgent,
        history: HistoryStore,
        approvals: ApprovalBroker,
        idle_timeout: float = 600.0,
        drain_timeout: float = 30.0,
    ) -> None:
        self.config = config
        self.home = home
        self.sender = sender
        self.agent = agent
        self.history = history
        self.approvals = approvals
        self.budget = TokenBudget(home, config.telegram.daily_token_budget)
        self.turn_timeout = config.telegram.agent_timeout_seconds
        self.idle_timeout = idle_timeout
        self.drain_timeout = drain_timeout
        self._workers: dict[int, _Worker] = {}
        self._tasks: TaskGroup | None = None
        self._warned: dict[int, str] = {}

    # --- the actor ---------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Host the workers until cancelled; then drain them (see the module docstring)."""
        async with drain_task_group(self.drain_timeout) as tasks:
            self._tasks = tasks
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                self._tasks = None
                for worker in list(self._workers.values()):
                    worker.outbox.close()  # each worker ends after its current turn

    # --- used by the router and the rest of the bot ------------------------------------

    @property
    def accepting(self) -> bool:
        """Whether new work is taken (false while the bot stops)."""
        return self._tasks is not None

    def submit(self, chat_id: int, item: WorkItem) -> bool:
        """Queue ``item`` for ``chat_id``'s worker (started if needed). Never blocks.
        Returns ``False`` when the manager is not running (the bot is stopping)."""
        if self._tasks is None:
            return False
        worker = self._workers.get(chat_id)
        if worker is None:
            outbox, inbox = anyio.create_memory_object_stream[WorkItem](math.inf)
            worker = self._workers[chat_id] = _Worker(chat_id, inbox, outbox)
            self._tasks.start_soon(self._serve, worker, name=f"telegram/chat/{chat_id}")
        worker.outbox.send_nowait(item)
        return True

    def stop_run(self, chat_id: int) -> bool:
        """Cancel ``chat_id``'s current turn; returns whether one was running."""
        worker = self._workers.get(chat_id)
        if worker is None or worker.current is None:
            return False
        worker.current.cancel()
        return True

    def busy_chats(self) -> list[int]:
        """The chats with a turn in flight."""
        return [w.chat_id for w in self._workers.values() if w.current is not None]

    async def new_conversation(self, chat_id: int) -> bool:
        """Forget the chat's history (``/new``); returns whether there was one."""
        return await anyio.to_thread.run_sync(self.history.clear, chat_id)

    async def record_scheduled(self, chat_id: int, job: Job, text: str) -> bool:
        """Add a delivered scheduled result to the chat's conversation, if it has one."""
        label = job.name or job.id
        return await anyio.to_thread.run_sync(
            self.history.append_scheduled, chat_id, label, job.task, text
        )

    # --- the workers -------------------------------------------------------------------

    async def _serve(self, worker: _Worker) -> None:
        try:
            with worker.inbox, worker.outbox:
                while True:
                    item: WorkItem | None = None
                    with anyio.move_on_after(self.idle_timeout):
                        try:
                            item = await worker.inbox.receive()
                        except (anyio.EndOfStream, anyio.ClosedResourceError):
                            await self._refuse_queued(worker)
                            return
                    if item is None:
                        # No await between this check and the removal, so nothing can be
                        # queued to a worker that is going away.
                        if worker.inbox.statistics().current_buffer_used == 0:
                            return
                        continue
                    await self._handle(worker, item)
                    if self._tasks is None:
                        await self._refuse_queued(worker)
                        return
        finally:
            if self._workers.get(worker.chat_id) is worker:
                del self._workers[worker.chat_id]

    async def _refuse_queued(self, worker: _Worker) -> None:
        while True:
            try:
                worker.inbox.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                return
            await self.sender.send(worker.chat_id, RESTARTING)

    async def _handle(self, worker: _Worker, item: WorkItem) -> None:
        chat_id = worker.chat_id
        scope = worker.current = anyio.CancelScope()
        try:
            with scope:
                if isinstance(item, Prompt):
                    await self._prompt(chat_id, item)
                else:
                    await self._manual(chat_id, item)
        except anyio.get_cancelled_exc_class():
            with anyio.move_on_after(5, shield=True):
                await self.sender.send(chat_id, INTERRUPTED)
            raise
        except Exception as exc:  # a bug in one turn must not end the chat's worker
            log.exception("turn_crashed", chat_id=chat_id)
            await self.sender.send(chat_id, f"❌ Internal error: {type(exc).__name__}: {exc}")
        finally:
            worker.current = None

    async def _prompt(self, chat_id: int, prompt: Prompt) -> None:
        deadline = anyio.CancelScope(deadline=anyio.current_time() + self.turn_timeout)
        try:
            with deadline:
                outcome = await self.turn(chat_id, prompt.user_id, prompt.text)
        except BudgetExhaustedError as exc:
            await self.sender.send(chat_id, f"⛔ {exc}", reply_to=prompt.message_id)
            return
        except OdekError as exc:
            await self.sender.send(chat_id, f"❌ {exc}", reply_to=prompt.message_id)
            return
        if deadline.cancelled_caught:
            await self.sender.send(
                chat_id,
                f"⌛ No answer within {self.turn_timeout:g} s; the run was stopped.",
                reply_to=prompt.message_id,
            )
            return
        await self.sender.send(chat_id, outcome.text or "(no answer)", reply_to=prompt.message_id)
        await self._warn_budget(chat_id)

    async def turn(self, chat_id: int, user_id: int, text: str) -> RunOutcome:
        """One exchange of the chat with the agent; appended to its history when it ends."""
        history = await anyio.to_thread.run_sync(self.history.load, chat_id)
        approver = self.approvals.approver(chat_id, user_id)
        async with self._typing(chat_id):
            outcome = await self.agent.reply(history, text, approver=approver)
        await anyio.to_thread.run_sync(
            self.history.append, chat_id, [Turn("user", text), Turn("assistant", outcome.text)]
        )
        return outcome

    async def _manual(self, chat_id: int, run: ManualRun) -> None:
        job = run.job
        await self.sender.send(
            chat_id, f"🏃 Running `{job.id}` ({job.name}) now — the result will arrive here."
        )
        try:
            result, _delivered = await run_now(
                job,
                self.config.schedules,
                runner=_ChatRunner(self, chat_id, run.user_id),
                deliverer=_ChatDeliverer(self.sender, chat_id),
                home=self.home,
            )
        except LockHeldError as exc:
            await self.sender.send(chat_id, f"❌ {exc}")
            return
        if result.outcome is not Outcome.OK:
            await self.sender.send(
                chat_id, f"❌ Run of `{job.id}` ended **{result.outcome}**: {result.error}"
            )
            return
        await self._warn_budget(chat_id)

    @asynccontextmanager
    async def _typing(self, chat_id: int) -> AsyncIterator[None]:
        done = anyio.Event()

        async def keep_typing() -> None:
            # Ends between requests rather than cancelling one mid-flight (a request cut
            # off inside httpx leaves its body stream to the garbage collector).
            while not done.is_set():
                await self.sender.typing(chat_id)
                with anyio.move_on_after(TYPING_INTERVAL):
                    await done.wait()

        if self._tasks is not None:
            self._tasks.start_soon(keep_typing)
        try:
            yield
        finally:
            done.set()

    async def _warn_budget(self, chat_id: int) -> None:
        limit = self.budget.limit
        if limit <= 0:
            return
        used = await anyio.to_thread.run_sync(self.budget.used)
        today = datetime.now(UTC).date().isoformat()
        if used * 5 < limit * 4 or self._warned.get(chat_id) == today:
            return
        self._warned[chat_id] = today
        percent = min(100, used * 100 // limit)
        await self.sender.send(
            chat_id,
            f"⚠️ **Budget:** {percent}% of today's {limit} tokens used ({used}); runs are "
            "refused once it is spent, until midnight UTC.",
        )


class _ChatRunner:
    """Runs a job's task as a turn of one chat (for :func:`run_now`)."""

    def __init__(self, manager: ConversationManager, chat_id: int, user_id: int) -> None:
        self._manager = manager
        self._chat_id = chat_id
        self._user_id = user_id

    async def run(self, job: Job, *, nominal: datetime) -> RunOutcome:
        return await self._manager.turn(self._chat_id, self._user_id, job.task)


class _ChatDeliverer:
    """Sends a manual run's answer to the chat that asked for it."""

    def __init__(self, sender: ChatSender, chat_id: int) -> None:
        self._sender = sender
        self._chat_id = chat_id

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        if not await self._sender.send(self._chat_id, text or "(no answer)"):
            raise DeliveryError(f"job {job.id}: could not send the answer to chat {self._chat_id}")
