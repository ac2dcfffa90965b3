"""The stdout and schedule.log deliverers: formats, redaction, mode 0600, rotation."""

from __future__ import annotations

import io
import re
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest

from odek.deliver import LogFileDeliverer, StdoutDeliverer
from odek.errors import DeliveryError
from odek.store import Delivery, Job

NOMINAL = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
OPENAI_KEY = "sk-" + "Zq9x" * 10
GITHUB_PAT = "ghp_" + "a1B2c3D4e5F6" * 3


def make_job(job_id: str = "abc123", name: str = "daily report", deliver: str = "log") -> Job:
    return Job(
        id=job_id,
        name=name,
        cron="0 9 * * *",
        task="report",
        deliver=Delivery.parse(deliver),
        enabled=True,
    )


def log_files(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.startswith("schedule.log"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.anyio
async def test_stdout_prints_a_header_with_name_and_time_then_the_result() -> None:
    out = io.StringIO()
    await StdoutDeliverer(out).deliver(make_job(), "All good.\n", nominal=NOMINAL)
    assert out.getvalue() == ("\n── daily report · Mon, 04 May 2026 09:00:00 CEST ──\nAll good.\n")


@pytest.mark.anyio
async def test_stdout_writes_to_the_current_standard_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await StdoutDeliverer().deliver(make_job(), "hello", nominal=NOMINAL)
    assert capsys.readouterr().out.endswith("──\nhello\n")


@pytest.mark.anyio
async def test_stdout_redacts_keys_in_result_and_name() -> None:
    out = io.StringIO()
    job = make_job(name=f"rotate {GITHUB_PAT}")
    await StdoutDeliverer(out).deliver(job, f"new key {OPENAI_KEY}", nominal=NOMINAL)
    printed = out.getvalue()
    assert OPENAI_KEY not in printed
    assert GITHUB_PAT not in printed
    assert printed.count("[REDACTED]") == 2


@pytest.mark.anyio
async def test_log_record_format_and_mode_0600(odek_home: Path) -> None:
    path = odek_home / "schedule.log"
    await LogFileDeliverer(path).deliver(make_job(), "line one\nline two\n", nominal=NOMINAL)
    assert path.read_text() == (
        "[2026-05-04T09:00:00+02:00] daily report (abc123)\nline one\nline two\n\n"
    )
    assert mode(path) == 0o600


@pytest.mark.anyio
async def test_log_never_contains_an_openai_key_or_github_token(odek_home: Path) -> None:
    path = odek_home / "schedule.log"
    job = make_job(name=f"job {GITHUB_PAT}")
    await LogFileDeliverer(path).deliver(
        job, f"OPENAI_API_KEY={OPENAI_KEY}\ntoken {GITHUB_PAT}", nominal=NOMINAL
    )
    content = path.read_text()
    assert OPENAI_KEY not in content
    assert GITHUB_PAT not in content
    assert content.count("[REDACTED]") == 3


@pytest.fixture
def wide_log(odek_home: Path) -> Path:
    """A schedule.log left group/world readable by an older version."""
    odek_home.mkdir(parents=True, exist_ok=True)
    path = odek_home / "schedule.log"
    path.write_text("old record\n\n")
    path.chmod(0o644)
    return path


@pytest.mark.anyio
async def test_log_appends_and_tightens_an_existing_wide_file(wide_log: Path) -> None:
    path = wide_log
    await LogFileDeliverer(path).deliver(make_job(), "new", nominal=NOMINAL)
    assert path.read_text().startswith("old record\n\n[2026-05-04T09:00:00+02:00]")
    assert mode(path) == 0o600


@pytest.mark.anyio
async def test_log_rotates_by_size_and_keeps_n_old_files(odek_home: Path) -> None:
    path = odek_home / "schedule.log"
    deliverer = LogFileDeliverer(path, max_bytes=300, backups=2)
    for n in range(12):
        await deliverer.deliver(make_job(f"job{n:02d}"), "x" * 60, nominal=NOMINAL)
    files = log_files(odek_home)
    assert files == ["schedule.log", "schedule.log.1", "schedule.log.2", "schedule.log.lock"]
    ids = {name: re.findall(r"\((job\d+)\)", (odek_home / name).read_text()) for name in files[:3]}
    # Newest records in schedule.log, older ones shifted to .1 and .2, the rest dropped.
    kept = ids["schedule.log.2"] + ids["schedule.log.1"] + ids["schedule.log"]
    assert kept == [f"job{n:02d}" for n in range(12 - len(kept), 12)]
    assert ids["schedule.log"][-1] == "job11"
    for name in files:
        assert mode(odek_home / name) == 0o600
        assert (odek_home / name).stat().st_size <= 300


@pytest.mark.anyio
async def test_concurrent_deliveries_never_interleave(odek_home: Path) -> None:
    path = odek_home / "schedule.log"
    deliverer = LogFileDeliverer(path)

    async def deliver(n: int) -> None:
        await deliverer.deliver(make_job(f"job{n:02d}"), f"body {n}\n" * 50, nominal=NOMINAL)

    async with anyio.create_task_group() as tg:
        for n in range(40):
            tg.start_soon(deliver, n)
    records = path.read_text().split("\n\n")[:-1]
    assert len(records) == 40
    for record in records:
        n = int(re.search(r"\(job(\d+)\)", record).group(1))  # type: ignore[union-attr]
        assert record.split("\n", 1)[1] == "\n".join([f"body {n}"] * 50)


@pytest.mark.anyio
async def test_unwritable_log_is_a_delivery_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    deliverer = LogFileDeliverer(blocker / "schedule.log")
    with pytest.raises(DeliveryError, match=r"not-a-dir/schedule\.log"):
        await deliverer.deliver(make_job(), "x", nominal=NOMINAL)
