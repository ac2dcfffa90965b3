"""The agent loop against the fake OpenAI server, with a real (small) tool set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.openai import FakeOpenAI, answer, error, tool_call, tool_calls
from fakes.toolsets import ArithmeticToolset

from odek.agent import run_agent
from odek.agent.loop import MAX_TOOL_RESULT
from odek.errors import LLMError, RunError
from odek.llm import ChatClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def llm(fake: FakeOpenAI) -> ChatClient:
    return ChatClient(base_url=fake.url, api_key="k" * 12, model="m", timeout=10.0)


async def test_answer_without_tools_ends_the_run(fake: FakeOpenAI) -> None:
    fake.push(answer("  42  ", prompt_tokens=20, completion_tokens=2))
    async with llm(fake) as client:
        result = await run_agent(
            client, ArithmeticToolset(), system="sys", task="what is 6*7?", max_iterations=3
        )
    assert (result.text, result.tokens, result.rounds) == ("42", 22, 1)
    body = fake.requests[0].json
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "what is 6*7?"},
    ]
    assert body["tools"][0]["function"]["name"] == "add"


async def test_tool_results_are_fed_back_and_tokens_summed(fake: FakeOpenAI) -> None:
    fake.push(
        tool_calls(("add", {"numbers": [1, 2]}), ("add", {"numbers": [10, 20]})),
        tool_call("nope", {}, prompt_tokens=30, completion_tokens=1),
        answer("3 and 30", prompt_tokens=40, completion_tokens=4),
    )
    toolset = ArithmeticToolset()
    usage: list[int] = []

    async def on_usage(tokens: int) -> None:
        usage.append(tokens)

    async with llm(fake) as client:
        result = await run_agent(
            client, toolset, system="s", task="t", max_iterations=5, on_usage=on_usage
        )
    assert result.text == "3 and 30"
    assert result.rounds == 3
    assert usage == [15, 31, 44]
    assert result.tokens == 90
    assert [name for name, _ in toolset.calls] == ["add", "add", "nope"]
    second = fake.requests[1].json["messages"]
    assert second[2]["role"] == "assistant"
    assert [c["id"] for c in second[2]["tool_calls"]] == ["call_0", "call_1"]
    assert second[3] == {"role": "tool", "content": "3", "tool_call_id": "call_0"}
    assert second[4] == {"role": "tool", "content": "30", "tool_call_id": "call_1"}
    third = fake.requests[2].json["messages"]
    assert third[-1]["content"] == "error: unknown tool 'nope'"


async def test_denials_reach_the_model_as_text(fake: FakeOpenAI) -> None:
    fake.push(tool_call("deny", {}), answer("could not fetch"))
    async with llm(fake) as client:
        result = await run_agent(
            client, ArithmeticToolset(), system="s", task="t", max_iterations=5
        )
    assert result.text == "could not fetch"
    assert fake.requests[1].json["messages"][-1]["content"].startswith("denied: unattended run")


async def test_too_many_rounds_is_a_run_error(fake: FakeOpenAI) -> None:
    fake.push(*[tool_call("add", {"numbers": [1]})] * 3)
    usage: list[int] = []

    async def on_usage(tokens: int) -> None:
        usage.append(tokens)

    async with llm(fake) as client:
        with pytest.raises(RunError, match=r"reached max iterations \(3\)"):
            await run_agent(
                client,
                ArithmeticToolset(),
                system="s",
                task="t",
                max_iterations=3,
                on_usage=on_usage,
            )
    assert len(fake.requests) == 3
    assert usage == [15, 15, 15]


async def test_long_tool_results_are_clipped_and_redacted(fake: FakeOpenAI) -> None:
    fake.push(tool_call("dump", {}), answer("ok"))
    toolset = ArithmeticToolset(dump_size=MAX_TOOL_RESULT * 3)
    async with llm(fake) as client:
        await run_agent(client, toolset, system="s", task="t", max_iterations=2)
    fed = fake.requests[1].json["messages"][-1]["content"]
    assert len(fed) < MAX_TOOL_RESULT + 100
    assert "characters cut" in fed


async def test_secrets_in_tool_results_are_redacted(fake: FakeOpenAI) -> None:
    class Leaky(ArithmeticToolset):
        async def call(self, name: str, arguments: str) -> str:
            return "OPENAI key: sk-abcdefghijklmnopqrstuvwxyz012345"

    fake.push(tool_call("add", {}), answer("ok"))
    async with llm(fake) as client:
        await run_agent(client, Leaky(), system="s", task="t", max_iterations=2)
    fed = fake.requests[1].json["messages"][-1]["content"]
    assert "sk-abc" not in fed
    assert "[REDACTED]" in fed


async def test_model_error_ends_the_run(fake: FakeOpenAI) -> None:
    fake.push(error(400, "context length exceeded"))
    async with llm(fake) as client:
        with pytest.raises(LLMError, match="context length exceeded"):
            await run_agent(client, ArithmeticToolset(), system="s", task="t", max_iterations=2)


async def test_empty_final_answer_is_a_run_error(fake: FakeOpenAI) -> None:
    fake.push(answer("   "))
    async with llm(fake) as client:
        with pytest.raises(RunError, match=r"empty answer \(finish reason stop\)"):
            await run_agent(client, ArithmeticToolset(), system="s", task="t", max_iterations=2)
