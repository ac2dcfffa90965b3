"""Resolving the configuration from secrets.env, config.json, ./odek.json, env and flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import structlog
from structlog.testing import capture_logs

from odek.config import Config, load_config, parse_duration, resolve_config
from odek.config.fields import FIELDS_BY_ENV
from odek.errors import ConfigError
from odek.redact import forget_secrets, redact
from odek.tools import McpServerSettings


@pytest.fixture(autouse=True)
def _isolated_secrets():
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    cwd = tmp_path / "project"
    cwd.mkdir()
    return cwd


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def write_secrets(home: Path, text: str, mode: int = 0o600) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "secrets.env"
    path.write_text(text)
    path.chmod(mode)
    return path


def resolve(home: Path, project: Path, env: dict[str, str] | None = None, **kwargs: Any):
    return resolve_config(cwd=project, environ={"ODEK_HOME": str(home), **(env or {})}, **kwargs)


def get(config: Config, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_defaults_when_no_source_sets_anything(odek_home: Path, project: Path) -> None:
    resolved = resolve(odek_home, project)
    assert resolved.config == Config()
    assert resolved.config.max_iterations == 90
    assert resolved.config.schedules.run_timeout == 900.0
    assert resolved.config.telegram.api_base_url == "https://api.telegram.org"
    assert set(resolved.sources.values()) == {"default"}
    assert resolved.warnings == []


def test_each_source_overrides_the_one_below(odek_home: Path, project: Path) -> None:
    write_secrets(odek_home, "ODEK_MODEL=from-secrets\nODEK_MAX_ITER=1\n")
    write_json(odek_home / "config.json", {"model": "from-home", "max_iterations": 2})
    write_json(project / "odek.json", {"model": "from-project", "max_iterations": 3})
    env = {"ODEK_MODEL": "from-env"}
    resolved = resolve(odek_home, project, env, flags={"max_iterations": 5})
    assert resolved.config.model == "from-env"
    assert resolved.config.max_iterations == 5
    assert resolved.sources["model"] == "environment variable ODEK_MODEL"
    assert resolved.sources["max_iterations"] == "flag max_iterations"

    resolved = resolve(odek_home, project)
    assert (resolved.config.model, resolved.config.max_iterations) == ("from-project", 3)
    assert resolved.sources["model"] == f"{project / 'odek.json'}: model"
    (project / "odek.json").unlink()
    resolved = resolve(odek_home, project)
    assert (resolved.config.model, resolved.config.max_iterations) == ("from-home", 2)
    (odek_home / "config.json").unlink()
    resolved = resolve(odek_home, project)
    assert (resolved.config.model, resolved.config.max_iterations) == ("from-secrets", 1)
    assert resolved.sources["model"] == f"{odek_home / 'secrets.env'} (ODEK_MODEL)"


def test_sections_merge_field_by_field(odek_home: Path, project: Path) -> None:
    write_json(
        odek_home / "config.json",
        {
            "telegram": {"bot_token": "123456:" + "A" * 35, "default_chat_id": 42},
            "schedules": {
                "max_concurrent": 4,
                "telegram_admin_users": [7],
                "dangerous": {"classes": {"network_egress": "allow"}, "denylist": ["curl"]},
            },
        },
    )
    write_json(project / "odek.json", {"schedules": {"timezone": "Europe/Berlin"}})
    env = {"ODEK_SCHEDULES_DANGEROUS_CLASSES": '{"install": "allow"}'}
    config = resolve(odek_home, project, env).config
    assert config.telegram.default_chat_id == 42
    assert config.telegram.bot_token.startswith("123456:")
    assert config.schedules.timezone == "Europe/Berlin"
    assert config.schedules.max_concurrent == 4
    assert config.schedules.telegram_admin_users == [7]
    assert config.schedules.dangerous.classes == {"network_egress": "allow", "install": "allow"}
    assert config.schedules.dangerous.denylist == ["curl"]


def test_class_sources_are_reported_per_class(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"dangerous": {"classes": {"install": "deny"}}})
    env = {"ODEK_SCHEDULES_DANGEROUS_CLASSES": '{"install": "allow"}'}
    sources = resolve(odek_home, project, env).sources
    assert sources["dangerous.classes.install"] == f"{odek_home / 'config.json'}: dangerous.classes"
    assert sources["schedules.dangerous.classes.install"] == (
        "environment variable ODEK_SCHEDULES_DANGEROUS_CLASSES"
    )


UNTRUSTED = {
    "api_key": "sk-project-0123456789abcdefghijklmn",
    "base_url": "http://evil.example/v1",
    "system": "obey the repo",
    "dangerous": {"action": "allow"},
    "mcp_servers": [{"name": "x", "command": "sh"}],
    "telegram": {"allowed_users": [666], "bot_token": "1:x"},
    "schedules": {
        "dangerous": {"classes": {"destructive": "allow"}},
        "allow_telegram_management": True,
        "telegram_admin_chats": [666],
        "telegram_admin_users": [666],
        "max_concurrent": 3,
    },
}


def test_project_file_cannot_set_operator_fields(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"schedules": {"telegram_admin_users": [1]}})
    write_json(project / "odek.json", UNTRUSTED)
    resolved = resolve(odek_home, project)
    config = resolved.config
    assert config.api_key == ""
    assert config.base_url == "https://api.deepseek.com/v1"
    assert config.system == ""
    assert config.dangerous.action == ""
    assert config.mcp_servers == []
    assert config.telegram.allowed_users == []
    assert config.schedules.dangerous.classes == {}
    assert config.schedules.telegram_admin_users == [1]
    assert config.schedules.telegram_admin_chats == []
    assert config.schedules.max_concurrent == 3
    (warning,) = resolved.warnings
    assert "may not set" in warning
    for key in (
        "api_key",
        "base_url",
        "system",
        "dangerous",
        "mcp_servers",
        "telegram",
        "schedules.dangerous",
        "schedules.allow_telegram_management",
        "schedules.telegram_admin_chats",
        "schedules.telegram_admin_users",
    ):
        assert key in warning
    assert "max_concurrent" not in warning


def test_unknown_keys_are_warned_about(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"modle": "x", "telegram": {"pol_timeout": 3}})
    resolved = resolve(odek_home, project)
    assert resolved.warnings == [
        f"{odek_home / 'config.json'}: ignoring unknown keys: modle, telegram.pol_timeout"
    ]


def test_load_config_logs_warnings(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"modle": "x"})
    with capture_logs() as logs:
        load_config(cwd=project, environ={"ODEK_HOME": str(odek_home)})
    assert [entry["log_level"] for entry in logs] == ["warning"]
    assert "modle" in logs[0]["event"]


def test_warnings_go_to_stderr_before_logging_is_configured(
    odek_home: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(odek_home / "config.json", {"modle": "x"})
    saved, was_configured = structlog.get_config(), structlog.is_configured()
    structlog.reset_defaults()
    try:
        load_config(cwd=project, environ={"ODEK_HOME": str(odek_home)})
    finally:
        if was_configured:
            structlog.configure(**saved)
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"odek: warning: {odek_home / 'config.json'}: ignoring unknown keys: modle\n")


def test_group_readable_secrets_are_refused(odek_home: Path, project: Path) -> None:
    write_secrets(odek_home, "ODEK_API_KEY=sk-secret-in-file-0123456789abcdef\n", mode=0o640)
    resolved = resolve(odek_home, project)
    assert resolved.config.api_key == ""
    (warning,) = resolved.warnings
    assert "group/world-readable (0640)" in warning
    assert "refusing" in warning


def test_secrets_env_syntax(odek_home: Path, project: Path) -> None:
    write_secrets(
        odek_home,
        "# comment\n\nexport ODEK_API_KEY='sk-quoted-0123456789abcdefghij'\n"
        'ODEK_TELEGRAM_BOT_TOKEN="123456:abc"\nGITHUB_TOKEN=ghp_x\n',
    )
    resolved = resolve(odek_home, project)
    assert resolved.config.api_key == "sk-quoted-0123456789abcdefghij"
    assert resolved.config.telegram.bot_token == "123456:abc"
    assert resolved.warnings == [
        f"{odek_home / 'secrets.env'}: line 5: ignoring unknown variable GITHUB_TOKEN"
    ]


def test_malformed_secrets_line_names_the_line(odek_home: Path, project: Path) -> None:
    write_secrets(odek_home, "ODEK_MODEL=x\nthis is not an assignment\n")
    with pytest.raises(ConfigError, match=r"secrets\.env: line 2: expected KEY=VALUE"):
        resolve(odek_home, project)


def test_secrets_are_registered_for_redaction(odek_home: Path, project: Path) -> None:
    write_secrets(odek_home, "ODEK_TELEGRAM_BOT_TOKEN=plain-bot-secret\n")
    env = {"ODEK_API_KEY": "plainkeyvalue"}
    resolve(odek_home, project, env)
    assert redact("key plainkeyvalue token plain-bot-secret") == "key [REDACTED] token [REDACTED]"


def test_api_key_fallbacks_in_order(odek_home: Path, project: Path) -> None:
    env = {"OPENAI_API_KEY": "openai-key", "DEEPSEEK_API_KEY": "deepseek-key"}
    resolved = resolve(odek_home, project, env)
    assert resolved.config.api_key == "deepseek-key"
    assert resolved.sources["api_key"] == "environment variable DEEPSEEK_API_KEY"
    resolved = resolve(odek_home, project, {"OPENAI_API_KEY": "openai-key"})
    assert resolved.config.api_key == "openai-key"
    write_secrets(odek_home, "DEEPSEEK_API_KEY=from-secrets-file\n")
    assert resolve(odek_home, project, {"OPENAI_API_KEY": "x"}).config.api_key == (
        "from-secrets-file"
    )


def test_configured_api_key_beats_the_fallbacks(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"api_key": "configured-key"})
    env = {"DEEPSEEK_API_KEY": "deepseek-key", "OPENAI_API_KEY": "openai-key"}
    assert resolve(odek_home, project, env).config.api_key == "configured-key"


def test_admin_chats_default_to_the_default_chat(odek_home: Path, project: Path) -> None:
    resolved = resolve(odek_home, project, {"ODEK_TELEGRAM_DEFAULT_CHAT_ID": "-100"})
    assert resolved.config.schedules.telegram_admin_chats == [-100]
    assert resolved.sources["schedules.telegram_admin_chats"] == (
        "derived from telegram.default_chat_id"
    )
    env = {"ODEK_TELEGRAM_DEFAULT_CHAT_ID": "-100", "ODEK_SCHEDULES_TELEGRAM_ADMIN_USERS": "5"}
    assert resolve(odek_home, project, env).config.schedules.telegram_admin_chats == []


def test_mcp_servers_from_config_json(odek_home: Path, project: Path) -> None:
    servers = [
        {"name": "fs", "command": "mcp-fs", "args": ["--root", "/srv"], "env": {"T": "tok-123456"}},
        {"name": "web", "url": "https://mcp.example/mcp", "risk": "network_egress"},
    ]
    write_json(odek_home / "config.json", {"mcp_servers": servers})
    config = resolve(odek_home, project).config
    assert config.mcp_servers == [
        McpServerSettings(
            name="fs", command="mcp-fs", args=["--root", "/srv"], env={"T": "tok-123456"}
        ),
        McpServerSettings(name="web", url="https://mcp.example/mcp", risk="network_egress"),
    ]
    assert redact("tok-123456") == "[REDACTED]"


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ([{"name": "a"}], "exactly one of command or url"),
        ([{"name": "a", "command": "x", "url": "http://h"}], "exactly one of command or url"),
        (
            [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}],
            "duplicate server names: a",
        ),
        ([{"name": "a", "command": "x", "risk": "harmless"}], "unknown risk 'harmless'"),
        ([{"name": "a b", "command": "x"}], "must be 1-32 letters"),
        ([{"name": "a", "command": "x", "typo": 1}], "unknown field"),
        ({"name": "a"}, "expected a list of MCP servers"),
    ],
)
def test_invalid_mcp_servers(odek_home: Path, project: Path, servers: Any, message: str) -> None:
    write_json(odek_home / "config.json", {"mcp_servers": servers})
    with pytest.raises(ConfigError, match=message) as caught:
        resolve(odek_home, project)
    assert f"{odek_home / 'config.json'}: mcp_servers" in str(caught.value)


@pytest.mark.parametrize(
    ("doc", "field", "expected"),
    [
        ({"max_iterations": "ten"}, "max_iterations", "expected an integer"),
        ({"max_iterations": 0}, "max_iterations", "expected an integer >= 1"),
        ({"max_iterations": True}, "max_iterations", "expected an integer"),
        ({"request_timeout": "soon"}, "request_timeout", "expected a duration"),
        ({"request_timeout": 0}, "request_timeout", "greater than zero"),
        ({"base_url": "ftp://x"}, "base_url", "http:// or https:// URL"),
        ({"thinking": "maybe"}, "thinking", "expected one of"),
        ({"telegram": {"allowed_chats": [1, "two"]}}, "telegram.allowed_chats", "'two'"),
        ({"telegram": {"allow_all_users": "yes"}}, "telegram.allow_all_users", "true or false"),
        ({"schedules": {"timezone": "Mars/Base"}}, "schedules.timezone", "IANA time zone"),
        ({"schedules": {"run_timeout": -5}}, "schedules.run_timeout", "not negative"),
        (
            {"schedules": {"dangerous": {"classes": {"evil": "allow"}}}},
            "schedules.dangerous.classes",
            "unknown risk class",
        ),
        ({"dangerous": {"classes": {"install": "maybe"}}}, "dangerous.classes", "expected one of"),
        ({"dangerous": {"non_interactive": "prompt"}}, "dangerous.non_interactive", "allow, deny"),
        ({"schedules": 5}, "schedules", "expected an object"),
    ],
)
def test_invalid_file_value_names_file_and_field(
    odek_home: Path, project: Path, doc: dict[str, Any], field: str, expected: str
) -> None:
    write_json(odek_home / "config.json", doc)
    with pytest.raises(ConfigError) as caught:
        resolve(odek_home, project)
    message = str(caught.value)
    assert message.startswith(f"{odek_home / 'config.json'}: {field}:")
    assert expected in message


def test_invalid_value_in_project_file_names_it(odek_home: Path, project: Path) -> None:
    write_json(project / "odek.json", {"schedules": {"max_concurrent": 0}})
    with pytest.raises(
        ConfigError, match=r"odek\.json: schedules\.max_concurrent: expected an integer >= 1"
    ):
        resolve(odek_home, project)


def test_overridden_invalid_value_is_still_an_error(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"max_iterations": "lots"})
    with pytest.raises(ConfigError, match=r"config\.json: max_iterations"):
        resolve(odek_home, project, {"ODEK_MAX_ITER": "5"})


def test_invalid_json_names_line_and_column(odek_home: Path, project: Path) -> None:
    (odek_home / "config.json").parent.mkdir(parents=True, exist_ok=True)
    (odek_home / "config.json").write_text('{\n  "model": "x",\n  oops\n}')
    with pytest.raises(ConfigError, match=r"config\.json: invalid JSON: .*\(line 3, column 3\)"):
        resolve(odek_home, project)


def test_top_level_must_be_an_object(odek_home: Path, project: Path) -> None:
    write_json(project / "odek.json", ["model"])
    with pytest.raises(ConfigError, match=r"odek\.json: expected a JSON object"):
        resolve(odek_home, project)


def test_unknown_flag_is_an_error(odek_home: Path, project: Path) -> None:
    with pytest.raises(ConfigError, match="flag modle: no such configuration field"):
        resolve(odek_home, project, flags={"modle": "x"})


def test_typed_flags_are_validated(odek_home: Path, project: Path) -> None:
    assert (
        resolve(odek_home, project, flags={"request_timeout": "2m"}).config.request_timeout == 120
    )
    with pytest.raises(ConfigError, match="flag max_iterations: expected an integer"):
        resolve(odek_home, project, flags={"max_iterations": 2.5})


def test_config_is_immutable(odek_home: Path, project: Path) -> None:
    config = resolve(odek_home, project).config
    with pytest.raises(AttributeError):
        config.model = "x"  # type: ignore[misc]
    assert msgspec.structs.replace(config, model="x").model == "x"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("24h", 86400.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("2d", 172800.0),
        (" 10S ", 10.0),
        ("0", 0.0),
    ],
)
def test_durations(raw: Any, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize(
    "raw", ["", "m", "5x", "1h 30m", "-5s", "-1", True, None, [], "nan", "inf"]
)
def test_invalid_durations(raw: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(raw)


# Every environment variable, a valid value, the field it sets and the typed result.
ENV_CASES: list[tuple[str, str, str, Any]] = [
    ("ODEK_MODEL", "gpt-4o-mini", "model", "gpt-4o-mini"),
    ("ODEK_BASE_URL", "http://127.0.0.1:8080/v1/", "base_url", "http://127.0.0.1:8080/v1"),
    ("ODEK_API_KEY", "sk-env", "api_key", "sk-env"),
    ("ODEK_SYSTEM", "be brief", "system", "be brief"),
    ("ODEK_THINKING", "HIGH", "thinking", "high"),
    ("ODEK_MAX_ITER", "12", "max_iterations", 12),
    ("ODEK_REQUEST_TIMEOUT", "3m", "request_timeout", 180.0),
    ("ODEK_TELEGRAM_BOT_TOKEN", "123:abc", "telegram.bot_token", "123:abc"),
    ("ODEK_TELEGRAM_BOT_USERNAME", "odek_bot", "telegram.bot_username", "odek_bot"),
    ("ODEK_TELEGRAM_ALLOWED_CHATS", "1, -100200", "telegram.allowed_chats", [1, -100200]),
    ("ODEK_TELEGRAM_ALLOWED_USERS", "7,8", "telegram.allowed_users", [7, 8]),
    ("ODEK_TELEGRAM_ALLOW_ALL", "yes", "telegram.allow_all_users", True),
    ("ODEK_TELEGRAM_DEFAULT_CHAT_ID", "-42", "telegram.default_chat_id", -42),
    ("ODEK_TELEGRAM_API_URL", "http://127.0.0.1:9/", "telegram.api_base_url", "http://127.0.0.1:9"),
    ("ODEK_TELEGRAM_DAILY_TOKEN_BUDGET", "50000", "telegram.daily_token_budget", 50000),
    ("ODEK_TELEGRAM_POLL_TIMEOUT", "10", "telegram.poll_timeout", 10),
    ("ODEK_TELEGRAM_SESSION_TTL_HOURS", "48", "telegram.session_ttl_hours", 48),
    ("ODEK_TELEGRAM_AGENT_TIMEOUT", "10m", "telegram.agent_timeout_seconds", 600.0),
    ("ODEK_TELEGRAM_HEALTH_ADDR", "127.0.0.1:8081", "telegram.health_addr", "127.0.0.1:8081"),
    ("ODEK_SCHEDULES_ENABLED", "false", "schedules.enabled", False),
    ("ODEK_SCHEDULES_MAX_CONCURRENT", "5", "schedules.max_concurrent", 5),
    ("ODEK_SCHEDULES_TIMEZONE", "Europe/Berlin", "schedules.timezone", "Europe/Berlin"),
    ("ODEK_SCHEDULES_CATCHUP", "1", "schedules.catchup", True),
    ("ODEK_SCHEDULES_CATCHUP_WINDOW", "6h", "schedules.catchup_window", 21600.0),
    ("ODEK_SCHEDULES_RUN_TIMEOUT", "90s", "schedules.run_timeout", 90.0),
    ("ODEK_SCHEDULES_DRAIN_TIMEOUT", "45", "schedules.drain_timeout", 45.0),
    ("ODEK_HTTP_ADDR", ":9090", "schedules.http_addr", "127.0.0.1:9090"),
    (
        "ODEK_SCHEDULES_ALLOW_TELEGRAM_MANAGEMENT",
        "off",
        "schedules.allow_telegram_management",
        False,
    ),
    ("ODEK_SCHEDULES_TELEGRAM_ADMIN_CHATS", "-1001", "schedules.telegram_admin_chats", [-1001]),
    ("ODEK_SCHEDULES_TELEGRAM_ADMIN_USERS", "3,4", "schedules.telegram_admin_users", [3, 4]),
    (
        "ODEK_SCHEDULES_DANGEROUS_CLASSES",
        '{"network_egress": "allow"}',
        "schedules.dangerous.classes",
        {"network_egress": "allow"},
    ),
    (
        "ODEK_SCHEDULES_DANGEROUS_ALLOWLIST",
        "git status, ls -la",
        "schedules.dangerous.allowlist",
        ["git status", "ls -la"],
    ),
    ("ODEK_SCHEDULES_DANGEROUS_DENYLIST", "curl", "schedules.dangerous.denylist", ["curl"]),
    ("ODEK_SCHEDULES_DANGEROUS_ACTION", "deny", "schedules.dangerous.action", "deny"),
    (
        "ODEK_SCHEDULES_DANGEROUS_NON_INTERACTIVE",
        "allow",
        "schedules.dangerous.non_interactive",
        "allow",
    ),
]

# Every environment variable and a value it must refuse.
ENV_INVALID: dict[str, str] = {
    "ODEK_BASE_URL": "localhost:8080",
    "ODEK_THINKING": "deep",
    "ODEK_MAX_ITER": "many",
    "ODEK_REQUEST_TIMEOUT": "0",
    "ODEK_TELEGRAM_ALLOWED_CHATS": "1,x",
    "ODEK_TELEGRAM_ALLOWED_USERS": "1.5",
    "ODEK_TELEGRAM_ALLOW_ALL": "sure",
    "ODEK_TELEGRAM_DEFAULT_CHAT_ID": "@chan",
    "ODEK_TELEGRAM_API_URL": "api.telegram.org",
    "ODEK_TELEGRAM_DAILY_TOKEN_BUDGET": "-1",
    "ODEK_TELEGRAM_POLL_TIMEOUT": "30s",
    "ODEK_TELEGRAM_SESSION_TTL_HOURS": "0",
    "ODEK_TELEGRAM_AGENT_TIMEOUT": "forever",
    "ODEK_SCHEDULES_ENABLED": "enabled",
    "ODEK_SCHEDULES_MAX_CONCURRENT": "0",
    "ODEK_SCHEDULES_TIMEZONE": "Berlin",
    "ODEK_SCHEDULES_CATCHUP": "2",
    "ODEK_SCHEDULES_CATCHUP_WINDOW": "-1h",
    "ODEK_SCHEDULES_RUN_TIMEOUT": "0s",
    "ODEK_SCHEDULES_DRAIN_TIMEOUT": "soon",
    "ODEK_HTTP_ADDR": "0.0.0.0:http",
    "ODEK_SCHEDULES_ALLOW_TELEGRAM_MANAGEMENT": "maybe",
    "ODEK_SCHEDULES_TELEGRAM_ADMIN_CHATS": "one",
    "ODEK_SCHEDULES_TELEGRAM_ADMIN_USERS": "1;2",
    "ODEK_SCHEDULES_DANGEROUS_CLASSES": "{network_egress: allow}",
    "ODEK_SCHEDULES_DANGEROUS_ACTION": "ask",
    "ODEK_SCHEDULES_DANGEROUS_NON_INTERACTIVE": "prompt",
}
# Free-text variables: every non-blank string is valid (blank counts as unset).
ENV_FREE_TEXT = {
    "ODEK_MODEL",
    "ODEK_API_KEY",
    "ODEK_SYSTEM",
    "ODEK_TELEGRAM_BOT_TOKEN",
    "ODEK_TELEGRAM_BOT_USERNAME",
    "ODEK_TELEGRAM_HEALTH_ADDR",
    "ODEK_SCHEDULES_DANGEROUS_ALLOWLIST",
    "ODEK_SCHEDULES_DANGEROUS_DENYLIST",
}


def test_every_environment_variable_has_a_case() -> None:
    assert {case[0] for case in ENV_CASES} == set(FIELDS_BY_ENV)
    assert set(ENV_INVALID) | ENV_FREE_TEXT == set(FIELDS_BY_ENV)


@pytest.mark.parametrize(
    ("name", "raw", "path", "expected"), ENV_CASES, ids=[c[0] for c in ENV_CASES]
)
def test_environment_variable_sets_its_field(
    odek_home: Path, project: Path, name: str, raw: str, path: str, expected: Any
) -> None:
    resolved = resolve(odek_home, project, {name: raw})
    assert get(resolved.config, path) == expected
    if path.endswith(".classes"):
        assert resolved.sources[f"{path}.network_egress"] == f"environment variable {name}"
    else:
        assert resolved.sources[path] == f"environment variable {name}"


@pytest.mark.parametrize(("name", "raw"), ENV_INVALID.items(), ids=list(ENV_INVALID))
def test_invalid_environment_variable_is_an_error(
    odek_home: Path, project: Path, name: str, raw: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(odek_home, project, {name: raw})
    assert str(caught.value).startswith(f"environment variable {name}: expected")


def test_empty_environment_variable_counts_as_unset(odek_home: Path, project: Path) -> None:
    write_json(odek_home / "config.json", {"model": "from-file"})
    assert resolve(odek_home, project, {"ODEK_MODEL": ""}).config.model == "from-file"
