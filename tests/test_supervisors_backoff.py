"""Backoff delays and the validation of supervisor settings."""

from __future__ import annotations

import pytest
from anyio.abc import TaskStatus

from supervisors import Backoff, ChildSpec, Restart, Supervisor


async def idle(*, task_status: TaskStatus[None]) -> None:
    task_status.started()


def test_backoff_delay_grows_by_factor_and_stops_at_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=3, maximum=10)
    assert [backoff.delay(n) for n in range(5)] == [0.5, 1.5, 4.5, 10, 10]


def test_backoff_delay_of_a_huge_attempt_is_the_maximum_not_an_overflow() -> None:
    assert Backoff(initial=1, factor=2, maximum=60).delay(10_000) == 60


def test_backoff_with_zero_initial_never_waits() -> None:
    assert Backoff(initial=0).delay(10_000) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": -1}, "Backoff.initial must be >= 0, got -1"),
        ({"factor": 0.5}, "Backoff.factor must be >= 1, got 0.5"),
        ({"initial": 5, "maximum": 1}, r"Backoff.maximum must be >= initial \(5\), got 1"),
        ({"reset_after": float("nan")}, "Backoff.reset_after must be >= 0, got nan"),
    ],
)
def test_backoff_rejects_settings_that_make_no_sense(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


@pytest.mark.parametrize(
    ("restart", "raised", "expected"),
    [
        (Restart.PERMANENT, False, True),
        (Restart.TRANSIENT, True, True),
        (Restart.TRANSIENT, False, False),
        (Restart.TEMPORARY, True, False),
    ],
)
def test_restart_types_decide_on_the_childs_outcome(
    restart: Restart, raised: bool, expected: bool
) -> None:
    assert restart.restarts_after(ValueError() if raised else None) is expected


def test_supervisor_rejects_duplicate_child_names() -> None:
    with pytest.raises(ValueError, match=r"supervisor 'root': duplicate child names \['a'\]"):
        Supervisor("root", [ChildSpec("a", idle), ChildSpec("b", idle), ChildSpec("a", idle)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_restarts": -1}, "max_restarts must be >= 0, got -1"),
        ({"within": 0}, "within must be > 0, got 0"),
        ({"grace": -0.5}, "grace must be >= 0, got -0.5"),
    ],
)
def test_supervisor_rejects_bad_intensity_and_grace(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Supervisor("root", [], **kwargs)  # type: ignore[arg-type]


def test_child_spec_rejects_empty_name_and_negative_grace() -> None:
    with pytest.raises(ValueError, match=r"ChildSpec\.name must not be empty"):
        ChildSpec("", idle)
    with pytest.raises(ValueError, match="ChildSpec 'a': grace must be >= 0, got -1"):
        ChildSpec("a", idle, grace=-1)
