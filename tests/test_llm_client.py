"""The chat-completions client against the fake OpenAI server on loopback HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anyio
import pytest
from fakes.openai import (
    FakeOpenAI,
    Reply,
    answer,
    drop,
    error,
    hang,
    malformed,
    rate_limited,
    tool_call,
)

from odek.errors import LLMError
from odek.llm import ChatClient, Message

pytestmark = pytest.mark.anyio

KEY = "sk-test-0123456789abcdefghijklmnopqrstuv"


class SleepRecorder:
    """An injected backoff sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def client(url: str, sleep: SleepRecorder, **kwargs: object) -> ChatClient:
    options: dict[str, object] = {"timeout": 10.0, **kwargs}
    return ChatClient(
        base_url=url,
        api_key=KEY,
        model="test-model",
        sleep=sleep,
        **options,  # type: ignore[arg-type]
    )


USER = [Message(role="user", content="hi")]


async def test_answer_sends_openai_shape_and_returns_usage(fake: FakeOpenAI) -> None:
    fake.push(answer("hello", prompt_tokens=7, completion_tokens=3))
    tools = [{"type": "function", "function": {"name": "shell", "parameters": {}}}]
    async with client(fake.url, SleepRecorder()) as llm:
        done = await llm.complete(USER, tools=tools)
    assert done.message.content == "hello"
    assert done.usage.tokens == 10
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json["model"] == "test-model"
    assert request.json["messages"] == [{"role": "user", "content": "hi"}]
    assert request.json["tools"] == tools
    assert request.json["stream"] is False


async def test_tool_calls_are_decoded(fake: FakeOpenAI) -> None:
    fake.push(tool_call("read_file", {"path": "a.txt"}))
    async with client(fake.url, SleepRecorder()) as llm:
        done = await llm.complete(USER)
    assert done.message.tool_calls is not None
    (call,) = done.message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_0",
        "read_file",
        '{"path": "a.txt"}',
    )
    assert "tools" not in fake.requests[0].json


@pytest.mark.parametrize(
    ("thinking", "expected"),
    [
        ("enabled", {"thinking": {"type": "enabled"}}),
        ("disabled", {"thinking": {"type": "disabled"}}),
        ("high", {"reasoning_effort": "high"}),
        ("", {}),
    ],
)
async def test_thinking_mode_is_sent(fake: FakeOpenAI, thinking: str, expected: dict) -> None:
    fake.push(answer("ok"))
    async with client(fake.url, SleepRecorder(), thinking=thinking) as llm:
        await llm.complete(USER)
    body = fake.requests[0].json
    assert {k: body[k] for k in ("thinking", "reasoning_effort") if k in body} == expected


async def test_429_honours_retry_after_seconds(fake: FakeOpenAI) -> None:
    fake.push(rate_limited("3"), rate_limited("0.5"), answer("finally"))
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        done = await llm.complete(USER)
    assert done.message.content == "finally"
    assert sleep.waits == [3.0, 0.5]
    assert len(fake.requests) == 3


async def test_retry_after_http_date_and_cap_at_60s(fake: FakeOpenAI) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    fake.push(rate_limited(later), rate_limited("600"), answer("ok"))
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        await llm.complete(USER)
    assert sleep.waits == [60.0, 60.0]


async def test_gateway_errors_back_off_exponentially_then_succeed(fake: FakeOpenAI) -> None:
    fake.push(error(502, "bad gateway"), error(503, "busy"), error(504, "slow"), answer("ok"))
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        done = await llm.complete(USER)
    assert done.message.content == "ok"
    assert sleep.waits == [1.0, 2.0, 4.0]


async def test_retries_exhausted_reports_status_and_provider_message(fake: FakeOpenAI) -> None:
    fake.push(*[error(503, "model overloaded")] * 4)
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        with pytest.raises(LLMError) as caught:
            await llm.complete(USER)
    assert caught.value.status == 503
    assert "model overloaded" in str(caught.value)
    assert "4 attempts" in str(caught.value)
    assert len(fake.requests) == 4
    assert fake.pending == 0


async def test_500_is_not_retried_and_never_leaks_the_key(fake: FakeOpenAI) -> None:
    fake.push(error(500, f"internal error for key {KEY}"))
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        with pytest.raises(LLMError) as caught:
            await llm.complete(USER)
    assert caught.value.status == 500
    assert "internal error" in str(caught.value)
    assert KEY not in str(caught.value)
    assert sleep.waits == []
    assert len(fake.requests) == 1


async def test_401_carries_provider_message(fake: FakeOpenAI) -> None:
    fake.push(error(401, "Incorrect API key provided"))
    async with client(fake.url, SleepRecorder()) as llm:
        with pytest.raises(LLMError, match="Incorrect API key provided") as caught:
            await llm.complete(USER)
    assert caught.value.status == 401


async def test_malformed_json_is_an_llm_error(fake: FakeOpenAI) -> None:
    fake.push(malformed())
    async with client(fake.url, SleepRecorder()) as llm:
        with pytest.raises(LLMError, match="malformed response") as caught:
            await llm.complete(USER)
    assert caught.value.status == 200


async def test_response_without_choices_is_an_llm_error(fake: FakeOpenAI) -> None:
    fake.push(Reply(200, b'{"choices": []}'))
    async with client(fake.url, SleepRecorder()) as llm:
        with pytest.raises(LLMError, match="no choices"):
            await llm.complete(USER)


async def test_dropped_connection_is_retried(fake: FakeOpenAI) -> None:
    fake.push(drop(), answer("after reset"))
    sleep = SleepRecorder()
    async with client(fake.url, sleep) as llm:
        done = await llm.complete(USER)
    assert done.message.content == "after reset"
    assert sleep.waits == [1.0]


async def test_refused_connection_fails_after_retries_with_no_status() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = SleepRecorder()
    async with client(f"http://127.0.0.1:{port}/v1", sleep) as llm:
        with pytest.raises(LLMError, match="cannot reach") as caught:
            await llm.complete(USER)
    assert caught.value.status is None
    assert sleep.waits == [1.0, 2.0, 4.0]


async def test_slow_reply_times_out_per_request(fake: FakeOpenAI) -> None:
    fake.push(hang(), hang())
    sleep = SleepRecorder()
    async with client(fake.url, sleep, timeout=0.2, retries=1) as llm:
        with pytest.raises(LLMError, match="ReadTimeout") as caught:
            await llm.complete(USER)
    assert caught.value.status is None
    assert len(fake.requests) == 2


async def test_cancel_scope_interrupts_a_pending_request(fake: FakeOpenAI) -> None:
    fake.push(hang())
    async with client(fake.url, SleepRecorder(), timeout=300.0) as llm:
        with anyio.move_on_after(0.2) as scope:
            await llm.complete(USER)
    assert scope.cancelled_caught


async def test_cancel_scope_interrupts_backoff(fake: FakeOpenAI) -> None:
    fake.push(rate_limited("30"))
    async with ChatClient(base_url=fake.url, api_key=KEY, model="m", timeout=10.0) as llm:
        with anyio.move_on_after(0.2) as scope:
            await llm.complete(USER)
    assert scope.cancelled_caught
    assert len(fake.requests) == 1
