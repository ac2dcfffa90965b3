"""The immutable policy one run uses to decide every tool call.

:func:`build_policy` makes a fresh :class:`Policy` for each run from the configured
settings; nothing in it is shared with the settings or with any other run (the original
odek shared one mutable map between runs, odek-reference §8 item 4).

Decision order for one call (:meth:`Policy.decide`):

1. ``blocked`` anywhere in the call → deny, always (no setting, list or mode allows it).
2. Unattended runs: ``destructive`` anywhere in the call → deny (the unattended floor).
3. A shell command equal (after trimming) to an ``allowlist`` entry → allow.
4. A shell command, or any simple command inside it, starting with a ``denylist``
   entry → deny.
5. Otherwise each class found in the call gets an action: ``classes[cls]`` if set, else
   ``action`` if set, else the built-in default (:data:`odek.policy.risk.DEFAULT_ACTIONS`);
   the most restrictive action over all classes wins (deny > prompt > allow).
6. ``prompt`` in an unattended run → deny (nobody is there to answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from odek.policy.classify import Classification
from odek.policy.risk import DEFAULT_ACTIONS, Action, RiskClass
from odek.policy.settings import PolicySettings

__all__ = ["Decision", "Policy", "build_policy"]

_RESTRICTIVENESS = {Action.ALLOW: 0, Action.PROMPT: 1, Action.DENY: 2}


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy does with one call, the class that decided it, and why."""

    action: Action
    risk: RiskClass
    reason: str

    def denial(self) -> str:
        """The tool result a denied call returns to the model."""
        return f"denied: {self.reason}"


@dataclass(frozen=True, slots=True)
class Policy:
    """A frozen policy. ``classes`` is a read-only mapping, the lists are tuples; build it
    with :func:`build_policy` rather than directly."""

    classes: Mapping[RiskClass, Action]
    allowlist: frozenset[str]
    denylist: tuple[str, ...]
    action: Action | None
    non_interactive: Action
    unattended: bool

    def decide(self, classification: Classification, *, command: str | None = None) -> Decision:
        """Decide one call. ``command`` is the shell command line for the ``shell`` tool
        (the allow- and denylists apply to shell commands only)."""
        found = classification.classes or frozenset({RiskClass.SAFE})
        if RiskClass.BLOCKED in found:
            return Decision(Action.DENY, RiskClass.BLOCKED, self._why(classification, "blocked"))
        if self.unattended and RiskClass.DESTRUCTIVE in found:
            return Decision(
                Action.DENY,
                RiskClass.DESTRUCTIVE,
                self._why(classification, "unattended run, class destructive"),
            )
        if command is not None:
            if command.strip() in self.allowlist:
                return Decision(Action.ALLOW, classification.risk, "allowlisted command")
            prefix = self._denylisted(command, classification.stages)
            if prefix is not None:
                return Decision(
                    Action.DENY, classification.risk, f"command matches denylist entry {prefix!r}"
                )
        action, risk = max(
            ((self.action_for(cls), cls) for cls in found),
            key=lambda pair: (_RESTRICTIVENESS[pair[0]], pair[1].severity),
        )
        if action is Action.PROMPT and self.unattended:
            return Decision(Action.DENY, risk, f"unattended run, class {risk}")
        if action is Action.DENY:
            return Decision(action, risk, self._why(classification, f"policy denies class {risk}"))
        return Decision(action, risk, f"class {risk}")

    def action_for(self, risk: RiskClass) -> Action:
        """The configured action of one class, ignoring the per-call rules above."""
        if risk is RiskClass.BLOCKED:
            return Action.DENY
        if self.unattended and risk is RiskClass.DESTRUCTIVE:
            return Action.DENY
        explicit = self.classes.get(risk)
        if explicit is not None:
            return explicit
        return self.action if self.action is not None else DEFAULT_ACTIONS[risk]

    def _denylisted(self, command: str, stages: Iterable[str]) -> str | None:
        texts = [command.strip(), *stages]
        for prefix in self.denylist:
            if any(text.startswith(prefix) for text in texts):
                return prefix
        return None

    @staticmethod
    def _why(classification: Classification, head: str) -> str:
        explanation = classification.explain()
        return f"{head} ({explanation})" if explanation else head


def build_policy(
    settings: PolicySettings,
    schedule: PolicySettings | None = None,
    *,
    unattended: bool,
) -> Policy:
    """Build one run's policy.

    ``settings`` is the global ``dangerous`` section. For an unattended run (every
    scheduled fire) pass ``schedules.dangerous`` as ``schedule``: its ``classes`` override
    the global ones class by class, its lists are appended, and its ``action`` replaces
    the global one when set; then the floor applies (``non_interactive`` = deny,
    ``destructive`` and ``blocked`` always denied, ``prompt`` becomes deny). The result
    copies every value, so later changes to either settings object do not reach it.
    """
    classes = {RiskClass(k): Action(v) for k, v in settings.classes.items()}
    allowlist = [a.strip() for a in settings.allowlist]
    denylist = [d for d in settings.denylist if d.strip()]
    action = settings.action
    non_interactive = settings.non_interactive
    if schedule is not None:
        classes.update({RiskClass(k): Action(v) for k, v in schedule.classes.items()})
        allowlist += [a.strip() for a in schedule.allowlist]
        denylist += [d for d in schedule.denylist if d.strip()]
        action = schedule.action or action
        non_interactive = schedule.non_interactive
    if unattended:
        non_interactive = Action.DENY
        classes[RiskClass.DESTRUCTIVE] = Action.DENY
    classes[RiskClass.BLOCKED] = Action.DENY
    return Policy(
        classes=MappingProxyType(classes),
        allowlist=frozenset(a for a in allowlist if a),
        denylist=tuple(denylist),
        action=Action(action) if action else None,
        non_interactive=Action(non_interactive),
        unattended=unattended,
    )
