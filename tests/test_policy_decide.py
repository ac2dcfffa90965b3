"""Policy decisions: defaults, settings, allow/deny lists, the unattended floor, and the
per-run immutable copy."""

from __future__ import annotations

import msgspec
import pytest

from odek.policy import (
    DEFAULT_ACTIONS,
    Action,
    Classification,
    PolicySettings,
    RiskClass,
    build_policy,
    classify_command,
)

R = RiskClass


def decide(command: str, settings: PolicySettings | None = None, **kw: object) -> Action:
    schedule = kw.pop("schedule", None)
    unattended = bool(kw.pop("unattended", False))
    assert not kw
    policy = build_policy(
        settings or PolicySettings(),
        schedule,  # type: ignore[arg-type]
        unattended=unattended,
    )
    return policy.decide(classify_command(command), command=command).action


@pytest.mark.parametrize("risk", list(RiskClass))
def test_defaults_match_the_reference(risk: RiskClass) -> None:
    policy = build_policy(PolicySettings(), unattended=False)
    assert policy.decide(Classification.of(risk, "x")).action is DEFAULT_ACTIONS[risk]


def test_reference_default_table() -> None:
    assert {k.value: v.value for k, v in DEFAULT_ACTIONS.items()} == {
        "safe": "allow",
        "local_write": "allow",
        "system_write": "prompt",
        "network_egress": "prompt",
        "code_execution": "prompt",
        "install": "prompt",
        "destructive": "deny",
        "blocked": "deny",
        "unknown": "deny",
    }


def test_most_restrictive_class_of_a_command_decides() -> None:
    settings = PolicySettings(classes={"network_egress": "allow"})
    assert decide("curl https://x", settings) is Action.ALLOW
    # The curl stage is allowed, the pip stage still prompts.
    assert decide("curl https://x && pip install y", settings) is Action.PROMPT


def test_classes_override_default_and_global_action() -> None:
    settings = PolicySettings(classes={"install": "deny"}, action="allow")
    assert decide("pip install x", settings) is Action.DENY
    assert decide("curl https://x", settings) is Action.ALLOW  # the global action
    assert decide("frobnicate", settings) is Action.ALLOW


def test_blocked_is_denied_even_when_everything_is_allowed() -> None:
    settings = PolicySettings(classes={"blocked": "allow"}, action="allow", allowlist=["rm -rf /"])
    assert decide("rm -rf /", settings) is Action.DENY


def test_allowlist_is_exact_and_trimmed() -> None:
    settings = PolicySettings(allowlist=["make deploy"])
    assert decide("  make deploy ", settings) is Action.ALLOW
    assert decide("make deploy; curl x", settings) is Action.PROMPT


def test_denylist_matches_prefix_of_any_stage() -> None:
    settings = PolicySettings(denylist=["git push"])
    assert decide("git push origin main", settings) is Action.DENY
    assert decide("git status && git push", settings) is Action.DENY
    assert decide("sudo git push", settings) is Action.DENY
    assert decide("git status", settings) is Action.ALLOW


def test_unattended_prompt_becomes_deny_with_readable_reason() -> None:
    policy = build_policy(PolicySettings(), unattended=True)
    decision = policy.decide(classify_command("curl https://x"), command="curl https://x")
    assert decision.action is Action.DENY
    assert decision.denial() == "denied: unattended run, class network_egress"


def test_unattended_floor_denies_destructive_even_if_settings_allow() -> None:
    settings = PolicySettings(classes={"destructive": "allow"}, allowlist=["rm -rf build"])
    schedule = PolicySettings(classes={"destructive": "allow"}, action="allow")
    assert decide("rm -rf build", settings) is Action.ALLOW  # attended: settings rule
    assert decide("rm -rf build", settings, schedule=schedule, unattended=True) is Action.DENY


def test_schedule_dangerous_allows_named_classes_for_unattended_runs() -> None:
    schedule = PolicySettings(classes={"network_egress": "allow", "system_write": "allow"})
    assert decide("curl https://x", schedule=schedule, unattended=True) is Action.ALLOW
    assert decide("echo x > /etc/x", schedule=schedule, unattended=True) is Action.ALLOW
    assert decide("pip install x", schedule=schedule, unattended=True) is Action.DENY


def test_unattended_non_interactive_is_always_deny() -> None:
    schedule = PolicySettings(non_interactive="allow")
    policy = build_policy(PolicySettings(non_interactive="allow"), schedule, unattended=True)
    assert policy.non_interactive is Action.DENY


def test_schedule_lists_are_appended_to_global_lists() -> None:
    policy = build_policy(
        PolicySettings(allowlist=["a"], denylist=["x"]),
        PolicySettings(allowlist=["b"], denylist=["y"]),
        unattended=True,
    )
    assert policy.allowlist == {"a", "b"}
    assert policy.denylist == ("x", "y")


def test_each_run_gets_its_own_frozen_copy() -> None:
    settings = PolicySettings(classes={"network_egress": "prompt"}, allowlist=["a"])
    schedule = PolicySettings(classes={"network_egress": "allow"})
    unattended = build_policy(settings, schedule, unattended=True)
    attended = build_policy(settings, unattended=False)
    # Schedule-only allowances and the floor do not leak into the settings or other runs.
    assert settings.classes == {"network_egress": "prompt"}
    assert attended.classes[R.NETWORK_EGRESS] is Action.PROMPT
    assert R.DESTRUCTIVE not in attended.classes
    assert unattended.classes[R.NETWORK_EGRESS] is Action.ALLOW
    # Later edits of the settings do not reach a built policy, which cannot be edited.
    settings.classes["network_egress"] = "allow"
    settings.allowlist.append("b")
    assert attended.classes[R.NETWORK_EGRESS] is Action.PROMPT
    assert attended.allowlist == {"a"}
    with pytest.raises(TypeError):
        attended.classes[R.SAFE] = Action.DENY  # type: ignore[index]
    with pytest.raises(AttributeError):
        attended.unattended = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"classes": {"nuclear": "allow"}}, "unknown risk class 'nuclear'"),
        ({"classes": {"safe": "maybe"}}, "classes.safe: invalid action 'maybe'"),
        ({"action": "yolo"}, "action: invalid action 'yolo'"),
        ({"non_interactive": "prompt"}, "non_interactive: invalid value 'prompt'"),
        ({"allowlist": "ls"}, "Expected `array`"),
        ({"clases": {}}, "unknown field `clases`"),
    ],
)
def test_invalid_settings_name_the_field(doc: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message) as info:
        msgspec.convert({"dangerous": doc}, _Section)
    assert "at `$.dangerous" in str(info.value)


class _Section(msgspec.Struct):
    dangerous: PolicySettings
