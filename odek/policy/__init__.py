"""The safety policy: risk classes, the shell-command classifier, per-run immutable
policies and the approvers that answer calls whose action is ``prompt``."""

from __future__ import annotations

from odek.policy.approvers import TerminalApprover, UnattendedApprover
from odek.policy.classify import Classification, Finding, classify_command, classify_write_path
from odek.policy.policy import Decision, Policy, build_policy
from odek.policy.risk import DEFAULT_ACTIONS, Action, RiskClass, worst
from odek.policy.settings import PolicySettings

__all__ = [
    "DEFAULT_ACTIONS",
    "Action",
    "Classification",
    "Decision",
    "Finding",
    "Policy",
    "PolicySettings",
    "RiskClass",
    "TerminalApprover",
    "UnattendedApprover",
    "build_policy",
    "classify_command",
    "classify_write_path",
    "worst",
]
