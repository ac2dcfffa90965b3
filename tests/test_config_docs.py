"""docs/CONFIG.md documents every field and every environment variable of the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from odek.config.fields import API_KEY_FALLBACKS, FIELDS

DOC = (Path(__file__).parent.parent / "docs" / "CONFIG.md").read_text()


@pytest.mark.parametrize("path", [f.path for f in FIELDS])
def test_every_field_is_documented(path: str) -> None:
    assert f"`{path}`" in DOC


@pytest.mark.parametrize("name", [f.env for f in FIELDS if f.env] + list(API_KEY_FALLBACKS))
def test_every_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC
