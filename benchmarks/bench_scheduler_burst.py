"""10,000 jobs due in the same minute: time until all have run and their outcomes are on disk.

Run: ``python3 -m uv run python benchmarks/bench_scheduler_burst.py [--jobs N]``

10,000 hourly jobs share one minute; the service (``SchedulerService`` with a runner and a
deliverer that do nothing, ``max_concurrent`` 64, JSON logs to a file as the daemon's)
runs on the real clock shifted by a constant so that this minute begins about 2 s after
start-up instead of up to an hour later. Measured from the nominal fire instant until

- every job's run has started and its result was delivered;
- the run journal (``schedule-runs.jsonl``) holds every intent, outcome and delivery
  durably (``Journal.commit``);
- a write of ``schedule-state.json`` holds every job's ``ok`` outcome (the state actor's
  batched ``JobStore.update_states``, timed as it returns)

[<= 2 s]. Afterwards both files are read back and checked.

Peer, in the same run: the same number of no-op runs through a bare anyio task group
with a ``CapacityLimiter(64)`` and no bookkeeping at all.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import _support as bench
import anyio
import msgspec

from odek.config.model import SchedulesConfig
from odek.scheduler import SchedulerService, read_history
from odek.scheduler.journal import JOURNAL_FILE
from odek.store import JobStore, RunState

TARGET_S = 2.0
CONCURRENCY = 64
LEAD_S = 4.0


async def burst(home: Path, count: int) -> tuple[float, float, float, float]:
    """Run the service through one burst; returns seconds from the nominal instant to:
    the last runner start, the last delivery, the journal durable, the state written."""
    clock = bench.ShiftedClock.boundary_in(LEAD_S)
    nominal = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    minute = nominal.minute
    jobs = [
        msgspec.structs.replace(job, cron=f"{minute} * * * *", timezone="", enabled=True)
        for job in bench.job_mix(count)
    ]
    bench.write_jobs(home, jobs)
    ids = {job.id for job in jobs}

    delivered, state_written = anyio.Event(), anyio.Event()
    stamps: dict[str, float] = {}

    def on_deliver(done: int) -> None:
        if done == count:
            delivered.set()

    runner = bench.NoopRunner(time.perf_counter)
    deliverer = bench.NoopDeliverer(on_deliver=on_deliver)
    service = SchedulerService(
        msgspec.structs.replace(SchedulesConfig(), max_concurrent=CONCURRENCY),
        runner=runner,
        deliverer=deliverer,
        home=home,
        clock=clock,
    )

    # Time each state batch as it returns, and note when one has every job's outcome.
    written_ok: set[str] = set()
    update_states = service.store.update_states

    def timed_update(changes: Mapping[str, RunState | None]) -> None:
        update_states(changes)
        written_ok.update(
            key for key, state in changes.items() if state is not None and state.runs >= 1
        )
        if "state" not in stamps and written_ok >= ids:
            stamps["state"] = time.perf_counter()
            anyio.from_thread.run_sync(state_written.set)  # the state actor's worker thread

    service.store.update_states = timed_update  # type: ignore[method-assign]

    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        if clock.now() >= nominal:
            raise SystemExit(f"start-up took over {LEAD_S} s: the fire came before ready")
        with anyio.fail_after(120):
            await delivered.wait()
            stamps["delivered"] = time.perf_counter()
            await service.journal.commit()
            stamps["journal"] = time.perf_counter()
            await state_written.wait()
        # The perf_counter reading of the nominal instant, from the clock's offset now.
        nominal_perf = time.perf_counter() - (clock.now() - nominal).total_seconds()
        service.stop()

    starts = [start for _, _, start in runner.started]
    check_files(home, ids, nominal)
    return (
        max(starts) - nominal_perf,
        stamps["delivered"] - nominal_perf,
        stamps["journal"] - nominal_perf,
        stamps["state"] - nominal_perf,
    )


def check_files(home: Path, ids: set[str], nominal: datetime) -> None:
    """Every job has one delivered ``ok`` run in the journal and ``ok`` in the state file."""
    states = JobStore(home).load_states()
    bad = [i for i in ids if states[i].last_status != "ok" or states[i].runs != 1]
    if bad:
        raise SystemExit(f"state file: {len(bad)} jobs without their outcome, e.g. {bad[0]}")
    sample = sorted(ids)[:: max(1, len(ids) // 20)]
    for job_id in sample:
        (run,) = read_history(home, job_id)
        if (run.outcome, run.delivery, run.nominal) != ("ok", "delivered", nominal):
            raise SystemExit(f"journal: {job_id}: {run}")
    lines = (home / JOURNAL_FILE).read_bytes().count(b"\n")
    if lines < 4 * len(ids):  # intent, finish, delivering, delivered
        raise SystemExit(f"journal: only {lines} records for {len(ids)} runs")


async def peer(count: int) -> float:
    """Seconds for ``count`` no-op runs through a task group and a capacity limiter."""
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    done = 0

    async def run() -> None:
        nonlocal done
        async with limiter:
            await anyio.lowlevel.checkpoint()
            done += 1

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(run)
    assert done == count
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    count = parser.parse_args().jobs
    with bench.temporary_home() as home, bench.logs_to(home.parent / "daemon.log"):
        started, delivered, journal, state = anyio.run(burst, home, count)
        bare = anyio.run(peer, count)
    print(f"{count} jobs due in the same minute, no-op runner, max_concurrent {CONCURRENCY}")
    print("seconds after the nominal fire instant:")
    print(f"  {'last runner start':<44} {started:10.3f} s")
    print(f"  {'last result delivered':<44} {delivered:10.3f} s")
    print(f"  {'journal durable (intent/finish/delivery)':<44} {journal:10.3f} s")
    print(f"  {'state file written with every outcome':<44} {state:10.3f} s")
    results = [
        bench.row("all run and recorded (journal + state)", max(journal, state), "s", TARGET_S)
    ]
    print("\npeer (same run):")
    print(f"  {'bare task group + CapacityLimiter(64)':<44} {bare:10.3f} s")
    bench.ratio("service / bare task group (until delivered)", delivered, bare, "x")
    return bench.summary(results)


if __name__ == "__main__":
    sys.exit(main())
