"""A generic supervision tree on anyio (runs on asyncio and trio).

A :class:`Supervisor` starts its children (:class:`ChildSpec`) in order, restarts the
ones that end according to their :class:`Restart` type and its :class:`Strategy`,
with a :class:`Backoff` delay, gives up with :class:`RestartIntensityExceeded` when they
crash too often, and stops them in reverse order, each within a bounded grace
(:func:`draining`, :func:`drain_task_group`). A supervisor is itself a valid child::

    async def worker(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        await serve_forever()

    sup = Supervisor("root", [ChildSpec("worker", worker)], on_event=log_event)
    await sup.run()  # until sup.stop(), cancellation, or giving up
"""

from supervisors._tasks import drain_task_group, draining
from supervisors.backoff import Backoff
from supervisors.events import EventKind, SupervisorEvent
from supervisors.exceptions import RestartIntensityExceeded, StartupError, SupervisorError
from supervisors.spec import ChildFn, ChildSpec, Restart
from supervisors.supervisor import Strategy, Supervisor

__all__ = [
    "Backoff",
    "ChildFn",
    "ChildSpec",
    "EventKind",
    "Restart",
    "RestartIntensityExceeded",
    "StartupError",
    "Strategy",
    "Supervisor",
    "SupervisorError",
    "SupervisorEvent",
    "drain_task_group",
    "draining",
]
