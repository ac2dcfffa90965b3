"""http_get against a real loopback HTTP server."""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from odek.tools import http_get

pytestmark = pytest.mark.anyio

BIG = b"x" * 3_000_000


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes, dict[str, str]]]] = {
        "/hello": (200, "text/plain; charset=utf-8", "héllo".encode(), {}),
        "/big": (200, "text/plain", BIG, {}),
        "/png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100), {}),
        "/moved": (302, "text/plain", b"", {"Location": "/hello"}),
        "/missing": (404, "text/plain", b"no such page", {}),
        "/gzip": (200, "text/plain", gzip.compress(b"z" * 5000), {"Content-Encoding": "gzip"}),
    }
    seen_headers: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        _Handler.seen_headers.append({k.lower(): v for k, v in self.headers.items()})
        status, kind, body, extra = self.routes[self.path]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # the client may stop reading at its cap

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


async def test_text_body_with_status_and_type(server: str) -> None:
    out = await http_get(f"{server}/hello", headers={"X-Probe": "1"})
    assert out == "HTTP 200 OK\ncontent-type: text/plain; charset=utf-8\n\nhéllo"
    assert _Handler.seen_headers[-1]["x-probe"] == "1"


async def test_body_is_capped(server: str) -> None:
    out = await http_get(f"{server}/big", max_body=1000)
    _, body = out.split("\n\n", 1)
    assert body == "x" * 1000 + "\n[body truncated at 1000 bytes]"


async def test_redirects_are_followed_and_errors_reported(server: str) -> None:
    assert (await http_get(f"{server}/moved")).endswith("\n\nhéllo")
    assert (await http_get(f"{server}/missing")).startswith("HTTP 404 Not Found")


async def test_binary_body_is_not_shown(server: str) -> None:
    out = await http_get(f"{server}/png")
    assert out.endswith("[binary body of 108 bytes not shown]")


async def test_compressed_body_is_decoded_and_capped(server: str) -> None:
    out = await http_get(f"{server}/gzip", max_body=10)
    assert out.endswith("\n\nzzzzzzzzzz\n[body truncated at 10 bytes]")


async def test_only_http_urls(server: str) -> None:
    assert (await http_get("file:///etc/passwd")).startswith("error: only http and https")


async def test_connection_failure_is_a_result() -> None:
    out = await http_get("http://127.0.0.1:9/x", request_timeout=5)
    assert out.startswith("error: GET http://127.0.0.1:9/x failed: ConnectError")
