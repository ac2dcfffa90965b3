"""Fire latency on the real clock: nominal fire time to the runner's start.

Run: ``python3 -m uv run python benchmarks/bench_scheduler_latency.py [--rounds N]``

Cron fires only on minute boundaries, so the real clock gives one fire instant a minute.
To get many samples in a few minutes, each round starts a fresh ``SchedulerService``
(no-op runner and deliverer, JSON logs to a file as the daemon's) with one
``* * * * *`` job on the real clock shifted by a constant, chosen so that the next minute
boundary comes 0.5 s after the round begins; the service sleeps on the real monotonic
clock exactly as the daemon does. The latency is the runner's start (read on the same
clock) minus the nominal fire time; every round gives one sample from a real timer sleep,
a real journal commit of the run's intent and a real run lock.

Targets: p50 <= 5 ms, p99 <= 20 ms.

Peer, in the same run and measured the same way: a bare ``anyio.sleep`` until the same
kind of instant (the wake-up alone, nothing else).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import timedelta
from pathlib import Path

import _support as bench
import anyio
import msgspec

from odek.config.model import SchedulesConfig
from odek.scheduler import SchedulerService

LEAD_S = 0.5
P50_TARGET_MS = 5.0
P99_TARGET_MS = 20.0


async def one_fire(home: Path) -> float:
    """One round: seconds from the nominal fire to the runner's start."""
    clock = bench.ShiftedClock.boundary_in(LEAD_S)
    nominal = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    (job,) = bench.job_mix(1)
    bench.write_jobs(
        home, [msgspec.structs.replace(job, cron="* * * * *", enabled=True, timezone="")]
    )
    started = anyio.Event()
    runner = bench.NoopRunner(lambda: clock.now().timestamp(), on_start=lambda n: started.set())
    service = SchedulerService(
        SchedulesConfig(), runner=runner, deliverer=bench.NoopDeliverer(), home=home, clock=clock
    )
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        if clock.now() >= nominal:
            raise SystemExit(f"start-up took over {LEAD_S} s")
        with anyio.fail_after(10):
            await started.wait()
        service.stop()
    ((_, fired, at),) = runner.started
    if fired != nominal:
        raise SystemExit(f"fired for {fired}, expected {nominal}")
    return at - nominal.timestamp()


async def bare_wakeup() -> float:
    """The peer: sleep until a chosen instant of a shifted clock; how late the wake-up is."""
    clock = bench.ShiftedClock.boundary_in(0.2)
    nominal = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    await anyio.sleep((nominal - clock.now()).total_seconds())
    return (clock.now() - nominal).total_seconds()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=120)
    rounds = parser.parse_args().rounds
    with bench.temporary_home() as root, bench.logs_to(root.parent / "daemon.log"):
        ours = [anyio.run(one_fire, root / f"round-{n}") for n in range(rounds)]
        peer = [anyio.run(bare_wakeup) for _ in range(rounds)]
    ms = [x * 1000 for x in ours]
    peer_ms = [x * 1000 for x in peer]
    print(f"{rounds} fires, nominal time to runner start (ms):")
    print(
        f"  min {min(ms):.2f}  mean {statistics.mean(ms):.2f}  max {max(ms):.2f}"
        f"   (peer: min {min(peer_ms):.2f}  mean {statistics.mean(peer_ms):.2f}"
        f"  max {max(peer_ms):.2f})"
    )
    results = [
        bench.row("p50", percentile(ms, 0.50), "ms", P50_TARGET_MS, digits=2),
        bench.row("p99", percentile(ms, 0.99), "ms", P99_TARGET_MS, digits=2),
    ]
    print("\npeer (same run): bare anyio.sleep until the instant")
    print(f"  {'p50':<44} {percentile(peer_ms, 0.5):10.2f} ms")
    print(f"  {'p99':<44} {percentile(peer_ms, 0.99):10.2f} ms")
    bench.ratio(
        "p50 service / p50 bare wake-up", percentile(ms, 0.5), percentile(peer_ms, 0.5), "x"
    )
    return bench.summary(results)


if __name__ == "__main__":
    sys.exit(main())
