"""Per-chat conversation files: TTL, trimming, redaction, and scheduled results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from odek.errors import StoreCorruptError
from odek.redact import forget_secrets, register_secret
from odek.telegram import HistoryStore, Turn


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def store(home: Path, clock: Clock, **kwargs: int) -> HistoryStore:
    return HistoryStore(home, ttl=timedelta(hours=24), clock=clock, **kwargs)


def test_a_conversation_expires_after_the_ttl_of_idleness(odek_home: Path) -> None:
    clock = Clock()
    history = store(odek_home, clock)
    history.append(42, [Turn("user", "hi"), Turn("assistant", "hello")])
    clock.now += timedelta(hours=23)
    history.append(42, [Turn("user", "again"), Turn("assistant", "yes")])
    clock.now += timedelta(hours=23)
    assert [t.content for t in history.load(42)] == ["hi", "hello", "again", "yes"]
    clock.now += timedelta(hours=2)
    assert history.load(42) == []
    assert not history.path(42).exists()


def test_files_are_private_and_secrets_are_redacted(odek_home: Path) -> None:
    register_secret("sk-supersecret-value-123")
    try:
        history = store(odek_home, Clock())
        history.append(7, [Turn("user", "key sk-supersecret-value-123"), Turn("assistant", "ok")])
    finally:
        forget_secrets()
    assert "sk-supersecret" not in history.path(7).read_text()
    assert history.path(7).stat().st_mode & 0o777 == 0o600
    assert history.directory.stat().st_mode & 0o777 == 0o700


def test_only_the_last_messages_are_kept_starting_with_a_user_message(odek_home: Path) -> None:
    history = store(odek_home, Clock(), max_messages=3)
    history.append(
        1, [Turn("user", f"u{n}") if n % 2 == 0 else Turn("assistant", f"a{n}") for n in range(6)]
    )
    assert [t.content for t in history.load(1)] == ["u4", "a5"]


def test_a_scheduled_result_joins_an_existing_conversation_only(odek_home: Path) -> None:
    history = store(odek_home, Clock())
    assert not history.append_scheduled(5, "digest", "summarize", "3 mails")
    assert history.load(5) == []
    history.append(5, [Turn("user", "hi"), Turn("assistant", "hello")])
    assert history.append_scheduled(5, "digest", "summarize", "3 mails")
    assert history.load(5)[-2:] == [
        Turn("user", '⏰ [scheduled task "digest" ran]\nsummarize'),
        Turn("assistant", "3 mails"),
    ]


def test_a_scheduled_result_after_a_user_message_keeps_roles_alternating(odek_home: Path) -> None:
    history = store(odek_home, Clock())
    history.append(5, [Turn("user", "waiting")])
    history.append_scheduled(5, "digest", "summarize", "3 mails")
    assert [t.role for t in history.load(5)] == ["user", "assistant"]
    assert history.load(5)[-1].content == '⏰ [scheduled task "digest" ran]\n3 mails'


def test_a_corrupt_file_is_an_error_naming_it_and_new_clears_it(odek_home: Path) -> None:
    history = store(odek_home, Clock())
    history.append(9, [Turn("user", "hi")])
    history.path(9).write_text("{not json")
    with pytest.raises(StoreCorruptError, match=r"9\.json.*send /new"):
        history.load(9)
    assert history.clear(9) is True
    assert history.load(9) == []
