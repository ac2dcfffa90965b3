"""The user-facing shape of a safety policy, as it appears in the configuration.

The same struct is used for the global ``dangerous`` section and for
``schedules.dangerous``; :func:`odek.policy.build_policy` turns it into an immutable
:class:`odek.policy.Policy` for one run.
"""

from __future__ import annotations

import msgspec

from odek.policy.risk import Action, RiskClass

_CLASSES = ", ".join(c.value for c in RiskClass)
_ACTIONS = ", ".join(a.value for a in Action)


class PolicySettings(msgspec.Struct, forbid_unknown_fields=True):
    """``{classes: {class: action}, allowlist: [exact command], denylist: [command prefix],
    action: default action for every class ("" = built-in defaults), non_interactive:
    allow|deny}``.

    Decoding with msgspec validates every value: an unknown class name, an action other
    than allow/prompt/deny, or a ``non_interactive`` other than allow/deny raises
    :class:`msgspec.ValidationError` whose message names the offending key and value and
    ends with the path (for example ``- at `$.schedules.dangerous```).
    """

    classes: dict[str, str] = {}
    allowlist: list[str] = []
    denylist: list[str] = []
    action: str = ""
    non_interactive: str = "deny"

    def __post_init__(self) -> None:
        # msgspec wraps a ValueError raised here in a ValidationError carrying the path.
        for name, action in self.classes.items():
            if name not in RiskClass.__members__.values():
                raise ValueError(
                    f"classes: unknown risk class {name!r} (expected one of {_CLASSES})"
                )
            if action not in Action.__members__.values():
                raise ValueError(
                    f"classes.{name}: invalid action {action!r} (expected one of {_ACTIONS})"
                )
        if self.action and self.action not in Action.__members__.values():
            raise ValueError(
                f"action: invalid action {self.action!r} (expected {_ACTIONS} or empty)"
            )
        if self.non_interactive not in (Action.ALLOW, Action.DENY):
            raise ValueError(
                f"non_interactive: invalid value {self.non_interactive!r} (expected allow or deny)"
            )
