"""The Delivery actor: hands each ``ok`` result to its deliverer.

Before a send, the ``delivering`` mark is made durable (after a crash, a send that may have
happened is never repeated); after it, ``delivered``. A transient
:class:`~odek.errors.DeliveryError` (or a send that overruns ``timeout``) is retried with
exponential backoff, up to ``attempts`` sends; a permanent one, or the last failure, is
recorded as ``error: delivery: ...`` with the result kept in the journal. Each send has its
own time budget, independent of the run's timeout. Up to ``concurrency`` sends run at once.

On stop, the sends in flight and the results already queued get the drain's grace.
"""

from __future__ import annotations

import anyio
from anyio import WouldBlock
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from odek.errors import DeliveryError
from odek.protocols import Deliverer
from odek.scheduler.messages import RunResult
from odek.scheduler.pool import describe_error
from odek.scheduler.recorder import Recorder
from supervisors import drain_task_group, draining

__all__ = ["DeliveryActor"]


class DeliveryActor:
    """Delivers results with retries; see the module docstring."""

    def __init__(
        self,
        *,
        deliverer: Deliverer,
        results: MemoryObjectReceiveStream[RunResult],
        recorder: Recorder,
        timeout: float = 60.0,
        attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        concurrency: int = 16,
        drain_timeout: float = 30.0,
    ) -> None:
        if attempts < 1 or concurrency < 1:
            raise ValueError("attempts and concurrency must be >= 1")
        self.deliverer = deliverer
        self.results = results
        self.recorder = recorder
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = concurrency
        self.drain_timeout = drain_timeout

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Deliver results as they come, ``concurrency`` at a time."""
        slots = anyio.Semaphore(self.concurrency)
        async with drain_task_group(self.drain_timeout) as sends:
            task_status.started()
            try:
                while True:
                    await slots.acquire()
                    try:
                        result = await self.results.receive()
                    except BaseException:
                        slots.release()
                        raise
                    sends.start_soon(self._send, result, slots)
                    # As the pool does: start what has a slot at once, so that the sends'
                    # ``delivering`` marks share one journal commit.
                    while slots.value > 0:
                        try:
                            result = self.results.receive_nowait()
                        except WouldBlock:
                            break
                        slots.acquire_nowait()
                        sends.start_soon(self._send, result, slots)
            except anyio.get_cancelled_exc_class():
                # Stopping: the pool has drained into our inbox; deliver what is queued.
                with draining():
                    await self._flush_queue(sends, slots)
                raise

    async def _flush_queue(self, sends: TaskGroup, slots: anyio.Semaphore) -> None:
        while True:
            await slots.acquire()
            try:
                result = self.results.receive_nowait()
            except WouldBlock:
                slots.release()
                return
            sends.start_soon(self._send, result, slots)

    async def _send(self, result: RunResult, slots: anyio.Semaphore) -> None:
        try:
            while True:
                await self.deliver(result)
                # Go on with the next queued result in this task and slot: the next
                # ``delivering`` mark is then queued at once, in the journal commit that
                # makes this ``delivered`` durable, instead of a commit of its own once a
                # new task has started.
                try:
                    result = self.results.receive_nowait()
                except WouldBlock:
                    return
        finally:
            slots.release()

    async def deliver(self, result: RunResult) -> bool:
        """Deliver one result with retries and record how it went; ``True`` if it arrived."""
        request = result.request
        try:
            await self.recorder.delivering(result)
        except anyio.get_cancelled_exc_class():
            self.recorder.delivery_failed(result, "not sent: odek stopped first")
            raise
        error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                # move_on_after, not fail_after: the same budget for a fraction of the cost
                # (fail_after wraps it in a generator-based context manager).
                with anyio.move_on_after(self.timeout) as budget:
                    await self.deliverer.deliver(request.job, result.text, nominal=request.nominal)
                if budget.cancelled_caught:
                    raise TimeoutError
            except anyio.get_cancelled_exc_class():
                self.recorder.delivery_failed(result, "unconfirmed: odek stopped during the send")
                raise
            except TimeoutError:  # the budget ran out, or the deliverer timed out itself
                error = f"no answer within {self.timeout:g} s"
            except DeliveryError as exc:
                error = describe_error(exc)
                if exc.permanent:
                    break
            except Exception as exc:
                # A deliverer bug is not something a retry fixes.
                error = describe_error(exc)
                break
            else:
                self.recorder.delivered(result)
                return True
            if attempt < self.attempts:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                self.recorder.delivery_retry(result, attempt, delay, error)
                try:
                    await anyio.sleep(delay)
                except anyio.get_cancelled_exc_class():
                    self.recorder.delivery_failed(result, f"{error} (odek stopped before a retry)")
                    raise
        self.recorder.delivery_failed(result, error)
        return False
