"""The optional health and metrics endpoint on ``schedules.http_addr`` (off by default).

A small HTTP/1.1 server (h11 over an anyio TCP listener, so it runs on asyncio and trio
alike) with two resources, for ``GET`` and ``HEAD``:

``/healthz``
    ``200`` with ``{"ok": true, "reasons": [], "checked_at": ..., "heartbeat": {...}}``
    (the same document as ``odek health --json``); ``503`` with the reasons when the timer
    is stale, the supervisor is restarting actors or there is no heartbeat yet.
``/metrics``
    every metric of :class:`odek.health.Metrics` in the Prometheus text format.

Anything else is ``404`` (``405`` for another method on those paths, ``400`` for a
malformed request). Each connection serves one request and is closed; a client gets
``timeout`` seconds for the whole exchange, and at most ``max_connections`` are served at
once (more are closed at once), so a slow or hostile client cannot tie the service up.
A listen address that is not loopback is logged as a warning: the heartbeat carries the
last (redacted) error. :func:`health_child` makes the server a supervised child (the
scheduler's, or the Telegram bot's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import anyio
import h11
import msgspec
from anyio.abc import SocketAttribute, SocketStream, TaskStatus

from odek.errors import ConfigError, HealthEndpointError
from odek.health.address import ListenAddress
from odek.health.check import STALE_AFTER, HealthReport, evaluate
from odek.health.heartbeat import Heartbeat, utc_now
from odek.health.metrics import CONTENT_TYPE, Metrics
from odek.logs import get_logger
from supervisors import ChildSpec

__all__ = ["HealthServer", "health_child"]

_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_ALLOWED = "GET, HEAD"

Response = tuple[int, str, bytes, list[tuple[str, str]]]


class HealthServer:
    """Serves ``/healthz`` and ``/metrics`` on ``address``; see the module docstring.

    ``heartbeat`` gives the current heartbeat (:meth:`odek.health.HeartbeatWriter.snapshot`,
    or ``None`` when there is none); ``clock`` the wall-clock time it is judged at, against
    ``stale_after`` seconds (:func:`odek.health.evaluate`)."""

    def __init__(
        self,
        address: ListenAddress,
        *,
        heartbeat: Callable[[], Heartbeat | None],
        metrics: Metrics,
        clock: Callable[[], datetime] = utc_now,
        stale_after: float = STALE_AFTER,
        timeout: float = 10.0,
        max_connections: int = 16,
    ) -> None:
        self.address = address
        self.heartbeat = heartbeat
        self.metrics = metrics
        self.clock = clock
        self.stale_after = stale_after
        self.timeout = timeout
        self.max_connections = max_connections
        self._open = 0
        self._log = get_logger("odek.health")

    async def run(self, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until cancelled; reports the bound port through ``task_status``
        once listening. Raises :class:`odek.errors.HealthEndpointError` when the address
        cannot be listened on."""
        try:
            listener = await anyio.create_tcp_listener(
                local_host=self.address.host, local_port=self.address.port
            )
        except OSError as exc:
            raise HealthEndpointError(
                f"schedules.http_addr: cannot listen on {self.address}: {exc.strerror or exc}"
            ) from exc
        async with listener:
            port: int = listener.extra(SocketAttribute.local_port)
            if not self.address.is_loopback:
                self._log.warning(
                    "health_endpoint_exposed",
                    address=str(self.address),
                    note="reachable from other machines; serve it on loopback unless needed",
                )
            self._log.info("health_endpoint_listening", host=self.address.host, port=port)
            task_status.started(port)
            await listener.serve(self._connection)

    async def _connection(self, stream: SocketStream) -> None:
        async with stream:
            if self._open >= self.max_connections:
                return
            self._open += 1
            try:
                with anyio.move_on_after(self.timeout):
                    await self._exchange(stream, h11.Connection(h11.SERVER))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, h11.ProtocolError):
                pass  # the client went away or broke the protocol mid-response
            finally:
                self._open -= 1

    async def _exchange(self, stream: SocketStream, conn: h11.Connection) -> None:
        try:
            request = await _read_request(stream, conn)
        except h11.RemoteProtocolError as exc:
            body = f"bad request: {exc}\n".encode()
            await _send(stream, conn, (exc.error_status_hint, _TEXT, body, []), head=False)
            return
        if request is None:
            return
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        try:
            response = self.respond(method, path)
        except Exception as exc:
            self._log.error("health_endpoint_failed", path=path, error=f"{exc!r}")
            response = (500, _TEXT, b"internal error\n", [])
        await _send(stream, conn, response, head=method == "HEAD")

    def respond(self, method: str, path: str) -> Response:
        """The status, media type, body and extra headers for ``method`` on ``path``."""
        if path not in ("/healthz", "/metrics"):
            return 404, _TEXT, b"not found: try /healthz or /metrics\n", []
        if method not in ("GET", "HEAD"):
            return 405, _TEXT, b"method not allowed\n", [("allow", _ALLOWED)]
        if path == "/metrics":
            return 200, CONTENT_TYPE, self.metrics.render(), []
        report = self.report()
        return (200 if report.ok else 503), _JSON, msgspec.json.encode(report) + b"\n", []

    def report(self) -> HealthReport:
        """The health of the current heartbeat, judged now."""
        now = self.clock()
        beat = self.heartbeat()
        if beat is None:
            reason = "no heartbeat yet: the scheduler has not started"
            return HealthReport(ok=False, reasons=[reason], checked_at=now, heartbeat=None)
        return evaluate(beat, now, stale_after=self.stale_after)


def health_child(
    http_addr: str,
    *,
    heartbeat: Callable[[], Heartbeat | None],
    metrics: Metrics,
    clock: Callable[[], datetime] = utc_now,
) -> ChildSpec:
    """A :class:`HealthServer` on ``http_addr`` (``schedules.http_addr``) as the child
    ``health`` of a supervisor: ready once it listens, so a port that cannot be listened on
    fails the supervisor's start (:class:`supervisors.StartupError` caused by
    :class:`odek.errors.HealthEndpointError`). Raises :class:`odek.errors.ConfigError` when
    ``http_addr`` is not a listen address."""
    try:
        address = ListenAddress.parse(http_addr)
    except ValueError as exc:
        raise ConfigError(f"schedules.http_addr: {exc}") from None
    server = HealthServer(address, heartbeat=heartbeat, metrics=metrics, clock=clock)

    async def serve(*, task_status: TaskStatus[None]) -> None:
        await server.run(task_status=_Started(task_status))

    return ChildSpec("health", serve)


class _Started:
    """Passes a server's ``started(port)`` on as ``started()``: a supervisor wants no value."""

    def __init__(self, status: TaskStatus[None]) -> None:
        self._status = status

    def started(self, value: object = None) -> None:
        self._status.started()


async def _read_request(stream: SocketStream, conn: h11.Connection) -> h11.Request | None:
    """The request's head, or ``None`` when the client closed without sending one."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(4096)
            except anyio.EndOfStream:
                data = b""
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            return event
        else:
            return None


async def _send(
    stream: SocketStream, conn: h11.Connection, response: Response, *, head: bool
) -> None:
    status, media_type, body, extra = response
    headers = [
        ("content-type", media_type),
        ("content-length", str(len(body))),
        ("cache-control", "no-store"),
        ("connection", "close"),
        *extra,
    ]
    await stream.send(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
    if body and not head:
        await stream.send(conn.send(h11.Data(data=body)) or b"")
    await stream.send(conn.send(h11.EndOfMessage()) or b"")
