"""Reading the store: empty and missing files, and corrupt files reported with file, line,
column and field."""

from __future__ import annotations

import json

import pytest
from test_store_format import GO_SCHEDULES, GO_STATES

from odek.errors import StoreCorruptError
from odek.home import odek_home
from odek.store import Delivery, Job, JobStore, RunState
from odek.store.files import MAX_FILE_BYTES


@pytest.fixture
def store() -> JobStore:
    return JobStore(odek_home())


def _position(text: str, needle: str, offset_in_needle: int = 0) -> str:
    index = text.index(needle) + offset_in_needle
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _refused_write(store: JobStore) -> None:
    """Every mutation refuses a corrupt file and leaves it byte for byte."""
    paths = [store.jobs_path, store.states_path]
    before = {p: p.read_bytes() for p in paths if p.exists()}
    for mutate in (
        lambda: store.add(Job(cron="@daily", task="t", deliver=Delivery("log"), enabled=True)),
        lambda: store.set_enabled("jb-1a2b3c4d", False),
        lambda: store.update("jb-1a2b3c4d", task="x"),
    ):
        with pytest.raises(StoreCorruptError):
            mutate()
    assert {p: p.read_bytes() for p in paths if p.exists()} == before


def test_missing_and_zero_byte_files_are_an_empty_store(store: JobStore) -> None:
    assert store.load().jobs == []
    assert store.load_states() == {}
    store.jobs_path.write_bytes(b"")
    store.states_path.write_bytes(b"")
    assert store.load().jobs == []
    assert store.load().invalid == {}
    assert store.load_states() == {}


def test_invalid_json_names_file_line_and_column(store: JobStore) -> None:
    text = GO_SCHEDULES.replace('"enabled": false,', '"enabled": false,,')
    store.jobs_path.write_text(text)
    with pytest.raises(StoreCorruptError) as e:
        store.load()
    message = str(e.value)
    assert message.startswith(f"{store.jobs_path}: {_position(text, ',,', 1)}: invalid JSON: ")
    assert e.value.path == str(store.jobs_path)
    _refused_write(store)


def test_wrong_type_names_file_position_and_field_path(store: JobStore) -> None:
    text = GO_SCHEDULES.replace('"cron": "@daily"', '"cron": 5')
    store.jobs_path.write_text(text)
    with pytest.raises(StoreCorruptError) as e:
        store.load()
    assert str(e.value) == (
        f"{store.jobs_path}: {_position(text, '5,', 0)}: "
        "expected `str`, got `int` (at $.jobs[1].cron)"
    )
    _refused_write(store)


def test_wrong_type_deep_in_a_job_is_located(store: JobStore) -> None:
    text = GO_SCHEDULES.replace('"chat_id": -1001234567890', '"chat_id": "-100"')
    store.jobs_path.write_text(text)
    with pytest.raises(StoreCorruptError, match=r"\(at \$\.jobs\[0\]\.deliver\.chat_id\)") as e:
        store.load()
    assert _position(text, '"-100"') in str(e.value)


def test_missing_required_field_names_the_job(store: JobStore) -> None:
    doc = json.loads(GO_SCHEDULES)
    del doc["jobs"][1]["enabled"]
    text = json.dumps(doc, indent=2)
    store.jobs_path.write_text(text)
    with pytest.raises(
        StoreCorruptError, match=r"missing required field `enabled` \(at \$\.jobs\[1\]\)"
    ):
        store.load()


def test_naive_time_is_a_type_error(store: JobStore) -> None:
    store.jobs_path.write_text(GO_SCHEDULES.replace("10:05:00.5Z", "10:05:00.5"))
    with pytest.raises(StoreCorruptError, match=r"timezone.*\$\.jobs\[1\]\.created_at"):
        store.load()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"version": 2, "jobs": []}',
            r"line 1, column 13: unsupported version 2 .*\(at \$\.version\)",
        ),
        ('{"version": -1}', r"unsupported version -1"),
        ('[{"id": "jb-1"}]', r"line 1, column 1: expected `object`, got `array` \(at \$\)"),
        (
            '{"jobs": {"id": 1}}',
            r"line 1, column 10: expected `array \| null`, got `object` \(at \$\.jobs\)",
        ),
        (
            '{"jobs": [\n  1\n]}',
            r"line 2, column 3: expected `object`, got `int` \(at \$\.jobs\[0\]\)",
        ),
        ("   ", r"line 1, column 4: invalid JSON: Expecting value"),
        ('{"version": 1, "jobs": []} x', r"line 1, column 28: invalid JSON: Extra data"),
        ('{"version": 1, "jobs": [NaN]}', r"line 1, column 25: .*malformed"),
        (b'{"jobs": [{"name": "\xff"}]}', r"line 1, column 21: invalid UTF-8"),
        ('{"jobs": [' + "[" * 1500 + "]" * 1499 + "}", "nested too deeply"),
        (
            '{"jobs": [' + "[" * 500 + "]" * 499 + "}",
            r"line 1, column 1010: invalid JSON: Expecting",
        ),
    ],
)
def test_malformed_documents_are_refused_with_position(
    store: JobStore, text: str | bytes, expected: str
) -> None:
    store.jobs_path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(StoreCorruptError, match=expected):
        store.load()


def test_non_ascii_text_before_an_error_counts_in_characters(store: JobStore) -> None:
    text = '{"jobs": [{"name": "Zürich → Köln", "cron": true}]}'
    store.jobs_path.write_text(text)
    with pytest.raises(StoreCorruptError, match=r"line 1, column 45: .*\$\.jobs\[0\]\.cron"):
        store.load()
    assert text.index("true") + 1 == 45


def test_corrupt_state_entry_names_its_key(store: JobStore) -> None:
    text = GO_STATES.replace('"runs": 3', '"runs": "three"')
    store.states_path.write_text(text)
    with pytest.raises(StoreCorruptError) as e:
        store.load_states()
    where = _position(text, '"three"')
    assert str(e.value) == (
        f'{store.states_path}: {where}: expected `int`, got `str` (at $.states["jb-0badf00d"].runs)'
    )
    before = store.states_path.read_bytes()
    with pytest.raises(StoreCorruptError):
        store.update_states({"jb-1a2b3c4d": RunState(runs=1)})
    assert store.states_path.read_bytes() == before


def test_oversized_file_is_refused_with_a_way_out(store: JobStore) -> None:
    store.home.mkdir(exist_ok=True)
    with store.jobs_path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(StoreCorruptError, match=r"too large .* move it aside"):
        store.load()


def test_file_exactly_at_the_size_limit_is_read(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 1 << 20  # the real cap (256 MiB) would make a slow test; the rule is the same
    monkeypatch.setattr("odek.store.files.MAX_FILE_BYTES", limit)
    padded = GO_SCHEDULES + " " * (limit - len(GO_SCHEDULES.encode()))
    store.jobs_path.write_text(padded)
    assert store.jobs_path.stat().st_size == limit
    assert len(store.load().jobs) == 2
    store.jobs_path.write_text(padded + " ")
    with pytest.raises(StoreCorruptError, match=f"too large \\({limit + 1} bytes"):
        store.load()
