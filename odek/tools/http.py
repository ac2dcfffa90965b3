"""The ``http_get`` tool: one GET request with httpx, the body capped; class
``network_egress``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import httpx
import msgspec

from odek.policy import Classification, RiskClass
from odek.tools.base import Tool, schema_of

__all__ = ["DEFAULT_MAX_BODY", "HttpGetArgs", "http_get", "http_get_tool"]

DEFAULT_MAX_BODY = 1 << 20
DEFAULT_HTTP_TIMEOUT = 30.0
_MAX_REDIRECTS = 5
_TEXTUAL = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "+json",
    "+xml",
    "application/x-www-form-urlencoded",
)


class HttpGetArgs(msgspec.Struct, forbid_unknown_fields=True):
    """Arguments of ``http_get``."""

    url: Annotated[str, msgspec.Meta(description="An http:// or https:// URL.")]
    headers: Annotated[dict[str, str], msgspec.Meta(description="Extra request headers.")] = (
        msgspec.field(default_factory=dict)
    )


async def http_get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    request_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> str:
    """GET ``url`` (following up to 5 redirects) and report the status line, the content
    type and at most ``max_body`` bytes of the (decoded) body; the rest is not read. A
    binary body is summarised, not shown. Failures are reported as ``error: ...``."""
    scheme = httpx.URL(url).scheme if "://" in url else ""
    if scheme not in ("http", "https"):
        return f"error: only http and https URLs can be fetched, not {url!r}"
    async with httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=_MAX_REDIRECTS,
        timeout=request_timeout,
    ) as client:
        try:
            async with client.stream("GET", url, headers=dict(headers or {})) as response:
                body = bytearray()
                more = False
                try:
                    async for chunk in response.aiter_bytes():
                        if more:
                            continue
                        body += chunk
                        if len(body) > max_body:
                            more = True
                            del body[max_body:]
                            # Stop the download. Breaking out of the loop instead would
                            # leave httpx's inner async generators unfinished (a
                            # ResourceWarning on trio); closing makes the next read fail.
                            await response.aclose()
                except (httpx.StreamClosed, httpx.ReadError):
                    if not more:
                        raise
        except httpx.HTTPError as exc:
            return f"error: GET {url} failed: {type(exc).__name__}: {exc}"
    kind = response.headers.get("content-type", "")
    lines = [f"HTTP {response.status_code} {response.reason_phrase}", f"content-type: {kind}"]
    textual = not kind or any(t in kind for t in _TEXTUAL)
    if textual:
        lines += ["", body.decode(response.charset_encoding or "utf-8", "replace")]
    else:
        lines += ["", f"[binary body of {len(body)}{'+' if more else ''} bytes not shown]"]
    if more:
        lines.append(f"[body truncated at {max_body} bytes]")
    return "\n".join(lines)


def http_get_tool(*, max_body: int = DEFAULT_MAX_BODY) -> Tool[HttpGetArgs]:
    """The ``http_get`` tool."""

    async def run(args: HttpGetArgs) -> str:
        return await http_get(args.url, headers=args.headers, max_body=max_body)

    return Tool(
        name="http_get",
        description=f"Fetch a URL with GET and return the status and up to {max_body} bytes.",
        parameters=schema_of(HttpGetArgs),
        args_type=HttpGetArgs,
        classify=lambda args: Classification.of(RiskClass.NETWORK_EGRESS, f"GET {args.url}"),
        describe=lambda args: args.url,
        run=run,
    )
