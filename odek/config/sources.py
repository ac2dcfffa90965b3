"""Reading the configuration sources into flat layers of raw values.

A layer maps a field's dotted path to a :class:`RawValue`: the value as the source gave it,
where it came from, and whether it is text (environment and ``secrets.env`` values are
always strings; JSON files and flags give typed values). Parsing happens in
:mod:`odek.config.load`, which merges layers field by field.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from odek.config.fields import API_KEY_FALLBACKS, FIELDS, FIELDS_BY_ENV, FIELDS_BY_PATH, SECTIONS
from odek.errors import ConfigError

MAX_FILE_BYTES = 5 * 1024 * 1024
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


@dataclass(frozen=True, slots=True)
class RawValue:
    """One value as a source gave it. ``source`` names the source precisely (a file and
    field, a variable, a flag); ``text`` says it arrived as a string to be parsed."""

    raw: Any
    source: str
    text: bool


Layer = dict[str, RawValue]


@dataclass(slots=True)
class SecretsFile:
    """What ``secrets.env`` held: config variables (a layer), API-key fallbacks, and every
    value (all are registered for redaction)."""

    layer: Layer
    fallbacks: dict[str, RawValue]
    values: list[str]


def read_secrets_env(path: Path, warnings: list[str]) -> SecretsFile:
    """Read ``KEY=VALUE`` lines (``#`` comments, blank lines and ``export`` allowed; values
    may be single- or double-quoted). A file readable by group or others is refused with a
    warning; a missing file is empty; a malformed line is a :class:`ConfigError` naming the
    line. Keys that are neither config variables nor API-key fallbacks are warned about."""
    result = SecretsFile({}, {}, [])
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return result
    if mode & 0o077:
        warnings.append(
            f"{path} is group/world-readable ({stat.S_IMODE(mode):04o}); refusing to load "
            f"secrets (fix with: chmod 600 {path})"
        )
        return result
    content = _read_text(path)
    for number, line in enumerate(content.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(stripped)
        if match is None:
            raise ConfigError(f"{path}: line {number}: expected KEY=VALUE, got {stripped[:40]!r}")
        key, value = match.group(1), _unquote(match.group(2).strip())
        result.values.append(value)
        source = f"{path} ({key})"
        if key in FIELDS_BY_ENV:
            result.layer[FIELDS_BY_ENV[key].path] = RawValue(value, source, text=True)
        elif key in API_KEY_FALLBACKS:
            result.fallbacks[key] = RawValue(value, source, text=True)
        else:
            warnings.append(f"{path}: line {number}: ignoring unknown variable {key}")
    return result


def read_json_file(path: Path, warnings: list[str], *, untrusted: bool) -> Layer:
    """Read a JSON configuration file into a layer; a missing file is empty.

    Unknown keys are ignored with a warning naming them. With ``untrusted`` (the project
    file) operator-only fields are ignored with one warning naming them. Invalid JSON, a
    section that is not an object, or a file over 5 MiB is a :class:`ConfigError`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: file is larger than {MAX_FILE_BYTES} bytes")
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON: {_locate(str(exc), data)}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    layer: Layer = {}
    unknown: list[str] = []
    refused: list[str] = []
    _flatten(doc, "", path, layer, unknown, refused, untrusted=untrusted)
    if unknown:
        warnings.append(f"{path}: ignoring unknown keys: {', '.join(unknown)}")
    if refused:
        warnings.append(f"{path}: ignoring keys the project file may not set: {', '.join(refused)}")
    return layer


def read_environ(environ: Mapping[str, str]) -> tuple[Layer, dict[str, RawValue]]:
    """The ``ODEK_*`` variables (a layer) and the API-key fallback variables. Empty
    variables count as unset."""
    layer: Layer = {}
    for field in FIELDS:
        if field.env and environ.get(field.env, "").strip():
            layer[field.path] = RawValue(
                environ[field.env], f"environment variable {field.env}", text=True
            )
    fallbacks = {
        name: RawValue(environ[name], f"environment variable {name}", text=True)
        for name in API_KEY_FALLBACKS
        if environ.get(name, "").strip()
    }
    return layer, fallbacks


def read_flags(flags: Mapping[str, object]) -> Layer:
    """Flags keyed by dotted field path (``model``, ``telegram.default_chat_id``); string
    values are parsed like environment text. An unknown path is a :class:`ConfigError`."""
    layer: Layer = {}
    for path, value in flags.items():
        if path not in FIELDS_BY_PATH:
            raise ConfigError(f"flag {path}: no such configuration field")
        layer[path] = RawValue(value, f"flag {path}", text=isinstance(value, str))
    return layer


def _flatten(
    doc: dict[str, Any],
    prefix: str,
    path: Path,
    layer: Layer,
    unknown: list[str],
    refused: list[str],
    *,
    untrusted: bool,
) -> None:
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        field = FIELDS_BY_PATH.get(dotted)
        if untrusted and _operator_only(dotted):
            refused.append(dotted)
        elif field is not None:
            layer[dotted] = RawValue(value, f"{path}: {dotted}", text=False)
        elif dotted in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {dotted}: expected an object")
            _flatten(value, f"{dotted}.", path, layer, unknown, refused, untrusted=untrusted)
        else:
            unknown.append(dotted)


def _operator_only(dotted: str) -> bool:
    """A field that is operator-only, or a section holding only such fields."""
    under = [f for f in FIELDS if f.path == dotted or f.path.startswith(f"{dotted}.")]
    return bool(under) and all(f.operator_only for f in under)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _locate(message: str, data: bytes) -> str:
    """Turn msgspec's "(byte N)" into a line and column."""
    match = re.search(r"\(byte (\d+)\)", message)
    if match is None:
        return message
    offset = int(match.group(1))
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"{message[: match.start()].strip()} (line {line}, column {column})"
