import pytest

from odek.errors import UsageError
from odek.telegram.schedule_args import AddRequest, parse_add


@pytest.mark.parametrize(
    ("text", "cron", "task"),
    [
        ("0 9 * * 1-5 stand up now", "0 9 * * 1-5", "stand up now"),
        ("  @hourly   check builds ", "@hourly", "check builds"),
        ("0\t9 *  * 1-5   stand   up", "0 9 * * 1-5", "stand   up"),
        ("@Daily summarize", "@Daily", "summarize"),
    ],
)
def test_cron_is_macro_or_five_fields_then_task(text: str, cron: str, task: str) -> None:
    assert parse_add(text) == AddRequest(cron=cron, task=task)


@pytest.mark.parametrize(
    "text", ["", "0 9 * * 1-5", "0 9 task", "@daily", "   ", "@daily | tz=UTC"]
)
def test_missing_cron_or_task_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="could not read the cron and the task"):
        parse_add(text)


def test_multi_line_task_keeps_its_lines() -> None:
    req = parse_add("0 9 * * * Check:\n- the build\n- the  queue\n| tz=Europe/Berlin")
    assert req.task == "Check:\n- the build\n- the  queue"
    assert req.tz == "Europe/Berlin"


def test_options_are_the_part_after_the_last_bar() -> None:
    req = parse_add("0 9 * * * count lines of grep foo | wc -l | deliver=log")
    assert req.task == "count lines of grep foo | wc -l"
    assert req.deliver == "log"


def test_trailing_bar_keeps_a_bar_inside_the_task() -> None:
    req = parse_add("0 9 * * * run grep foo | wc -l |")
    assert req == AddRequest(cron="0 9 * * *", task="run grep foo | wc -l")


def test_quoted_name_may_contain_spaces() -> None:
    req = parse_add('@daily digest | name="Morning digest" tz=UTC timeout=90s')
    assert (req.name, req.tz, req.timeout) == ("Morning digest", "UTC", "90s")


@pytest.mark.parametrize(
    ("options", "catchup", "disabled"),
    [
        ("catchup", True, None),
        ("catchup=false disabled=no", False, False),
        ("CATCHUP=True disabled", True, True),
        ("disabled=off", None, False),
    ],
)
def test_boolean_options_mean_what_they_say(
    options: str, catchup: bool | None, disabled: bool | None
) -> None:
    req = parse_add(f"@daily task | {options}")
    assert (req.catchup, req.disabled) == (catchup, disabled)


def test_unknown_option_is_an_error_listing_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        parse_add("@daily task | tz=UTC colour=blue")
    message = str(info.value)
    assert "unknown option 'colour'" in message
    for key in ("deliver=", "tz=", "name=", "catchup", "disabled", "timeout="):
        assert key in message


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ("catchup=maybe", "takes true or false"),
        ("tz=", "needs a value"),
        ('name="unterminated', "No closing quotation"),
    ],
)
def test_bad_option_values_are_usage_errors(options: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        parse_add(f"@daily task | {options}")
