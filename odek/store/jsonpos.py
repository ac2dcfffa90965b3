"""Decoding store files with errors that say where: file, line and column, and field path.

msgspec reports a type error with a path such as ``$.jobs[3].cron`` and a syntax error with
a byte offset; these helpers turn both into ``<file>: line L, column C: ...`` messages. The
line and column of a path are found by walking the JSON text with the standard library's
scanner, which happens only when an error is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import msgspec

from odek.errors import StoreCorruptError

T = TypeVar("T")
Segment = str | int
"""One step of a field path: an object key or an array index."""

_AT = re.compile(r"^(?P<what>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.(?P<key>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+)\]")
_BYTE = re.compile(r"\(byte (?P<offset>\d+)\)$")
_WS = re.compile(r"[ \t\n\r]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCANNER = json.JSONDecoder()


def decode(
    part: bytes, type_: type[T], *, file: Path, data: bytes, at: Sequence[Segment] = ()
) -> T:
    """Decode ``part`` (``data`` itself, or the value found at path ``at`` inside ``data``)
    as ``type_``, raising :class:`StoreCorruptError` that names ``file``, the line and
    column in ``data`` and the field path."""
    try:
        return msgspec.json.decode(part, type=type_)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        assert match is not None  # the pattern matches every string
        steps = [*at, *_parse_path(match["path"] or "$")]
        raise corrupt(file, data, steps, _lower_first(match["what"])) from exc
    except RecursionError as exc:  # msgspec's nesting limit is lower than the stdlib's
        raise StoreCorruptError(
            f"{file}: arrays and objects are nested too deeply to read", path=str(file)
        ) from exc
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # msgspec checks UTF-8 only in strings it decodes, so a bad byte can surface late,
        # as a UnicodeDecodeError from a part.
        raise _syntax_error(file, data, exc) from exc


def _syntax_error(file: Path, data: bytes, exc: Exception) -> StoreCorruptError:
    # The standard library's parser says precisely where and what; msgspec's byte offset
    # sometimes points past the fault. msgspec is stricter (it refuses NaN, for one), so its
    # own words are the fallback.
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as bad:
        line, column = _line_column_of_byte(data, bad.start)
        reason = f"invalid UTF-8: {bad.reason}"
    except json.JSONDecodeError as bad:
        line, column, reason = bad.lineno, bad.colno, f"invalid JSON: {bad.msg}"
    else:
        offset_match = _BYTE.search(str(exc))
        offset = int(offset_match["offset"]) if offset_match else 0
        line, column = _line_column_of_byte(data, offset)
        reason = _BYTE.sub("", str(exc)).strip()
    return StoreCorruptError(f"{file}: line {line}, column {column}: {reason}", path=str(file))


def corrupt(file: Path, data: bytes, steps: Sequence[Segment], what: str) -> StoreCorruptError:
    """An error for the value at field path ``steps`` of ``data``, with its line and column."""
    text = data.decode("utf-8", errors="replace")
    index = _locate(text, steps)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return StoreCorruptError(
        f"{file}: line {line}, column {column}: {what} (at {render_path(steps)})", path=str(file)
    )


def render_path(steps: Sequence[Segment]) -> str:
    """``["jobs", 3, "cron"]`` -> ``$.jobs[3].cron``; keys that are not identifiers are
    quoted: ``$.states["jb 1"]``."""
    out = ["$"]
    for step in steps:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif _IDENT.fullmatch(step):
            out.append(f".{step}")
        else:
            out.append(f"[{json.dumps(step)}]")
    return "".join(out)


def _parse_path(path: str) -> list[Segment]:
    # msgspec writes dict keys as "[...]"; the store decodes dict values one by one, so such
    # a step never reaches here, and the walk stops at the first step it cannot read.
    steps: list[Segment] = []
    pos = 1
    while match := _STEP.match(path, pos):
        steps.append(match["key"] if match["key"] is not None else int(match["index"]))
        pos = match.end()
    return steps


def _locate(text: str, steps: Sequence[Segment]) -> int:
    """Index in ``text`` where the value at ``steps`` starts, or as near as the walk got."""
    pos = _skip_ws(text, 0)
    try:
        for step in steps:
            found = _find_item(text, pos, step)
            if found is None:
                return pos
            pos = found
    except (ValueError, IndexError):  # the text there is not valid JSON
        pass
    return pos


def _find_item(text: str, pos: int, step: Segment) -> int | None:
    """Start of member ``step`` of the object or array starting at ``pos``, or ``None``."""
    opener = "[" if isinstance(step, int) else "{"
    if text[pos] != opener:
        return None
    pos = _skip_ws(text, pos + 1)
    index = 0
    while text[pos] not in "]}":
        if isinstance(step, int):
            if index == step:
                return pos
        else:
            key, pos = _SCANNER.raw_decode(text, pos)
            pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past the ':'
            if key == step:
                return pos
        _, pos = _SCANNER.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        index += 1
    return None


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    assert match is not None  # "[ \t\n\r]*" matches anywhere
    return match.end()


def _line_column_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _lower_first(text: str) -> str:
    """``Expected `str`...`` -> ``expected `str`...``; ``JSON ...`` stays as it is."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
