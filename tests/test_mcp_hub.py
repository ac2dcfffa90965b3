"""The MCP hub against a real MCP server over stdio (tests/fakes/mcp_server.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import msgspec
import pytest

from odek.policy import PolicySettings, UnattendedApprover, build_policy
from odek.tools import McpServerSettings, build_toolset
from odek.tools.mcp import McpHub

pytestmark = pytest.mark.anyio

SERVER = str(Path(__file__).parent / "fakes" / "mcp_server.py")


def fake(name: str = "fake", risk: str = "safe") -> McpServerSettings:
    return McpServerSettings(name=name, command=sys.executable, args=[SERVER], risk=risk)


def hub_for(*servers: McpServerSettings, **kw: float) -> McpHub:
    return McpHub(servers, min_backoff=0.05, max_backoff=0.2, health_interval=0.2, **kw)


async def test_tools_are_offered_and_called_through_the_policy(tmp_path: Path) -> None:
    hub = hub_for(fake(risk="network_egress"))
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            assert hub.connected() == ["fake"]
            names = [t.name for t in hub.tools()]
            assert names == [
                "mcp__fake__echo",
                "mcp__fake__pid",
                "mcp__fake__fail",
                "mcp__fake__die",
            ]

            attended = build_toolset(
                build_policy(PolicySettings(classes={"network_egress": "allow"}), unattended=False),
                UnattendedApprover(),
                cwd=tmp_path,
                extra=hub.tools(),
            )
            schema = {s["function"]["name"]: s for s in attended.schemas()}["mcp__fake__echo"]
            assert schema["function"]["parameters"]["required"] == ["text"]
            out = await attended.call("mcp__fake__echo", json.dumps({"text": "hi"}))
            assert out == "echo: hi"
            fail = await attended.call("mcp__fake__fail", "{}")
            assert fail == "error: Error executing tool fail"  # the server's error result

            # An unattended run cannot call them unless schedules.dangerous allows the class.
            unattended = build_toolset(
                build_policy(PolicySettings(), PolicySettings(), unattended=True),
                UnattendedApprover(),
                cwd=tmp_path,
                extra=hub.tools(),
            )
            out = await unattended.call("mcp__fake__echo", json.dumps({"text": "hi"}))
            assert out == "denied: unattended run, class network_egress"
            allowed = build_toolset(
                build_policy(
                    PolicySettings(),
                    PolicySettings(classes={"network_egress": "allow"}),
                    unattended=True,
                ),
                UnattendedApprover(),
                cwd=tmp_path,
                extra=hub.tools(),
            )
            assert await allowed.call("mcp__fake__echo", '{"text": "x"}') == "echo: x"
            tg.cancel_scope.cancel()


async def test_default_risk_unknown_is_denied(tmp_path: Path) -> None:
    hub = hub_for(McpServerSettings(name="fake", command=sys.executable, args=[SERVER]))
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            tools = build_toolset(
                build_policy(PolicySettings(), unattended=False),
                UnattendedApprover(),
                cwd=tmp_path,
                extra=hub.tools(),
            )
            out = await tools.call("mcp__fake__pid", "{}")
            assert out == "denied: policy denies class unknown (MCP tool fake/pid)"
            tg.cancel_scope.cancel()


async def test_a_server_that_dies_is_reconnected(tmp_path: Path) -> None:
    hub = hub_for(fake())
    policy = build_policy(PolicySettings(), unattended=False)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            tools = build_toolset(policy, UnattendedApprover(), cwd=tmp_path, extra=hub.tools())
            first_pid = await tools.call("mcp__fake__pid", "{}")
            assert first_pid.isdigit()
            died = await tools.call("mcp__fake__die", "{}")
            assert died.startswith("error: MCP tool fake/die failed")
            assert hub.connected() == []  # its tools are withdrawn at once
            assert hub.tools() == []
            await hub.wait_connected("fake")
            tools = build_toolset(policy, UnattendedApprover(), cwd=tmp_path, extra=hub.tools())
            second_pid = await tools.call("mcp__fake__pid", "{}")
            assert second_pid.isdigit()
            assert second_pid != first_pid
            tg.cancel_scope.cancel()


async def test_a_server_that_cannot_start_is_skipped(tmp_path: Path) -> None:
    broken = McpServerSettings(name="broken", command=str(tmp_path / "no-such-program"))
    hub = hub_for(broken, fake())
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            assert hub.connected() == ["fake"]
            assert all(t.name.startswith("mcp__fake__") for t in hub.tools())
            tg.cancel_scope.cancel()


async def test_stderr_goes_to_a_private_log(tmp_path: Path) -> None:
    noisy = McpServerSettings(
        name="noisy",
        command=sys.executable,
        args=[
            "-c",
            f"import sys; print('starting up', file=sys.stderr); exec(open({SERVER!r}).read())",
        ],
    )
    hub = McpHub([noisy], stderr_dir=tmp_path, min_backoff=0.05)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(hub.run)
            assert hub.connected() == ["noisy"]
            tg.cancel_scope.cancel()
    log = tmp_path / "mcp-noisy.log"
    assert "starting up" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


def test_settings_validation() -> None:
    with pytest.raises(msgspec.ValidationError, match="exactly one of command or url"):
        msgspec.convert([{"name": "x"}], list[McpServerSettings])
    with pytest.raises(msgspec.ValidationError, match="unknown risk 'meh'"):
        msgspec.convert(
            [{"name": "x", "url": "http://h/mcp", "risk": "meh"}], list[McpServerSettings]
        )
    with pytest.raises(ValueError, match="duplicate server names"):
        McpHub([fake(), fake()])
