"""``odek telegram``: run the Telegram bot in the foreground (with the embedded scheduler
when ``schedules.enabled``).

SIGTERM and SIGINT stop it after the runs in flight finish; SIGHUP and ``/restart``
restart it in place (the process ``exec`` s itself once everything is drained, written and
released, so its PID stays the same). Exit codes: 0 stopped, 2 bad configuration (no
allowlist, token or API key), 1 a fatal Bot API error (refused token, another poller) or
an actor that could not start (``schedules.http_addr`` taken) or crashed too often.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``odek telegram`` to the root's sub-parsers."""
    parser = commands.add_parser(
        "telegram",
        help="run the Telegram bot (chat with the agent, manage and receive jobs)",
        description="Run the Telegram bot in the foreground: chat with the agent, approve "
        "its tool calls, manage jobs with /schedule, and (with schedules.enabled) run the "
        "scheduler in the same process. Setup: docs/TELEGRAM.md.",
    )
    parser.set_defaults(handler=_telegram)


def _telegram(_args: argparse.Namespace) -> int:
    import anyio

    from odek.config import load_config
    from odek.home import odek_home
    from odek.logs import configure_logging
    from odek.scheduler.lock import BOT_LOCK_FILE, DaemonLock
    from odek.telegram import BotExit, run_bot
    from supervisors import SupervisorError

    configure_logging()
    config = load_config()
    home = odek_home()
    # Two bots on one ODEK_HOME would share the update offset and the conversations.
    with DaemonLock.acquire(home, name=BOT_LOCK_FILE, role="bot"):
        try:
            result = anyio.run(lambda: run_bot(config, home=home), backend="asyncio")
        except SupervisorError as exc:  # an actor failed to start (the port) or crashed
            cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
            print(f"odek: bot stopped: {exc}{cause}", file=sys.stderr)
            return 1
    if result is BotExit.RESTART:
        # Everything is drained, written and released (the bot lock too); become the new
        # process.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "odek", *sys.argv[1:]])
    return 0
