"""Entry point of the ``odek`` console script (placeholder, replaced by the CLI work)."""

from __future__ import annotations

import sys

from odek import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        print(f"odek {__version__}")
        return 0
    print("usage: odek --version", file=sys.stderr)
    return 2
