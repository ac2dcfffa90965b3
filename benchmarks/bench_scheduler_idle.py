"""An idle scheduler: 10,000 jobs, none due within the hour, watched for 60 s.

Run: ``python3 -m uv run python benchmarks/bench_scheduler_idle.py [--jobs N] [--seconds S]``

The service (``SchedulerService`` on the real, unshifted system clock, no-op runner, JSON
logs to a file as the daemon's) loads 10,000 daily jobs whose fire times are all at least
two hours away, settles for a few seconds (start-up and the first state write), then is
left alone for 60 s. Measured over that window:

- timer wake-ups per minute (``Timer.wakeups``) [<= 2];
- CPU used by the process (``/proc/self/stat`` user + system) as a share of one core
  [<= 0.5 %]. Every thread counts: the store watcher's file-event thread included.

Peer, in the same run and over the same window, measured the same way: a separate Python
process running an anyio event loop with nothing scheduled (it sleeps).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime

import _support as bench
import anyio
import msgspec

from odek.config.model import SchedulesConfig
from odek.scheduler import SchedulerService

SETTLE_S = 3.0
WAKEUPS_TARGET = 2.0
CPU_TARGET_PCT = 0.5
PEER_CODE = "import anyio\nprint('ready', flush=True)\nanyio.run(anyio.sleep, 3600)\n"


async def watch(count: int, seconds: float, peer: int) -> tuple[int, float, float, float]:
    """(jobs scheduled, wake-ups per minute, our CPU %, the CPU % of process ``peer``) over
    ``seconds``."""
    with bench.temporary_home() as home:
        now = datetime.now(UTC)
        hours = [(now.hour + 2 + h) % 24 for h in range(21)]  # never this hour or the next
        jobs = [
            msgspec.structs.replace(
                job, cron=f"{index % 60} {hours[index % len(hours)]} * * *", timezone="UTC"
            )
            for index, job in enumerate(bench.job_mix(count))
        ]
        bench.write_jobs(home, jobs)
        service = SchedulerService(
            SchedulesConfig(),
            runner=bench.NoopRunner(time.perf_counter),
            deliverer=bench.NoopDeliverer(),
            home=home,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(service.run)
            await anyio.sleep(SETTLE_S)
            wakeups, cpu = service.timer.wakeups, bench.cpu_seconds()
            peer_cpu = bench.cpu_seconds(peer)
            began = time.monotonic()
            await anyio.sleep(seconds)
            elapsed = time.monotonic() - began
            wakeups = service.timer.wakeups - wakeups
            cpu = bench.cpu_seconds() - cpu
            peer_cpu = bench.cpu_seconds(peer) - peer_cpu
            jobs_scheduled = len(service.table)
            service.stop()
    minutes = elapsed / 60
    return (
        jobs_scheduled,
        wakeups / minutes,
        100 * cpu / elapsed,
        100 * peer_cpu / elapsed,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    peer = subprocess.Popen([sys.executable, "-c", PEER_CODE], stdout=subprocess.PIPE, text=True)
    try:
        assert peer.stdout is not None
        peer.stdout.readline()  # its start-up is over
        with bench.temporary_home() as root, bench.logs_to(root.parent / "daemon.log"):
            scheduled, per_minute, cpu, peer_cpu = anyio.run(
                watch, args.jobs, args.seconds, peer.pid
            )
    finally:
        peer.kill()
        peer.wait()
        if peer.stdout is not None:
            peer.stdout.close()
    print(f"{scheduled} jobs scheduled, none due within the hour; {args.seconds:g} s idle")
    results = [
        bench.row("timer wake-ups per minute", per_minute, "", WAKEUPS_TARGET, digits=2),
        bench.row("process CPU, share of one core", cpu, "%", CPU_TARGET_PCT, digits=3),
    ]
    print("\npeer (same window): an idle anyio loop in its own process")
    print(f"  {'process CPU, share of one core':<44} {peer_cpu:10.3f} %")
    tick = 100 * 0.01 / args.seconds  # one clock tick over the window: /proc's resolution
    bench.ratio(
        "our CPU / idle loop's CPU",
        cpu,
        max(peer_cpu, tick),
        "x; the peer floored at one 10 ms tick",
    )
    return bench.summary(results)


if __name__ == "__main__":
    sys.exit(main())
