"""Shared fixtures: every test gets its own ODEK_HOME; async tests run on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def odek_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, temporary ODEK_HOME for every test; nothing touches the real ~/.odek."""
    home = tmp_path / "odek-home"
    monkeypatch.setenv("ODEK_HOME", str(home))
    return home


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {"debug": True}), id="asyncio"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    """Backend-agnostic tests (``pytest.mark.anyio``) run once on asyncio and once on trio."""
    return request.param  # type: ignore[no-any-return]
