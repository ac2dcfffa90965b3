"""Next-fire throughput of odek.cron against cronsim and croniter, in the same run.

Run: ``python3 -m uv run python benchmarks/bench_cron.py``

Over a fixed mix of expressions (dense, business hours, sparse) in UTC and Europe/Berlin:

(a) parse + first fire: ``parse(expr).next_after(start, tz)``, once with parse's cache as
    the service uses it and once with a cold parse (the cache bypassed);
(b) 100 consecutive fires from a compiled object.

Each figure is the best of several rounds, in microseconds per expression (a) or per fire
(b); the ratio is cronsim's time divided by odek's (higher is better for odek).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from croniter import croniter
from cronsim import CronSim

from odek.cron import load_zone, parse

T = TypeVar("T")
ROUNDS = 5
FIRES = 100
START = datetime(2026, 1, 15, 10, 17, 23, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin")


def expression_mix() -> list[str]:
    """A fixed mix of at least 100 distinct five-field expressions."""
    dense = [
        "* * * * *",
        "*/2 * * * *",
        "*/5 * * * *",
        "*/15 * * * *",
        "0,30 * * * *",
        "15,45 * * * *",
        "0 * * * *",
        "30 * * * *",
        "*/10 */2 * * *",
        "5/20 * * * *",
    ]
    business = [
        "0 9 * * 1-5",
        "30 8 * * mon-fri",
        "*/15 9-17 * * 1-5",
        "0 9-17 * * 1-5",
        "0 12 * * 1-5",
        "0 18 * * fri",
        "45 7 * * 1,3,5",
        "0 8,12,16 * * mon-fri",
        "*/30 8-18 * * 1-5",
        "0 10 * * 2-4",
    ]
    sparse = [
        "0 0 29 2 *",
        "0 0 13 * 5",
        "0 0 1 1 *",
        "0 12 31 * *",
        "0 0 * jan mon",
        "0 0 1,15 * *",
        "0 6 1 */3 *",
        "0 0 31 12 *",
        "30 4 1 * 0",
        "0 0 */2 * 5",
    ]
    # Daily jobs at assorted times, some on chosen days, to reach a broad, fixed mix.
    generated = [
        f"{minute} {hour} * * *" for minute, hour in zip(range(0, 60, 3), range(24), strict=False)
    ]
    generated += [
        f"{minute} {hour} * * {day}"
        for minute, hour, day in zip(
            range(1, 60, 4), range(0, 24, 2), "012345601234560", strict=False
        )
    ]
    generated += [
        f"{minute} {hour} {day} * *"
        for minute, hour, day in zip(
            range(2, 60, 5), range(1, 24, 2), range(1, 29, 2), strict=False
        )
    ]
    generated += [
        f"*/{step} {hour}-{hour + 6} * * *"
        for step, hour in zip((2, 3, 4, 5, 6, 10, 12, 15, 20, 30), range(0, 17, 2), strict=False)
    ]
    generated += [f"0 {hour} 1-7 * 1" for hour in range(0, 24, 3)]
    generated += [
        f"15 {hour} * {month} *" for hour, month in zip(range(0, 24, 2), range(1, 13), strict=False)
    ]
    mix = dense + business + sparse + generated
    assert len(mix) == len(set(mix)) >= 100, len(mix)
    return mix


def best_of(
    rounds: int, work: Callable[[T], int], setup: Callable[[], T] = lambda: None
) -> tuple[float, int]:
    """Best wall time over ``rounds`` runs of ``work`` (given a fresh, untimed ``setup()``)
    and the count of operations it did."""
    best = float("inf")
    count = 0
    for _ in range(rounds):
        state = setup()
        began = time.perf_counter()
        count = work(state)
        best = min(best, time.perf_counter() - began)
    return best, count


def main() -> None:
    mix = expression_mix()
    zones = [load_zone(name) for name in ZONES]
    cases = [(expr, tz, START.astimezone(tz)) for tz in zones for expr in mix]
    cold_parse = parse.__wrapped__

    def odek_first_cached(_: object) -> int:
        for expr, tz, start in cases:
            parse(expr).next_after(start, tz)
        return len(cases)

    def odek_first_cold(_: object) -> int:
        for expr, tz, start in cases:
            cold_parse(expr).next_after(start, tz)
        return len(cases)

    def cronsim_first(_: object) -> int:
        for expr, _, start in cases:
            next(CronSim(expr, start))
        return len(cases)

    def croniter_first(_: object) -> int:
        for expr, _, start in cases:
            croniter(expr, start).get_next(datetime)
        return len(cases)

    compiled = [(parse(expr), tz, start) for expr, tz, start in cases]

    def odek_many(_: object) -> int:
        fires = 0
        for expr, tz, start in compiled:
            fires += len(list(islice(expr.iter_after(start, tz), FIRES)))
        return fires

    def cronsim_objects() -> list[CronSim]:
        return [CronSim(expr, start) for expr, _, start in cases]

    def cronsim_many(iterators: list[CronSim]) -> int:
        return sum(len(list(islice(iterator, FIRES))) for iterator in iterators)

    def croniter_objects() -> list[Any]:
        return [croniter(expr, start) for expr, _, start in cases]

    def croniter_many(iterators: list[Any]) -> int:
        fires = 0
        for iterator in iterators:
            for _ in range(FIRES):
                iterator.get_next(datetime)
                fires += 1
        return fires

    print(f"{len(mix)} expressions x {len(ZONES)} zones ({', '.join(ZONES)}), start {START}")
    print(f"best of {ROUNDS} rounds\n")

    first = {
        "odek (parse cached)": best_of(ROUNDS, odek_first_cached),
        "odek (parse cold)": best_of(ROUNDS, odek_first_cold),
        "cronsim": best_of(ROUNDS, cronsim_first),
        "croniter": best_of(ROUNDS, croniter_first),
    }
    reference = first["cronsim"][0] / first["cronsim"][1]
    print("(a) parse + first fire            us/expr   x cronsim")
    for name, (seconds, count) in first.items():
        per = seconds / count
        print(f"    {name:<28} {per * 1e6:8.2f}   {reference / per:6.2f}x")

    many = {
        "odek": best_of(ROUNDS, odek_many),
        "cronsim": best_of(ROUNDS, cronsim_many, cronsim_objects),
        "croniter": best_of(ROUNDS, croniter_many, croniter_objects),
    }
    reference = many["cronsim"][0] / many["cronsim"][1]
    print(f"\n(b) {FIRES} consecutive fires          us/fire   x cronsim")
    for name, (seconds, count) in many.items():
        per = seconds / count
        print(f"    {name:<28} {per * 1e6:8.2f}   {reference / per:6.2f}x")


if __name__ == "__main__":
    main()
