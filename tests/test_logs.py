"""Structured logging: format selection, levels, stderr only, redaction of every event."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import subprocess
import sys

import pytest
import structlog

from odek.errors import ConfigError
from odek.logs import configure_logging, get_logger
from odek.redact import forget_secrets, register_secret

OPENAI_KEY = "sk-" + "Zq9x" * 10
GITHUB_PAT = "ghp_" + "a1B2c3D4e5F6" * 3

SCRIPT = f"""
import logging
from odek.logs import configure_logging, get_logger
configure_logging()
log = get_logger("odek.test")
log.debug("hidden detail")
log.info("job fired", job_id="j1", key="{OPENAI_KEY}")
logging.getLogger("httpx").info("HTTP Request: POST /bot123")
print("stdout stays clean")
"""


def run_script(env: dict[str, str], *, tty: bool = False) -> tuple[str, str]:
    """Run SCRIPT in a fresh interpreter; stderr is a pipe or, with ``tty``, a terminal."""
    full_env = {**os.environ, **env}
    for name in ("ODEK_LOG_FORMAT", "ODEK_LOG_LEVEL"):
        if name not in env:
            full_env.pop(name, None)
    if not tty:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=full_env, capture_output=True, text=True, check=True
        )
        return done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        with subprocess.Popen(
            [sys.executable, "-c", SCRIPT],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
        ) as proc:
            os.close(slave)
            slave = -1
            out = proc.stdout.read() if proc.stdout else ""
            chunks = []
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            assert proc.wait() == 0
        return out, b"".join(chunks).decode()
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_json_lines_on_stderr_when_not_a_terminal() -> None:
    out, err = run_script({})
    assert out == "stdout stays clean\n"
    [event] = [json.loads(line) for line in err.splitlines()]
    assert event["event"] == "job fired"
    assert event["job_id"] == "j1"
    assert event["level"] == "info"
    assert event["logger"] == "odek.test"
    assert event["key"] == "[REDACTED]"
    assert "timestamp" in event


def test_console_lines_on_a_terminal() -> None:
    _, colored = run_script({}, tty=True)
    assert "\x1b[" in colored  # colours on a terminal
    err = re.sub(r"\x1b\[[0-9;]*m", "", colored)
    assert "job fired" in err
    assert "job_id=j1" in err
    assert not err.lstrip().startswith("{")
    assert OPENAI_KEY not in err


def test_environment_overrides_the_format_and_level() -> None:
    _, err = run_script({"ODEK_LOG_FORMAT": "console", "ODEK_LOG_LEVEL": "debug"})
    assert "hidden detail" in err
    assert "job fired" in err
    assert not err.lstrip().startswith("{")
    _, err = run_script({"ODEK_LOG_FORMAT": "json"}, tty=True)
    assert json.loads(err.splitlines()[0])["event"] == "job fired"
    _, err = run_script({"ODEK_LOG_LEVEL": "WARNING"})
    assert err == ""


def test_invalid_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODEK_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match=r"ODEK_LOG_FORMAT.*'xml'.*console, json"):
        configure_logging()
    with pytest.raises(ConfigError, match=r"argument.*'loud'"):
        configure_logging(fmt="json", level="loud")


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    configure_logging(fmt="json", level="debug")
    return capsys


def events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    captured = capsys.readouterr()
    assert captured.out == ""
    return [json.loads(line) for line in captured.err.splitlines()]


def test_every_string_in_an_event_is_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    get_logger("odek.test").warning(
        f"failed with {OPENAI_KEY}",
        error=f"token {GITHUB_PAT}",
        detail={"headers": ["Authorization: Bearer abcdefghijklmnop"], "count": 3},
    )
    [event] = events(json_logs)
    text = json.dumps(event)
    assert OPENAI_KEY not in text
    assert GITHUB_PAT not in text
    assert "abcdefghijklmnop" not in text
    assert event["detail"] == {"headers": ["Authorization: Bearer [REDACTED]"], "count": 3}


def test_tracebacks_are_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    try:
        raise RuntimeError(f"upstream rejected key {OPENAI_KEY}")
    except RuntimeError:
        get_logger("odek.test").exception("run failed")
    [event] = events(json_logs)
    assert "RuntimeError: upstream rejected key [REDACTED]" in str(event["exception"])
    assert OPENAI_KEY not in json.dumps(event)


def test_standard_library_records_are_rendered_and_redacted(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("some.library").warning("calling %s", f"/bot{'123456789'}:{'A' * 35}/getMe")
    [event] = events(json_logs)
    assert event["logger"] == "some.library"
    assert event["event"] == "calling /bot[REDACTED]/getMe"


def test_bound_context_is_carried_into_each_event(json_logs: pytest.CaptureFixture[str]) -> None:
    with structlog.contextvars.bound_contextvars(run_id="r-1"):
        get_logger("odek.test").info("fire", job_id="j9")
    [event] = events(json_logs)
    assert (event["run_id"], event["job_id"]) == ("r-1", "j9")


def test_a_logger_handed_out_earlier_follows_a_new_configuration(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = get_logger("odek.test")
    log.info("first")
    assert [e["event"] for e in events(json_logs)] == ["first"]
    configure_logging(fmt="json", level="warning")
    log.info("dropped")
    log.warning("kept")
    assert [e["event"] for e in events(json_logs)] == ["kept"]
    configure_logging(fmt="console", level="info")
    log.info("now console", job_id="j1")
    err = json_logs.readouterr().err
    assert "now console" in err
    assert "job_id=j1" in err
    assert not err.startswith("{")


def test_events_go_to_the_stderr_of_the_moment(
    json_logs: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced = io.StringIO()
    monkeypatch.setattr(sys, "stderr", replaced)
    get_logger("odek.test").info("redirected")
    logging.getLogger("some.library").warning("also redirected")
    lines = [json.loads(line) for line in replaced.getvalue().splitlines()]
    assert [e["event"] for e in lines] == ["redirected", "also redirected"]
    assert json_logs.readouterr().err == ""


def test_events_below_the_level_are_not_rendered(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="info")
    rendered: list[str] = []

    class Watched:
        def __str__(self) -> str:
            rendered.append("str")
            return "watched"

    get_logger("odek.test").debug("hidden", value=Watched())
    assert rendered == []
    get_logger("odek.test").info("shown", value=Watched())
    assert rendered == ["str"]
    [event] = events(capsys)
    assert event["value"] == "watched"


def test_secret_named_keys_lose_their_values_and_the_line_stays_json(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    get_logger("odek.test").info("login", api_key="abc123xyz", token=123456, tokens=12)
    [event] = events(json_logs)
    assert (event["api_key"], event["token"], event["tokens"]) == ("[REDACTED]",) * 2 + (12,)


def test_objects_rendered_as_text_are_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    get_logger("odek.test").error("upstream", error=RuntimeError(f"rejected {OPENAI_KEY}"))
    [event] = events(json_logs)
    assert event["error"] == "rejected [REDACTED]"


def test_registered_secret_with_json_escaped_characters_is_redacted(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    secret = 'pä"ss\\wo\trd-x'
    register_secret(secret)
    try:
        get_logger("odek.test").info(f"leaked {secret}", detail={"nested": [f"<{secret}>"]})
        logging.getLogger("some.library").warning("also %s here", secret)
    finally:
        forget_secrets()
    first, second = events(json_logs)
    assert first["event"] == "leaked [REDACTED]"
    assert first["detail"] == {"nested": ["<[REDACTED]>"]}
    assert second["event"] == "also [REDACTED] here"


def test_multiline_values_are_redacted_inside_the_json_line(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEow\nIBAAK"  # cut off before its END line
    get_logger("odek.test").info(
        "output", text=f"line one\n{GITHUB_PAT}\nAuthorization: Basic dXNlcjpwYXNz", key=pem
    )
    [event] = events(json_logs)
    assert event["text"] == "line one\n[REDACTED]\nAuthorization: Basic [REDACTED]"
    assert event["key"] == "[REDACTED]"
    assert event["event"] == "output"


def test_console_lines_are_redacted_value_by_value(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="console", level="info")
    get_logger("odek.test").warning(
        "failed", detail={"headers": [f"x {OPENAI_KEY}"]}, error=ValueError(GITHUB_PAT)
    )
    err = capsys.readouterr().err
    assert "failed" in err
    assert "[REDACTED]" in err
    assert OPENAI_KEY not in err
    assert GITHUB_PAT not in err


def test_chatty_libraries_stay_at_warning_even_at_debug(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    for name in ("httpx", "telegram.ext"):
        logging.getLogger(name).info("HTTP Request: POST https://api.telegram.org/bot1/x")
        logging.getLogger(name).warning("retrying")
    logging.getLogger("some.library").debug("library detail")
    assert [(e["logger"], e["event"]) for e in events(json_logs)] == [
        ("httpx", "retrying"),
        ("telegram.ext", "retrying"),
        ("some.library", "library detail"),
    ]
