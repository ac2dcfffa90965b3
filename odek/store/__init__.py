"""The job store: ``schedules.json`` (jobs) and ``schedule-state.json`` (run records)
under ODEK_HOME, in odek's file formats, written atomically under a cross-process lock."""

from odek.store.jobs import JobStore
from odek.store.models import DELIVERY_KINDS, Delivery, Job, JobsSnapshot, RunState
from odek.store.validate import first_words

__all__ = [
    "DELIVERY_KINDS",
    "Delivery",
    "Job",
    "JobStore",
    "JobsSnapshot",
    "RunState",
    "first_words",
]
