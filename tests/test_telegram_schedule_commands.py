"""``/schedule`` verbs, their gates and the ``/schedules`` buttons, on a real JobStore under
the test's ODEK_HOME; and the same commands end to end through the bot and the fake Bot API
(including ``/schedule run``, recorded as a manual run)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fakes.botapi import FakeBotApi
from fakes.openai import FakeOpenAI, answer
from fakes.telegram_harness import CHAT, OTHER_CHAT, bot_config, running_bot, wait_for_message

from odek.config import Config, SchedulesConfig, TelegramConfig
from odek.scheduler import read_history
from odek.store import Delivery, Job, JobStore
from odek.telegram import Access, Reply, ScheduleCommands

pytestmark = pytest.mark.anyio

ADMIN_CHAT = 100
ADMIN_USER = 7
NOW = datetime(2026, 5, 4, 6, 30, tzinfo=UTC)  # a Monday


class Harness:
    def __init__(self, home: Path, *, management: bool = True, **schedules: Any) -> None:
        config = Config(
            telegram=TelegramConfig(allowed_chats=[ADMIN_CHAT, CHAT]),
            schedules=msgspec.convert(
                {
                    "telegram_admin_chats": [ADMIN_CHAT],
                    "telegram_admin_users": [ADMIN_USER],
                    "allow_telegram_management": management,
                    "timezone": "Europe/Berlin",
                    **schedules,
                },
                SchedulesConfig,
            ),
        )
        self.store = JobStore(home)
        self.reloads = 0
        self.runs: list[tuple[int, int, str]] = []
        self.commands = ScheduleCommands(
            store=self.store,
            config=config,
            access=Access.from_config(config),
            reload=self._reload,
            run_in_chat=self._run,
            clock=lambda: NOW,
        )

    def _reload(self) -> None:
        self.reloads += 1

    def _run(self, chat_id: int, user_id: int, job: Job) -> bool:
        self.runs.append((chat_id, user_id, job.id))
        return True

    async def say(self, args: str, *, chat: int = ADMIN_CHAT, user: int = 1) -> str:
        return (await self.commands.handle(chat, user, args)).text

    def add_job(self, **fields: Any) -> Job:
        base: dict[str, Any] = {
            "name": "digest",
            "cron": "0 9 * * 1-5",
            "task": "summarize",
            "deliver": Delivery("telegram", ADMIN_CHAT),
            "enabled": True,
        }
        return self.store.add(Job(**{**base, **fields}))


async def test_add_parses_the_grammar_and_delivers_to_this_chat_by_default(odek_home: Path) -> None:
    h = Harness(odek_home)
    text = await h.say(
        'add 0 9 * * 1-5 Summarize my inbox | tz=America/New_York name="Inbox digest"'
    )
    [job] = h.store.load().jobs
    assert (job.cron, job.task, job.name, job.timezone) == (
        "0 9 * * 1-5",
        "Summarize my inbox",
        "Inbox digest",
        "America/New_York",
    )
    assert job.deliver == Delivery("telegram", ADMIN_CHAT)
    assert job.enabled
    assert not job.catchup
    assert h.reloads == 1
    assert text.startswith(f"✅ **Added** `{job.id}` (enabled)")
    assert "**Next:** Mon 2026-05-04 09:00 EDT" in text


async def test_add_fixes_the_reference_quirks(odek_home: Path) -> None:
    h = Harness(odek_home)
    await h.say("add @daily line one\n  line two | catchup=false disabled=false deliver=log")
    [job] = h.store.load().jobs
    assert job.task == "line one\n  line two"
    assert (job.catchup, job.enabled, job.deliver) == (False, True, Delivery("log"))
    refused = await h.say("add @daily task | colour=blue")
    assert refused.startswith("❗ unknown option 'colour'")
    assert "deliver=" in refused
    assert "tz=" in refused
    assert len(h.store.load().jobs) == 1


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        ("add", "❗ Usage: `/schedule add <cron> <task> [| options]`"),
        ("add 0 9 * *", "❗ could not read the cron and the task"),
        ("add 0 25 * * * task", "❌ "),
        ("add @daily task | tz=Mars/Olympus", "❌ unknown time zone 'Mars/Olympus'"),
        ("add @daily task | deliver=pigeon", '❌ unknown delivery "pigeon"'),
    ],
)
async def test_add_refuses_bad_input_saying_what_is_wrong(
    odek_home: Path, args: str, reply: str
) -> None:
    h = Harness(odek_home)
    assert (await h.say(args)).startswith(reply)
    assert h.store.load().jobs == []
    assert h.reloads == 0


async def test_changing_verbs_need_an_admin_but_read_only_verbs_do_not(odek_home: Path) -> None:
    h = Harness(odek_home)
    job = h.add_job()
    for verb in (
        "add @daily x",
        f"rm {job.id}",
        f"enable {job.id}",
        f"disable {job.id}",
        f"run {job.id}",
        "frobnicate",
    ):
        assert (await h.say(verb, chat=CHAT, user=2)).startswith(
            "🔒 Schedule management is restricted"
        )
    assert "⏰ **Scheduled jobs**" in await h.say("list", chat=CHAT, user=2)
    assert f"⏰ **Job** `{job.id}`" in await h.say(f"view {job.id}", chat=CHAT, user=2)
    assert f"⏰ Job `{job.id}`" in await h.say(f"next {job.id}", chat=CHAT, user=2)
    assert "⏰ **Schedule commands**" in await h.say("help", chat=CHAT, user=2)
    # An admin user counts in any allowed chat; an admin chat counts for any user.
    assert (await h.say(f"disable {job.id}", chat=CHAT, user=ADMIN_USER)).startswith("⚪️ Disabled")
    assert (await h.say(f"enable {job.id}", chat=ADMIN_CHAT, user=2)).startswith("🟢 Enabled")
    assert h.runs == []
    assert h.reloads == 2


async def test_management_can_be_switched_off_for_everyone(odek_home: Path) -> None:
    h = Harness(odek_home, management=False)
    job = h.add_job()
    reply = await h.say(f"rm {job.id}")
    assert reply.startswith("🔒 Managing schedules from Telegram is disabled")
    assert h.store.get(job.id) == job
    assert (await h.commands.listing(ADMIN_CHAT, ADMIN_USER)).buttons is None


async def test_without_admin_lists_the_default_chat_is_the_admin(odek_home: Path) -> None:
    config = Config(telegram=TelegramConfig(allowed_chats=[5, 6], default_chat_id=5))
    access = Access.from_config(config)
    assert access.is_admin(5, 1)
    assert not access.is_admin(6, 1)
    assert not Access.from_config(Config()).is_admin(0, 0)


async def test_enable_disable_rm_and_run_change_the_store_and_reload(odek_home: Path) -> None:
    h = Harness(odek_home)
    job = h.add_job()
    assert await h.say(f"disable {job.id}") == f"⚪️ Disabled `{job.id}` (kept, won't fire)."
    assert not h.store.get(job.id).enabled
    assert await h.say(f"enable {job.id}") == f"🟢 Enabled `{job.id}`."
    assert await h.say(f"run {job.id}", user=3) == ""  # the chat worker announces the run
    assert h.runs == [(ADMIN_CHAT, 3, job.id)]
    assert await h.say(f"rm {job.id}") == f"🗑️ Removed `{job.id}`."
    assert h.store.load().jobs == []
    assert h.reloads == 3
    assert await h.say("rm jb-00000000") == "❌ No job with ID `jb-00000000`."
    assert await h.say("rm") == "❗ Usage: `/schedule rm <id>`"


async def test_view_and_next_use_the_jobs_zone_or_the_default_zone(odek_home: Path) -> None:
    h = Harness(odek_home)
    job = h.add_job(task="line one\nline two")
    view = await h.say(f"view {job.id}")
    assert "**Zone:** Europe/Berlin (default)" in view
    assert "**Task:**\nline one\nline two" in view
    assert view.endswith(
        "**Next fires:**\n    Mon 2026-05-04 09:00 CEST\n    Tue 2026-05-05 09:00 CEST\n"
        "    Wed 2026-05-06 09:00 CEST"
    )
    preview = await h.say("next 30 2 * * *")
    assert preview.splitlines()[0] == "⏰ `30 2 * * *`: at 02:30, Europe/Berlin time"
    assert len(preview.splitlines()) == 6
    assert (await h.say("next jb-missing0")) == "❌ No job with ID `jb-missing0`."
    assert (await h.say("next 61 * * * *")).startswith("❌ ")
    assert (await h.say(f"view {job.id}x")) == f"❌ No job with ID `{job.id}x`."


async def test_list_shows_at_most_20_jobs_and_buttons_only_for_admins(odek_home: Path) -> None:
    h = Harness(odek_home)
    first = h.add_job(enabled=False)
    for n in range(21):
        h.add_job(name=f"job {n}")
    admin = await h.commands.listing(ADMIN_CHAT, 1)
    assert f"⚪️ `{first.id}` `0 9 * * 1-5`\n    next —\n    digest" in admin.text
    assert admin.text.endswith("…and 2 more — use `odek schedule list` on the host.")
    assert admin.buttons is not None
    rows = admin.buttons.inline_keyboard
    assert len(rows) == 20
    assert [b.callback_data for b in rows[0]] == [
        f"sch:run:{first.id}",
        f"sch:on:{first.id}",
        f"sch:rm:{first.id}",
    ]
    assert (await h.commands.listing(CHAT, 2)).buttons is None
    assert (await Harness(odek_home / "empty").commands.listing(ADMIN_CHAT, 1)) == Reply(
        "⏰ **No scheduled jobs.**\n\nAdd one: `/schedule add 0 9 * * 1-5 your task`"
    )


async def test_buttons_toggle_run_and_remove_only_after_a_confirmation(odek_home: Path) -> None:
    h = Harness(odek_home)
    job = h.add_job()
    refused = await h.commands.on_press(CHAT, 2, f"sch:rm:{job.id}")
    assert refused.toast.startswith("🔒")
    assert refused.send is None
    off = await h.commands.on_press(ADMIN_CHAT, 1, f"sch:off:{job.id}")
    assert off.toast == f"⚪️ Disabled {job.id} (kept, won't fire)."
    assert off.edit is not None
    assert "⚪️" in off.edit.text
    ask = await h.commands.on_press(ADMIN_CHAT, 1, f"sch:rm:{job.id}")
    assert ask.send is not None
    assert "This cannot be undone." in ask.send.text
    assert h.store.get(job.id).id == job.id  # nothing removed yet
    keep = await h.commands.on_press(ADMIN_CHAT, 1, f"sch:rmn:{job.id}")
    assert keep.edit == Reply(f"Kept `{job.id}`.")
    await h.commands.on_press(ADMIN_CHAT, 1, f"sch:run:{job.id}")
    assert h.runs == [(ADMIN_CHAT, 1, job.id)]
    gone = await h.commands.on_press(ADMIN_CHAT, 1, f"sch:rmy:{job.id}")
    assert gone.edit == Reply(f"🗑️ Removed `{job.id}`.")
    assert h.store.load().jobs == []


async def test_schedule_commands_through_the_bot_and_a_manual_run_in_the_chat(
    odek_home: Path,
) -> None:
    with FakeOpenAI() as llm:
        llm.push(answer("Digest: **3** new mails."))
        async with FakeBotApi().serving() as api:
            config = bot_config(api, llm_url=llm.url)
            async with running_bot(config, odek_home):
                api.text_update(
                    "/schedule add @daily Summarize my inbox | name=Inbox", chat_id=CHAT
                )
                added = await wait_for_message(api, CHAT, "Added")
                [job] = JobStore(odek_home).load().jobs
                assert job.deliver == Delivery("telegram", CHAT)
                assert f"Added {job.id} (enabled)" in added.params["text"].replace(
                    "\\", ""
                ).replace("*", "").replace("`", "")

                api.text_update(f"/schedule rm {job.id}", chat_id=OTHER_CHAT)
                await wait_for_message(api, OTHER_CHAT, "Schedule management is restricted")

                api.text_update("/schedules", chat_id=CHAT)
                listing = await wait_for_message(api, CHAT, "Scheduled jobs")
                assert listing.json("reply_markup")["inline_keyboard"][0][0]["callback_data"] == (
                    f"sch:run:{job.id}"
                )

                api.text_update(f"/schedule run {job.id}", chat_id=CHAT)
                await wait_for_message(api, CHAT, f"Running {job.id} (Inbox) now")
                await wait_for_message(api, CHAT, "Digest: 3 new mails.")
    [run] = read_history(odek_home, job.id)
    assert (run.trigger, run.outcome) == ("manual", "ok")
    assert JobStore(odek_home).load_states()[job.id].last_status == "ok"
    assert llm.requests[0].json["messages"][-1]["content"] == "Summarize my inbox"
