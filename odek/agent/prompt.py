"""The system prompt of an agent run: the configured prompt, ``ODEK_HOME/IDENTITY.md`` or
the built-in default, followed by the runtime context (date and time in the job's zone,
host, working directory) and, for unattended runs, the rules the model works under."""

from __future__ import annotations

import platform
import socket
from datetime import datetime
from pathlib import Path

from odek.config import Config
from odek.errors import RunError

IDENTITY_FILE = "IDENTITY.md"

DEFAULT_SYSTEM = (
    "You are odek, an assistant that carries out tasks on its own computer with the tools "
    "you are given. Work step by step: use tools to find facts instead of guessing, check "
    "the results, and finish with a clear, concise answer to the task. The answer is "
    "delivered as it is, so give the result itself, not a description of what you did."
)

UNATTENDED_RULES = (
    "This run is unattended: nobody reads your questions or approves actions. A tool call "
    "that needs approval is denied and you get a message saying so; do not retry it, work "
    "with what is allowed and say in your answer what you could not do."
)


def base_prompt(config: Config, home: Path) -> str:
    """``config.system`` when set, else ``home/IDENTITY.md`` when it holds text, else
    :data:`DEFAULT_SYSTEM`. An IDENTITY.md that exists but cannot be read is a
    :class:`RunError` (a silent fallback would run with the wrong persona)."""
    if config.system.strip():
        return config.system.strip()
    path = home / IDENTITY_FILE
    try:
        identity = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        identity = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read {path}: {exc}") from None
    return identity or DEFAULT_SYSTEM


def runtime_context(*, now: datetime, cwd: Path, nominal: datetime | None = None) -> str:
    """The facts a model cannot know: the local date and time of ``now`` (an aware datetime
    in the job's zone), the host and the working directory; ``nominal`` is the scheduled
    time of the fire, shown when given."""
    zone = getattr(now.tzinfo, "key", None) or now.tzname() or "UTC"
    lines = [
        f"Date: {now:%A, %d %B %Y %H:%M} {now.tzname()} ({zone})",
        f"Host: {platform.system()} ({socket.gethostname()})",
        f"Current working directory: {cwd}",
    ]
    if nominal is not None:
        lines.append(f"Scheduled for: {nominal.astimezone(now.tzinfo):%Y-%m-%d %H:%M %Z}")
    return "\n".join(lines)


def system_prompt(
    config: Config,
    *,
    home: Path,
    now: datetime,
    cwd: Path,
    unattended: bool,
    nominal: datetime | None = None,
) -> str:
    """The whole system message of one run (see the module docstring)."""
    parts = [base_prompt(config, home), runtime_context(now=now, cwd=cwd, nominal=nominal)]
    if unattended:
        parts.append(UNATTENDED_RULES)
    return "\n\n".join(parts)
