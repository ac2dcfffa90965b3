"""The file tools: ``read_file``, ``write_file`` and ``list_dir``.

Relative paths are taken from the run's working directory. Reading and listing are
``safe``; writing is ``local_write`` inside the working directory (after resolving ``..``
and symbolic links) and ``system_write`` anywhere else, the same rule the shell
classifier applies to redirections (:func:`odek.policy.classify_write_path`).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Annotated

import anyio.to_thread
import msgspec

from odek.policy import Classification, RiskClass, classify_write_path
from odek.tools.base import Tool, schema_of

__all__ = [
    "ListDirArgs",
    "ReadFileArgs",
    "WriteFileArgs",
    "list_dir_tool",
    "read_file_tool",
    "write_file_tool",
]

MAX_READ = 256 * 1024
MAX_ENTRIES = 1000

_Path = Annotated[str, msgspec.Meta(description="File path, relative to the working directory.")]


class ReadFileArgs(msgspec.Struct, forbid_unknown_fields=True):
    """Arguments of ``read_file``."""

    path: _Path
    offset: Annotated[int, msgspec.Meta(ge=0, description="Byte offset to start at.")] = 0
    limit: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_READ, description=f"Bytes to read (max {MAX_READ}).")
    ] = MAX_READ


class WriteFileArgs(msgspec.Struct, forbid_unknown_fields=True):
    """Arguments of ``write_file``."""

    path: _Path
    content: Annotated[str, msgspec.Meta(description="The text to write (UTF-8).")]
    append: Annotated[bool, msgspec.Meta(description="Append instead of replacing.")] = False


class ListDirArgs(msgspec.Struct, forbid_unknown_fields=True):
    """Arguments of ``list_dir``."""

    path: Annotated[
        str, msgspec.Meta(description="Directory, relative to the working directory.")
    ] = "."


def _resolve(cwd: Path, path: str) -> Path:
    return cwd / Path(path).expanduser()


def _read(cwd: Path, args: ReadFileArgs) -> str:
    target = _resolve(cwd, args.path)
    with target.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(args.offset)
        data = f.read(args.limit)
    text = data.decode("utf-8", "replace")
    end = args.offset + len(data)
    if end < size:
        text += f"\n[truncated: {size - end} more bytes; read again with offset={end}]"
    return text


def _write(cwd: Path, args: WriteFileArgs) -> str:
    target = _resolve(cwd, args.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = args.content.encode()
    if args.append:
        with target.open("ab") as f:
            f.write(data)
        return f"appended {len(data)} bytes to {args.path}"
    # Write a temporary file and rename it over the target, so that a failed write
    # leaves the old file intact; keep the old file's permissions.
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return f"wrote {len(data)} bytes to {args.path}"


def _list(cwd: Path, args: ListDirArgs) -> str:
    target = _resolve(cwd, args.path)
    lines: list[str] = []
    with os.scandir(target) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered[:MAX_ENTRIES]:
        try:
            if entry.is_dir():
                lines.append(f"{entry.name}/")
            elif entry.is_symlink():
                lines.append(f"{entry.name} -> {os.readlink(entry.path)}")
            else:
                lines.append(f"{entry.name}  {entry.stat().st_size} bytes")
        except OSError:
            lines.append(f"{entry.name}  (unreadable)")
    if len(ordered) > MAX_ENTRIES:
        lines.append(f"[{len(ordered) - MAX_ENTRIES} more entries not shown]")
    return "\n".join(lines) if lines else "(empty directory)"


def read_file_tool(*, cwd: Path) -> Tool[ReadFileArgs]:
    """``read_file``: up to 256 KiB of a file as UTF-8 text; class ``safe``."""

    async def run(args: ReadFileArgs) -> str:
        return await anyio.to_thread.run_sync(_read, cwd, args)

    return Tool(
        name="read_file",
        description="Read a text file. Long files are returned in parts: use offset to go on.",
        parameters=schema_of(ReadFileArgs),
        args_type=ReadFileArgs,
        classify=lambda args: Classification.of(RiskClass.SAFE, f"reads {args.path}"),
        describe=lambda args: args.path,
        run=run,
    )


def write_file_tool(*, cwd: Path) -> Tool[WriteFileArgs]:
    """``write_file``: writes (or appends) text, creating parent directories; the old
    file survives a failed write. Class ``local_write`` inside ``cwd``, else
    ``system_write``."""

    async def run(args: WriteFileArgs) -> str:
        return await anyio.to_thread.run_sync(_write, cwd, args)

    def classify(args: WriteFileArgs) -> Classification:
        finding = classify_write_path(str(Path(args.path).expanduser()), cwd=cwd)
        if finding.risk is RiskClass.SAFE:
            # /dev/null and friends are harmless to a shell redirect, not to a file tool.
            return Classification.of(RiskClass.SYSTEM_WRITE, f"writes the device {args.path}")
        return Classification((finding,))

    return Tool(
        name="write_file",
        description="Write text to a file (replacing it, or appending), creating directories.",
        parameters=schema_of(WriteFileArgs),
        args_type=WriteFileArgs,
        classify=classify,
        describe=lambda args: f"{args.path} ({len(args.content.encode())} bytes)",
        run=run,
    )


def list_dir_tool(*, cwd: Path) -> Tool[ListDirArgs]:
    """``list_dir``: the entries of a directory (at most 1000), sorted; class ``safe``."""

    async def run(args: ListDirArgs) -> str:
        return await anyio.to_thread.run_sync(_list, cwd, args)

    return Tool(
        name="list_dir",
        description="List the entries of a directory with their sizes.",
        parameters=schema_of(ListDirArgs),
        args_type=ListDirArgs,
        classify=lambda args: Classification.of(RiskClass.SAFE, f"lists {args.path}"),
        describe=lambda args: args.path,
        run=run,
    )
