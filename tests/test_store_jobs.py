"""JobStore: adding, editing and removing jobs; validation that never touches a file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from odek.cron import parse
from odek.errors import (
    CronError,
    CronNeverFiresError,
    JobNotFoundError,
    JobValidationError,
    StoreCorruptError,
    StoreError,
)
from odek.home import odek_home
from odek.store import Delivery, Job, JobStore, RunState
from odek.store.jobs import new_job_id

NOW = datetime(2026, 6, 4, 10, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def store() -> JobStore:
    return JobStore(odek_home(), clock=lambda: NOW)


def job(**fields: object) -> Job:
    base: dict[str, object] = {
        "cron": "0 9 * * 1-5",
        "task": "Summarize today's calendar and mail it",
        "deliver": Delivery("stdout"),
        "enabled": True,
    }
    base.update(fields)
    return Job(**base)  # not type-checked: the store must catch wrong types itself


def files_in(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file()}


def test_add_assigns_id_created_at_and_name_from_task(store: JobStore) -> None:
    added = store.add(job(task="  please   summarize the seven open pull requests now "))
    assert re.fullmatch(r"jb-[0-9a-f]{8}", added.id)
    assert added.created_at == NOW
    assert added.name == "please summarize the seven open pull"
    assert store.get(added.id) == added
    assert store.load().jobs == [added]


def test_add_keeps_given_name_created_at_and_id_and_trims_cron(store: JobStore) -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    added = store.add(job(id="jb-0000abcd", name="mine", created_at=when, cron="  @daily "))
    assert (added.id, added.name, added.created_at, added.cron) == (
        "jb-0000abcd",
        "mine",
        when,
        "@daily",
    )


def test_new_job_ids_are_jb_and_8_lowercase_hex() -> None:
    ids = {new_job_id() for _ in range(200)}
    assert all(re.fullmatch(r"jb-[0-9a-f]{8}", i) for i in ids)
    assert len(ids) > 190  # random, not a counter or a constant


def test_add_appends_in_file_order(store: JobStore) -> None:
    ids = [store.add(job(task=f"task {n}")).id for n in range(5)]
    assert [j.id for j in store.load().jobs] == ids
    assert len(set(ids)) == 5


def test_add_retries_an_id_that_collides(store: JobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add(job(id="jb-00000001"))
    draws = iter(["jb-00000001", "jb-00000001", "jb-00000002"])
    monkeypatch.setattr("odek.store.jobs.new_job_id", lambda: next(draws))
    assert store.add(job()).id == "jb-00000002"
    assert [j.id for j in store.load().jobs] == ["jb-00000001", "jb-00000002"]


def test_add_gives_up_cleanly_when_every_draw_collides(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(job(id="jb-00000001"))
    before = files_in(store.home)
    monkeypatch.setattr("odek.store.jobs.new_job_id", lambda: "jb-00000001")
    with pytest.raises(StoreError, match="no free job id"):
        store.add(job())
    assert files_in(store.home) == before


def test_add_refuses_an_id_already_in_use(store: JobStore) -> None:
    store.add(job(id="jb-00000001"))
    before = files_in(store.home)
    with pytest.raises(JobValidationError, match='job ID "jb-00000001" already exists') as e:
        store.add(job(id="jb-00000001"))
    assert e.value.field == "id"
    assert files_in(store.home) == before


BAD_JOBS = [
    pytest.param({"task": "   "}, "task", "the task is empty", id="empty-task"),
    pytest.param({"cron": "61 * * * *"}, "cron", None, id="bad-cron"),
    pytest.param({"cron": "0 0 30 2 *"}, "cron", None, id="never-firing-cron"),
    pytest.param({"timezone": "Mars/Olympus"}, "timezone", "Mars/Olympus", id="bad-zone"),
    pytest.param({"deliver": Delivery("fax")}, "deliver", 'unknown delivery kind "fax"', id="kind"),
    pytest.param({"deliver": Delivery("")}, "deliver", "no delivery kind", id="no-kind"),
    pytest.param({"deliver": Delivery("log", 5)}, "deliver", "takes no chat id", id="log-chat"),
    pytest.param({"deliver": Delivery("telegram", 1 << 60)}, "deliver", "out of range", id="chat"),
    pytest.param({"timeout": -1.0}, "timeout", "positive number", id="negative-timeout"),
    pytest.param({"timeout": float("nan")}, "timeout", "positive number", id="nan-timeout"),
    pytest.param({"created_at": datetime(2026, 1, 1)}, "created_at", "timezone", id="naive-time"),
    pytest.param({"task": 42}, "task", "Expected `str`", id="wrong-type"),
]


def _expected_cron_message(fields: dict[str, object]) -> str:
    try:
        parse(str(fields["cron"]))
    except CronError as exc:
        return str(exc)
    raise AssertionError("the expression was expected to be refused")


@pytest.mark.parametrize(("fields", "field", "message"), BAD_JOBS)
def test_add_refuses_invalid_job_and_leaves_files_byte_for_byte(
    store: JobStore, fields: dict[str, object], field: str, message: str | None
) -> None:
    store.add(job(id="jb-00000001"))
    store.update_states({"jb-00000001": RunState(runs=3)})
    before = files_in(store.home)
    with pytest.raises(JobValidationError) as e:
        store.add(job(name="broken one", **fields))
    assert e.value.field == field
    assert e.value.job == "broken one"
    assert str(e.value).startswith('job "broken one": ')
    assert (message or _expected_cron_message(fields)) in str(e.value)
    assert files_in(store.home) == before  # also: no temporary file left behind


@pytest.mark.parametrize(
    ("fields", "field", "message"), [p for p in BAD_JOBS if p.id != "naive-time"]
)
def test_update_refuses_invalid_change_and_leaves_files_byte_for_byte(
    store: JobStore, fields: dict[str, object], field: str, message: str | None
) -> None:
    added = store.add(job())
    store.add(job())
    before = files_in(store.home)
    with pytest.raises(JobValidationError) as e:
        store.update(added.id, **fields)
    assert (e.value.field, e.value.job) == (field, added.id)
    assert (message or _expected_cron_message(fields)) in str(e.value)
    assert files_in(store.home) == before


def test_never_firing_cron_is_refused_as_such(store: JobStore) -> None:
    with pytest.raises(JobValidationError) as e:
        store.add(job(cron="0 0 31 4 *"))
    with pytest.raises(CronNeverFiresError) as never:
        parse("0 0 31 4 *")
    assert str(never.value) in str(e.value)


def test_update_changes_each_editable_field_in_place(store: JobStore) -> None:
    first = store.add(job(name="first"))
    second = store.add(job(name="second"))
    updated = store.update(
        first.id,
        cron="*/5 * * * *",
        task="new task",
        name="renamed",
        timezone="America/New_York",
        deliver=Delivery("telegram", -100123),
        catchup=True,
        enabled=False,
        timeout=60,
    )
    assert updated == msgspec.structs.replace(
        first,
        cron="*/5 * * * *",
        task="new task",
        name="renamed",
        timezone="America/New_York",
        deliver=Delivery("telegram", -100123),
        catchup=True,
        enabled=False,
        timeout=60,
    )
    assert store.load().jobs == [updated, second]
    # Back to defaults: the fields leave the file, as odek writes them.
    store.update(first.id, timezone="", catchup=False, timeout=None, name="")
    stored = json.loads(store.jobs_path.read_text())["jobs"][0]
    assert not {"timezone", "catchup", "timeout"} & set(stored)
    assert stored["name"] == "new task"


def test_update_unknown_field_is_a_type_error(store: JobStore) -> None:
    added = store.add(job())
    with pytest.raises(TypeError, match="id"):
        store.update(added.id, id="jb-ffffffff")


def test_update_remove_and_enable_of_missing_id_raise_not_found(store: JobStore) -> None:
    store.add(job())
    for call in (
        lambda: store.update("jb-deadbeef", task="x"),
        lambda: store.remove("jb-deadbeef"),
        lambda: store.set_enabled("jb-deadbeef", True),
        lambda: store.get("jb-deadbeef"),
    ):
        with pytest.raises(JobNotFoundError, match='no job with ID "jb-deadbeef"'):
            call()


def _write_jobs(store: JobStore, *jobs: dict[str, object]) -> None:
    store.home.mkdir(mode=0o700, exist_ok=True)
    store.jobs_path.write_text(json.dumps({"version": 1, "jobs": list(jobs)}, indent=2))


def _raw_job(job_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": job_id,
        "name": job_id,
        "cron": "@daily",
        "task": "t",
        "deliver": {"kind": "stdout"},
        "enabled": True,
        "created_at": "2026-06-04T10:00:00Z",
        **fields,
    }


def test_broken_jobs_are_reported_and_never_hide_the_others(store: JobStore) -> None:
    _write_jobs(
        store,
        _raw_job("jb-00000001"),
        _raw_job("jb-00000002", cron="0 0 30 2 *"),
        _raw_job("jb-00000003", timezone="Nowhere/City"),
        _raw_job("jb-00000004", deliver={"kind": "pigeon"}),
        _raw_job("jb-00000005", deliver={"kind": "log", "chat_id": 7}),
        _raw_job("jb-00000006", task=""),
        _raw_job("", name="anonymous"),
        _raw_job("jb-00000007", cron="every day"),
        _raw_job("jb-00000008"),
    )
    snapshot = store.load()
    assert [j.name for j in snapshot.jobs] == [
        *(f"jb-0000000{n}" for n in range(1, 7)),
        "anonymous",
        "jb-00000007",
        "jb-00000008",
    ]
    invalid = snapshot.invalid
    assert set(invalid) == {
        "jb-00000002",
        "jb-00000003",
        "jb-00000004",
        "jb-00000005",
        "jb-00000006",
        "jobs[6]",
        "jb-00000007",
    }
    assert "Nowhere/City" in invalid["jb-00000003"]
    assert 'unknown delivery kind "pigeon"' in invalid["jb-00000004"]
    assert "takes no chat id" in invalid["jb-00000005"]
    assert invalid["jb-00000006"] == "the task is empty"
    assert invalid["jobs[6]"] == "no id"
    for key in ("jb-00000002", "jb-00000007"):
        with pytest.raises(CronError) as cron_error:
            parse(str(store.get(key).cron))
        assert invalid[key] == str(cron_error.value)


def test_duplicate_ids_mark_the_id_invalid(store: JobStore) -> None:
    _write_jobs(store, _raw_job("jb-00000001"), _raw_job("jb-00000002"), _raw_job("jb-00000001"))
    snapshot = store.load()
    assert list(snapshot.invalid) == ["jb-00000001"]
    assert "jobs[0], jobs[2]" in snapshot.invalid["jb-00000001"]
    store.update_states({"jb-00000001": RunState(runs=1)})
    store.remove("jb-00000001")  # removes the first; the other keeps the record
    assert store.load().invalid == {}
    assert "jb-00000001" in store.load_states()


def test_a_broken_job_can_be_disabled_but_not_enabled(store: JobStore) -> None:
    _write_jobs(store, _raw_job("jb-00000001", timezone="Nowhere/City"))
    assert store.set_enabled("jb-00000001", False).enabled is False
    before = files_in(store.home)
    with pytest.raises(JobValidationError, match="Nowhere/City") as e:
        store.set_enabled("jb-00000001", True)
    assert e.value.field == "timezone"
    assert files_in(store.home) == before


def test_a_broken_job_can_be_repaired_by_update(store: JobStore) -> None:
    _write_jobs(store, _raw_job("jb-00000001", cron="0 0 30 2 *"), _raw_job("jb-00000002"))
    store.update("jb-00000001", cron="0 0 28 2 *")
    assert store.load().invalid == {}


def test_set_enabled_toggles_and_a_no_op_leaves_the_file_alone(store: JobStore) -> None:
    added = store.add(job())
    inode = store.jobs_path.stat().st_ino
    assert store.set_enabled(added.id, True) == added
    assert store.jobs_path.stat().st_ino == inode  # not rewritten
    assert store.set_enabled(added.id, False).enabled is False
    assert store.get(added.id).enabled is False
    assert store.set_enabled(added.id, True).enabled is True


def test_remove_deletes_the_job_and_only_its_run_record(store: JobStore) -> None:
    gone, kept = store.add(job()), store.add(job())
    store.update_states({gone.id: RunState(runs=1), kept.id: RunState(runs=2)})
    store.remove(gone.id)
    assert store.load().jobs == [kept]
    assert store.load_states() == {kept.id: RunState(job_id=kept.id, runs=2)}


def test_remove_succeeds_even_if_the_state_file_is_corrupt(store: JobStore) -> None:
    added = store.add(job())
    store.states_path.write_text("{ not json")
    store.remove(added.id)
    assert store.load().jobs == []
    assert store.states_path.read_text() == "{ not json"


def test_store_files_are_private(store: JobStore) -> None:
    added = store.add(job())
    store.update_states({added.id: RunState(runs=1)})
    assert stat.S_IMODE(store.home.stat().st_mode) == 0o700
    for name in ("schedules.json", "schedule-state.json", "schedules.lock"):
        assert stat.S_IMODE((store.home / name).stat().st_mode) == 0o600, name


def test_store_creates_a_missing_home_0700_on_first_write(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    store = JobStore(home)
    assert store.load().jobs == []
    assert not home.exists()  # reading creates nothing
    store.add(job())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_write_replaces_a_symlink_planted_at_the_target(store: JobStore, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("do not touch")
    store.jobs_path.symlink_to(victim)
    with pytest.raises(StoreCorruptError):  # the link is read like any file ...
        store.add(job())
    victim.write_text("")  # ... so make it an empty store and write through the link path
    store.add(job())
    assert victim.read_text() == ""
    assert not store.jobs_path.is_symlink()
    assert len(store.load().jobs) == 1


def test_write_that_would_exceed_the_size_limit_is_refused(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(job())
    before = files_in(store.home)
    monkeypatch.setattr("odek.store.jobs.MAX_FILE_BYTES", len(before["schedules.json"]) + 10)
    with pytest.raises(StoreError, match=r"over the limit .* nothing was written"):
        store.add(job(task="x" * 100))
    assert files_in(store.home) == before


def test_fingerprint_tracks_content_even_when_mtime_is_restored(store: JobStore) -> None:
    assert store.fingerprint() == (0, 0, "")
    added = store.add(job())
    mtime, size, digest = store.fingerprint()
    data = store.jobs_path.read_bytes()
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert mtime == store.jobs_path.stat().st_mtime_ns
    store.update(added.id, task="other")
    os.utime(store.jobs_path, ns=(mtime, mtime))
    changed = store.fingerprint()
    assert changed[0] == mtime
    assert changed[2] != digest
