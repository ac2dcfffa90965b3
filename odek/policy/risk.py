"""Risk classes a tool call falls into, and the actions a policy can take on them."""

from __future__ import annotations

import enum


class RiskClass(enum.StrEnum):
    """How dangerous one tool call is. Members are ordered from least to most severe, so
    the worst of several classes is ``max(classes, key=RiskClass.severity)``."""

    SAFE = "safe"
    LOCAL_WRITE = "local_write"
    NETWORK_EGRESS = "network_egress"
    SYSTEM_WRITE = "system_write"
    CODE_EXECUTION = "code_execution"
    INSTALL = "install"
    UNKNOWN = "unknown"
    DESTRUCTIVE = "destructive"
    BLOCKED = "blocked"

    @property
    def severity(self) -> int:
        """The position of the class in the order above (0 = safe, 8 = blocked)."""
        return _SEVERITY[self]


_SEVERITY = {cls: rank for rank, cls in enumerate(RiskClass)}


def worst(classes: list[RiskClass]) -> RiskClass:
    """The most severe of ``classes``; ``SAFE`` for an empty list."""
    return max(classes, key=_SEVERITY.__getitem__, default=RiskClass.SAFE)


class Action(enum.StrEnum):
    """What a policy does with a call: run it, ask the approver, or refuse it."""

    ALLOW = "allow"
    PROMPT = "prompt"
    DENY = "deny"


#: The built-in action of every class when settings name none (odek-reference §5).
DEFAULT_ACTIONS: dict[RiskClass, Action] = {
    RiskClass.SAFE: Action.ALLOW,
    RiskClass.LOCAL_WRITE: Action.ALLOW,
    RiskClass.SYSTEM_WRITE: Action.PROMPT,
    RiskClass.NETWORK_EGRESS: Action.PROMPT,
    RiskClass.CODE_EXECUTION: Action.PROMPT,
    RiskClass.INSTALL: Action.PROMPT,
    RiskClass.DESTRUCTIVE: Action.DENY,
    RiskClass.BLOCKED: Action.DENY,
    RiskClass.UNKNOWN: Action.DENY,
}
