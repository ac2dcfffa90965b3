"""Exponential delays between the restarts of a crash-looping child."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before a child's ``n``-th consecutive restart: ``initial * factor**n``, capped.

    The count of consecutive restarts goes back to zero when the child had been up
    (ready) for at least ``reset_after`` seconds before it ended. ``initial=0`` restarts
    at once.
    """

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 10.0
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        if not self.initial >= 0:
            raise ValueError(f"Backoff.initial must be >= 0, got {self.initial!r}")
        if not self.factor >= 1:
            raise ValueError(f"Backoff.factor must be >= 1, got {self.factor!r}")
        if not self.maximum >= self.initial:
            raise ValueError(
                f"Backoff.maximum must be >= initial ({self.initial!r}), got {self.maximum!r}"
            )
        if not self.reset_after >= 0:
            raise ValueError(f"Backoff.reset_after must be >= 0, got {self.reset_after!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number ``attempt`` (0 for the first)."""
        if self.initial == 0:
            return 0.0
        try:
            return min(self.maximum, self.initial * self.factor**attempt)
        except OverflowError:
            return self.maximum
