"""``odek schedule``: the verbs that manage the job store without an LLM.

``list`` (``ls``), ``add``, ``edit``, ``rm`` (``remove``, ``delete``), ``enable``,
``disable`` and ``next``. Other modules add verbs to the same group (the daemon, a manual
run, the run history): each module named in :data:`VERB_MODULES` exposes
``register(verbs)`` and adds its parsers to the group's sub-parsers, as the verbs here do.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from odek.cli.parsing import help_handler
from odek.cli.render import NONE, format_duration, format_instant, format_table
from odek.config import load_config, parse_run_timeout
from odek.cron import CronExpr, Fire, load_zone, parse
from odek.errors import InputError, JobNotFoundError, OdekError, UsageError
from odek.health.heartbeat import pid_alive
from odek.home import odek_home
from odek.scheduler.status import read_status
from odek.store import Delivery, Job, JobStore, RunState

#: Modules that add verbs to ``odek schedule``; each exposes ``register(verbs)``.
VERB_MODULES: tuple[str, ...] = ("odek.cli.daemon",)

DEFAULT_COUNT = 5
MAX_COUNT = 1000

EMPTY_MESSAGE = (
    "No scheduled jobs. Add one with:\n"
    '  odek schedule add --cron "0 9 * * 1-5" --deliver telegram "your task"'
)

EXAMPLES = """\
examples:
  odek schedule add --cron "0 9 * * 1-5" --tz Europe/Berlin "Summarize my calendar"
  odek schedule add "Check the CI for failures" --cron @hourly --deliver log --timeout 5m
  odek schedule ls
  odek schedule next jb-1a2b3c4d --count 10
  odek schedule next "30 2 * * *" --tz America/New_York --after 2026-03-07
  odek schedule edit jb-1a2b3c4d --cron "0 8 * * *" --no-catchup
  odek schedule disable jb-1a2b3c4d
  odek schedule rm jb-1a2b3c4d

Cron: 5 fields (minute hour day-of-month month day-of-week) or @hourly, @daily,
@weekly, @monthly, @yearly. Times are wall times in the job's zone (--tz), else in
schedules.timezone of the configuration (default UTC); see docs/SCHEDULES.md for DST.
Exit codes: 0 success, 1 failure, 2 bad usage or invalid input.
"""

DELIVER_HELP = "where the result goes: stdout (default), log, telegram or telegram:<chat id>"
TZ_HELP = "IANA time zone of the cron's wall times, e.g. Europe/Berlin"
TIMEOUT_HELP = "run timeout of this job, e.g. 90s, 15m, 1h (default: schedules.run_timeout)"


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``odek schedule`` and its verbs to the root's sub-parsers."""
    group = commands.add_parser(
        "schedule",
        help="manage scheduled jobs",
        description="Manage the jobs in ODEK_HOME/schedules.json.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group.set_defaults(handler=help_handler(group))
    verbs = group.add_subparsers(title="verbs", metavar="<verb>")
    _register_list(verbs)
    _register_add(verbs)
    _register_edit(verbs)
    _register_rm(verbs)
    _register_enable(verbs)
    _register_next(verbs)
    for name in VERB_MODULES:
        importlib.import_module(name).register(verbs)


# --- list ---------------------------------------------------------------------------------


def _register_list(verbs: argparse._SubParsersAction[Any]) -> None:
    parser = verbs.add_parser(
        "list",
        aliases=["ls"],
        help="list the jobs with their next fire and last status",
        description="List every job: id, on/off, cron, next fire and its zone, last status,\n"
        "name. A job that is broken in the file is listed with the reason.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the jobs as JSON")
    parser.set_defaults(handler=_list)


def _warn_reload_error(home: Path) -> None:
    """Tell, on stderr, when the running daemon refused the file's last edit: it keeps
    firing the definitions it had, which may differ from what the file now says."""
    status = read_status(home)
    if status is None or not status.error or not pid_alive(status.pid):
        return
    when = format_instant(status.error_at, offset=False) if status.error_at else "?"
    print(
        f"odek: warning: the scheduler (PID {status.pid}) could not load schedules.json at "
        f"{when} and still runs the previous definitions: {status.error}",
        file=sys.stderr,
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    """One job as ``list`` shows it; ``key`` is its id, or ``jobs[<index>]`` if it has none."""

    key: str
    job: Job
    zone: str
    next_fire: datetime | None
    state: RunState | None
    invalid: str | None


def _list(args: argparse.Namespace) -> int:
    store = _open_store()
    _warn_reload_error(store.home)
    snapshot = store.load()
    if not snapshot.jobs:
        print(json.dumps({"jobs": []}) if args.json else EMPTY_MESSAGE)
        return 0
    default_zone = _default_zone()
    states = _load_states(store)
    now = datetime.now(UTC)
    entries = [
        _entry(job.id or f"jobs[{index}]", job, default_zone, now, states, snapshot.invalid)
        for index, job in enumerate(snapshot.jobs)
    ]
    if args.json:
        print(json.dumps({"jobs": [_entry_json(e) for e in entries]}, indent=2))
    else:
        print("\n".join(_list_lines(entries)))
    return 0


def _entry(
    key: str,
    job: Job,
    default_zone: str,
    now: datetime,
    states: dict[str, RunState],
    invalid: dict[str, str],
) -> _Entry:
    zone = job.timezone or default_zone
    reason = invalid.get(key)
    next_fire = None
    if reason is None and job.enabled:
        next_fire = parse(job.cron).next_after(now, load_zone(zone))
    return _Entry(key, job, zone, next_fire, states.get(job.id), reason)


def _list_lines(entries: Sequence[_Entry]) -> list[str]:
    header = ("ID", "ON", "CRON", "NEXT", "ZONE", "LAST", "NAME")
    rows = []
    for e in entries:
        if e.invalid is not None:
            next_cell = "invalid"
        elif e.next_fire is None:
            next_cell = NONE
        else:
            next_cell = format_instant(e.next_fire, offset=False)
        rows.append(
            (
                e.key,
                "yes" if e.job.enabled else "no",
                e.job.cron,
                next_cell,
                e.zone if e.job.timezone else f"{e.zone} (default)",
                (e.state.last_status if e.state else "") or NONE,
                e.job.name,
            )
        )
    lines = format_table(header, rows)
    # A broken job's reason goes on its own line under the row, so one long reason does not
    # widen every row of the table.
    indent = " " * (max(len(e.key) for e in entries) + 2)
    out = [lines[0]]
    for e, line in zip(entries, lines[1:], strict=True):
        out.append(line)
        if e.invalid is not None:
            out.append(f"{indent}invalid: {e.invalid}")
    return out


def _entry_json(e: _Entry) -> dict[str, object]:
    entry = _job_json(e.job)
    entry["zone"] = e.zone
    entry["next_fire"] = _iso(e.next_fire)
    entry["last_status"] = (e.state.last_status if e.state else "") or None
    entry["last_run"] = _iso(e.state.last_run if e.state else None)
    entry["runs"] = e.state.runs if e.state else 0
    entry["invalid"] = e.invalid
    return entry


# --- add and edit -------------------------------------------------------------------------


def _register_add(verbs: argparse._SubParsersAction[Any]) -> None:
    parser = verbs.add_parser(
        "add",
        help="add a job",
        description="Add a job. The task is every word that is not a flag, joined by spaces;\n"
        "flags may come before or after it, and -- ends the flags.",
        epilog="example:\n"
        '  odek schedule add --cron "0 9 * * 1-5" --deliver telegram "Summarize my calendar"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", nargs="*", metavar="TASK", help="the prompt handed to the agent")
    parser.add_argument(
        "--cron", required=True, metavar="EXPR", help='5-field cron or @macro, e.g. "0 9 * * *"'
    )
    parser.add_argument(
        "--name", default="", metavar="LABEL", help="label (default: first words of the task)"
    )
    parser.add_argument("--deliver", default="stdout", metavar="DEST", help=DELIVER_HELP)
    parser.add_argument(
        "--tz", default="", metavar="ZONE", help=TZ_HELP + " (default: schedules.timezone)"
    )
    parser.add_argument(
        "--catchup", action="store_true", help="run once on start if a fire was missed while down"
    )
    parser.add_argument("--disabled", action="store_true", help="add without enabling")
    parser.add_argument("--timeout", metavar="DURATION", help=TIMEOUT_HELP)
    parser.set_defaults(handler=_add)


def _add(args: argparse.Namespace) -> int:
    task = " ".join(args.task).strip()
    if not task:
        raise UsageError("schedule add: the task is missing (the words that are not flags)")
    job = Job(
        name=args.name.strip(),
        cron=_checked_cron(args.cron),
        task=task,
        deliver=Delivery.parse(args.deliver),
        enabled=not args.disabled,
        catchup=args.catchup,
        timezone=_checked_zone(args.tz),
        timeout=parse_run_timeout(args.timeout, source="--timeout"),
    )
    stored = _open_store().add(job)
    print(f"Added {stored.id}")
    print("\n".join(_job_lines(stored)))
    return 0


def _register_edit(verbs: argparse._SubParsersAction[Any]) -> None:
    parser = verbs.add_parser(
        "edit",
        help="change a job in place",
        description="Change the given fields of a job; the others keep their values.\n"
        "The change is validated first: on an error nothing is changed.",
        epilog='example:\n  odek schedule edit jb-1a2b3c4d --cron "0 8 * * *" --tz Europe/Paris',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("id", metavar="ID", help="the job's id (see odek schedule ls)")
    parser.add_argument("--cron", metavar="EXPR", help="new cron expression")
    parser.add_argument("--task", metavar="TEXT", help="new task (quote it)")
    parser.add_argument(
        "--name", metavar="LABEL", help="new label (empty: first words of the task)"
    )
    parser.add_argument("--tz", metavar="ZONE", help=TZ_HELP + ' ("" for schedules.timezone)')
    parser.add_argument("--deliver", metavar="DEST", help=DELIVER_HELP)
    parser.add_argument(
        "--catchup", action=argparse.BooleanOptionalAction, help="run missed fires on start"
    )
    parser.add_argument(
        "--timeout", metavar="DURATION", help=TIMEOUT_HELP + ' ("" for the default)'
    )
    parser.set_defaults(handler=_edit)


def _edit(args: argparse.Namespace) -> int:
    changes: dict[str, object] = {}
    if args.cron is not None:
        changes["cron"] = _checked_cron(args.cron)
    if args.task is not None:
        changes["task"] = args.task.strip()
    if args.tz is not None:
        changes["timezone"] = _checked_zone(args.tz)
    if args.deliver is not None:
        changes["deliver"] = Delivery.parse(args.deliver)
    if args.catchup is not None:
        changes["catchup"] = args.catchup
    if args.timeout is not None:
        changes["timeout"] = parse_run_timeout(args.timeout, source="--timeout")
    if args.name is not None:
        changes["name"] = args.name.strip()
    if not changes:
        raise UsageError(
            "schedule edit: nothing to change "
            "(give --cron, --task, --name, --tz, --deliver, --catchup/--no-catchup or --timeout)"
        )
    job = _open_store().update(args.id, **changes)
    print(f"Updated {job.id}")
    print("\n".join(_job_lines(job)))
    return 0


def _checked_cron(text: str) -> str:
    """``--cron``, parsed here so that an error reads as the cron parser says it (field and
    item) rather than wrapped in the store's message about the whole job."""
    parse(text)
    return text


def _checked_zone(text: str) -> str:
    """``--tz`` (``""``: the default zone), checked here for the same reason as the cron."""
    zone = text.strip()
    if zone:
        load_zone(zone)
    return zone


def _job_lines(job: Job) -> list[str]:
    """The stored job, field by field, and its next fire (what ``add`` and ``edit`` print)."""
    config = load_config()
    zone = job.timezone or config.schedules.timezone
    expr = parse(job.cron)
    if job.enabled:
        next_fire = format_instant(expr.next_after(datetime.now(UTC), load_zone(zone)))
    else:
        next_fire = f"{NONE} (disabled)"
    timeout = (
        format_duration(job.timeout)
        if job.timeout is not None
        else f"default ({format_duration(config.schedules.run_timeout)})"
    )
    return [
        f"  name:     {job.name} ({'enabled' if job.enabled else 'disabled'})",
        f"  cron:     {job.cron}  ({expr.describe()})",
        f"  zone:     {job.timezone or f'{zone} (default)'}",
        f"  task:     {job.task}",
        f"  deliver:  {job.deliver}",
        f"  catchup:  {'yes' if job.catchup else 'no'}",
        f"  timeout:  {timeout}",
        f"  next:     {next_fire}",
    ]


# --- rm, enable, disable ------------------------------------------------------------------


def _register_rm(verbs: argparse._SubParsersAction[Any]) -> None:
    parser = verbs.add_parser(
        "rm", aliases=["remove", "delete"], help="remove a job", description="Remove a job."
    )
    parser.add_argument("id", metavar="ID", help="the job's id")
    parser.set_defaults(handler=_rm)


def _rm(args: argparse.Namespace) -> int:
    _open_store().remove(args.id)
    print(f"Removed {args.id}")
    return 0


def _register_enable(verbs: argparse._SubParsersAction[Any]) -> None:
    for verb, enabled, summary in (
        ("enable", True, "enable a job"),
        ("disable", False, "disable a job (it is kept but never fires)"),
    ):
        parser = verbs.add_parser(verb, help=summary, description=summary.capitalize() + ".")
        parser.add_argument("id", metavar="ID", help="the job's id")
        parser.set_defaults(handler=_set_enabled, enabled=enabled)


def _set_enabled(args: argparse.Namespace) -> int:
    job = _open_store().set_enabled(args.id, args.enabled)
    print(f"{'Enabled' if job.enabled else 'Disabled'} {job.id} ({job.name})")
    return 0


# --- next ---------------------------------------------------------------------------------


def _register_next(verbs: argparse._SubParsersAction[Any]) -> None:
    parser = verbs.add_parser(
        "next",
        help="show the next fire times of a job or an expression",
        description="Show the upcoming fires of a job (in its zone) or of a cron expression\n"
        "(in --tz, else schedules.timezone), the expression in English, and which\n"
        "fires daylight-saving time moved or merged.",
        epilog="examples:\n"
        "  odek schedule next jb-1a2b3c4d --count 10\n"
        '  odek schedule next "30 2 * * *" --tz America/New_York --after 2026-03-07T00:00',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target", nargs="+", metavar="ID|EXPR", help="a job id, or a cron expression"
    )
    parser.add_argument(
        "--count",
        type=int,
        metavar="N",
        default=DEFAULT_COUNT,
        help=f"how many fires (default {DEFAULT_COUNT}, at most {MAX_COUNT})",
    )
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="zone of an expression (default schedules.timezone); for a job, the zone the "
        "fires are shown in (they are computed in the job's zone)",
    )
    parser.add_argument(
        "--after",
        metavar="TIME",
        help="start from this ISO time instead of now, e.g. 2026-03-07T12:00 (in the "
        "expression's or job's zone) or 2026-03-07T12:00+01:00",
    )
    parser.add_argument("--json", action="store_true", help="print the fires as JSON")
    parser.set_defaults(handler=_next)


def _next(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"schedule next: --count must be between 1 and {MAX_COUNT}")
    job = _job_named(args.target)
    # A job fires in its own zone, so --tz only changes how its fires are shown; an
    # expression has no zone of its own, so --tz is the zone it is computed in.
    show_zone = None
    if job is not None:
        expr = parse(job.cron)
        zone_name = job.timezone or _default_zone()
        if args.tz is not None:
            show_zone = load_zone(args.tz)
    else:
        expr = parse(" ".join(args.target))
        zone_name = args.tz if args.tz is not None else _default_zone()
    zone = load_zone(zone_name)
    after = _after(args.after, zone)
    fires = expr.fires_after(after, zone, args.count)
    if args.json:
        print(json.dumps(_next_json(job, expr, zone_name, fires, show_zone), indent=2))
    else:
        print("\n".join(_next_lines(job, expr, zone_name, fires, show_zone)))
    return 0


def _job_named(target: Sequence[str]) -> Job | None:
    """The job that ``next``'s single argument names, or ``None`` when the argument is an
    expression. One word that is not a macro is looked up as an id; it is an unknown job
    when it looks like one (``jb-...``), otherwise it is left to the cron parser."""
    if len(target) != 1 or target[0].startswith("@") or len(target[0].split()) != 1:
        return None
    try:
        return _open_store().get(target[0])
    except JobNotFoundError:
        if target[0].startswith("jb-"):
            raise
        return None


def _after(text: str | None, zone: tzinfo) -> datetime:
    """The instant ``--after`` names (a time without an offset is a wall time in ``zone``),
    or now."""
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--after: {text!r} is not an ISO time (expected e.g. 2026-03-07T12:00 "
            "or 2026-03-07T12:00+01:00)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _next_lines(
    job: Job | None, expr: CronExpr, zone: str, fires: Sequence[Fire], show: tzinfo | None
) -> list[str]:
    if job is not None:
        lines = [f"Job {job.id} ({job.name}): {expr.text}"]
        if not job.enabled:
            lines.append("  (disabled: these fires happen only once it is enabled)")
    else:
        lines = [f"Expression: {expr.text}"]
    lines.append(f"  {expr.describe()} ({zone} time)")
    shown_in = f", shown in {show}" if show is not None else ""
    lines.append(f"Next {len(fires)} fires{shown_in}:")
    for fire in fires:
        line = "  " + format_instant(fire.at.astimezone(show) if show else fire.at)
        lines.append(f"{line}  [DST: {fire.note}]" if fire.note else line)
    if not fires:
        lines.append("  (no further fires)")
    return lines


def _next_json(
    job: Job | None, expr: CronExpr, zone: str, fires: Sequence[Fire], show: tzinfo | None
) -> dict[str, object]:
    return {
        "job": _job_json(job) if job is not None else None,
        "expression": expr.text,
        "description": expr.describe(),
        "timezone": zone,
        "fires": [
            {"at": _iso(fire.at.astimezone(show) if show else fire.at), "note": fire.note}
            for fire in fires
        ],
    }


# --- shared -------------------------------------------------------------------------------


def _open_store() -> JobStore:
    return JobStore(odek_home())


def _default_zone() -> str:
    """The zone of jobs that name none: ``schedules.timezone`` of the configuration."""
    return load_config().schedules.timezone


def _load_states(store: JobStore) -> dict[str, RunState]:
    """The run states, or none (with a warning) when the state file cannot be read: the
    last status is a nicety that must not hide the jobs."""
    try:
        return store.load_states()
    except OdekError as err:
        print(f"odek: warning: last run status unavailable: {err}", file=sys.stderr)
        return {}


def _job_json(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "cron": job.cron,
        "task": job.task,
        "deliver": str(job.deliver),
        "enabled": job.enabled,
        "catchup": job.catchup,
        "timezone": job.timezone,
        "timeout": job.timeout,
        "created_at": _iso(job.created_at),
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
