"""Running one task through the agent: :func:`run_task` (shared by ``odek run`` and the
scheduler) and :class:`HeadlessRunner`, the :class:`odek.protocols.Runner` of unattended
runs.

Every run is checked against the daily token budget before it starts and records what
each model call used as soon as it returns (see :mod:`odek.agent.budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import anyio

from odek.agent.budget import TokenBudget
from odek.agent.loop import run_agent
from odek.agent.prompt import system_prompt
from odek.config import Config
from odek.cron import load_zone
from odek.home import odek_home
from odek.llm import ChatClient, Sleep
from odek.policy import UnattendedApprover, build_policy
from odek.protocols import RunOutcome, Toolset
from odek.store import Job
from odek.tools import Tool, build_toolset

if TYPE_CHECKING:
    from odek.tools.mcp import McpHub

#: Builds the tool set of one unattended run of a job.
ToolsetFactory = Callable[[Job], Toolset]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def run_task(
    config: Config,
    task: str,
    toolset: Toolset,
    *,
    zone: ZoneInfo,
    unattended: bool,
    home: Path | None = None,
    cwd: Path | None = None,
    nominal: datetime | None = None,
    clock: Clock = _utc_now,
    sleep: Sleep = anyio.sleep,
) -> RunOutcome:
    """Run ``task`` with ``toolset`` and return the answer and the tokens used.

    ``zone`` is the zone of the date shown to the model; ``unattended`` adds the
    unattended rules to the system prompt; ``home`` (default ``ODEK_HOME``) holds
    IDENTITY.md and the token counter; ``sleep`` is the LLM client's backoff sleep.
    Raises :class:`odek.errors.BudgetExhaustedError` before calling the model when the
    day's budget is spent, :class:`odek.errors.LLMError` or :class:`odek.errors.RunError`
    when the run fails; cancellable through the caller's cancel scope."""
    home = home or odek_home()
    cwd = cwd or Path.cwd()
    budget = TokenBudget(home, config.telegram.daily_token_budget, clock=clock)
    await anyio.to_thread.run_sync(budget.check)
    system = system_prompt(
        config,
        home=home,
        now=clock().astimezone(zone),
        cwd=cwd,
        unattended=unattended,
        nominal=nominal,
    )

    async def record(tokens: int) -> None:
        await anyio.to_thread.run_sync(budget.record, tokens)

    async with ChatClient.from_config(config, sleep=sleep) as llm:
        result = await run_agent(
            llm,
            toolset,
            system=system,
            task=task,
            max_iterations=config.max_iterations,
            on_usage=record,
        )
    return RunOutcome(result.text, result.tokens)


class HeadlessRunner:
    """Runs scheduled jobs unattended: a fresh tool set per run from ``toolset_factory``
    (default: :func:`unattended_toolset_factory`, with the tools of the shared ``mcp`` hub
    when given), the job's zone (else ``schedules.timezone``) for the date in the prompt,
    and the shared daily token budget. ``cwd`` (default: the current directory) is where
    the tools work."""

    def __init__(
        self,
        config: Config,
        *,
        toolset_factory: ToolsetFactory | None = None,
        mcp: McpHub | None = None,
        home: Path | None = None,
        cwd: Path | None = None,
        clock: Clock = _utc_now,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        self._config = config
        self._toolset_factory = toolset_factory or unattended_toolset_factory(
            config, cwd=cwd or Path.cwd(), extra_tools=mcp.tools if mcp is not None else None
        )
        self._home = home
        self._cwd = cwd
        self._clock = clock
        self._sleep = sleep

    async def run(self, job: Job, *, nominal: datetime) -> RunOutcome:
        """Run ``job.task`` now (see :func:`run_task`); ``nominal`` is shown to the model as
        the scheduled time."""
        zone = load_zone(job.timezone or self._config.schedules.timezone)
        return await run_task(
            self._config,
            job.task,
            self._toolset_factory(job),
            zone=zone,
            unattended=True,
            home=self._home,
            cwd=self._cwd,
            nominal=nominal,
            clock=self._clock,
            sleep=self._sleep,
        )


def unattended_toolset_factory(
    config: Config,
    *,
    cwd: Path,
    extra_tools: Callable[[], Sequence[Tool[Any]]] | None = None,
) -> ToolsetFactory:
    """The default :data:`ToolsetFactory`: per run, a fresh immutable policy from
    ``dangerous`` and ``schedules.dangerous`` with the unattended floor (a prompt is a
    denial; destructive and blocked are always denied), an approver that answers no
    without touching a terminal, and the built-in tools working in ``cwd`` plus
    ``extra_tools()`` (the MCP tools connected at that moment)."""

    def build(_job: Job) -> Toolset:
        policy = build_policy(config.dangerous, config.schedules.dangerous, unattended=True)
        extra = extra_tools() if extra_tools is not None else ()
        return build_toolset(policy, UnattendedApprover(), cwd=cwd, extra=extra)

    return build
