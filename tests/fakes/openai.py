"""A fake OpenAI-compatible chat-completions server on real loopback HTTP.

It runs a :class:`http.server.ThreadingHTTPServer` in a background thread, so it serves
tests on either anyio backend and subprocesses (``odek run``) alike. Replies are
scripted in order with :meth:`FakeOpenAI.push`; every request is recorded. When the
script is empty the server answers 500 ``fake: no scripted reply``, which makes an
unexpected extra call fail loudly.

    with FakeOpenAI() as fake:
        fake.push(tool_call("shell", {"command": "ls"}), answer("done"))
        ... ODEK_BASE_URL=fake.url ...
        assert fake.requests[1].json["messages"][-1]["role"] == "tool"
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    """One scripted reply: a status, a raw body and headers; or ``hang`` (never answer
    until the server closes) or ``drop`` (close the connection without answering)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    drop: bool = False


@dataclass(frozen=True)
class Request:
    """One request as received: its path, headers (lower-case names) and JSON body."""

    path: str
    headers: dict[str, str]
    json: Any


def _json_reply(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(doc).encode(), headers or {})


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def answer(text: str, *, prompt_tokens: int = 10, completion_tokens: int = 5) -> Reply:
    """A final answer (no tool calls) with the given usage."""
    message = {"role": "assistant", "content": text}
    return _json_reply(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": _usage(prompt_tokens, completion_tokens),
        }
    )


def tool_calls(
    *calls: tuple[str, Any], prompt_tokens: int = 10, completion_tokens: int = 5
) -> Reply:
    """An assistant message calling tools: each call is ``(name, arguments)`` where the
    arguments are a dict (JSON-encoded here) or an already encoded string. Call ids are
    ``call_0``, ``call_1``, ..."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{index}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for index, (name, args) in enumerate(calls)
        ],
    }
    return _json_reply(
        {
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": _usage(prompt_tokens, completion_tokens),
        }
    )


def tool_call(name: str, args: Any, **usage: int) -> Reply:
    """An assistant message calling one tool (id ``call_0``)."""
    return tool_calls((name, args), **usage)


def error(status: int, message: str, *, retry_after: str | None = None) -> Reply:
    """An error in the OpenAI shape ``{"error": {"message": ...}}``."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return _json_reply({"error": {"message": message, "type": "fake_error"}}, status, headers)


def rate_limited(retry_after: str | None = None) -> Reply:
    """429 Too Many Requests, with ``Retry-After`` when given."""
    return error(429, "rate limit reached", retry_after=retry_after)


def malformed() -> Reply:
    """200 with a body that is not valid JSON."""
    return Reply(200, b'{"choices": [{"message": ', {"Content-Type": "application/json"})


def hang() -> Reply:
    """Never answer (until the server closes): a reply slower than any client timeout."""
    return Reply(hang=True)


def drop() -> Reply:
    """Close the connection without answering (a reset connection)."""
    return Reply(drop=True)


class FakeOpenAI:
    """The fake server. ``url`` is its base URL (``http://127.0.0.1:<port>/v1``);
    ``requests`` lists what it received, in order."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = False
        # A short poll interval so that close() (shutdown) returns quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def push(self, *replies: Reply) -> None:
        """Append replies to the script."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet served."""
        with self._lock:
            return len(self._script)

    def close(self) -> None:
        """Release hanging replies, close open connections, stop and join every thread."""
        self._release.set()
        self._server.shutdown()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        return error(500, "fake: no scripted reply")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = None
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = fake._next(Request(self.path, headers, body))
                if reply.hang:
                    fake._release.wait(timeout=60)
                if reply.hang or reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                headers_out = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers_out.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows failures, not access logs."""

        return Handler
