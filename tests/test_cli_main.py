"""The root `odek` command: help, version, and how every kind of error becomes an exit code."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from odek.cli import main as cli
from odek.errors import (
    CronError,
    DeliveryError,
    InputError,
    JobNotFoundError,
    OdekError,
    StoreCorruptError,
    UsageError,
)

_RAISED: dict[str, BaseException] = {
    "input": InputError("bad input at field x"),
    "usage": UsageError("wrong usage"),
    "cron": CronError('cron: minute: 61 is out of range 0-59 (in "61")', expr="61 * * * *"),
    "missing": JobNotFoundError("jb-00000000"),
    "corrupt": StoreCorruptError("schedules.json: line 1, column 2: bad", path="x"),
    "runtime": OdekError("the lock is held"),
    "delivery": DeliveryError("telegram said no"),
    "os": PermissionError(13, "Permission denied", "/x/schedules.json"),
    "os-bare": OSError("disk on fire"),
    "interrupt": KeyboardInterrupt(),
}


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """A command module as main's registry expects one: `odek raise <kind>` raises."""
    parser = commands.add_parser("raise", help="raise an error of the given kind")
    parser.add_argument("kind", choices=sorted(_RAISED))

    def handler(args: argparse.Namespace) -> int:
        raise _RAISED[args.kind]

    parser.set_defaults(handler=handler)


@pytest.fixture
def with_raise_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, __name__))


@pytest.mark.usefixtures("with_raise_command")
@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("input", 2, "odek: bad input at field x"),
        ("usage", 2, "odek: wrong usage"),
        ("cron", 2, 'odek: cron: minute: 61 is out of range 0-59 (in "61")'),
        ("missing", 2, 'odek: no job with ID "jb-00000000"'),
        ("corrupt", 2, "odek: schedules.json: line 1, column 2: bad"),
        ("runtime", 1, "odek: the lock is held"),
        ("delivery", 1, "odek: telegram said no"),
        ("os", 1, "odek: /x/schedules.json: Permission denied"),
        ("os-bare", 1, "odek: disk on fire"),
        ("interrupt", 130, "odek: interrupted"),
    ],
)
def test_each_error_kind_is_one_stderr_line_and_its_exit_code(
    kind: str, code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["raise", kind]) == code
    captured = capsys.readouterr()
    assert captured.err == message + "\n"
    assert captured.out == ""


@pytest.mark.usefixtures("with_raise_command")
def test_registered_module_adds_its_command_next_to_schedule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "schedule" in out
    assert "raise" in out


def test_bare_odek_prints_the_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: odek")
    assert "schedule" in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: odek")
    assert "odek: argument <command>: invalid choice: 'frobnicate'" in err


def test_installed_entry_point_reports_usage_errors_with_exit_2(tmp_path: Path) -> None:
    odek = Path(sys.executable).with_name("odek")
    done = subprocess.run(
        [str(odek), "schedule", "ls", "--nope"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "odek: schedule list: unrecognized arguments: --nope"
    assert done.stdout == ""
