"""The heartbeat and metrics of a running scheduler tell the truth.

The real :class:`SchedulerService` runs on trio's virtual clock (the fakes of
``fakes.scheduler``): its heartbeat file is written and judged healthy while it
runs, an actor that crashes makes it unhealthy until the supervisor has restarted it, a
timer that stops turning makes it stale, and the metrics count what the run journal
records. Then the real ``odek schedule daemon`` with ``ODEK_HTTP_ADDR``, ``odek health``
and ``GET /healthz`` + ``/metrics`` over loopback, and the bot's endpoint while its
scheduler stands by.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fakes.botapi import FakeBotApi
from fakes.openai import FakeOpenAI, answer
from fakes.scheduler import (
    FakeDeliverer,
    FakeRunner,
    after,
    harness,
    make_job,
    settings,
    wait_until,
)
from fakes.telegram_harness import bot_config, eventually, running_bot
from prometheus_client.parser import text_string_to_metric_families
from test_daemon_process import (  # the real daemon's helpers
    due_now,
    environment,
    start_daemon,
    stop,
    wait_for,
)

from odek.config import load_config
from odek.config.load import resolve_config
from odek.errors import DeliveryError, StoreError
from odek.health import HEARTBEAT_FILE, HeartbeatWriter, Metrics, check_health, read_heartbeat
from odek.health.check import STALE_AFTER
from odek.health.heartbeat import Heartbeat
from odek.scheduler import DaemonLock, SchedulerService, SystemClock, read_history
from odek.scheduler.timer import Timer
from odek.store import Job
from odek.telegram import TelegramBot, open_telegram
from supervisors import Backoff, StartupError

START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def beat(home: Path) -> Heartbeat:
    heartbeat = read_heartbeat(home)
    assert heartbeat is not None, "no heartbeat file"
    return heartbeat


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``metrics`` as rendered for Prometheus, parsed back."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


async def running(service: SchedulerService, task_group: anyio.abc.TaskGroup) -> None:
    await task_group.start(service.run)
    await wait_until(lambda: (read_heartbeat(service.home) or _no_wake()).last_wake is not None)


def _no_wake() -> Heartbeat:
    return Heartbeat(pid=1, host="", started_at=START, updated_at=START)


# --- the heartbeat of a running service ---------------------------------------------------


@pytest.mark.trio
async def test_a_running_service_keeps_its_heartbeat_fresh_for_hours(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(
        make_job("five", "*/5 * * * *"),
        make_job("daily", "0 3 * * *"),
        make_job("off", "* * * * *", enabled=False),
    )
    service = h.service()
    async with anyio.create_task_group() as tg:
        await running(service, tg)
        checks = 0
        while h.clock.now() < after(START, hours=6):
            await anyio.sleep(7 * 60 + 13)  # lands anywhere between two wake-ups
            now = h.clock.now()
            report = check_health(odek_home, now)
            assert report.ok, report.reasons
            heartbeat = beat(odek_home)
            assert heartbeat.last_wake is not None
            assert (now - heartbeat.last_wake).total_seconds() <= 60 + 15  # a wake-up, a write
            assert heartbeat.jobs_loaded == 2
            assert heartbeat.pid == os.getpid()
            checks += 1
        service.stop()
    assert checks > 40
    assert h.runner.nominals("five")  # it did fire meanwhile
    assert stat.S_IMODE((odek_home / HEARTBEAT_FILE).stat().st_mode) == 0o600


@pytest.mark.trio
async def test_the_heartbeat_names_the_next_fire_and_an_idle_timer_stays_fresh(
    autojump_clock, odek_home
):
    h = harness(odek_home, START)
    service = h.service()
    async with anyio.create_task_group() as tg:
        await running(service, tg)
        await anyio.sleep(3600)  # an hour with no job: the timer still wakes each minute
        assert check_health(odek_home, h.clock.now()).ok
        idle = beat(odek_home)
        assert (idle.jobs_loaded, idle.next_fire) == (0, None)

        h.add(make_job("hourly", "0 * * * *"))  # the watcher picks it up
        await wait_until(lambda: beat(odek_home).jobs_loaded == 1)
        service.stop()
    assert beat(odek_home).next_fire == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


# --- an actor that crashes -----------------------------------------------------------------


@pytest.mark.trio
async def test_a_crashed_timer_is_reported_restarting_until_the_supervisor_restarts_it(
    autojump_clock, odek_home, monkeypatch
):
    h = harness(odek_home, START)
    h.add(make_job("five", "*/5 * * * *"))
    metrics = Metrics()
    service = h.service(backoff=Backoff(initial=20.0, maximum=20.0), metrics=metrics)
    earliest = service.table.earliest
    armed = [False]

    def corrupted_table() -> datetime | None:
        if armed[0]:
            armed[0] = False
            raise RuntimeError("the table is corrupted")
        return earliest()

    monkeypatch.setattr(service.table, "earliest", corrupted_table)
    async with anyio.create_task_group() as tg:
        await running(service, tg)
        await anyio.sleep(4 * 60 + 15)  # 09:04:45: the timer wakes next for the 09:05 fire
        assert check_health(odek_home, h.clock.now()).ok
        armed[0] = True
        await wait_until(lambda: beat(odek_home).restarting)
        crashed_at = h.clock.now()

        sick = check_health(odek_home, h.clock.now())
        assert not sick.ok
        assert sick.reasons == [
            "the supervisor is restarting timer after: "
            "actor timer: RuntimeError: the table is corrupted"
        ]
        assert beat(odek_home).restarting_actors == ["timer"]
        assert value(metrics, "odek_actor_restarts_total", actor="timer") == 1.0

        await anyio.sleep(15)  # still inside the 20 s backoff
        assert not check_health(odek_home, h.clock.now()).ok
        await wait_until(lambda: not beat(odek_home).restarting)
        back = h.clock.now()
        report = check_health(odek_home, back)
        assert report.ok, report.reasons
        assert beat(odek_home).last_error.endswith("the table is corrupted")  # kept for later
        await h.sleep_until(after(START, minutes=16))
        service.stop()
    assert crashed_at < after(START, minutes=4, seconds=31)  # the 09:05 wake-up crashed
    assert 20.0 <= (back - crashed_at).total_seconds() < 21.0
    # The restarted timer lost no fire.
    assert h.runner.nominals("five") == [after(START, minutes=m, seconds=-30) for m in (5, 10, 15)]


@pytest.mark.trio
async def test_a_crashed_state_writer_is_reported_until_it_is_back(
    autojump_clock, odek_home, monkeypatch
):
    h = harness(odek_home, START)
    h.add(make_job("minutely", "* * * * *"))
    service = h.service(backoff=Backoff(initial=30.0, maximum=30.0))
    write = service.store.update_states
    broken = [True]

    def disk_error(changes: Any) -> None:
        if broken[0]:
            broken[0] = False
            raise PermissionError(13, "Permission denied", "schedule-state.json")
        write(changes)

    monkeypatch.setattr(service.store, "update_states", disk_error)
    async with anyio.create_task_group() as tg:
        await running(service, tg)
        await wait_until(lambda: beat(odek_home).restarting)
        report = check_health(odek_home, h.clock.now())
        assert not report.ok
        assert "restarting state after: actor state: PermissionError" in report.reasons[0]
        await anyio.sleep(31)
        await wait_until(lambda: not beat(odek_home).restarting)
        assert check_health(odek_home, h.clock.now()).ok
        service.stop()


# --- a timer that stops turning -------------------------------------------------------------


@pytest.mark.trio
async def test_a_stopped_timer_makes_the_heartbeat_stale(autojump_clock, odek_home, monkeypatch):
    h = harness(odek_home, START)
    h.add(make_job("five", "*/5 * * * *"))
    real_run = Timer.run
    halt: list[anyio.CancelScope] = []

    async def run_until_halted(self: Timer, **kwargs: Any) -> None:
        with anyio.CancelScope() as scope:
            halt.append(scope)
            await real_run(self, **kwargs)
        await anyio.sleep_forever()  # alive, but its loop no longer turns

    monkeypatch.setattr(Timer, "run", run_until_halted)
    service = h.service()
    async with anyio.create_task_group() as tg:
        await running(service, tg)
        await anyio.sleep(10 * 60)
        assert check_health(odek_home, h.clock.now()).ok
        halt[0].cancel()
        await anyio.sleep(30)  # the last wake-up is written within the write interval
        last_wake = beat(odek_home).last_wake
        assert last_wake is not None

        await h.sleep_until(last_wake + timedelta(seconds=STALE_AFTER - 1))
        assert check_health(odek_home, h.clock.now()).ok  # not yet
        await anyio.sleep(2)
        report = check_health(odek_home, h.clock.now())
        assert not report.ok
        assert report.reasons[0].startswith("the timer is stale: its last wake-up was at")
        await anyio.sleep(3600)
        assert beat(odek_home).last_wake == last_wake
        assert not check_health(odek_home, h.clock.now()).ok
        service.stop()
    fired = len(h.runner.nominals("five"))
    assert fired == 2  # 09:05 and 09:10, then nothing: the timer really stopped


# --- metrics --------------------------------------------------------------------------------


class PickyDeliverer(FakeDeliverer):
    """``lost`` is never delivered (a permanent error); ``flaky`` fails once per result."""

    async def deliver(self, job: Job, text: str, *, nominal: datetime) -> None:
        if job.id == "lost":
            raise DeliveryError("chat not found", permanent=True)
        if job.id == "flaky" and (job.id, nominal) not in self.tried:
            self.tried.add((job.id, nominal))
            raise DeliveryError("network down")
        await super().deliver(job, text, nominal=nominal)

    tried: set[tuple[str, datetime]]


@pytest.mark.trio
async def test_metrics_count_what_the_journal_records(autojump_clock, odek_home):
    h = harness(odek_home, START)
    deliverer = PickyDeliverer(h.clock)
    deliverer.tried = set()
    durations = {"slow": 7 * 60.0, "late": 120.0}
    runner = FakeRunner(
        h.clock,
        duration=lambda job: durations.get(job.id, 0.0),
        fail=lambda job, _nominal: RuntimeError("boom") if job.id == "broken" else None,
    )
    jobs = [
        make_job("ok", "*/10 * * * *"),
        make_job("slow", "*/5 * * * *"),  # a 7 min run: every other fire overlaps
        make_job("broken", "*/15 * * * *"),
        make_job("late", "*/20 * * * *", timeout=60.0),
        make_job("lost", "*/30 * * * *"),
        make_job("flaky", "*/30 * * * *"),
        make_job("missed", "0 8 * * *"),
    ]
    h.add(*jobs)
    h.set_state("missed", next_run=after(START, hours=-1, seconds=-30), sig="0 8 * * *|UTC")
    metrics = Metrics()
    service = SchedulerService(
        settings(),
        runner=runner,
        deliverer=deliverer,
        home=odek_home,
        clock=h.clock,
        state_interval=1.0,
        delivery_backoff=5.0,
        metrics=metrics,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await anyio.sleep(2 * 3600)
        service.stop()

    runs = [entry for job in jobs for entry in read_history(odek_home, job.id)]
    ran = [entry for entry in runs if entry.outcome != "skipped"]

    def count(predicate: Callable[[Any], bool]) -> int:
        found = sum(1 for entry in runs if predicate(entry))
        assert found > 0  # every kind below happens in these two hours
        return found

    shutdown = [entry for entry in runs if entry.error == "shutdown"]
    expected = {
        ("odek_fires_total", "trigger", "scheduled"): len(ran) + len(shutdown),
        ("odek_skips_total", "reason", "overlap"): count(
            lambda e: e.outcome == "skipped" and e.error.startswith("overlap")
        ),
        ("odek_skips_total", "reason", "missed"): count(lambda e: e.error == "missed"),
        ("odek_run_failures_total", "kind", "error"): count(
            lambda e: e.error == "RuntimeError: boom"
        ),
        ("odek_run_failures_total", "kind", "timeout"): count(lambda e: e.outcome == "timeout"),
        ("odek_run_failures_total", "kind", "delivery"): count(lambda e: e.delivery == "failed"),
        ("odek_deliveries_total", "outcome", "delivered"): count(
            lambda e: e.delivery == "delivered"
        ),
        ("odek_deliveries_total", "outcome", "failed"): count(lambda e: e.delivery == "failed"),
        ("odek_run_duration_seconds_count", "outcome", "ok"): count(
            lambda e: e.delivery in ("delivered", "failed")
        ),
    }
    for (name, label, label_value), number in expected.items():
        assert value(metrics, name, **{label: label_value}) == number, (name, label_value)
    assert len(ran) > 20
    assert value(metrics, "odek_delivery_retries_total") == len(deliverer.tried)
    assert len(deliverer.tried) == count(lambda e: e.job == "flaky")
    assert value(metrics, "odek_tokens_total") == sum(entry.tokens for entry in runs) > 0
    slow_ok = count(lambda e: e.job == "slow" and e.outcome == "ok")
    assert value(metrics, "odek_run_duration_seconds_sum", outcome="ok") == 420.0 * slow_ok
    last_ok = max(e.end for e in runs if e.job == "ok" and e.end is not None)
    assert value(metrics, "odek_last_success_timestamp_seconds", job_id="ok") == pytest.approx(
        last_ok.timestamp()
    )
    assert ("odek_last_success_timestamp_seconds", (("job_id", "lost"),)) not in samples(metrics)
    assert len(deliverer.sent) == expected[("odek_deliveries_total", "outcome", "delivered")]


@pytest.mark.trio
async def test_a_deleted_job_drops_its_last_success_series(autojump_clock, odek_home):
    h = harness(odek_home, START)
    h.add(make_job("gone", "*/5 * * * *"), make_job("kept", "*/5 * * * *"))
    metrics = Metrics()
    service = h.service(metrics=metrics)
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await anyio.sleep(6 * 60)
        jobs = {key[1] for key in samples(metrics) if key[0].startswith("odek_last_success")}
        assert jobs == {(("job_id", "gone"),), (("job_id", "kept"),)}
        h.store.remove("gone")
        await wait_until(
            lambda: (
                ("odek_last_success_timestamp_seconds", (("job_id", "gone"),))
                not in samples(metrics)
            )
        )
        service.stop()
    assert ("odek_last_success_timestamp_seconds", (("job_id", "kept"),)) in samples(metrics)


@pytest.mark.trio
async def test_runs_in_flight_count_exactly_the_runs_going(autojump_clock, odek_home, monkeypatch):
    h = harness(odek_home, START)
    h.runner.duration = lambda job: 0.0 if job.id == "quick" else 600.0
    h.add(*(make_job(job_id, "0 10 * * *") for job_id in ("a", "b", "c")))
    h.add(make_job("quick", "3 10 * * *"))
    box: list[SchedulerService] = []
    metrics = Metrics(heartbeat=lambda: box[0].heartbeat.snapshot())
    service = h.service(settings(max_concurrent=4), metrics=metrics)
    box.append(service)
    write = service.journal.write
    refused = [0]

    async def full_disk(record: Any) -> None:
        if getattr(record, "job", "") == "quick":  # its intent cannot be written
            refused[0] += 1
            raise StoreError("No space left on device", path="schedule-runs.jsonl")
        await write(record)

    monkeypatch.setattr(service.journal, "write", full_disk)

    def in_flight() -> tuple[int, int, float]:
        return (
            service.heartbeat.snapshot().runs_in_flight,
            beat(odek_home).runs_in_flight,
            value(metrics, "odek_runs_in_flight"),
        )

    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        await h.sleep_until(datetime(2026, 3, 2, 10, 2, tzinfo=UTC))
        assert in_flight() == (3, 3, 3.0)
        await h.sleep_until(datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
        assert refused == [1]  # a fourth run started and failed at once...
        assert in_flight() == (3, 3, 3.0)  # ...without making the others uncounted
        await h.sleep_until(datetime(2026, 3, 2, 10, 11, tzinfo=UTC))
        assert in_flight() == (0, 0, 0.0)
        service.stop()
    quick = h.store.load_states()["quick"]
    assert (quick.last_status, quick.last_error) == ("error", "No space left on device")


@pytest.fixture(name="fake_model")
def fake_model_fixture() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


# --- the real daemon --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def odek_health(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odek", "health"],
        cwd=home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_daemon_serves_health_and_metrics_and_is_unhealthy_once_stopped(odek_home, fake_model):
    port = free_port()
    env = environment(odek_home, fake_model, ODEK_HTTP_ADDR=f"127.0.0.1:{port}")
    assert odek_health(odek_home, env).returncode == 1  # nothing runs yet
    due_now(odek_home, "first")
    fake_model.push(answer("done"))
    daemon = start_daemon(odek_home, env)
    try:
        wait_for(lambda: (odek_home / "schedule.log").exists(), "the catch-up run's delivery")
        wait_for(lambda: odek_health(odek_home, env).returncode == 0, "a healthy report")
        healthy = odek_health(odek_home, env)
        assert healthy.stdout.startswith(f"healthy: scheduler PID {daemon.pid} ")
        assert "1 job(s) loaded" in healthy.stdout

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            health = client.get("/healthz")
            scrape = client.get("/metrics")
        assert health.status_code == 200
        document = health.json()
        assert document["ok"] is True
        assert document["heartbeat"]["pid"] == daemon.pid
        assert scrape.status_code == 200
        found = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(scrape.text)
            for sample in family.samples
        }
        assert found[("odek_fires_total", (("trigger", "catchup"),))] == 1.0
        assert found[("odek_deliveries_total", (("outcome", "delivered"),))] == 1.0
        assert found[("odek_jobs_loaded", ())] == 1.0
        assert found[("odek_runs_in_flight", ())] == 0.0
        _, stderr = stop(daemon)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, stderr
    after_stop = odek_health(odek_home, env)
    assert after_stop.returncode == 1
    assert f"the scheduler process (PID {daemon.pid}) is not running" in after_stop.stdout


def test_a_taken_port_stops_the_daemon_at_start_with_a_clear_message(odek_home, fake_model):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(odek_home, fake_model, ODEK_HTTP_ADDR=f"127.0.0.1:{port}")
        daemon = start_daemon(odek_home, env)
        try:
            _, stderr = daemon.communicate(timeout=60)
        finally:
            daemon.kill()
    assert daemon.returncode == 1
    assert f"schedules.http_addr: cannot listen on 127.0.0.1:{port}" in stderr
    assert "odek: scheduler stopped:" in stderr


# --- configuration and the bot --------------------------------------------------------------


def test_telegram_health_addr_turns_the_endpoint_on_when_http_addr_is_empty(tmp_path):
    alias = {"ODEK_HOME": str(tmp_path), "ODEK_TELEGRAM_HEALTH_ADDR": ":9091"}
    resolved = resolve_config(cwd=tmp_path, environ=alias)
    assert resolved.config.schedules.http_addr == "127.0.0.1:9091"
    assert resolved.sources["schedules.http_addr"] == "derived from telegram.health_addr"
    both = alias | {"ODEK_HTTP_ADDR": "0.0.0.0:9090"}
    assert load_config(cwd=tmp_path, environ=both).schedules.http_addr == "0.0.0.0:9090"
    with pytest.raises(Exception, match=r"ODEK_TELEGRAM_HEALTH_ADDR.*expected"):
        load_config(cwd=tmp_path, environ=alias | {"ODEK_TELEGRAM_HEALTH_ADDR": "no port"})


@pytest.mark.anyio
async def test_a_standing_by_bot_serves_the_daemons_heartbeat_then_its_own(odek_home):
    clock = SystemClock()
    odek_home.mkdir(mode=0o700)
    daemon_beat = HeartbeatWriter(odek_home)
    daemon_beat.timer_woke(datetime.now(UTC), next_fire=None, jobs=42)
    await daemon_beat.write()
    port = free_port()
    daemon = DaemonLock.acquire(odek_home)
    try:
        async with FakeBotApi().serving() as api:
            config = bot_config(api, schedules={"enabled": True, "http_addr": f"127.0.0.1:{port}"})
            async with (
                running_bot(
                    config, odek_home, standby_retry=0.1, runner_factory=lambda: FakeRunner(clock)
                ) as bot,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
            ):
                scheduler = bot.service.scheduler
                assert scheduler is not None
                assert not scheduler.active
                standby = await client.get("/healthz")
                assert standby.status_code == 200, standby.text
                assert standby.json()["heartbeat"]["jobs_loaded"] == 42
                scrape = await client.get("/metrics")
                assert "odek_jobs_loaded 42.0" in scrape.text

                daemon.release()
                await eventually(lambda: scheduler.active)
                await eventually(lambda: scheduler.heartbeat().last_wake is not None)
                own = await client.get("/healthz")
                assert own.status_code == 200, own.text
                assert own.json()["heartbeat"]["jobs_loaded"] == 0
                assert (
                    own.json()["heartbeat"]["started_at"]
                    != standby.json()["heartbeat"]["started_at"]
                )
    finally:
        daemon.release()


@pytest.mark.anyio
async def test_a_bot_with_a_taken_port_fails_to_start_naming_the_address(odek_home):
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as taken:
        port = taken.extra(anyio.abc.SocketAttribute.local_port)
        async with FakeBotApi().serving() as api:
            config = bot_config(api, schedules={"http_addr": f"127.0.0.1:{port}"})
            async with open_telegram(config) as (bot, username):
                service = TelegramBot(config, bot=bot, username=username, home=odek_home)
                with pytest.raises(StartupError) as failure:
                    await service.run()
    assert failure.value.child == "health"
    assert f"cannot listen on 127.0.0.1:{port}" in str(failure.value.__cause__)
