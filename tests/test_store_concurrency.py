"""Mutations from many processes and threads at once lose nothing."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from pathlib import Path

from odek.home import odek_home
from odek.store import Delivery, Job, JobStore, RunState

_ADD_ONE = """
import sys
from pathlib import Path
from odek.store import Delivery, Job, JobStore
store = JobStore(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()  # wait until every process has started, then race
task = "task " + sys.argv[2]
store.add(Job(cron="*/5 * * * *", task=task, deliver=Delivery("log"), enabled=True))
"""


def test_fifty_processes_adding_at_once_leave_fifty_jobs(odek_home: Path) -> None:
    home = odek_home
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", _ADD_ONE, str(home), str(n)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
            for n in range(50)
        ]
        for child in children:  # every child has imported odek and waits on its stdin
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
        for child in children:  # release them together
            assert child.stdin is not None
            child.stdin.close()
        for child in children:
            assert child.stderr is not None
            err = child.stderr.read()
            assert child.wait(timeout=300) == 0, err.decode()
    doc = json.loads((home / "schedules.json").read_text())
    assert doc["version"] == 1
    assert sorted(job["task"] for job in doc["jobs"]) == sorted(f"task {n}" for n in range(50))
    snapshot = JobStore(home).load()
    assert len({job.id for job in snapshot.jobs}) == 50
    assert snapshot.invalid == {}
    assert [p.name for p in home.iterdir() if p.name.startswith(".")] == []


def test_threads_mixing_job_and_state_writes_lose_nothing() -> None:
    store = JobStore(odek_home())
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                added = store.add(
                    Job(cron="@hourly", task=f"t{n}-{i}", deliver=Delivery("stdout"), enabled=True)
                )
                store.update_states({added.id: RunState(runs=n * 10 + i)})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    jobs = store.load().jobs
    states = store.load_states()
    assert len(jobs) == 40
    assert sorted(states) == sorted(job.id for job in jobs)
    assert sorted(s.runs for s in states.values()) == sorted(
        n * 10 + i for n in range(8) for i in range(5)
    )
