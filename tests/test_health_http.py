"""The ``/healthz`` and ``/metrics`` endpoint, over real loopback, on asyncio and trio."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families
from trio.testing import MockClock

from odek.errors import HealthEndpointError
from odek.health import HealthServer, Heartbeat, ListenAddress, Metrics
from odek.health.heartbeat import process_start

NOW = datetime(2026, 6, 4, 10, 0, tzinfo=UTC)


def beat(**changes: object) -> Heartbeat:
    fields: dict[str, object] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_start": process_start(os.getpid()),
        "started_at": NOW - timedelta(hours=1),
        "updated_at": NOW,
        "last_wake": NOW - timedelta(seconds=20),
        "next_fire": NOW + timedelta(minutes=5),
        "jobs_loaded": 2,
        "runs_in_flight": 1,
    }
    return Heartbeat(**(fields | changes))  # type: ignore[arg-type]


@asynccontextmanager
async def serving(
    heartbeat: Callable[[], Heartbeat | None],
    metrics: Metrics | None = None,
    **options: float,
) -> AsyncIterator[str]:
    """Run a HealthServer on a free loopback port; yield its base URL."""
    server = HealthServer(
        ListenAddress("127.0.0.1", 0),
        heartbeat=heartbeat,
        metrics=metrics or Metrics(heartbeat=heartbeat),
        clock=lambda: NOW,
        **options,  # type: ignore[arg-type]
    )
    async with anyio.create_task_group() as tg:
        port = await tg.start(server.run)
        yield f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


@asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def receive_or_eof(stream: anyio.abc.ByteReceiveStream) -> bytes:
    try:
        return await stream.receive()
    except anyio.EndOfStream:
        return b""


@pytest.mark.anyio
async def test_healthz_answers_200_with_the_heartbeat_when_fresh() -> None:
    async with serving(lambda: beat()) as url, client() as http:
        response = await http.get(f"{url}/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["ok"] is True
    assert document["reasons"] == []
    assert document["heartbeat"]["pid"] == os.getpid()
    assert document["heartbeat"]["jobs_loaded"] == 2
    assert document["heartbeat"]["last_wake"] == "2026-06-04T09:59:40Z"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("heartbeat", "reason"),
    [
        (beat(last_wake=NOW - timedelta(minutes=5)), "the timer is stale"),
        (beat(restarting=True, restarting_actors=["timer"]), "the supervisor is restarting timer"),
        (None, "no heartbeat yet"),
    ],
    ids=["stale", "restarting", "none"],
)
async def test_healthz_answers_503_with_the_reason(
    heartbeat: Heartbeat | None, reason: str
) -> None:
    async with serving(lambda: heartbeat) as url, client() as http:
        response = await http.get(f"{url}/healthz")
    assert response.status_code == 503
    document = response.json()
    assert document["ok"] is False
    assert document["reasons"][0].startswith(reason)


@pytest.mark.anyio
async def test_metrics_are_served_in_the_prometheus_text_format() -> None:
    metrics = Metrics(heartbeat=lambda: beat())
    metrics.fired("scheduled")
    metrics.run_finished("ok", 42.0, 1500)
    metrics.delivered("jb-1a2b3c4d", NOW)
    async with serving(lambda: beat(), metrics) as url, client() as http:
        response = await http.get(f"{url}/metrics?debug=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("odek_fires_total", (("trigger", "scheduled"),))] == 1
    assert samples[("odek_tokens_total", ())] == 1500
    assert samples[("odek_runs_in_flight", ())] == 1
    assert samples[("odek_jobs_loaded", ())] == 2
    assert samples[("odek_last_success_timestamp_seconds", (("job_id", "jb-1a2b3c4d"),))] == (
        NOW.timestamp()
    )


@pytest.mark.anyio
async def test_head_has_the_headers_and_no_body() -> None:
    async with serving(lambda: beat()) as url, client() as http:
        response = await http.head(f"{url}/healthz")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


@pytest.mark.anyio
async def test_other_paths_are_404_and_other_methods_405() -> None:
    async with serving(lambda: beat()) as url, client() as http:
        missing = await http.get(f"{url}/health")
        posted = await http.post(f"{url}/metrics", content=b"x")
    assert missing.status_code == 404
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"


@pytest.mark.anyio
async def test_a_malformed_request_gets_400() -> None:
    async with serving(lambda: beat()) as url:
        port = int(url.rsplit(":", 1)[1])
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(b"NOT HTTP AT ALL\r\n\r\n")
            reply = b""
            while chunk := await receive_or_eof(stream):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 ")


@pytest.mark.anyio
async def test_a_port_in_use_is_a_clear_error() -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as taken:
        port = taken.extra(anyio.abc.SocketAttribute.local_port)
        server = HealthServer(
            ListenAddress("127.0.0.1", port), heartbeat=lambda: None, metrics=Metrics()
        )
        with pytest.raises(HealthEndpointError, match=rf"schedules.http_addr: .*127.0.0.1:{port}"):
            await server.run()


@pytest.mark.trio
async def test_a_silent_client_is_dropped_after_the_timeout(autojump_clock: MockClock) -> None:
    async with serving(lambda: beat(), timeout=10) as url:
        port = int(url.rsplit(":", 1)[1])
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            started = trio.current_time()
            assert await stream.receive_some() == b""  # closed by the server, no reply
            assert trio.current_time() - started == pytest.approx(10)


@pytest.mark.trio
async def test_connections_beyond_the_limit_are_closed_at_once(autojump_clock: MockClock) -> None:
    async with serving(lambda: beat(), timeout=10, max_connections=1) as url:
        port = int(url.rsplit(":", 1)[1])
        first = await trio.open_tcp_stream("127.0.0.1", port)
        async with first:
            await trio.sleep(1)  # the server took it
            second = await trio.open_tcp_stream("127.0.0.1", port)
            async with second:
                started = trio.current_time()
                assert await second.receive_some() == b""
                assert trio.current_time() - started < 10
