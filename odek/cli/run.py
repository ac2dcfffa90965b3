"""``odek run "<task>"``: run one task now, in the terminal, and print or deliver the answer.

Tool calls whose policy action is ``prompt`` are asked on the terminal (y/N, showing the
tool, its risk class and the command); when standard input is not a terminal they are
denied. The daily token budget applies as to scheduled runs. ``--deliver`` sends the
answer like a scheduled result (``stdout`` with a header, ``log``, ``telegram``,
``telegram:<chat>``); without it the answer is printed as it is.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odek.config import Config, load_config, parse_duration
from odek.cron import load_zone
from odek.errors import RunError, UsageError
from odek.store import Delivery, Job, first_words

if TYPE_CHECKING:
    from odek.protocols import RunOutcome
    from odek.tools import Tool

EXAMPLES = """\
examples:
  odek run "What is the disk usage of /var/log?"
  odek run --deliver telegram "Summarize today's failed systemd units"
  odek run --model gpt-4o-mini --timeout 5m "List the largest files in this directory"
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``odek run`` to the root's sub-parsers."""
    parser = commands.add_parser(
        "run",
        help="run one task now and print the answer",
        description="Run one agent task now. Calls that need approval are asked on the "
        "terminal; the answer is printed, or delivered with --deliver.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", nargs="*", help="the task, in words")
    parser.add_argument(
        "--deliver",
        metavar="DEST",
        help="send the answer like a scheduled result: stdout, log, telegram or telegram:<chat id>",
    )
    parser.add_argument("--model", help="model name (overrides the configuration)")
    parser.add_argument(
        "--max-iterations", metavar="N", help="most model rounds (overrides the configuration)"
    )
    parser.add_argument("--tz", metavar="ZONE", help="IANA zone of the date shown to the model")
    parser.add_argument("--timeout", metavar="DURATION", help="give up after this long (90s, 15m)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import anyio

    from odek.logs import configure_logging

    task = " ".join(args.task).strip()
    if not task:
        raise UsageError('usage: odek run [flags] "<task>"')
    configure_logging()
    flags = {"model": args.model, "max_iterations": args.max_iterations}
    config = load_config(flags={k: v for k, v in flags.items() if v is not None})
    delivery = Delivery.parse(args.deliver) if args.deliver is not None else None
    zone = load_zone(args.tz or config.schedules.timezone)
    limit = _limit(args.timeout)
    job = Job(
        id="run",
        name=first_words(task),
        cron="",
        task=task,
        deliver=delivery or Delivery("stdout"),
        enabled=True,
        timezone=zone.key,
    )
    return anyio.run(_main, config, job, delivery is not None, limit, backend="asyncio")


def _limit(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise UsageError(f"--timeout: {exc}") from None


async def _main(config: Config, job: Job, deliver: bool, limit: float | None) -> int:
    """Connect the MCP servers (if any), run the task with a terminal approver, then
    print or deliver the answer; the token count goes to stderr."""
    import anyio

    from odek.agent import run_task
    from odek.deliver import build_deliverer
    from odek.home import odek_home
    from odek.policy import TerminalApprover, build_policy
    from odek.redact import redact
    from odek.tools import build_toolset

    home = odek_home()
    nominal = datetime.now(UTC)
    policy = build_policy(config.dangerous, unattended=False)
    outcome: RunOutcome | None = None
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        extra: list[Tool[Any]] = []
        if config.mcp_servers:
            from odek.tools import McpHub

            hub = McpHub(config.mcp_servers, stderr_dir=home)
            await tg.start(hub.run)
            extra = hub.tools()
        toolset = build_toolset(policy, TerminalApprover(), cwd=Path.cwd(), extra=extra)
        # Caught here and raised after the task group, which would otherwise wrap the
        # error in an exception group that the command line does not report as one line.
        try:
            with anyio.fail_after(limit):
                outcome = await run_task(
                    config, job.task, toolset, zone=load_zone(job.timezone), unattended=False
                )
        except TimeoutError:
            failure = RunError(f"run timed out after {limit:g} s")
        except Exception as exc:
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    assert outcome is not None  # set whenever no failure was caught
    if deliver:
        await build_deliverer(config, home=home).deliver(job, outcome.text, nominal=nominal)
    else:
        print(redact(outcome.text))
    print(f"odek: {outcome.tokens} tokens", file=sys.stderr)
    return 0
