"""``odek config show`` in a real subprocess: values, sources, redaction, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KEY = "sk-live-0123456789abcdefghijklmnopqrstuv"
TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr"


def odek(home: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ODEK_")}
    base.pop("OPENAI_API_KEY", None)
    base.pop("DEEPSEEK_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "odek", *args],
        cwd=cwd,
        env={**base, "ODEK_HOME": str(home), "ODEK_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def setup(odek_home: Path, tmp_path: Path) -> tuple[Path, Path]:
    odek_home.mkdir(parents=True)
    (odek_home / "config.json").write_text(
        json.dumps(
            {
                "telegram": {"bot_token": TOKEN, "default_chat_id": 5},
                "mcp_servers": [{"name": "gh", "command": "gh-mcp", "env": {"GH": "ghp-value-1"}}],
            }
        )
    )
    secrets = odek_home / "secrets.env"
    secrets.write_text(f"ODEK_API_KEY={KEY}\n")
    secrets.chmod(0o600)
    cwd = tmp_path / "proj"
    cwd.mkdir()
    (cwd / "odek.json").write_text(json.dumps({"model": "proj-model", "api_key": "sk-x"}))
    return odek_home, cwd


def test_show_lists_values_with_sources_and_hides_secrets(setup: tuple[Path, Path]) -> None:
    home, cwd = setup
    result = odek(home, cwd, "config", "show", ODEK_SCHEDULES_RUN_TIMEOUT="10m")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert '"proj-model"' in lines["model"]
    assert f"({cwd / 'odek.json'}: model)" in lines["model"]
    assert '"[REDACTED]"' in lines["api_key"]
    assert f"({home / 'secrets.env'} (ODEK_API_KEY))" in lines["api_key"]
    assert "600.0" in lines["schedules.run_timeout"]
    assert "(environment variable ODEK_SCHEDULES_RUN_TIMEOUT)" in lines["schedules.run_timeout"]
    assert "(default)" in lines["schedules.max_concurrent"]
    assert "[5]" in lines["schedules.telegram_admin_chats"]
    assert KEY not in result.stdout
    assert TOKEN not in result.stdout
    assert "ghp-value-1" not in result.stdout
    assert "may not set: api_key" in result.stderr


def test_show_json_is_machine_readable(setup: tuple[Path, Path]) -> None:
    home, cwd = setup
    result = odek(home, cwd, "config", "show", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["config"]["api_key"] == "[REDACTED]"
    assert doc["config"]["telegram"]["bot_token"] == "[REDACTED]"
    assert doc["config"]["mcp_servers"][0]["env"] == {"GH": "[REDACTED]"}
    assert doc["config"]["telegram"]["default_chat_id"] == 5
    assert (
        doc["sources"]["telegram.default_chat_id"]
        == f"{home / 'config.json'}: telegram.default_chat_id"
    )
    assert doc["sources"]["model"] == f"{cwd / 'odek.json'}: model"
    assert any("may not set: api_key" in w for w in doc["warnings"])
    assert KEY not in result.stdout


def test_invalid_value_exits_2_naming_the_source(setup: tuple[Path, Path]) -> None:
    home, cwd = setup
    result = odek(home, cwd, "config", "show", ODEK_TELEGRAM_DAILY_TOKEN_BUDGET="lots")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "odek: environment variable ODEK_TELEGRAM_DAILY_TOKEN_BUDGET: expected an integer, "
        "got 'lots'"
    )
