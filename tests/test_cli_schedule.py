"""`odek schedule` verbs, run as the installed program in a subprocess on a temporary
ODEK_HOME: output, JSON, aliases, flag order, and every error with its exit code."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from odek.store import JobStore, RunState

Odek = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def odek(tmp_path: Path, odek_home: Path) -> Odek:
    """Run `python -m odek <args>` in an empty directory with this test's ODEK_HOME and no
    other ODEK_* variable of the machine; `env` adds variables."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("ODEK_")}
    base["ODEK_HOME"] = str(odek_home)

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "odek", *args],
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            cwd=workdir,
            check=False,
            timeout=60,
        )

    return run


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def jobs_json(odek: Odek, **kw: Any) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = json.loads(ok(odek("schedule", "list", "--json", **kw)))["jobs"]
    return jobs


def added_id(stdout: str) -> str:
    first = stdout.splitlines()[0]
    assert first.startswith("Added jb-")
    return first.removeprefix("Added ")


def write_jobs(home: Path, *jobs: dict[str, Any]) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    (home / "schedules.json").write_text(json.dumps({"version": 1, "jobs": list(jobs)}))


def job_record(job_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": f"job {job_id}",
        "cron": "0 9 * * *",
        "task": "say hi",
        "deliver": {"kind": "stdout"},
        "enabled": True,
        "created_at": "2026-01-01T00:00:00Z",
        **fields,
    }


# --- help ---------------------------------------------------------------------------------


def test_schedule_without_verb_prints_help_with_examples_and_succeeds(odek: Odek) -> None:
    bare = ok(odek("schedule"))
    assert bare == ok(odek("schedule", "--help"))
    assert bare.startswith("usage: odek schedule")
    for verb in ("list (ls)", "add", "edit", "rm (remove, delete)", "enable", "disable", "next"):
        assert verb in bare
    assert 'odek schedule add --cron "0 9 * * 1-5"' in bare
    assert "Exit codes: 0 success, 1 failure, 2 bad usage or invalid input." in bare


# --- add and list -------------------------------------------------------------------------


def test_add_prints_the_stored_job_and_list_shows_it(odek: Odek) -> None:
    out = ok(odek("schedule", "add", "--cron", "0 9 * * 1-5", "--tz", "Europe/Berlin", "say hi"))
    job_id = added_id(out)
    assert "  name:     say hi (enabled)" in out
    assert "  cron:     0 9 * * 1-5  (at 09:00, Monday through Friday)" in out
    assert "  zone:     Europe/Berlin" in out
    assert "  deliver:  stdout" in out
    assert "  timeout:  default (15m)" in out
    next_line = out.splitlines()[-1]
    assert next_line.startswith("  next:     ")
    assert " 09:00 CE" in next_line  # CET or CEST, depending on today's date

    table = ok(odek("schedule", "list")).splitlines()
    assert table[0].split() == ["ID", "ON", "CRON", "NEXT", "ZONE", "LAST", "NAME"]
    assert table[1].startswith(f"{job_id}  yes  0 9 * * 1-5  ")
    assert table[1].endswith("Europe/Berlin  —     say hi")


def test_flags_may_follow_the_task_and_double_dash_keeps_dashed_words(odek: Odek) -> None:
    after = added_id(ok(odek("schedule", "add", "water", "the", "plants", "--cron", "@daily")))
    between = added_id(ok(odek("schedule", "add", "feed", "--cron=@hourly", "the", "cat")))
    literal = added_id(
        ok(odek("schedule", "add", "--cron", "@weekly", "--", "grep", "--count", "-v", "x"))
    )
    tasks = {job["id"]: (job["task"], job["cron"]) for job in jobs_json(odek)}
    assert tasks == {
        after: ("water the plants", "@daily"),
        between: ("feed the cat", "@hourly"),
        literal: ("grep --count -v x", "@weekly"),
    }


def test_add_with_every_flag_stores_each_one(odek: Odek) -> None:
    out = ok(
        odek(
            "schedule", "add", "--name", "Chat digest", "--deliver", "telegram:-100123",
            "--tz", "Asia/Kolkata", "--catchup", "--disabled", "--timeout", "90s",
            "--cron", "30 8 * * *", "summarize", "the", "chat",
        )
    )  # fmt: skip
    assert "  name:     Chat digest (disabled)" in out
    assert "  timeout:  1m30s" in out
    assert "  next:     — (disabled)" in out
    [job] = jobs_json(odek)
    assert job == {
        **job,
        "name": "Chat digest",
        "task": "summarize the chat",
        "deliver": "telegram:-100123",
        "enabled": False,
        "catchup": True,
        "timezone": "Asia/Kolkata",
        "zone": "Asia/Kolkata",
        "timeout": 90.0,
        "next_fire": None,
        "last_status": None,
        "runs": 0,
        "invalid": None,
    }
    assert datetime.fromisoformat(job["created_at"]).tzinfo is not None


def test_empty_store_lists_the_friendly_hint_and_empty_json(odek: Odek) -> None:
    assert ok(odek("schedule", "ls")) == (
        "No scheduled jobs. Add one with:\n"
        '  odek schedule add --cron "0 9 * * 1-5" --deliver telegram "your task"\n'
    )
    assert json.loads(ok(odek("schedule", "ls", "--json"))) == {"jobs": []}


def test_list_uses_configured_default_zone_and_shows_last_status(
    odek: Odek, odek_home: Path
) -> None:
    job_id = added_id(ok(odek("schedule", "add", "--cron", "0 9 * * *", "say", "hi")))
    JobStore(odek_home).update_states(
        {job_id: RunState(last_status="error", last_run=datetime(2026, 1, 2, tzinfo=UTC), runs=3)}
    )
    tokyo = {"ODEK_SCHEDULES_TIMEZONE": "Asia/Tokyo"}
    [job] = jobs_json(odek, env=tokyo)
    assert (job["timezone"], job["zone"], job["last_status"], job["runs"]) == (
        "",
        "Asia/Tokyo",
        "error",
        3,
    )
    next_fire = datetime.fromisoformat(job["next_fire"])
    assert (next_fire.hour, next_fire.minute, next_fire.utcoffset()) == (9, 0, timedelta(hours=9))
    assert job["last_run"] == "2026-01-02T00:00:00+00:00"
    row = ok(odek("schedule", "ls", env=tokyo)).splitlines()[1]
    assert "09:00 JST  Asia/Tokyo (default)  error  say hi" in row


def test_broken_job_is_listed_as_invalid_and_the_others_still_list(
    odek: Odek, odek_home: Path
) -> None:
    write_jobs(
        odek_home,
        job_record("jb-00000001"),
        job_record("jb-00000002", timezone="Mars/Olympus"),
        job_record("jb-00000003", cron="0 0 30 2 *"),
    )
    lines = ok(odek("schedule", "list")).splitlines()
    assert lines[1].startswith("jb-00000001  yes  0 9 * * *   ")
    assert " 09:00 UTC " in lines[1]
    assert lines[2].startswith("jb-00000002  yes  0 9 * * *   invalid ")
    assert lines[3].startswith("             invalid: ")
    assert "Mars/Olympus" in lines[3]
    assert lines[4].startswith("jb-00000003  yes  0 0 30 2 *  invalid ")
    assert lines[5].startswith("             invalid: ")
    assert len(lines) == 6
    reasons = {job["id"]: job["invalid"] for job in jobs_json(odek)}
    assert reasons["jb-00000001"] is None
    assert "Mars/Olympus" in reasons["jb-00000002"]
    assert reasons["jb-00000003"]


def test_corrupt_store_is_an_error_naming_file_and_position(odek: Odek, odek_home: Path) -> None:
    odek_home.mkdir(mode=0o700)
    broken = b'{"version": 1,\n "jobs": [\n  {"id": "jb-00000001", "enabled": yes}\n]}\n'
    (odek_home / "schedules.json").write_bytes(broken)
    for argv in (("schedule", "ls"), ("schedule", "next", "jb-00000001")):
        done = odek(*argv)
        assert done.returncode == 2, argv
        assert done.stdout == ""
        assert done.stderr.startswith("odek: ")
        assert "schedules.json" in done.stderr
        assert "line 3, column " in done.stderr
    done = odek("schedule", "add", "--cron", "@daily", "task")
    assert done.returncode == 2
    assert (odek_home / "schedules.json").read_bytes() == broken


def test_unreadable_run_states_only_warn_and_the_jobs_still_list(
    odek: Odek, odek_home: Path
) -> None:
    write_jobs(odek_home, job_record("jb-00000001"))
    (odek_home / "schedule-state.json").write_text('{"version": 1, "states": [}')
    done = odek("schedule", "ls")
    assert done.returncode == 0
    assert done.stderr.startswith("odek: warning: last run status unavailable: ")
    assert "schedule-state.json" in done.stderr
    assert done.stdout.splitlines()[1].endswith("UTC (default)  —     job jb-00000001")


def test_state_directory_that_cannot_be_made_is_a_runtime_failure(
    odek: Odek, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    done = odek("schedule", "ls", env={"ODEK_HOME": str(not_a_dir)})
    assert done.returncode == 1
    assert done.stderr == f"odek: {not_a_dir}: File exists\n"


def test_fifty_add_processes_started_at_once_leave_fifty_jobs(
    odek_home: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "ODEK_HOME": str(odek_home)}
    argv = [sys.executable, "-m", "odek", "schedule", "add", "--cron", "*/5 * * * *"]
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(
                subprocess.Popen(
                    [*argv, f"task {n}"],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            for n in range(50)
        ]
        errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * 50, errors
    snapshot = JobStore(odek_home).load()
    assert sorted(job.task for job in snapshot.jobs) == sorted(f"task {n}" for n in range(50))
    assert len({job.id for job in snapshot.jobs}) == 50
    assert snapshot.invalid == {}


# --- edit, rm, enable, disable ------------------------------------------------------------


def test_edit_changes_fields_in_place_and_keeps_the_rest(odek: Odek) -> None:
    job_id = added_id(
        ok(odek("schedule", "add", "--cron", "@daily", "--name", "old", "--timeout", "5m", "t"))
    )
    [before] = jobs_json(odek)
    out = ok(
        odek(
            "schedule", "edit", job_id, "--cron", "15 6 * * 1", "--task", "new task",
            "--tz", "Europe/Paris", "--deliver", "log", "--catchup", "--name", "",
        )
    )  # fmt: skip
    assert out.splitlines()[0] == f"Updated {job_id}"
    assert "  cron:     15 6 * * 1  (at 06:15, on Monday)" in out
    [after] = jobs_json(odek)
    assert after == {
        **before,
        "cron": "15 6 * * 1",
        "task": "new task",
        "name": "new task",
        "timezone": "Europe/Paris",
        "zone": "Europe/Paris",
        "deliver": "log",
        "catchup": True,
        "next_fire": after["next_fire"],
    }
    ok(odek("schedule", "edit", "--no-catchup", "--tz", "", "--timeout", "", job_id))
    [cleared] = jobs_json(odek)
    assert (cleared["catchup"], cleared["timezone"], cleared["timeout"]) == (False, "", None)


def test_failed_edit_leaves_the_file_byte_for_byte(odek: Odek, odek_home: Path) -> None:
    job_id = added_id(ok(odek("schedule", "add", "--cron", "@daily", "t")))
    before = (odek_home / "schedules.json").read_bytes()
    done = odek("schedule", "edit", job_id, "--task", "new", "--cron", "0 0 31 4 *")
    assert done.returncode == 2
    assert done.stderr.startswith("odek: cron: ")
    done = odek("schedule", "edit", job_id, "--task", "   ")
    assert done.returncode == 2
    assert "task" in done.stderr
    assert (odek_home / "schedules.json").read_bytes() == before


def test_disable_enable_and_every_remove_alias(odek: Odek) -> None:
    ids = [added_id(ok(odek("schedule", "add", "--cron", "@hourly", f"job{i}"))) for i in range(3)]
    assert ok(odek("schedule", "disable", ids[0])) == f"Disabled {ids[0]} (job0)\n"
    assert [job["enabled"] for job in jobs_json(odek)] == [False, True, True]
    assert " no   @hourly  —  " in ok(odek("schedule", "ls")).splitlines()[1]
    assert ok(odek("schedule", "enable", ids[0])) == f"Enabled {ids[0]} (job0)\n"
    assert jobs_json(odek)[0]["enabled"] is True
    for verb, job_id in zip(("rm", "remove", "delete"), ids, strict=True):
        assert ok(odek("schedule", verb, job_id)) == f"Removed {job_id}\n"
    assert ok(odek("schedule", "ls")).startswith("No scheduled jobs.")


# --- next ---------------------------------------------------------------------------------


def test_next_marks_the_fire_that_spring_forward_moved(odek: Odek) -> None:
    argv = ("schedule", "next", "30", "2", "*", "*", "*", "--tz", "America/New_York")
    after = ("--after", "2026-03-07T00:00", "--count", "3")
    lines = ok(odek(*argv, *after)).splitlines()
    assert lines[:3] == [
        "Expression: 30 2 * * *",
        "  at 02:30 (America/New_York time)",
        "Next 3 fires:",
    ]
    assert lines[3] == "  Sat 2026-03-07 02:30 EST (-05:00)"
    assert lines[4].startswith("  Sun 2026-03-08 03:00 EDT (-04:00)  [DST: ")
    assert lines[5] == "  Mon 2026-03-09 02:30 EDT (-04:00)"
    data = json.loads(ok(odek("schedule", "next", *after, "--json", *argv[2:])))
    assert data["expression"] == "30 2 * * *"
    assert data["timezone"] == "America/New_York"
    assert data["job"] is None
    assert [f["at"] for f in data["fires"]] == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    assert [f["note"] is None for f in data["fires"]] == [True, False, True]


def test_next_of_a_job_uses_its_zone_and_can_show_another(odek: Odek) -> None:
    job_id = added_id(
        ok(odek("schedule", "add", "--cron", "0 9 * * *", "--tz", "Europe/Berlin", "hi"))
    )
    after = ("--after", "2026-06-01T00:00Z")
    lines = ok(odek("schedule", "next", job_id, *after, "--count", "2")).splitlines()
    assert lines == [
        f"Job {job_id} (hi): 0 9 * * *",
        "  at 09:00 (Europe/Berlin time)",
        "Next 2 fires:",
        "  Mon 2026-06-01 09:00 CEST (+02:00)",
        "  Tue 2026-06-02 09:00 CEST (+02:00)",
    ]
    shown = ok(odek("schedule", "next", job_id, *after, "--tz", "Asia/Tokyo")).splitlines()
    assert shown[2] == "Next 5 fires, shown in Asia/Tokyo:"
    assert shown[3] == "  Mon 2026-06-01 16:00 JST (+09:00)"
    assert len(shown) == 8


def test_next_of_an_expression_defaults_to_the_configured_zone(odek: Odek) -> None:
    done = odek(
        "schedule", "next", "@daily", "--json", "--after", "2026-01-01", "--count", "1",
        env={"ODEK_SCHEDULES_TIMEZONE": "Pacific/Chatham"},
    )  # fmt: skip
    data = json.loads(ok(done))
    assert data["timezone"] == "Pacific/Chatham"
    assert data["fires"] == [{"at": "2026-01-02T00:00:00+13:45", "note": None}]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["add", "--cron", "0 9 * * 1-8", "check", "mail"],
            'odek: cron: day-of-week: 8 is out of range 0-7 (in "1-8")',
        ),
        (["add", "check", "mail"], "the following arguments are required: --cron"),
        (["add", "--cron", "@daily"], "odek: schedule add: the task is missing"),
        (["add", "--cron", "@daily", "--tz", "Mars/Olympus", "x"], "unknown time zone"),
        (["add", "--cron", "@daily", "--deliver", "pigeon", "x"], 'unknown delivery "pigeon"'),
        (["add", "--cron", "@daily", "--deliver", "telegram:me", "x"], "telegram chat id"),
        (["add", "--cron", "@daily", "--timeout", "soon", "x"], "odek: --timeout: "),
        (["add", "--cron", "@daily", "--timeout", "0", "x"], "greater than zero"),
        (["add", "--cron", "0 0 30 2 *", "x"], "odek: cron: "),
        (["add", "--cron", "@reboot", "x"], "catch"),
        (["add", "--cron", "@daily", "x", "--nope"], "unrecognized arguments: --nope"),
        (["rm", "jb-00000000"], 'odek: no job with ID "jb-00000000"'),
        (["rm"], "the following arguments are required: ID"),
        (["enable", "jb-00000000"], 'odek: no job with ID "jb-00000000"'),
        (["disable", "jb-00000000"], 'odek: no job with ID "jb-00000000"'),
        (["edit", "jb-00000000", "--cron", "@daily"], 'odek: no job with ID "jb-00000000"'),
        (["edit", "jb-00000000"], "odek: schedule edit: nothing to change"),
        (["next", "jb-00000000"], 'odek: no job with ID "jb-00000000"'),
        (["next", "61", "*", "*", "*", "*"], "odek: cron: minute: "),
        (["next", "@daily", "--count", "0"], "--count must be between 1 and 1000"),
        (["next", "@daily", "--count", "many"], "argument --count: invalid int value"),
        (["next", "@daily", "--after", "yesterday"], "odek: --after: 'yesterday' is not"),
        (["next", "@daily", "--tz", "Nowhere/Land"], "unknown time zone"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_usage_or_input_exits_2_saying_what_is_wrong(
    odek: Odek, odek_home: Path, argv: list[str], message: str
) -> None:
    done = odek("schedule", *argv)
    assert done.returncode == 2
    assert done.stdout == ""
    error = done.stderr.splitlines()[-1]
    assert error.startswith("odek: ")
    assert message in error
    assert not (odek_home / "schedules.json").exists()


def test_list_warns_when_the_running_daemon_refused_the_last_edit(
    odek: Odek, odek_home: Path
) -> None:
    import msgspec

    from odek.scheduler.status import ScheduleStatus, write_status

    ok(odek("schedule", "add", "--cron", "@daily", "digest"))
    failed_at = datetime(2026, 6, 4, 10, 0, tzinfo=UTC)
    status = ScheduleStatus(
        pid=os.getpid(),  # a live process stands in for the daemon
        updated_at=failed_at,
        jobs=1,
        enabled=1,
        error="schedules.json: line 3, column 7: expected `str`",
        error_at=failed_at,
    )
    write_status(odek_home, status)
    done = odek("schedule", "list")
    assert done.returncode == 0
    assert f"the scheduler (PID {os.getpid()}) could not load schedules.json" in done.stderr
    assert "still runs the previous definitions: schedules.json: line 3" in done.stderr

    # A status left by a process that is gone is stale: no warning.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    write_status(odek_home, msgspec.structs.replace(status, pid=int(dead.stdout)))
    assert odek("schedule", "list").stderr == ""
