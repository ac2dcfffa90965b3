"""Every command line the documentation shows is run, or is an obvious placeholder.

The command lines are taken from the fenced code blocks of README.md and docs/*.md:

- in a ``sh``/``bash``/``shell``/``console`` block, every line (a block that uses ``$ ``
  prompts is read as a terminal session: the ``$ `` lines are commands, the others their
  output);
- in any other block, the ``$ `` lines (a session, as above); in a block without a
  language, also the lines that start with ``odek `` or ``uv run odek `` (diagrams are
  tagged ``text``).

A line is split into its stages (``&&``, ``||``, ``|``, ``;``). A stage that runs odek
(``odek ...``, ``uv run odek ...``, ``docker compose exec <service> odek ...``) is an odek
command; ``export NAME=value`` and bare assignments set the environment of the block's
later odek commands. Each line with an odek command is one test case, named
``<file>:<line>``, and is either

- **run**: ``sys.executable -m odek ...`` on a copy of an ``ODEK_HOME`` prepared with the
  jobs the docs use (``jb-1a2b3c4d`` and the others of the ``odek schedule ls`` example),
  with the fake OpenAI and Bot API servers for commands that need a model or Telegram. It
  must exit with the code the docs show, ``(exit N)`` in its shown output, else 0. Where the
  shown output is deterministic (an error, a ``--after`` listing, ``odek run`` with the
  model scripted to the shown answer) every shown line must be printed, ``...`` matching
  anything. ``odek schedule daemon`` and ``odek telegram`` are started, must log their ready
  event, and must exit 0 on SIGTERM; or
- a **placeholder**: it contains ``<...>`` or ``...``; its literal leading words must still
  name a command (``odek <words> --help`` exits 0).

There is no third kind. A shell line that runs no odek command must be an obvious
placeholder or use one of the tools in :data:`EXTERNAL` (Docker, git, ...: commands of
other programs, which this machine cannot or should not run); anything else fails
:func:`test_every_shell_line_is_an_odek_command_or_a_known_tool`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from fakes.botapi import DEFAULT_TOKEN, FakeBotApi
from fakes.openai import FakeOpenAI, Reply, answer
from fakes.telegram_harness import OdekProcess

from odek.cli.main import main as odek_main
from odek.health import HEARTBEAT_FILE, Heartbeat
from odek.health.heartbeat import process_start
from odek.scheduler.journal import Delivered, Delivering, Finish, Intent, append_records
from odek.store import JobStore, RunState
from odek.store.files import atomic_write

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELL_BLOCKS = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
PLACEHOLDER = re.compile(r"<[A-Za-z][^<>]*>|\.\.\.|…")
EXIT_NOTE = re.compile(r"\s*\(exit (\d+)\)\s*$")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
OPERATORS = {"&&", "||", "|", ";"}
COMMENT = re.compile(r"\s+#\s.*$")

#: Programs other than odek that the docs tell the user to run, and why they are not run
#: here. A new one must be added on purpose.
EXTERNAL: dict[tuple[str, ...], str] = {
    ("docker",): "needs a Docker engine (compose.yaml: tests/test_deploy_compose.py)",
    ("git",): "works on the user's checkout",
    ("cd",): "changes the shell's directory",
    ("cp",): "copies the user's files",
    ("chmod",): "protects the user's files",
    ("jq",): "filters a deployment's logs",
    ("curl",): "talks to a running deployment",
    ("tar",): "backs up the user's files",
    ("$EDITOR",): "opens the user's editor",
    ("python3", "-m", "pip", "install"): "installs uv into the user's Python",
    ("uv", "run", "pytest"): "runs this test suite",
}

#: The jobs of the ``odek schedule ls`` example in docs/CLI.md; the docs use these ids.
JOBS = [
    {
        "id": "jb-1a2b3c4d",
        "name": "Summarize my calendar",
        "cron": "0 9 * * 1-5",
        "task": "Summarize my calendar",
        "deliver": {"kind": "stdout"},
        "enabled": True,
        "timezone": "Europe/Berlin",
        "created_at": "2026-06-01T08:00:00Z",
    },
    {
        "id": "jb-0badf00d",
        "name": "nightly digest",
        "cron": "@daily",
        "task": "Write the nightly digest",
        "deliver": {"kind": "log"},
        "enabled": False,
        "created_at": "2026-06-01T08:00:00Z",
    },
    {
        "id": "jb-5eed1e55",
        "name": "leap check",
        "cron": "0 0 30 2 *",
        "task": "Check the leap day",
        "deliver": {"kind": "stdout"},
        "enabled": True,
        "created_at": "2026-06-01T08:00:00Z",
    },
]
CHAT = 123456789
LONG_RUNNING = {("schedule", "daemon"): '"event":"ready"', ("telegram",): '"bot_ready"'}
WAIT = 30.0


@dataclass(frozen=True)
class Command:
    """One command line of the docs: where it is, its text, the odek commands in it (argv
    after ``odek``), the environment the block set before it, and the output shown."""

    where: str
    text: str
    odek: list[list[str]]
    env: dict[str, str]
    shown: list[str] = field(default_factory=list)

    @property
    def placeholder(self) -> bool:
        return PLACEHOLDER.search(COMMENT.sub("", self.text)) is not None

    @property
    def expected_exit(self) -> int:
        codes = [int(m.group(1)) for line in self.shown if (m := EXIT_NOTE.search(line))]
        return codes[0] if codes else 0


@dataclass
class Scan:
    """What the docs' code blocks hold: odek command lines, and lines that run no odek
    command and are neither placeholders nor :data:`EXTERNAL` tools."""

    commands: list[Command] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def code_blocks(path: Path) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """The fenced blocks of ``path``: language and (line number, line) pairs, the lines
    without the fence's indentation."""
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        indent = len(lines[index - 1]) - len(lines[index - 1].lstrip())
        body: list[tuple[int, str]] = []
        while index < len(lines) and not lines[index].strip().startswith(opening.group(1)):
            body.append((index + 1, lines[index][indent:].rstrip()))
            index += 1
        index += 1
        yield opening.group(2), body


def command_lines(language: str, body: list[tuple[int, str]]) -> list[tuple[int, str, list[str]]]:
    """The command lines of one block with the output shown after each."""
    session = any(line.startswith("$ ") for _, line in body)
    found: list[tuple[int, str, list[str]]] = []
    for number, raw in body:
        line = raw.strip()
        if session:
            if line.startswith("$ "):
                found.append((number, line[2:], []))
            elif found and line:
                found[-1][2].append(raw)
        elif line and not line.startswith("#") and is_command(language, line):
            found.append((number, line, []))
    return found


def is_command(language: str, line: str) -> bool:
    """Whether a line of a block without ``$ `` prompts is a command line."""
    if language in SHELL_BLOCKS:
        return True
    return not language and line.startswith(("odek ", "uv run odek "))


def stages(text: str) -> list[list[str]]:
    """The words of each stage of a command line (operators need spaces around them, as
    everywhere in the docs)."""
    words = shlex.split(text, comments=True)
    split: list[list[str]] = [[]]
    for word in words:
        if word in OPERATORS:
            split.append([])
        else:
            split[-1].append(word)
    return [stage for stage in split if stage]


def odek_argv(words: list[str]) -> list[str] | None:
    """The arguments after ``odek`` if this stage runs odek, else ``None``."""
    for prefix in (["odek"], ["uv", "run", "odek"]):
        if words[: len(prefix)] == prefix:
            return words[len(prefix) :]
    if words[:3] == ["docker", "compose", "exec"] and words[4:5] == ["odek"]:
        return words[5:]
    return None


def scan() -> Scan:
    result = Scan()
    for path in DOC_FILES:
        name = path.relative_to(ROOT).as_posix()
        for language, body in code_blocks(path):
            env: dict[str, str] = {}
            for number, text, shown in command_lines(language, body):
                where = f"{name}:{number}"
                obvious = PLACEHOLDER.search(COMMENT.sub("", text)) is not None
                try:
                    parts = stages(text)
                except ValueError as exc:  # unbalanced quotes: only a placeholder may do that
                    if not obvious:
                        result.unknown.append(f"{where}: {text} ({exc})")
                    continue
                odek: list[list[str]] = []
                line_env = dict(env)
                for words in parts:
                    if words[0] == "export":
                        words = words[1:]
                    while words and ASSIGNMENT.match(words[0]):
                        key, _, value = words.pop(0).partition("=")
                        line_env[key] = value
                    if not words:  # only assignments: they hold for the rest of the block
                        env = dict(line_env)
                        continue
                    argv = odek_argv(words)
                    if argv is not None:
                        odek.append(argv)
                    elif not obvious and not any(
                        tuple(words[: len(tool)]) == tool for tool in EXTERNAL
                    ):
                        result.unknown.append(f"{where}: {text}")
                if odek:
                    result.commands.append(Command(where, text, odek, line_env, shown))
    return result


SCAN = scan()


def test_every_shell_line_is_an_odek_command_or_a_known_tool() -> None:
    assert SCAN.unknown == []
    assert len(SCAN.commands) >= 30  # the extraction finds the docs' commands at all


def test_the_scan_reads_prompts_output_placeholders_and_environment() -> None:
    body = [
        (1, "$ FOO=1 odek schedule ls   # the jobs"),
        (2, "ID  ON"),
        (3, "$ odek schedule rm jb-00000000"),
        (4, 'odek: no job with ID "jb-00000000"   (exit 2)'),
    ]
    found = command_lines("text", body)
    assert found == [
        (1, "FOO=1 odek schedule ls   # the jobs", ["ID  ON"]),
        (3, "odek schedule rm jb-00000000", ['odek: no job with ID "jb-00000000"   (exit 2)']),
    ]
    assert stages("python3 -m pip install uv && uv run odek schedule daemon  # go") == [
        ["python3", "-m", "pip", "install", "uv"],
        ["uv", "run", "odek", "schedule", "daemon"],
    ]
    assert odek_argv(["docker", "compose", "exec", "telegram", "odek", "health"]) == ["health"]
    assert Command("x", "odek schedule next <id>", [], {}).placeholder
    assert not Command("x", "odek schedule ls  # see ...", [], {}).placeholder
    assert Command("x", "", [], {}, [body[3][1]]).expected_exit == 2


# --- the prepared ODEK_HOME --------------------------------------------------------------


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ODEK_HOME with the docs' jobs, their last runs and a history for jb-1a2b3c4d;
    built once and copied for every command."""
    home = tmp_path_factory.mktemp("docs-template") / "odek-home"
    home.mkdir(mode=0o700)
    atomic_write(home / "schedules.json", json.dumps({"version": 1, "jobs": JOBS}).encode())
    store = JobStore(home)
    ran = datetime(2026, 6, 4, 7, 0, tzinfo=UTC)
    store.update_states(
        {
            "jb-1a2b3c4d": RunState(last_run=ran, last_status="ok", runs=3),
            "jb-0badf00d": RunState(
                last_run=ran, last_status="error", last_error="run: model: 503", runs=1
            ),
        }
    )
    records: list[Intent | Finish | Delivering | Delivered] = []
    for day, trigger in ((2, "scheduled"), (3, "scheduled"), (4, "manual")):
        nominal = datetime(2026, 6, day, 7, 0, tzinfo=UTC)
        run = f"r{day}"
        records += [
            Intent(run, "jb-1a2b3c4d", nominal, trigger, nominal + timedelta(seconds=1)),
            Finish(
                run,
                "jb-1a2b3c4d",
                "ok",
                nominal + timedelta(seconds=41),
                result="3 meetings today: standup 09:30, design review 11:00, 1:1 15:00",
                tokens=2114,
            ),
            Delivering(run, nominal + timedelta(seconds=41)),
            Delivered(run, nominal + timedelta(seconds=42)),
        ]
    append_records(home, records)
    return home


def write_heartbeat(home: Path, *, stale: bool) -> None:
    """A heartbeat of this (live) process whose timer woke just now, or 300 s ago."""
    now = datetime.now(UTC)
    wake = now - timedelta(seconds=300) if stale else now
    beat = Heartbeat(
        pid=os.getpid(),
        host=socket.gethostname(),
        pid_start=process_start(os.getpid()),
        started_at=now - timedelta(hours=1),
        updated_at=wake,
        last_wake=wake,
        next_fire=now + timedelta(minutes=5),
        jobs_loaded=3,
    )
    atomic_write(home / HEARTBEAT_FILE, msgspec.json.encode(beat))


@contextmanager
def servers(command: Command) -> Iterator[dict[str, str]]:
    """The fake model and Bot API a command needs, as environment variables; the others
    point at a closed loopback port, so nothing can reach the real services."""
    words = [word for argv in command.odek for word in argv]
    env = {
        "ODEK_BASE_URL": "http://127.0.0.1:9/v1",
        "ODEK_TELEGRAM_API_URL": "http://127.0.0.1:9",
    }
    with ExitStack() as stack:
        if words[:1] in (["run"], ["telegram"]) or words[:2] in (
            ["schedule", "run"],
            ["schedule", "daemon"],
        ):
            model = stack.enter_context(FakeOpenAI())
            model.push(scripted_answer(command))
            env["ODEK_BASE_URL"] = model.url
        if any(word.startswith("telegram") for word in words):
            api = stack.enter_context(FakeBotApi().serving_in_thread())
            env["ODEK_TELEGRAM_API_URL"] = api.base_url
        yield env


def scripted_answer(command: Command) -> Reply:
    """The model's answer: the answer the docs show (with the token count they show), or a
    stock one."""
    tokens = [int(m.group(1)) for line in command.shown if (m := TOKENS.fullmatch(line))]
    text = [line for line in command.shown if not line.startswith("odek:")]
    total = tokens[0] if tokens else 15
    return answer("\n".join(text) or "Done.", prompt_tokens=total - 5, completion_tokens=5)


TOKENS = re.compile(r"odek: (\d+) tokens")


def environment(home: Path, command: Command, fakes: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ODEK_", "DEEPSEEK_", "OPENAI_"))
    }
    env.update(
        ODEK_HOME=str(home),
        HOME=str(home.parent),
        ODEK_API_KEY="sk-docs-test",
        ODEK_MODEL="fake",
        ODEK_TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        ODEK_TELEGRAM_DEFAULT_CHAT_ID=str(CHAT),
        ODEK_TELEGRAM_POLL_TIMEOUT="1",
        ODEK_SCHEDULES_DRAIN_TIMEOUT="1s",
        ODEK_LOG_FORMAT="json",
        COLUMNS="100",
    )
    env.update(fakes)
    env.update(command.env)
    return env


# --- the cases ---------------------------------------------------------------------------


def matches_in_order(shown: list[str], printed: list[str]) -> list[str]:
    """The shown lines (``(exit N)`` notes removed, ``...`` matching anything) that are not
    printed, in order, among ``printed``."""
    rest = iter(printed)
    missing = []
    for line in shown:
        body = EXIT_NOTE.sub("", line).rstrip()
        pattern = ".*".join(re.escape(part) for part in re.split(r"\s*(?:\.\.\.|…)", body))
        if not any(re.fullmatch(pattern, candidate.rstrip()) for candidate in rest):
            missing.append(line)
            rest = iter(printed)
    return missing


def deterministic(command: Command, argv: list[str]) -> bool:
    """Whether the shown output is what the command prints whatever the day: an error,
    a listing from a fixed ``--after`` time, the prepared history, or an ``odek run``
    answer."""
    return bool(command.shown) and (
        command.expected_exit in (2, 130)
        or "--after" in argv
        or argv[:1] == ["run"]
        or argv[:2] == ["schedule", "history"]
    )


def run_command(command: Command, argv: list[str], home: Path, env: dict[str, str]) -> None:
    if argv[:1] == ["health"]:
        write_heartbeat(home, stale=command.expected_exit == 1)
    ready = next((line for verb, line in LONG_RUNNING.items() if tuple(argv) == verb), None)
    if ready is not None:
        process = OdekProcess(argv, env, home.parent)
        try:
            process.wait_for_line(ready, within=WAIT)
        finally:
            code = process.stop(signal.SIGTERM, within=WAIT)
        assert code == command.expected_exit, "\n".join(process.lines)
        return
    done = subprocess.run(
        [sys.executable, "-m", "odek", *argv],
        env=env,
        cwd=home.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == command.expected_exit, printed
    if deterministic(command, argv):
        assert matches_in_order(command.shown, printed.splitlines()) == [], printed


def check_placeholder(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The literal words before the first placeholder or flag name a command."""
    verbs: list[str] = []
    for word in argv:
        if word.startswith(("-", "[", "<")) or PLACEHOLDER.search(word) or " " in word:
            break
        verbs.append(word)
    code = odek_main([*verbs, "--help"])
    out = capsys.readouterr().out
    assert code == 0, f"odek {' '.join(verbs)} --help: {out}"
    assert out.startswith("usage: odek")


@pytest.mark.parametrize("command", [pytest.param(c, id=c.where) for c in SCAN.commands])
def test_docs_command(
    command: Command,
    template_home: Path,
    odek_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if command.placeholder:
        for argv in command.odek:
            check_placeholder(argv, capsys)
        return
    shutil.copytree(template_home, odek_home)
    with servers(command) as fakes:
        env = environment(odek_home, command, fakes)
        for argv in command.odek:
            run_command(command, argv, odek_home, env)


def test_a_placeholder_must_still_name_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    check_placeholder(["schedule", "next", "<id>", "--count", "<n>"], capsys)
    with pytest.raises(AssertionError):
        check_placeholder(["schedule", "frobnicate", "<id>"], capsys)


def test_a_wrong_exit_code_or_output_in_the_docs_fails(
    template_home: Path, odek_home: Path
) -> None:
    shutil.copytree(template_home, odek_home)
    env = environment(odek_home, Command("x", "", [], {}), {})
    wrong_exit = Command("x", "", [], {}, ["odek: no job   (exit 2)"])
    with pytest.raises(AssertionError):
        run_command(wrong_exit, ["schedule", "ls"], odek_home, env)
    wrong_text = Command("x", "", [], {}, ['odek: no job with ID "jb-1"   (exit 2)'])
    with pytest.raises(AssertionError):
        run_command(wrong_text, ["schedule", "rm", "jb-2"], odek_home, env)
