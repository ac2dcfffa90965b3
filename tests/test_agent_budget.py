"""The daily token budget: refusal before a run, overshoot recorded, UTC day, flock."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from odek.agent import TokenBudget
from odek.errors import BudgetExhaustedError, RunError


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_unlimited_budget_never_refuses_but_records(odek_home: Path) -> None:
    budget = TokenBudget(odek_home, 0)
    budget.record(10**9)
    budget.check()
    assert budget.used() == 10**9


def test_spent_budget_refuses_and_overshoot_is_recorded(odek_home: Path) -> None:
    budget = TokenBudget(odek_home, 100)
    assert budget.record(60) == 60
    budget.check()
    assert budget.record(250) == 310
    with pytest.raises(BudgetExhaustedError, match=r"\(310/100 tokens\).*midnight UTC"):
        budget.check()


def test_usage_exactly_at_limit_refuses(odek_home: Path) -> None:
    budget = TokenBudget(odek_home, 100)
    budget.record(100)
    with pytest.raises(BudgetExhaustedError):
        budget.check()


def test_day_rolls_over_at_utc_midnight(odek_home: Path) -> None:
    clock = Clock(datetime(2026, 6, 4, 23, 59, tzinfo=UTC))
    budget = TokenBudget(odek_home, 100, clock=clock)
    budget.record(500)
    # 01:30 in Berlin on the 5th is still the 4th in UTC.
    clock.now = datetime(2026, 6, 5, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert budget.used() == 500
    clock.now = datetime(2026, 6, 5, 0, 0, tzinfo=UTC)
    assert budget.used() == 0
    budget.check()
    assert budget.record(7) == 7


def test_files_are_private(odek_home: Path) -> None:
    budget = TokenBudget(odek_home, 10)
    budget.record(1)
    for name in ("token-usage.json", "token-usage.lock"):
        assert stat.S_IMODE((odek_home / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in odek_home.iterdir()) == ["token-usage.json", "token-usage.lock"]


def test_corrupt_counter_is_an_error_naming_the_file(odek_home: Path) -> None:
    odek_home.mkdir(parents=True, exist_ok=True)
    (odek_home / "token-usage.json").write_text("{not json")
    with pytest.raises(RunError, match=r"token-usage\.json: corrupt token usage file"):
        TokenBudget(odek_home, 10).check()


def test_processes_share_one_counter(odek_home: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from odek.agent import TokenBudget
        budget = TokenBudget(Path({str(odek_home)!r}), 0)
        for _ in range(100):
            budget.record(1)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    assert TokenBudget(odek_home, 0).used() == 400
