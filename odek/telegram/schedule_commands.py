"""``/schedules`` and ``/schedule add|view|next|run|enable|disable|rm|help`` in the chat.

Grammar and replies follow odek (reference §3.4) with its quirks fixed: ``add`` is parsed
by :func:`odek.telegram.schedule_args.parse_add` (options after the last ``|``, unknown
options refused, ``catchup=false`` means false, multi-line tasks kept, quoted names); times
are computed and shown in the job's zone (else ``schedules.timezone``), never in UTC
behind the user's back.

Gates: ``help``, ``list``/``ls``, ``view``/``show`` and ``next`` answer every allowed user.
The changing verbs (``add``, ``rm``/``remove``/``delete``, ``enable``, ``disable``,
``run``) and the inline buttons need ``schedules.allow_telegram_management`` and an admin
(see :mod:`odek.telegram.access`). Every change asks the running scheduler to reload at
once. Store work runs in a worker thread, so a slow disk never stalls the bot.

Buttons under ``/schedules`` (admins only; callback data ``sch:<verb>:<job id>``): run now,
enable or disable (the list is redrawn), remove (asks for a confirmation first).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
from telegram import InlineKeyboardMarkup

from odek.cli.render import NONE, format_instant
from odek.config import Config, parse_run_timeout
from odek.cron import CronExpr, load_zone, parse
from odek.errors import InputError, JobNotFoundError, OdekError, UsageError
from odek.store import Delivery, Job, JobStore, RunState
from odek.telegram.access import Access
from odek.telegram.schedule_args import ADD_USAGE, OPTIONS, parse_add
from odek.telegram.sender import Button, keyboard

__all__ = ["LIST_LIMIT", "Press", "Reply", "RunInChat", "ScheduleCommands", "usage"]

LIST_LIMIT = 20
NEXT_COUNT = 5
VIEW_FIRES = 3

READ_VERBS = frozenset({"", "help", "list", "ls", "view", "show", "next"})

MANAGEMENT_DISABLED = (
    "🔒 Managing schedules from Telegram is disabled "
    "(`schedules.allow_telegram_management = false`). Use `odek schedule` on the host."
)
NOT_ADMIN = (
    "🔒 Schedule management is restricted to configured operator chats/users "
    "(`schedules.telegram_admin_chats` / `telegram_admin_users`). Read-only commands "
    "(list/view/next) still work."
)
EXAMPLE = "/schedule add 0 9 * * 1-5 Summarize my unread emails | tz=Europe/Berlin"

#: Queues a job's task as a turn of ``chat`` for ``user``; false when the bot is stopping.
RunInChat = Callable[[int, int, Job], bool]


def usage() -> str:
    """The ``/schedule help`` text."""
    options = " ".join(f"`{spec.split(' ')[0]}`" for spec in OPTIONS.values())
    return (
        "⏰ **Schedule commands**\n\n"
        "`/schedules` — list jobs\n"
        f"`{ADD_USAGE}` — add a job (delivered to this chat)\n"
        "`/schedule view <id>` — job detail\n"
        "`/schedule next <id|cron>` — preview fire times\n"
        "`/schedule run <id>` — run once now, here\n"
        "`/schedule enable|disable <id>` — toggle a job\n"
        "`/schedule rm <id>` — remove a job\n\n"
        f"**Options** (after the last `|`): {options}; quote a name with spaces: "
        '`name="Morning digest"`\n\n'
        f"Example:\n`{EXAMPLE}`"
    )


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send: Markdown text and optional inline buttons."""

    text: str
    buttons: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """What a button press does: a toast, a new content for the pressed message, a new
    message."""

    toast: str = ""
    edit: Reply | None = None
    send: Reply | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ScheduleCommands:
    """The ``/schedule`` verbs and buttons (see the module docstring)."""

    def __init__(
        self,
        *,
        store: JobStore,
        config: Config,
        access: Access,
        reload: Callable[[], None],
        run_in_chat: RunInChat,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.access = access
        self.default_zone = config.schedules.timezone
        self.reload = reload
        self.run_in_chat = run_in_chat
        self.clock = clock

    # --- commands ----------------------------------------------------------------------

    async def handle(self, chat_id: int, user_id: int | None, args: str) -> Reply:
        """Answer ``/schedule <args>`` from ``user_id`` in ``chat_id``."""
        parts = re.split(r"\s+", args.strip(), maxsplit=1)
        sub = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        if sub in ("", "help"):
            return Reply(usage())
        if sub in ("list", "ls"):
            return await self.listing(chat_id, user_id)
        if sub in ("view", "show"):
            return Reply(await self._view(rest.strip()))
        if sub == "next":
            return Reply(await self._next(rest.strip()))
        refusal = self.refusal(chat_id, user_id)
        if refusal is not None:
            return Reply(refusal)
        if sub == "add":
            return Reply(await self._add(chat_id, rest))
        job_id = rest.strip()
        if sub not in ("rm", "remove", "delete", "enable", "disable", "run"):
            return Reply(f"❓ Unknown subcommand `{sub}`.\n\n{usage()}")
        if not job_id or len(job_id.split()) != 1:
            return Reply(f"❗ Usage: `/schedule {sub} <id>`")
        if sub == "run":
            return Reply(await self._run(chat_id, user_id, job_id))
        if sub in ("enable", "disable"):
            return Reply(await self._set_enabled(job_id, sub == "enable"))
        return Reply(await self._remove(job_id))

    def refusal(self, chat_id: int, user_id: int | None) -> str | None:
        """Why ``user_id`` in ``chat_id`` may not change jobs, or ``None`` if they may."""
        if not self.access.management_enabled:
            return MANAGEMENT_DISABLED
        if not self.access.is_admin(chat_id, user_id):
            return NOT_ADMIN
        return None

    async def listing(self, chat_id: int, user_id: int | None) -> Reply:
        """``/schedules``: the jobs, with buttons when the asker may manage them."""
        snapshot = await anyio.to_thread.run_sync(self.store.load)
        if not snapshot.jobs:
            return Reply(
                "⏰ **No scheduled jobs.**\n\nAdd one: `/schedule add 0 9 * * 1-5 your task`"
            )
        states = await self._states()
        now = self.clock()
        lines = ["⏰ **Scheduled jobs**", ""]
        rows: list[list[Button]] = []
        for job in snapshot.jobs[:LIST_LIMIT]:
            state = states.get(job.id)
            status = f" · {state.last_status}" if state and state.last_status else ""
            if job.id in snapshot.invalid:
                when = f"invalid: {snapshot.invalid[job.id]}"
            else:
                at = self._next_fire(job, now)
                when = "next " + (format_instant(at, offset=False) if at else NONE)
            lines.append(f"{'🟢' if job.enabled else '⚪️'} `{job.id}` `{job.cron}`{status}")
            lines.append(f"    {when}")
            lines.append(f"    {job.name}")
            toggle = (
                ("⏸ Disable", f"sch:off:{job.id}")
                if job.enabled
                else (
                    "▶️ Enable",
                    f"sch:on:{job.id}",
                )
            )
            rows.append([("🏃 Run", f"sch:run:{job.id}"), toggle, ("🗑️ Remove", f"sch:rm:{job.id}")])
        more = len(snapshot.jobs) - LIST_LIMIT
        if more > 0:
            lines += ["", f"…and {more} more — use `odek schedule list` on the host."]
        admin = self.refusal(chat_id, user_id) is None
        return Reply("\n".join(lines).rstrip(), keyboard(rows) if admin else None)

    # --- buttons -----------------------------------------------------------------------

    @staticmethod
    def handles(data: str) -> bool:
        """Whether callback ``data`` belongs to a schedule button."""
        return data.startswith("sch:")

    async def on_press(self, chat_id: int, user_id: int | None, data: str) -> Press:
        """Handle a press of a schedule button."""
        _, verb, job_id = [*data.split(":", 2), "", ""][:3]
        refusal = self.refusal(chat_id, user_id)
        if refusal is not None:
            return Press(toast="🔒 Only schedule admins can do that.")
        if verb == "run":
            return Press(
                toast=f"Running {job_id}", send=Reply(await self._run(chat_id, user_id, job_id))
            )
        if verb in ("on", "off"):
            text = await self._set_enabled(job_id, verb == "on")
            return Press(toast=_toast(text), edit=await self.listing(chat_id, user_id))
        if verb == "rm":
            try:
                job = await anyio.to_thread.run_sync(self.store.get, job_id)
            except JobNotFoundError:
                return Press(toast=f"No job with ID {job_id}")
            question = f"🗑️ Remove `{job.id}` ({job.name})? This cannot be undone."
            buttons = keyboard(
                [[("🗑️ Yes, remove", f"sch:rmy:{job_id}"), ("Keep", f"sch:rmn:{job_id}")]]
            )
            return Press(send=Reply(question, buttons))
        if verb == "rmy":
            text = await self._remove(job_id)
            return Press(toast=_toast(text), edit=Reply(text))
        if verb == "rmn":
            return Press(edit=Reply(f"Kept `{job_id}`."))
        return Press(toast="Unknown button")

    # --- verbs -------------------------------------------------------------------------

    async def _add(self, chat_id: int, args: str) -> str:
        if not args.strip():
            return f"❗ Usage: `{ADD_USAGE}`\n\nExample: `{EXAMPLE}`"
        try:
            request = parse_add(args)
            parse(request.cron)
            zone = (request.tz or "").strip()
            if zone:
                load_zone(zone)
            deliver = Delivery.parse(request.deliver or "telegram")
            if deliver.kind == "telegram" and not deliver.chat_id:
                deliver = Delivery("telegram", chat_id)
            timeout = parse_run_timeout(request.timeout, source="timeout")
            job = Job(
                name=(request.name or "").strip(),
                cron=request.cron,
                task=request.task,
                deliver=deliver,
                enabled=not request.disabled,
                catchup=bool(request.catchup),
                timezone=zone,
                timeout=timeout,
            )
            stored = await anyio.to_thread.run_sync(self.store.add, job)
        except UsageError as exc:
            return f"❗ {exc}"
        except OdekError as exc:
            return f"❌ {exc}"
        self.reload()
        at = self._next_fire(stored, self.clock())
        return (
            f"✅ **Added** `{stored.id}` ({'enabled' if stored.enabled else 'disabled'})\n"
            f"**Name:** {stored.name}\n"
            f"**Cron:** `{stored.cron}` ({parse(stored.cron).describe()})\n"
            f"**Zone:** {self._zone_label(stored)}\n"
            f"**Deliver:** {stored.deliver}\n"
            f"**Next:** {format_instant(at, offset=False) if at else NONE}"
        )

    async def _view(self, job_id: str) -> str:
        if not job_id:
            return "❗ Usage: `/schedule view <id>`"
        try:
            job = await anyio.to_thread.run_sync(self.store.get, job_id)
        except JobNotFoundError:
            return f"❌ No job with ID `{job_id}`."
        state = (await self._states()).get(job.id)
        expr = parse(job.cron)
        lines = [
            f"⏰ **Job** `{job.id}` ({'enabled' if job.enabled else 'disabled'})",
            f"**Name:** {job.name}",
            f"**Cron:** `{job.cron}` ({expr.describe()})",
            f"**Zone:** {self._zone_label(job)}",
            f"**Deliver:** {job.deliver}",
            f"**Catch-up:** {'yes' if job.catchup else 'no'}",
            f"**Task:**\n{job.task}",
        ]
        if state is not None and state.last_status:
            when = f" ({format_instant(state.last_run, offset=False)})" if state.last_run else ""
            lines.append(f"**Last:** {state.last_status}{when}")
            if state.last_error:
                lines.append(f"**Error:** {state.last_error}")
        lines.append("**Next fires:**")
        if job.enabled:
            zone = load_zone(job.timezone or self.default_zone)
            lines += _fire_lines(expr, zone.key, self.clock(), VIEW_FIRES)
        else:
            lines.append(f"    {NONE} (disabled)")
        return "\n".join(lines)

    async def _next(self, target: str) -> str:
        if not target:
            return "❗ Usage: `/schedule next <id|cron>`"
        job: Job | None = None
        if " " not in target and "*" not in target and not target.startswith("@"):
            try:
                job = await anyio.to_thread.run_sync(self.store.get, target)
            except JobNotFoundError:
                if target.startswith("jb-"):
                    return f"❌ No job with ID `{target}`."
        try:
            expr = parse(job.cron if job is not None else target)
        except InputError as exc:
            return f"❌ {exc}"
        zone = job.timezone or self.default_zone if job is not None else self.default_zone
        if job is not None:
            head = f"⏰ Job `{job.id}` (`{job.cron}`): {expr.describe()}, {zone} time"
        else:
            head = f"⏰ `{expr.text}`: {expr.describe()}, {zone} time"
        return "\n".join([head, *_fire_lines(expr, zone, self.clock(), NEXT_COUNT)])

    async def _run(self, chat_id: int, user_id: int | None, job_id: str) -> str:
        try:
            job = await anyio.to_thread.run_sync(self.store.get, job_id)
        except JobNotFoundError:
            return f"❌ No job with ID `{job_id}`."
        if not self.run_in_chat(chat_id, user_id or chat_id, job):
            return "⏳ The bot is restarting; please try again in a few seconds."
        return ""  # the chat's worker says "running" when the run starts

    async def _set_enabled(self, job_id: str, enabled: bool) -> str:
        try:
            await anyio.to_thread.run_sync(self.store.set_enabled, job_id, enabled)
        except JobNotFoundError:
            return f"❌ No job with ID `{job_id}`."
        except OdekError as exc:
            return f"❌ {exc}"
        self.reload()
        if enabled:
            return f"🟢 Enabled `{job_id}`."
        return f"⚪️ Disabled `{job_id}` (kept, won't fire)."

    async def _remove(self, job_id: str) -> str:
        try:
            await anyio.to_thread.run_sync(self.store.remove, job_id)
        except JobNotFoundError:
            return f"❌ No job with ID `{job_id}`."
        except OdekError as exc:
            return f"❌ {exc}"
        self.reload()
        return f"🗑️ Removed `{job_id}`."

    # --- helpers -----------------------------------------------------------------------

    async def _states(self) -> dict[str, RunState]:
        try:
            return await anyio.to_thread.run_sync(self.store.load_states)
        except OdekError:
            return {}  # the last status is a nicety that must not hide the jobs

    def _zone_label(self, job: Job) -> str:
        return job.timezone or f"{self.default_zone} (default)"

    def _next_fire(self, job: Job, now: datetime) -> datetime | None:
        if not job.enabled:
            return None
        try:
            return parse(job.cron).next_after(now, load_zone(job.timezone or self.default_zone))
        except InputError:
            return None


def _fire_lines(expr: CronExpr, zone: str, now: datetime, count: int) -> list[str]:
    fires = expr.fires_after(now, load_zone(zone), count)
    if not fires:
        return ["    (no further fires)"]
    lines = []
    for fire in fires:
        note = f"  [DST: {fire.note}]" if fire.note else ""
        lines.append(f"    {format_instant(fire.at, offset=False)}{note}")
    return lines


def _toast(text: str) -> str:
    """A reply as a short button toast (no Markdown)."""
    return text.replace("`", "").replace("**", "")
