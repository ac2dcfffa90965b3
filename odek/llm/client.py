"""An httpx client for OpenAI-compatible ``POST {base_url}/chat/completions``.

Retries 429, 502, 503, 504 and transport errors (refused or reset connections, timeouts)
with backoff 1 s, 2 s, 4 s, ..., honouring ``Retry-After`` (seconds or an HTTP date),
each wait capped at 60 s. Every other error fails at once. Waits go through the
injectable ``sleep`` (default :func:`anyio.sleep`), so they are cancelled by the caller's
cancel scope and tests can observe them. Errors are :class:`odek.errors.LLMError` with
the HTTP status and the provider's message; the API key never appears in them.
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import httpx
import msgspec

from odek.errors import LLMError
from odek.llm.messages import ChatResponse, Completion, Message
from odek.redact import redact, register_secret

if TYPE_CHECKING:
    from odek.config import Config

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_WAIT = 60.0
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
_ERROR_BODY_CHARS = 500

Sleep = Callable[[float], Awaitable[None]]
_encoder = msgspec.json.Encoder()


class ChatClient:
    """A chat-completions client for one endpoint, key and model.

    ``timeout`` bounds each HTTP request (connect, write, read, pool) in seconds;
    ``retries`` is the number of retries after the first attempt; ``thinking`` is the
    reasoning mode (``enabled``, ``disabled``, ``low``, ``medium``, ``high`` or ``""``).
    Use as an async context manager, or call :meth:`aclose`."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        thinking: str = "",
        retries: int = 3,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        register_secret(api_key)
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._model = model
        self._thinking = thinking
        self._retries = retries
        self._sleep = sleep
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout))

    @classmethod
    def from_config(cls, config: Config, *, sleep: Sleep = anyio.sleep) -> Self:
        """The client for the configured endpoint, key, model, timeout and thinking mode."""
        return cls(
            base_url=config.base_url,
            api_key=config.api_key,
            model=config.model,
            timeout=config.request_timeout,
            thinking=config.thinking,
            sleep=sleep,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[dict[str, Any]] = ()
    ) -> Completion:
        """Send one chat-completions request and return the first choice and the usage.

        Raises :class:`LLMError` for an error status, a malformed or empty response, or
        when the retries are exhausted."""
        body = _encoder.encode(self._body(messages, tools))
        response = await self._post_with_retries(body)
        return self._decode(response)

    def _body(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._model, "messages": list(messages), "stream": False}
        if tools:
            body["tools"] = list(tools)
        if self._thinking in ("enabled", "disabled"):
            body["thinking"] = {"type": self._thinking}
        elif self._thinking:
            body["reasoning_effort"] = self._thinking
        return body

    async def _post_with_retries(self, body: bytes) -> tuple[int, bytes]:
        attempt = 0
        while True:
            last = attempt == self._retries
            try:
                status, content, retry_after = await self._post(body)
            except httpx.TransportError as exc:
                if last:
                    raise self._error(
                        f"cannot reach the model endpoint after {attempt + 1} attempts: "
                        f"{_describe_transport(exc)}",
                        None,
                    ) from None
                await self._sleep(_backoff(attempt, None))
            else:
                if status in RETRY_STATUSES and not last:
                    await self._sleep(_backoff(attempt, retry_after))
                elif status >= 400:
                    note = f" after {attempt + 1} attempts" if status in RETRY_STATUSES else ""
                    raise self._error(f"{_provider_message(content)}{note}", status)
                else:
                    return status, content
            attempt += 1

    async def _post(self, body: bytes) -> tuple[int, bytes, str | None]:
        async with self._http.stream("POST", self._url, content=body) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise self._error(
                        f"response exceeds {MAX_RESPONSE_BYTES} bytes", response.status_code
                    )
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), response.headers.get("retry-after")

    def _decode(self, response: tuple[int, bytes]) -> Completion:
        status, content = response
        try:
            decoded = msgspec.json.decode(content, type=ChatResponse)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            snippet = content[:200].decode("utf-8", "replace")
            raise self._error(f"malformed response ({exc}): {snippet!r}", status) from None
        if not decoded.choices:
            raise self._error("no choices in response", status)
        choice = decoded.choices[0]
        return Completion(choice.message, decoded.usage, choice.finish_reason)

    def _error(self, message: str, status: int | None) -> LLMError:
        text = message.replace(self._api_key, "[REDACTED]") if self._api_key else message
        where = f"status {status}" if status is not None else "no response"
        return LLMError(f"llm: {redact(text)} ({where})", status=status)


def _backoff(attempt: int, retry_after: str | None) -> float:
    """The wait before retry ``attempt + 1``: the server's ``Retry-After`` when it gives a
    usable one, else 1 s doubling per attempt; never more than 60 s."""
    wait = _parse_retry_after(retry_after)
    if wait is None:
        wait = float(2**attempt)
    return min(wait, MAX_RETRY_WAIT)


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return max(seconds, 0.0)


def _provider_message(content: bytes) -> str:
    """The provider's error message: ``error.message`` (OpenAI shape), ``message``, or the
    start of the body."""
    text = content.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(doc.get("message"), str):
            return str(doc["message"])
    text = " ".join(text.split())
    return text[:_ERROR_BODY_CHARS] or "empty response body"


def _describe_transport(exc: httpx.TransportError) -> str:
    detail = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}" if detail != type(exc).__name__ else detail
