"""Where odek keeps its state: ``ODEK_HOME`` (default ``~/.odek``), created mode 0700."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "ODEK_HOME"


def odek_home(*, create: bool = True) -> Path:
    """Return the state directory named by ``ODEK_HOME``, else ``~/.odek``.

    With ``create`` (the default) the directory is made if missing and its mode is set to
    0700 so that job definitions, results and secrets are readable by the owner only.
    """
    raw = os.environ.get(ENV_HOME, "").strip()
    home = Path(raw).expanduser() if raw else Path.home() / ".odek"
    if create:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if home.stat().st_mode & 0o777 != 0o700:
            home.chmod(0o700)
    return home
