"""Cost of one log event: odek's configured logger against plain structlog and json.dumps.

Run: ``python3 -m uv run python benchmarks/bench_logs.py``

The event is the scheduler's ``run_finished`` (job id, nominal time, run id, trigger,
outcome, tokens), written as a JSON line at level info to standard error, which is sent to
``/dev/null`` while measuring. Two secrets are registered, as the configuration does with
the API key and the bot token. Measured in the same run:

- odek: ``configure_logging(fmt="json")`` then ``get_logger(...).info(...)`` (structlog's
  pipeline, the whole line redacted once);
- peer: plain structlog (``make_filtering_bound_logger``, the same level, log level and
  timestamp processors, ``JSONRenderer``, a logger writing to stderr; no redaction);
- floor: ``json.dumps`` of the same dict and a write.

Also a debug event below the level (filtered). Each figure is the best of several rounds,
in microseconds per event. Target: <= 12 µs per event, so 10,000 runs (a handful of events
each) fit in the scheduler's 2 s budget; <= 1.5 µs for a filtered event.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog
from _support import ratio, row, summary

from odek.logs import configure_logging, get_logger
from odek.redact import forget_secrets, register_secret

ROUNDS = 7
EVENTS = 20_000
FIELDS: dict[str, Any] = {
    "job_id": "daily-report",
    "nominal": "2026-01-15T09:00:00+00:00",
    "run_id": "r-01JH5Q3X8N2M4K7P9R",
    "trigger": "cron",
    "outcome": "ok",
    "tokens": 12,
}


def best_us(action: Callable[[], object]) -> float:
    """Best per-call time over ``ROUNDS`` rounds of ``EVENTS`` calls, in microseconds."""
    for _ in range(1000):
        action()
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(EVENTS):
            action()
        best = min(best, (time.perf_counter() - start) / EVENTS)
    return best * 1e6


class _PeerLogger:
    """Plain structlog's sink: the rendered line written to the current stderr."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    info = debug = msg


def measure() -> dict[str, float]:
    register_secret("sk-" + "Zq9x" * 10)
    register_secret("123456789:AAH" + "b3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0")
    configure_logging(fmt="json", level="info")
    odek_log = get_logger("odek.scheduler")
    peer_log = structlog.wrap_logger(
        _PeerLogger(),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger("info"),
        cache_logger_on_first_use=True,
    )

    def floor() -> None:
        sys.stderr.write(json.dumps({"event": "run_finished", **FIELDS}) + "\n")

    with open(os.devnull, "w") as devnull:
        saved, sys.stderr = sys.stderr, devnull
        try:
            return {
                "odek": best_us(lambda: odek_log.info("run_finished", **FIELDS)),
                "peer": best_us(lambda: peer_log.info("run_finished", **FIELDS)),
                "floor": best_us(floor),
                "odek_filtered": best_us(lambda: odek_log.debug("run_finished", **FIELDS)),
                "peer_filtered": best_us(lambda: peer_log.debug("run_finished", **FIELDS)),
            }
        finally:
            sys.stderr = saved
            forget_secrets()


def main() -> int:
    figures = measure()
    print("log event cost (JSON line to /dev/null, best of rounds)")
    results = [
        row("odek event (redacted)", figures["odek"], "µs", 12, digits=2),
        row("odek filtered debug event", figures["odek_filtered"], "µs", 1.5, digits=2),
    ]
    print(f"  {'plain structlog event (no redaction)':<44} {figures['peer']:10.2f} µs")
    print(f"  {'plain structlog filtered event':<44} {figures['peer_filtered']:10.2f} µs")
    print(f"  {'json.dumps + write':<44} {figures['floor']:10.2f} µs")
    ratio("odek / plain structlog", figures["odek"], figures["peer"], "plain structlog")
    ratio("odek / json.dumps + write", figures["odek"], figures["floor"], "json.dumps + write")
    return summary(results)


if __name__ == "__main__":
    sys.exit(main())
