"""``odek schedule daemon``, ``run <id>``, ``history <id>`` and ``redeliver <id>``.

- ``daemon`` runs the scheduler in the foreground until SIGTERM or SIGINT (drain, write,
  exit 0); SIGHUP reloads ``schedules.json``. It holds ``ODEK_HOME/schedule.lock``: a
  second daemon exits 1 with ``already running (PID n)``. Too many internal crashes stop
  it with exit 1. Logs (structlog) go to stderr.
- ``run`` runs one job now through the same runner, deliverer and run journal (a
  ``manual`` run in its history); refused while the job is running elsewhere.
- ``history`` prints a job's recent runs (``--json`` for a JSON array).
- ``redeliver`` sends again the result a run kept because its delivery failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from odek.cli.render import NONE, format_duration, format_instant, format_table
from odek.errors import InputError, RunError
from odek.home import odek_home

if TYPE_CHECKING:
    from odek.config import Config
    from odek.protocols import Deliverer, Runner
    from odek.scheduler import RunEntry

T = TypeVar("T")

HISTORY_DETAIL = 60
"""Characters of the error or result shown per run in the history table."""


def register(verbs: argparse._SubParsersAction[Any]) -> None:
    """Add ``daemon``, ``run`` and ``history`` to ``odek schedule``."""
    daemon = verbs.add_parser(
        "daemon",
        help="run the scheduler in the foreground",
        description="Run the scheduler in the foreground. SIGTERM/SIGINT stop it after the "
        "runs in flight finish (schedules.drain_timeout); SIGHUP reloads the jobs.",
    )
    daemon.set_defaults(handler=_daemon)

    run = verbs.add_parser(
        "run",
        help="run a job once now and deliver its result",
        description="Run a job once now, deliver its result and record it in the job's "
        "history as a manual run. Refused while the job is running in the daemon.",
    )
    run.add_argument("id", help="the job's id (see 'odek schedule ls')")
    run.set_defaults(handler=_run)

    history = verbs.add_parser(
        "history",
        help="show a job's recent runs",
        description="Show a job's recent runs (the last 50 are kept), oldest first.",
    )
    history.add_argument("id", help="the job's id")
    history.add_argument("--json", action="store_true", help="print a JSON array")
    history.set_defaults(handler=_history)

    redeliver = verbs.add_parser(
        "redeliver",
        help="send again a result whose delivery failed",
        description="Send again the result that a run kept because its delivery failed "
        "(its history shows 'delivery: ...'): by default the job's latest such run.",
    )
    redeliver.add_argument("id", help="the job's id")
    redeliver.add_argument(
        "--run", metavar="RUN_ID", help="a run id from 'odek schedule history ID --json'"
    )
    redeliver.set_defaults(handler=_redeliver)


def _daemon(_args: argparse.Namespace) -> int:
    import anyio

    from odek.config import load_config
    from odek.logs import configure_logging
    from odek.scheduler import DaemonLock, SchedulerService, serve
    from supervisors import SupervisorError

    configure_logging()
    config = load_config()
    home = odek_home()
    with DaemonLock.acquire(home):

        async def main(runner: Runner, deliverer: Deliverer) -> None:
            service = SchedulerService(
                config.schedules, runner=runner, deliverer=deliverer, home=home
            )
            await serve(service)

        try:
            anyio.run(_with_agent, config, home, main, backend="asyncio")
        except SupervisorError as exc:
            cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
            print(f"odek: scheduler stopped: {exc}{cause}", file=sys.stderr)
            return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    import anyio

    from odek.config import load_config
    from odek.logs import configure_logging
    from odek.scheduler import Outcome, run_now
    from odek.store import JobStore

    configure_logging()
    config = load_config()
    home = odek_home()
    job = JobStore(home).get(args.id)
    print(f"Running {job.id} ({job.name})…", file=sys.stderr)

    async def main(runner: Runner, deliverer: Deliverer) -> tuple[Any, bool]:
        return await run_now(job, config.schedules, runner=runner, deliverer=deliverer, home=home)

    result, delivered = anyio.run(_with_agent, config, home, main, backend="asyncio")
    if result.outcome is not Outcome.OK:
        raise RunError(f"run: {result.outcome}: {result.error}")
    if not delivered:
        raise RunError("deliver: the result was not delivered (see 'odek schedule history')")
    return 0


def _redeliver(args: argparse.Namespace) -> int:
    import anyio

    from odek.config import load_config
    from odek.deliver import build_deliverer
    from odek.logs import configure_logging
    from odek.scheduler import deliver_again, read_history
    from odek.scheduler.manual import REDELIVERABLE
    from odek.store import JobStore

    configure_logging()
    config = load_config()
    home = odek_home()
    job = JobStore(home).get(args.id)
    runs = read_history(home, job.id)
    if args.run:
        chosen = [run for run in runs if run.run == args.run]
        if not chosen:
            raise InputError(f"no run {args.run} in the history of {job.id}")
    else:
        chosen = [run for run in runs if run.delivery in REDELIVERABLE and run.result]
        if not chosen:
            raise InputError(f"{job.id} has no run whose result is waiting to be delivered")
    run = chosen[-1]
    print(
        f"Delivering the result of run {run.run} ({format_instant(run.nominal)})…", file=sys.stderr
    )

    async def main() -> bool:
        return await deliver_again(
            job, run, deliverer=build_deliverer(config, home=home), home=home
        )

    if not anyio.run(main, backend="asyncio"):
        raise RunError("deliver: the result was not delivered (see 'odek schedule history')")
    return 0


async def _with_agent(
    config: Config, home: Path, main: Callable[[Runner, Deliverer], Awaitable[T]]
) -> T:
    """Call ``main`` with the headless runner (with the MCP tools, when configured) and the
    deliverer; errors are raised plainly, not inside an exception group."""
    import anyio

    from odek.agent import HeadlessRunner
    from odek.deliver import build_deliverer

    outcome: list[T] = []
    failure: BaseException | None = None
    async with anyio.create_task_group() as tg:
        hub = None
        if config.mcp_servers:
            from odek.tools import McpHub

            hub = McpHub(config.mcp_servers, stderr_dir=home)
            await tg.start(hub.run)
        runner = HeadlessRunner(config, mcp=hub, home=home)
        try:
            outcome.append(await main(runner, build_deliverer(config, home=home)))
        except Exception as exc:
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return outcome[0]


def _history(args: argparse.Namespace) -> int:
    from odek.scheduler import read_history
    from odek.store import JobStore

    home = odek_home()
    runs = read_history(home, args.id)
    if not runs:
        JobStore(home).get(args.id)  # JobNotFoundError for an unknown id
    if args.json:
        print(json.dumps([_run_json(run) for run in runs], indent=2, ensure_ascii=False))
        return 0
    if not runs:
        print(f"No runs of {args.id} yet.")
        return 0
    header = ("NOMINAL", "TRIGGER", "OUTCOME", "TOOK", "TOKENS", "DETAIL")
    for line in format_table(header, [_run_row(run) for run in runs]):
        print(line)
    return 0


def _run_row(run: RunEntry) -> list[str]:
    took = NONE
    if run.start is not None and run.end is not None:
        took = format_duration(round((run.end - run.start).total_seconds(), 1))
    detail = run.error or run.preview
    detail = " ".join(detail.split())
    if len(detail) > HISTORY_DETAIL:
        detail = detail[: HISTORY_DETAIL - 1] + "…"
    return [
        format_instant(run.nominal),
        run.trigger,
        run.outcome or "running",
        took,
        str(run.tokens) if run.tokens else NONE,
        detail or NONE,
    ]


def _run_json(run: RunEntry) -> dict[str, object]:
    def iso(at: Any) -> str | None:
        return at.isoformat() if at is not None else None

    return {
        "run_id": run.run,
        "job_id": run.job,
        "trigger": run.trigger,
        "nominal": iso(run.nominal),
        "start": iso(run.start),
        "end": iso(run.end),
        "outcome": run.outcome or "running",
        "error": run.error,
        "result_preview": run.preview,
        "tokens": run.tokens,
        "delivery": run.delivery,
    }
