"""File primitives of the store: capped reads, atomic replacement, the flock."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from odek.errors import StoreCorruptError, StoreError
from odek.store.files import (
    MAX_FILE_BYTES,
    atomic_write,
    ensure_dir,
    exclusive_lock,
    read_capped,
)


def test_atomic_write_creates_file_mode_0600_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "schedules.json"
    old_umask = os.umask(0)  # a permissive umask must not widen the mode
    try:
        atomic_write(target, b"{}")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedules.json"]


def test_atomic_write_replaces_existing_content_whole(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"x" * 1000)
    atomic_write(target, b"short")
    assert target.read_bytes() == b"short"


def test_atomic_write_replaces_a_planted_symlink_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    target = tmp_path / "schedules.json"
    target.symlink_to(victim)
    atomic_write(target, b"{}")
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink()
    assert target.read_bytes() == b"{}"


def test_atomic_write_failure_keeps_target_and_removes_temp(tmp_path: Path) -> None:
    # A non-empty directory at the target makes the final rename fail.
    target = tmp_path / "schedules.json"
    target.mkdir()
    (target / "keep").write_bytes(b"k")
    with pytest.raises(StoreError, match=r"cannot write .*schedules\.json"):
        atomic_write(target, b"{}")
    assert (target / "keep").read_bytes() == b"k"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedules.json"]


def test_atomic_write_in_read_only_dir_raises_store_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreError):
            atomic_write(tmp_path / "f.json", b"{}")
    finally:
        tmp_path.chmod(0o700)


def test_read_capped_missing_file_is_none(tmp_path: Path) -> None:
    assert read_capped(tmp_path / "nope.json") is None


def test_read_capped_accepts_exactly_the_limit_and_refuses_one_more(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(b"a" * 64)
    assert read_capped(path, max_bytes=64) == b"a" * 64
    path.write_bytes(b"a" * 65)
    with pytest.raises(StoreCorruptError, match=r"too large \(65 bytes, the limit is 64\)") as e:
        read_capped(path, max_bytes=64)
    assert "move it aside" in str(e.value)
    assert e.value.path == str(path)


def test_read_capped_refuses_a_huge_sparse_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "schedules.json"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(StoreCorruptError, match=f"{MAX_FILE_BYTES + 1} bytes"):
        read_capped(path)


def test_read_capped_directory_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read"):
        read_capped(tmp_path)


def test_ensure_dir_creates_mode_0700(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    ensure_dir(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


_HOLD_LOCK = """
import sys
from pathlib import Path
from odek.store.files import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_exclusive_lock_excludes_another_process_until_released(tmp_path: Path) -> None:
    lock = tmp_path / "schedules.lock"
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        assert child.stdout.readline() == "locked\n"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            child.stdin.close()  # the child leaves the lock block and exits
            assert child.wait(timeout=60) == 0
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free now
        finally:
            os.close(fd)


def test_exclusive_lock_excludes_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    lock = tmp_path / "schedules.lock"
    with exclusive_lock(lock):
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_exclusive_lock_refuses_a_symlink_and_a_directory(tmp_path: Path) -> None:
    lock = tmp_path / "schedules.lock"
    lock.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="cannot open lock file"), exclusive_lock(lock):
        pass
    assert not (tmp_path / "elsewhere").exists()
    lock.unlink()
    lock.mkdir()
    with pytest.raises(StoreError, match="cannot open lock file"), exclusive_lock(lock):
        pass
