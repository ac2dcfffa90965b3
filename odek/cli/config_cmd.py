"""``odek config show [--json]``: the resolved configuration, secrets redacted, with the
source of every value (a file and field, an environment variable, a flag, or
``default``). Warnings raised while reading the sources go to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import msgspec

from odek.cli.parsing import help_handler
from odek.config import FIELDS, Config, Resolved, resolve_config
from odek.redact import REDACTED, redact

_SECRET_PATHS = frozenset(f.path for f in FIELDS if f.secret)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``odek config`` and its ``show`` verb to the root's sub-parsers."""
    group = commands.add_parser(
        "config",
        help="show the resolved configuration",
        description="Inspect the configuration resolved from ODEK_HOME/secrets.env, "
        "ODEK_HOME/config.json, ./odek.json, ODEK_* variables and flags (docs/CONFIG.md).",
    )
    group.set_defaults(handler=help_handler(group))
    verbs = group.add_subparsers(title="verbs", metavar="<verb>")
    show = verbs.add_parser(
        "show",
        help="print every value and where it came from (secrets redacted)",
        description="Print every configuration value, secrets redacted, and the source "
        "that set it.",
    )
    show.add_argument(
        "--json",
        action="store_true",
        help='print {"config": ..., "sources": ..., "warnings": [...]} as JSON',
    )
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    resolved = resolve_config()
    for warning in resolved.warnings:
        print(f"odek: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(_document(resolved), indent=2, ensure_ascii=False))
    else:
        print(_table(resolved))
    return 0


def redacted_config(config: Config) -> dict[str, Any]:
    """The configuration as builtins with every secret value replaced by ``[REDACTED]``
    (an unset secret stays empty) and every other string passed through
    :func:`odek.redact.redact`."""
    doc: dict[str, Any] = msgspec.to_builtins(config)
    for path in _SECRET_PATHS:
        *parents, leaf = path.split(".")
        holder = doc
        for part in parents:
            holder = holder[part]
        if leaf == "mcp_servers":
            for server in holder[leaf]:
                for key in ("env", "headers"):
                    server[key] = dict.fromkeys(server.get(key, {}), REDACTED)
        elif holder[leaf]:
            holder[leaf] = REDACTED
    result: dict[str, Any] = _redact_strings(doc)
    return result


def _redact_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(v) for v in value]
    return value


def _document(resolved: Resolved) -> dict[str, Any]:
    return {
        "config": redacted_config(resolved.config),
        "sources": resolved.sources,
        "warnings": resolved.warnings,
    }


def _rows(doc: dict[str, Any], sources: dict[str, str]) -> list[tuple[str, str, str]]:
    """One row per field (per class for ``*.classes``): path, value as JSON, source."""
    rows: list[tuple[str, str, str]] = []
    for field in FIELDS:
        value: Any = doc
        for part in field.path.split("."):
            value = value[part]
        if field.per_key and value:
            for key, item in value.items():
                path = f"{field.path}.{key}"
                rows.append((path, json.dumps(item, ensure_ascii=False), sources[path]))
        else:
            rendered = json.dumps(value, ensure_ascii=False)
            rows.append((field.path, rendered, sources[field.path]))
    return rows


def _table(resolved: Resolved) -> str:
    rows = _rows(redacted_config(resolved.config), resolved.sources)
    path_width = max(len(path) for path, _, _ in rows)
    value_width = min(max(len(value) for _, value, _ in rows), 40)
    return "\n".join(
        f"{path:<{path_width}}  {value:<{value_width}}  ({source})" for path, value, source in rows
    )
