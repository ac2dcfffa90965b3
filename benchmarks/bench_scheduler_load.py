"""Start-up of the scheduler daemon with 100,000 jobs: time to ``ready`` and memory.

Run: ``python3 -m uv run python benchmarks/bench_scheduler_load.py [--jobs N]``

Writes a realistic mix of 100,000 jobs (crons of every kind, a dozen zones, every delivery
kind; see ``_support.job_mix``) to ``schedules.json`` in a temporary ODEK_HOME, then runs
the real daemon (``python -m odek schedule daemon``, JSON logs) twice:

- *cold*: no ``schedule-state.json`` yet, so every job's next fire is computed and the
  whole state file is written in the first batch;
- *warm*: started again on the state file the cold run left (the usual restart).

For each: wall time from spawning the process to its ``ready`` log event (interpreter
start and imports included) [<= 3 s], and the daemon's resident memory (``VmHWM``, the
peak, read from ``/proc/<pid>/status`` 3 s after ``ready``, once the first state batch is
written) [<= 300 MB]. Then one state batch (64 changed records) is written through
``JobStore.update_states`` at 100,000 records, the way the state actor writes every
second while jobs run [<= 250 ms].

Peers, in the same run: the time to merely decode the same ``schedules.json`` with
``msgspec.json.decode`` and with ``json.load`` (no validation, no schedule), and the peak
memory of a Python process that only ``json.load`` s it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import _support as bench
import msgspec

from odek.store import JobStore

RSS_TARGET_MB = 300.0
READY_TARGET_S = 3.0
BATCH_TARGET_S = 0.25
SETTLE_S = 3.0


def daemon_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODEK_")}
    env.update(
        ODEK_HOME=str(home),
        HOME=str(home.parent),
        ODEK_BASE_URL="http://127.0.0.1:9/v1",  # nothing listens: a fire fails fast
        ODEK_API_KEY="sk-bench-not-a-key",
        ODEK_MODEL="bench-model",
        ODEK_LOG_FORMAT="json",
        ODEK_SCHEDULES_DRAIN_TIMEOUT="1s",
    )
    return env


def run_daemon(home: Path) -> tuple[float, int, float, float]:
    """Start the daemon, wait for ``ready``; returns (seconds to ready, jobs it reported,
    peak RSS at ready, peak RSS after settling) and stops it with SIGTERM."""
    began = time.perf_counter()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "odek", "schedule", "daemon"],
        cwd=home.parent,
        env=daemon_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert daemon.stderr is not None
    try:
        ready_at, jobs = 0.0, -1
        for line in daemon.stderr:
            if line.startswith("{") and json.loads(line).get("event") == "ready":
                ready_at, jobs = time.perf_counter(), int(json.loads(line)["jobs"])
                break
        else:
            raise SystemExit(f"the daemon exited ({daemon.wait()}) before it was ready")
        _, peak_ready = bench.rss_mb(daemon.pid)
        # Keep draining its log so that it never blocks on a full pipe.
        drain = threading.Thread(target=lambda: [None for _ in daemon.stderr or ()], daemon=True)
        drain.start()
        time.sleep(SETTLE_S)
        _, peak_settled = bench.rss_mb(daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        if daemon.wait(timeout=120) != 0:
            raise SystemExit(f"the daemon exited {daemon.returncode}")
        drain.join(timeout=10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        daemon.stderr.close()
    return ready_at - began, jobs, peak_ready, peak_settled


def peer_decode(path: Path) -> tuple[float, float]:
    """Best-of-3 seconds to read and decode ``path`` with msgspec and with json."""
    fast = slow = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        msgspec.json.decode(path.read_bytes())
        fast = min(fast, time.perf_counter() - began)
        began = time.perf_counter()
        with path.open("rb") as f:
            json.load(f)
        slow = min(slow, time.perf_counter() - began)
    return fast, slow


def peer_memory(path: Path) -> float:
    """Peak RSS (MiB) of a Python process that only ``json.load`` s ``path``."""
    code = (
        "import json, sys\n"
        "data = json.load(open(sys.argv[1], 'rb'))\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip()) / 1024


def state_batch(home: Path, size: int = 64) -> tuple[float, int]:
    """Median seconds of one ``update_states`` of ``size`` records (5 batches), and how many
    records the file holds."""
    store = JobStore(home)
    states = store.load_states()
    ids = list(states)
    times = []
    for batch in range(5):
        now = datetime.now(UTC)
        changes = {
            job_id: msgspec.structs.replace(
                states[job_id], last_run=now, last_status="ok", runs=states[job_id].runs + 1
            )
            for job_id in ids[batch * size : (batch + 1) * size]
        }
        began = time.perf_counter()
        store.update_states(changes)
        times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2], len(states)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    count = parser.parse_args().jobs
    results: list[bool] = []
    with bench.temporary_home() as home:
        jobs = bench.job_mix(count)
        enabled = sum(job.enabled for job in jobs)
        size = bench.write_jobs(home, jobs)
        del jobs
        path = home / "schedules.json"
        print(f"{count} jobs ({enabled} enabled), schedules.json {size / 1e6:.1f} MB")

        runs = {}
        for label in ("cold", "warm"):
            seconds, reported, peak_ready, peak_settled = run_daemon(home)
            if reported != enabled:
                raise SystemExit(f"{label}: the daemon reported {reported} jobs, not {enabled}")
            runs[label] = seconds
            print(f"\n{label} start (state file {'absent' if label == 'cold' else 'present'}):")
            results.append(bench.row("spawn to ready", seconds, "s", READY_TARGET_S))
            results.append(
                bench.row("peak RSS at ready", peak_ready, "MB", RSS_TARGET_MB, digits=1)
            )
            results.append(
                bench.row(
                    f"peak RSS {SETTLE_S:g} s later (first state write)",
                    peak_settled,
                    "MB",
                    RSS_TARGET_MB,
                    digits=1,
                )
            )
        batch, records = state_batch(home)
        print(f"\nstate batch at {records} records:")
        results.append(bench.row("update_states, 64 changed records", batch, "s", BATCH_TARGET_S))

        fast, slow = peer_decode(path)
        memory = peer_memory(path)
        print("\npeers (same file, same run):")
        print(f"  {'msgspec.json.decode':<44} {fast:10.3f} s")
        print(f"  {'json.load':<44} {slow:10.3f} s")
        print(f"  {'peak RSS of a process that json.loads it':<44} {memory:10.1f} MB")
        bench.ratio("warm start / msgspec decode", runs["warm"], fast, "x slower than decoding")
        bench.ratio("warm start / json.load", runs["warm"], slow, "x slower than decoding")
    return bench.summary(results)


if __name__ == "__main__":
    sys.exit(main())
