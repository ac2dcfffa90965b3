"""CommandParser: flags mixed with free words, `--`, and usage errors raised, not exited."""

from __future__ import annotations

import argparse

import pytest

from odek.cli.parsing import CommandParser, help_handler
from odek.errors import UsageError


def _add_parser() -> CommandParser:
    root = CommandParser(prog="odek")
    verbs = root.add_subparsers()
    group = verbs.add_parser("schedule")
    add = group.add_subparsers().add_parser("add")
    add.add_argument("task", nargs="*")
    add.add_argument("--cron")
    add.add_argument("--catchup", action=argparse.BooleanOptionalAction)
    add.add_argument("--level", nargs="?", const="high")
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["--cron", "@daily", "check", "the", "mail"],
        ["check", "--cron", "@daily", "the", "mail"],
        ["check", "the", "mail", "--cron", "@daily"],
        ["check", "the", "--cron=@daily", "mail"],
    ],
)
def test_flags_may_come_before_between_or_after_the_words(argv: list[str]) -> None:
    args = _add_parser().parse_args(["schedule", "add", *argv])
    assert args.task == ["check", "the", "mail"]
    assert args.cron == "@daily"


def test_double_dash_ends_the_flags_so_later_words_may_start_with_a_dash() -> None:
    args = _add_parser().parse_args(
        ["schedule", "add", "--cron", "@daily", "run", "--", "--cron", "-x", "--"]
    )
    assert args.task == ["run", "--cron", "-x", "--"]
    assert args.cron == "@daily"


def test_flag_value_that_starts_with_a_dash_is_kept_as_the_value() -> None:
    args = _add_parser().parse_args(["schedule", "add", "job", "--cron", "-5", "more"])
    assert (args.cron, args.task) == ("-5", ["job", "more"])


def test_optional_value_flag_takes_a_following_word_only_when_it_is_not_a_flag() -> None:
    parser = _add_parser()
    assert parser.parse_args(["schedule", "add", "--level", "--catchup"]).level == "high"
    low = parser.parse_args(["schedule", "add", "--level", "low", "task"])
    assert (low.level, low.task) == ("low", ["task"])


def test_boolean_flag_and_its_negation_are_recognised_after_the_words() -> None:
    parser = _add_parser()
    assert parser.parse_args(["schedule", "add", "x", "--no-catchup"]).catchup is False
    assert parser.parse_args(["schedule", "add", "x", "--catchup"]).catchup is True


def test_unknown_flag_raises_usage_error_naming_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UsageError, match=r"^schedule add: unrecognized arguments: --nope$"):
        _add_parser().parse_args(["schedule", "add", "task", "--nope"])
    assert capsys.readouterr().err.startswith("usage: odek schedule add")


def test_abbreviated_flag_is_not_accepted() -> None:
    with pytest.raises(UsageError, match="unrecognized arguments: --cat"):
        _add_parser().parse_args(["schedule", "add", "task", "--cat"])


def test_missing_flag_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"argument --cron: expected one argument"):
        _add_parser().parse_args(["schedule", "add", "task", "--cron"])


def test_root_usage_error_has_no_command_prefix() -> None:
    with pytest.raises(UsageError, match=r"^unrecognized arguments: --nope$"):
        CommandParser(prog="odek").parse_args(["--nope"])


def test_help_handler_prints_the_parsers_help_and_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = CommandParser(prog="odek", description="The odek test parser.")
    assert help_handler(parser)(argparse.Namespace()) == 0
    assert "The odek test parser." in capsys.readouterr().out
