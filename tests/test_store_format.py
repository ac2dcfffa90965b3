"""The store's file formats: odek's files load unchanged, and ours keep odek's shape."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from odek.errors import InputError
from odek.home import odek_home
from odek.store import Delivery, Job, JobStore, RunState

# The examples of odek-reference.md §1.3, as odek's json.MarshalIndent writes them.
GO_SCHEDULES = """{
  "version": 1,
  "jobs": [
    {
      "id": "jb-1a2b3c4d",
      "name": "Summarize today's calendar",
      "cron": "0 9 * * 1-5",
      "task": "Summarize today's calendar",
      "deliver": {
        "kind": "telegram",
        "chat_id": -1001234567890
      },
      "enabled": true,
      "catchup": true,
      "timezone": "Europe/Berlin",
      "created_at": "2026-06-04T10:00:00.123456789Z"
    },
    {
      "id": "jb-0badf00d",
      "name": "nightly digest",
      "cron": "@daily",
      "task": "Summarize the CI failures of the last 24h",
      "deliver": {
        "kind": "log"
      },
      "enabled": false,
      "created_at": "2026-06-04T10:05:00.5Z"
    }
  ]
}"""

GO_STATES = """{
  "version": 1,
  "states": {
    "jb-1a2b3c4d": {
      "job_id": "jb-1a2b3c4d",
      "last_run": "2026-06-05T07:00:00.004211Z",
      "last_status": "ok",
      "last_result": "You have 3 meetings today: \u2026",
      "next_run": "2026-06-08T09:00:00+02:00",
      "runs": 12,
      "sig": "0 9 * * 1-5|Europe/Berlin"
    },
    "jb-0badf00d": {
      "job_id": "jb-0badf00d",
      "last_run": "2026-06-04T00:00:00.31Z",
      "last_status": "error",
      "last_error": "delivery: telegram: sendMessage failed: Bad Request: chat not found (code 400)",
      "next_run": "2026-06-05T00:00:00Z",
      "runs": 3,
      "sig": "@daily|"
    }
  }
}"""  # noqa: E501


@pytest.fixture
def store() -> JobStore:
    return JobStore(odek_home())


def test_odek_schedules_file_loads_unchanged(store: JobStore) -> None:
    store.jobs_path.write_text(GO_SCHEDULES)
    snapshot = store.load()
    assert snapshot.invalid == {}
    first, second = snapshot.jobs
    assert first == Job(
        id="jb-1a2b3c4d",
        name="Summarize today's calendar",
        cron="0 9 * * 1-5",
        task="Summarize today's calendar",
        deliver=Delivery("telegram", -1001234567890),
        enabled=True,
        catchup=True,
        timezone="Europe/Berlin",
        # nanoseconds round to the microsecond
        created_at=datetime(2026, 6, 4, 10, 0, 0, 123457, tzinfo=UTC),
    )
    assert second.deliver == Delivery("log")
    assert (second.enabled, second.catchup, second.timezone) == (False, False, "")
    assert second.created_at == datetime(2026, 6, 4, 10, 5, 0, 500000, tzinfo=UTC)


def test_odek_state_file_loads_unchanged_with_offsets(store: JobStore) -> None:
    store.states_path.write_text(GO_STATES)
    states = store.load_states()
    assert list(states) == ["jb-1a2b3c4d", "jb-0badf00d"]
    ok = states["jb-1a2b3c4d"]
    assert ok.next_run == datetime(2026, 6, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    assert ok.last_run == datetime(2026, 6, 5, 7, 0, 0, 4211, tzinfo=UTC)
    assert (ok.last_status, ok.runs, ok.sig, ok.last_error) == (
        "ok",
        12,
        "0 9 * * 1-5|Europe/Berlin",
        "",
    )
    assert ok.last_result == "You have 3 meetings today: \u2026"
    err = states["jb-0badf00d"]
    assert err.last_error.startswith("delivery: telegram:")
    assert err.next_run == datetime(2026, 6, 5, tzinfo=UTC)


def test_go_zero_times_and_null_maps_read_as_empty(store: JobStore) -> None:
    store.states_path.write_text(
        '{"version":1,"states":{"jb-00000001":{"job_id":"jb-00000001",'
        '"last_run":"0001-01-01T00:00:00Z","next_run":"0001-01-01T00:00:00Z"}}}'
    )
    state = store.load_states()["jb-00000001"]
    assert (state.last_run, state.next_run) == (None, None)
    store.states_path.write_text('{"version":1,"states":null}')
    assert store.load_states() == {}
    store.jobs_path.write_text('{"version":0,"jobs":null}')
    assert store.load().jobs == []


def test_written_job_has_odek_field_names_order_and_omissions(store: JobStore) -> None:
    store.add(
        Job(
            name="digest",
            cron="@daily",
            task="t",
            deliver=Delivery("log"),
            enabled=False,
            created_at=datetime(2026, 6, 4, 10, 0, 0, 123456, tzinfo=UTC),
        )
    )
    text = store.jobs_path.read_text()
    doc = json.loads(text)
    assert doc["version"] == 1
    (job,) = doc["jobs"]
    # enabled is always written, false included; defaults odek omits are left out.
    assert list(job) == ["id", "name", "cron", "task", "deliver", "enabled", "created_at"]
    assert job["enabled"] is False
    assert job["deliver"] == {"kind": "log"}
    assert job["created_at"] == "2026-06-04T10:00:00.123456Z"
    assert text.startswith('{\n  "version": 1,\n  "jobs": [\n    {\n      "id": "jb-')


def test_written_optional_fields_appear_when_set(store: JobStore) -> None:
    store.add(
        Job(
            cron="0 9 * * *",
            task="t",
            deliver=Delivery("telegram", 42),
            enabled=True,
            catchup=True,
            timezone="Europe/Berlin",
            timeout=120.0,
        )
    )
    (job,) = json.loads(store.jobs_path.read_text())["jobs"]
    assert job["deliver"] == {"kind": "telegram", "chat_id": 42}
    assert (job["catchup"], job["timezone"], job["timeout"]) == (True, "Europe/Berlin", 120.0)


def test_state_times_are_written_as_rfc3339_with_the_zone_offset(store: JobStore) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    store.update_states(
        {
            "jb-1a2b3c4d": RunState(
                last_run=datetime(2026, 6, 5, 7, 0, 0, 4211, tzinfo=UTC),
                last_status="ok",
                next_run=datetime(2026, 6, 8, 9, tzinfo=berlin),
                runs=1,
                sig="0 9 * * *|Europe/Berlin",
            )
        }
    )
    entry = json.loads(store.states_path.read_text())["states"]["jb-1a2b3c4d"]
    assert entry == {
        "job_id": "jb-1a2b3c4d",
        "last_run": "2026-06-05T07:00:00.004211Z",
        "last_status": "ok",
        "next_run": "2026-06-08T09:00:00+02:00",
        "runs": 1,
        "sig": "0 9 * * *|Europe/Berlin",
    }


def test_unknown_fields_are_tolerated_and_kept_by_later_writes(store: JobStore) -> None:
    doc = json.loads(GO_SCHEDULES)
    doc["jobs"][0]["future_field"] = {"x": [1, 2]}
    doc["extra_top_level"] = True
    store.jobs_path.write_text(json.dumps(doc, indent=2))
    assert len(store.load().jobs) == 2
    store.set_enabled("jb-1a2b3c4d", False)
    store.add(Job(cron="@hourly", task="t", deliver=Delivery("stdout"), enabled=True))
    first = json.loads(store.jobs_path.read_text())["jobs"][0]
    assert first["future_field"] == {"x": [1, 2]}
    assert first["enabled"] is False


def test_untouched_jobs_keep_their_exact_text_through_writes(store: JobStore) -> None:
    store.jobs_path.write_text(GO_SCHEDULES)
    store.add(Job(cron="@hourly", task="t", deliver=Delivery("stdout"), enabled=True))
    store.update("jb-0badf00d", task="new task")
    text = store.jobs_path.read_text()
    # odek's nanosecond times survive: the first job was never touched, the second was
    # edited but its created_at was not.
    assert '"created_at": "2026-06-04T10:00:00.123456789Z"' in text
    assert '"created_at": "2026-06-04T10:05:00.5Z"' in text
    assert json.loads(text)["jobs"][1]["task"] == "new task"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stdout", Delivery("stdout")),
        ("", Delivery("stdout")),
        ("log", Delivery("log")),
        ("telegram", Delivery("telegram")),
        (" telegram:12345 ", Delivery("telegram", 12345)),
        ("telegram:-100999", Delivery("telegram", -100999)),
        ("telegram:0", Delivery("telegram")),
    ],
)
def test_delivery_parse_accepts_odek_forms(text: str, expected: Delivery) -> None:
    assert Delivery.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("telegram:notanid", 'invalid telegram chat id "notanid"'),
        ("telegram:", 'invalid telegram chat id ""'),
        ("telegram:+5", 'invalid telegram chat id "+5"'),
        ("telegram:1_000", 'invalid telegram chat id "1_000"'),
        ("telegram:99999999999999999999", "out of range"),
        ("stdout:42", 'delivery "stdout" takes no chat id'),
        ("log:x", 'delivery "log" takes no chat id'),
        ("email", 'unknown delivery "email"'),
        ("Telegram", 'unknown delivery "Telegram"'),
    ],
)
def test_delivery_parse_refuses_bad_forms_with_reason(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        Delivery.parse(text)


@pytest.mark.parametrize(
    ("delivery", "text"),
    [
        (Delivery("telegram", 42), "telegram:42"),
        (Delivery("telegram", -1001), "telegram:-1001"),
        (Delivery("telegram"), "telegram"),
        (Delivery("log"), "log"),
        (Delivery("stdout"), "stdout"),
    ],
)
def test_delivery_str_round_trips_through_parse(delivery: Delivery, text: str) -> None:
    assert str(delivery) == text
    assert Delivery.parse(text) == delivery
