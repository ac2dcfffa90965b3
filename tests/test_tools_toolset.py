"""The tool set under a policy: decisions, denials the model can read, the file tools."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from odek.policy import PolicySettings, UnattendedApprover, build_policy
from odek.tools import PolicedToolset, build_toolset

pytestmark = pytest.mark.anyio


class RecordingApprover:
    """Answers prompts with a fixed answer and records what it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str, str]] = []

    async def approve(self, *, tool: str, risk: str, detail: str) -> bool:
        self.asked.append((tool, risk, detail))
        return self.answer


def attended(tmp_path: Path, approver: RecordingApprover, **settings: Any) -> PolicedToolset:
    policy = build_policy(PolicySettings(**settings), unattended=False)
    return build_toolset(policy, approver, cwd=tmp_path)


def args(**kw: object) -> str:
    return json.dumps(kw)


async def test_schemas_list_the_builtin_tools(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(False))
    schemas = tools.schemas()
    assert [s["function"]["name"] for s in schemas] == [
        "shell",
        "read_file",
        "write_file",
        "list_dir",
        "http_get",
    ]
    shell = schemas[0]["function"]["parameters"]
    assert shell["required"] == ["command"]
    assert shell["properties"]["command"]["type"] == "string"
    assert all(s["type"] == "function" for s in schemas)


async def test_safe_call_runs_without_asking(tmp_path: Path) -> None:
    approver = RecordingApprover(False)
    tools = attended(tmp_path, approver)
    assert await tools.call("shell", args(command="echo hi")) == "exit code: 0\nstdout:\nhi\n"
    assert approver.asked == []


async def test_prompt_asks_the_approver_with_class_and_command(tmp_path: Path) -> None:
    no, yes = RecordingApprover(False), RecordingApprover(True)
    command = "python3 -c 'print(42)'"
    assert await attended(tmp_path, no).call("shell", args(command=command)) == (
        "denied: not approved, class code_execution"
    )
    assert no.asked == [("shell", "code_execution", command)]
    assert "42" in await attended(tmp_path, yes).call("shell", args(command=command))


async def test_denied_call_does_not_run(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(True))
    (tmp_path / "keep").mkdir()
    out = await tools.call("shell", args(command="echo hi; rm -rf keep"))
    assert out.startswith("denied: policy denies class destructive (rm -r keep")
    assert (tmp_path / "keep").is_dir()


async def test_unattended_denial_names_the_class(tmp_path: Path) -> None:
    policy = build_policy(PolicySettings(), PolicySettings(), unattended=True)
    tools = build_toolset(policy, UnattendedApprover(), cwd=tmp_path)
    out = await tools.call("http_get", args(url="http://127.0.0.1:9/"))
    assert out == "denied: unattended run, class network_egress"
    out = await tools.call("write_file", args(path="/etc/odek-test", content="x"))
    assert out == "denied: unattended run, class system_write"


async def test_bad_calls_return_errors(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(True))
    assert (await tools.call("nope", "{}")).startswith("error: unknown tool 'nope'")
    assert (await tools.call("shell", "{not json")).startswith("error: invalid arguments for shell")
    assert await tools.call("shell", args(cmd="ls")) == (
        "error: invalid arguments for shell: Object contains unknown field `cmd`"
    )
    assert await tools.call("shell", "{}") == (
        "error: invalid arguments for shell: Object missing required field `command`"
    )
    assert (await tools.call("read_file", args(path="missing.txt"))).startswith(
        "error: read_file failed: FileNotFoundError"
    )


async def test_write_inside_cwd_is_local_and_outside_prompts(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    approver = RecordingApprover(False)
    tools = attended(work, approver)
    out = await tools.call("write_file", args(path="sub/a.txt", content="héllo"))
    assert out == "wrote 6 bytes to sub/a.txt"
    assert (work / "sub" / "a.txt").read_text() == "héllo"
    assert approver.asked == []
    out = await tools.call("write_file", args(path="../outside.txt", content="x"))
    assert out == "denied: not approved, class system_write"
    assert not (tmp_path / "outside.txt").exists()


async def test_write_replaces_atomically_keeping_mode_and_appends(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(False))
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    await tools.call("write_file", args(path="a.txt", content="new"))
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600
    await tools.call("write_file", args(path="a.txt", content="+", append=True))
    assert target.read_text() == "new+"
    assert os.listdir(tmp_path) == ["a.txt"]  # no temporary file left behind


async def test_read_file_in_parts(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(False))
    (tmp_path / "f.txt").write_text("0123456789")
    out = await tools.call("read_file", args(path="f.txt", limit=4))
    assert out == "0123\n[truncated: 6 more bytes; read again with offset=4]"
    assert await tools.call("read_file", args(path="f.txt", offset=8)) == "89"


async def test_list_dir(tmp_path: Path) -> None:
    tools = attended(tmp_path, RecordingApprover(False))
    (tmp_path / "b.txt").write_text("abc")
    (tmp_path / "a").mkdir()
    (tmp_path / "l").symlink_to("b.txt")
    assert await tools.call("list_dir", "{}") == "a/\nb.txt  3 bytes\nl -> b.txt"


async def test_allowlisted_command_runs_without_asking(tmp_path: Path) -> None:
    approver = RecordingApprover(False)
    tools = attended(tmp_path, approver, allowlist=["python3 -c 'print(7)'"])
    out = await tools.call("shell", args(command="python3 -c 'print(7)'"))
    assert out == "exit code: 0\nstdout:\n7\n"
    assert approver.asked == []
