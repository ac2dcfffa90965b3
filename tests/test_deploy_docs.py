"""docs/DEPLOY.md: the odek commands it shows run, the crontab translation it teaches
gives the jobs it says, and the names it lists (variables, metrics) exist."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from odek.config.fields import FIELDS_BY_ENV
from odek.health import HEARTBEAT_FILE, Heartbeat, Metrics
from odek.health.heartbeat import process_start
from odek.logs import ENV_FORMAT, ENV_LEVEL
from odek.store.files import atomic_write

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "DEPLOY.md").read_text()
BLOCK = re.compile(r"^ *```(\w*)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)
IN_CONTAINER = re.compile(r"^docker compose exec \w+ (odek .*)$")


def blocks(info: str) -> list[list[str]]:
    """The code blocks tagged ``info``, as lists of stripped, non-blank lines."""
    return [
        [line.strip() for line in body.splitlines() if line.strip()]
        for tag, body in BLOCK.findall(DOC)
        if tag == info
    ]


def odek(command: str) -> subprocess.CompletedProcess[str]:
    """Run an ``odek ...`` command line from the doc, as the container would."""
    argv = shlex.split(command)
    assert argv[0] == "odek"
    return subprocess.run(
        [sys.executable, "-m", "odek", *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def write_live_heartbeat(home: Path) -> None:
    now = datetime.now(UTC)
    beat = Heartbeat(
        pid=os.getpid(),
        host=socket.gethostname(),
        pid_start=process_start(os.getpid()),
        started_at=now,
        updated_at=now,
        last_wake=now,
    )
    home.mkdir(mode=0o700, exist_ok=True)
    atomic_write(home / HEARTBEAT_FILE, msgspec.json.encode(beat))


def test_every_odek_command_run_in_the_container_works(odek_home: Path) -> None:
    commands = [
        match.group(1)
        for lines in blocks("sh")
        for line in lines
        if (match := IN_CONTAINER.match(line))
    ]
    assert len(commands) >= 6
    write_live_heartbeat(odek_home)
    for command in commands:
        result = odek(command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"


def test_the_crontab_example_becomes_the_jobs_shown(odek_home: Path) -> None:
    [crontab] = blocks("crontab")
    entries = [line for line in crontab if not line.startswith("#")]
    commands = next(lines for lines in blocks("sh") if lines[0].startswith("odek schedule add"))
    assert len(entries) == len(commands) == 4
    for entry, command in zip(entries, commands, strict=True):
        spec, run = _split_crontab(entry)
        assert run.startswith("odek run ")
        words = shlex.split(command)
        assert words[words.index("--cron") + 1] == spec
        assert words[words.index("--deliver") + 1] == _delivery_of(run)
        assert words[-1] == shlex.split(run.split(">>")[0])[-1]  # the task, unchanged
        result = odek(command)
        assert result.returncode == 0, result.stderr

    jobs = json.loads((odek_home / "schedules.json").read_text())["jobs"]
    assert [job["cron"] for job in jobs] == ["0 9 * * 1-5", "*/30 * * * *", "15 2 * * *", "@weekly"]
    assert [job["deliver"] for job in jobs] == [
        {"kind": "telegram"},
        {"kind": "log"},
        {"kind": "telegram", "chat_id": -1001234567890},
        {"kind": "log"},
    ]


def _split_crontab(entry: str) -> tuple[str, str]:
    """A crontab line's schedule (five fields or a macro) and its command."""
    if entry.startswith("@"):
        spec, command = entry.split(None, 1)
        return spec, command
    fields = entry.split(None, 5)
    return " ".join(fields[:5]), fields[5]


def _delivery_of(run: str) -> str:
    """The translation rule of the doc's table."""
    if ">>" in run:
        return "log"
    words = shlex.split(run)
    return words[words.index("--deliver") + 1] if "--deliver" in words else "stdout"


def test_every_variable_named_is_one_odek_reads() -> None:
    known = set(FIELDS_BY_ENV) | {ENV_FORMAT, ENV_LEVEL, "ODEK_HOME"}
    named = set(re.findall(r"\bODEK_[A-Z_]+\b", DOC))
    prefixes = {name for name in named if name.endswith("_")}  # ODEK_TELEGRAM_* and the like
    assert named - prefixes - known == set()
    assert all(any(k.startswith(prefix) for k in known) for prefix in prefixes)


def test_the_metrics_listed_are_the_metrics_served() -> None:
    now = datetime.now(UTC)
    beat = Heartbeat(pid=1, host="h", started_at=now, updated_at=now, last_wake=now, next_fire=now)
    text = Metrics(heartbeat=lambda: beat).render().decode()
    served = {
        name
        for name in re.findall(r"^# TYPE (odek_\w+) ", text, re.MULTILINE)
        if not name.endswith("_created")  # prometheus-client's creation times, not ours
    }
    listed = set(re.findall(r"`(odek_\w+)(?:\{\w+\})?`", DOC))
    assert listed == served
