"""Run records: per-job merges in one locked write, deletes, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_store_format import GO_STATES

from odek.home import odek_home
from odek.store import JobStore, RunState

T0 = datetime(2026, 6, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> JobStore:
    return JobStore(odek_home())


def test_update_states_sets_only_the_given_jobs(store: JobStore) -> None:
    store.states_path.write_text(GO_STATES)
    before = json.loads(GO_STATES)["states"]
    new = RunState(last_run=T0, last_status="skipped", next_run=T0, runs=12, sig="x|")
    store.update_states({"jb-1a2b3c4d": new, "jb-00000003": RunState(runs=1)})
    states = store.load_states()
    assert states["jb-1a2b3c4d"] == RunState(job_id="jb-1a2b3c4d", **_fields(new))
    assert states["jb-00000003"] == RunState(job_id="jb-00000003", runs=1)
    # The other job's entry is kept exactly, odek's text included.
    after = json.loads(store.states_path.read_text())["states"]
    assert after["jb-0badf00d"] == before["jb-0badf00d"]
    assert list(after) == ["jb-1a2b3c4d", "jb-0badf00d", "jb-00000003"]


def _fields(state: RunState) -> dict[str, object]:
    return {f: getattr(state, f) for f in state.__struct_fields__ if f != "job_id"}


def test_update_states_none_deletes_and_absent_delete_writes_nothing(store: JobStore) -> None:
    store.update_states({"jb-00000001": RunState(runs=1), "jb-00000002": RunState(runs=2)})
    store.update_states({"jb-00000001": None})
    assert list(store.load_states()) == ["jb-00000002"]
    inode = store.states_path.stat().st_ino
    store.update_states({"jb-00000001": None})
    store.update_states({})
    assert store.states_path.stat().st_ino == inode


def test_update_states_on_no_file_creates_a_versioned_document(store: JobStore) -> None:
    store.update_states({"jb-00000001": None})
    assert not store.states_path.exists()
    store.update_states({"jb-00000001": RunState(last_status="ok", runs=1)})
    doc = json.loads(store.states_path.read_text())
    assert doc == {
        "version": 1,
        "states": {"jb-00000001": {"job_id": "jb-00000001", "last_status": "ok", "runs": 1}},
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"": RunState()}, "empty job id"),
        ({"jb-00000001": RunState(job_id="jb-00000002")}, "record of 'jb-00000002'"),
        ({"jb-00000001": RunState(last_run=datetime(2026, 1, 1))}, "timezone"),
        ({"jb-00000001": RunState(runs="many")}, "Expected `int`"),  # type: ignore[arg-type]
    ],
)
def test_update_states_refuses_bad_records_before_writing(
    store: JobStore, changes: dict[str, RunState], message: str
) -> None:
    store.update_states({"jb-00000009": RunState(runs=9)})
    before = store.states_path.read_bytes()
    with pytest.raises(ValueError, match=message):
        store.update_states(changes)
    assert store.states_path.read_bytes() == before


def test_load_states_uses_the_key_as_job_id(store: JobStore) -> None:
    store.states_path.write_text(
        '{"version":1,"states":{"jb-00000001":{"runs":4},"jb-00000002":{"job_id":"other"}}}'
    )
    states = store.load_states()
    assert states["jb-00000001"] == RunState(job_id="jb-00000001", runs=4)
    assert states["jb-00000002"].job_id == "jb-00000002"


def test_disabling_a_job_forgets_its_next_fire_and_keeps_the_rest(store: JobStore) -> None:
    from odek.store import Delivery, Job

    job = store.add(Job(cron="@daily", task="digest", deliver=Delivery("log"), enabled=True))
    record = RunState(last_run=T0, last_status="ok", next_run=T0, runs=4, sig="@daily|UTC")
    store.update_states({job.id: record})

    store.set_enabled(job.id, False)
    forgotten = store.load_states()[job.id]
    assert forgotten.next_run is None
    assert (forgotten.last_status, forgotten.runs, forgotten.last_run) == ("ok", 4, T0)

    # Enabling again leaves the record alone: the scheduler anchors the job afresh.
    store.set_enabled(job.id, True)
    assert store.load_states()[job.id] == forgotten


def test_update_states_keeps_what_another_writer_wrote_in_between(store: JobStore) -> None:
    other = JobStore(store.home)  # another process, in effect
    store.update_states({"jb-a": RunState(runs=1)})
    other.update_states({"jb-b": RunState(runs=2)})
    store.update_states({"jb-a": RunState(runs=3)})
    with store.states_path.open("r+") as f:  # a hand edit in place: same inode, new size
        text = f.read().replace('"runs": 2', '"runs": 42')
        f.seek(0)
        f.write(text)
        f.truncate()
    store.update_states({"jb-c": RunState(runs=4)})
    runs = {key: state.runs for key, state in JobStore(store.home).load_states().items()}
    assert runs == {"jb-a": 3, "jb-b": 42, "jb-c": 4}
