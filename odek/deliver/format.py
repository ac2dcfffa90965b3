"""Markdown to Telegram MarkdownV2, split into messages Telegram accepts.

:func:`format_chunks` cuts a result into :class:`Chunk` objects. Each holds the same
part of the result twice: ``plain`` (the original Markdown, sent without a parse mode when
Telegram refuses the formatted one) and ``markdown_v2`` (escaped and converted). Both are
at most ``limit`` UTF-16 code units long (Telegram counts message length in UTF-16).

Cuts fall, in order of preference, between paragraphs, between lines, after whitespace,
and otherwise between grapheme clusters: never inside a character, a surrogate pair, an
emoji sequence or an escape. A code block that does not fit is closed at the end of one
chunk and reopened, with its language, at the start of the next; a code line longer than
a whole message is wrapped onto several lines.

Conversion: fenced code blocks and GitHub tables become ``pre`` blocks; ``**b**``,
``__b__`` and ``# heading`` become bold, ``*i*`` and ``_i_`` italic, ``~~s~~``
strikethrough; inline code and ``[text](http…)`` links are kept; ``- item`` becomes
``• item``; ``> quote`` a block quote. Markers without a partner are escaped and shown
as typed. A line is only a table row inside a real table (a ``|`` row followed by a
``|---|`` separator), so a stray ``|`` in prose stays prose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["TELEGRAM_LIMIT", "Chunk", "format_chunks", "to_markdown_v2", "utf16_len"]

TELEGRAM_LIMIT = 4096

_RESERVED = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's message limits."""
    return len(text.encode("utf-16-le")) // 2


def _escape_text(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def _escape_code(text: str) -> str:
    return text.replace("\\", "\\\\").replace("`", "\\`")


def _escape_url(text: str) -> str:
    return text.replace("\\", "\\\\").replace(")", "\\)")


# --- inline conversion -----------------------------------------------------------------

_INLINE = re.compile(
    r"(?P<tick>`+)(?P<code>[^`\n]+?)(?P=tick)(?!`)"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>(?:https?|tg|mailto):[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\)"
    r"|\*\*(?P<bold>(?=\S).+?(?<=\S))\*\*"
    r"|(?<!\w)__(?P<bold2>(?=\S).+?(?<=\S))__(?!\w)"
    r"|~~(?P<strike>(?=\S).+?(?<=\S))~~"
    r"|(?<![\w*])\*(?P<ital>[^\s*](?:[^*\n]*?[^\s*])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<ital2>[^\s_](?:[^_\n]*?[^\s_])?)_(?![\w_])"
)


def _inline(text: str, *, inside: frozenset[str] = frozenset()) -> str:
    """Convert one line's inline Markdown. ``inside`` names the entities already open, so
    a nested repeat of the same entity (which MarkdownV2 cannot express) is dropped."""
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(_escape_text(text[pos : m.start()]))
        pos = m.end()
        if m.group("code") is not None:
            out.append(f"`{_escape_code(m.group('code'))}`")
        elif m.group("label") is not None:
            out.append(f"[{_escape_text(m.group('label'))}]({_escape_url(m.group('url'))})")
        else:
            kind, marker, body = _entity(m)
            inner = _inline(body, inside=inside | {kind})
            out.append(inner if kind in inside else f"{marker}{inner}{marker}")
    out.append(_escape_text(text[pos:]))
    return "".join(out)


def _entity(m: re.Match[str]) -> tuple[str, str, str]:
    for group, kind, marker in (
        ("bold", "bold", "*"),
        ("bold2", "bold", "*"),
        ("strike", "strike", "~"),
        ("ital", "italic", "_"),
        ("ital2", "italic", "_"),
    ):
        body = m.group(group)
        if body is not None:
            return kind, marker, body
    raise AssertionError(m)  # pragma: no cover - the regex has no other groups


# --- lines and blocks -------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<body>.*?)(?:\s+#+)?\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(?P<body>.*)$")
_BULLET = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<body>.*)$")
_ORDERED = re.compile(r"^(?P<indent>\s*)(?P<num>\d{1,9})(?P<dot>[.)])\s+(?P<body>.*)$")
_RULE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:[─━]\s*){3,})$")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)[^`]*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")


def _render_line(line: str) -> str:
    if _RULE.match(line):
        return "——————"
    if m := _HEADING.match(line):
        return f"*{_inline(m.group('body'), inside=frozenset({'bold'}))}*"
    if m := _QUOTE.match(line):
        return f">{_inline(m.group('body'))}"
    if m := _BULLET.match(line):
        return f"{m.group('indent')}• {_inline(m.group('body'))}"
    if m := _ORDERED.match(line):
        return f"{m.group('indent')}{m.group('num')}\\{m.group('dot')} {_inline(m.group('body'))}"
    return _inline(line)


@dataclass(frozen=True, slots=True)
class _Para:
    lines: list[str]


@dataclass(frozen=True, slots=True)
class _Code:
    """A ``pre`` block: a fenced code block (``fence`` is its opening marker) or a table
    (``fence`` empty: shown as typed in the plain text)."""

    lang: str
    lines: list[str]
    fence: str

    def plain(self, lines: list[str]) -> str:
        if not self.fence:
            return "\n".join(lines)
        return "\n".join([self.fence + self.lang, *lines, self.fence])

    def v2(self, lines: list[str]) -> str:
        return "\n".join([f"```{self.lang}", *(_escape_code(x) for x in lines), "```"])


def _blocks(text: str) -> Iterator[_Para | _Code]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    para: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        is_table = (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and _TABLE_SEP.match(lines[i + 1]) is not None
        )
        if (fence or is_table or not line.strip()) and para:
            yield _Para(para)
            para = []
        if fence:
            marker = fence.group("fence")
            end = i + 1
            closing = re.compile(rf"^\s{{0,3}}{re.escape(marker[0])}{{{len(marker)},}}\s*$")
            while end < len(lines) and not closing.match(lines[end]):
                end += 1
            yield _Code(fence.group("lang"), lines[i + 1 : end], marker)
            i = end + 1  # an unclosed fence runs to the end of the text
        elif is_table:
            end = i + 2
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            yield _Code("", lines[i:end], "")
            i = end
        else:
            if line.strip():
                para.append(line)
            i += 1
    if para:
        yield _Para(para)


def to_markdown_v2(text: str) -> str:
    """Convert Markdown ``text`` to Telegram MarkdownV2, without any length limit."""
    out: list[str] = []
    for block in _blocks(text):
        if isinstance(block, _Para):
            out.append("\n".join(_render_line(x) for x in block.lines))
        else:
            out.append(block.v2(block.lines))
    return "\n\n".join(out)


# --- chunking ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """One Telegram message: the same text as typed (``plain``) and converted."""

    plain: str
    markdown_v2: str


@dataclass(frozen=True, slots=True)
class _Unit:
    """An indivisible piece: its two renderings and what joins it to the previous piece."""

    plain: str
    v2: str
    sep: str

    def size(self, *, first: bool) -> tuple[int, int]:
        extra = 0 if first else utf16_len(self.sep)
        return utf16_len(self.plain) + extra, utf16_len(self.v2) + extra


def _is_boundary(text: str, pos: int) -> bool:
    """True when a cut between ``text[pos - 1]`` and ``text[pos]`` keeps every grapheme
    cluster whole (combining marks, variation selectors, skin tones, ZWJ sequences, tag
    sequences and regional-indicator flags stay with their base)."""
    prev, nxt = text[pos - 1], text[pos]
    cp = ord(nxt)
    if (
        prev == "\u200d"
        or cp == 0x200D
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or unicodedata.category(nxt) in ("Mn", "Mc", "Me")
    ):
        return False
    if _is_regional(nxt) and _is_regional(prev):
        run = 0
        while pos - run - 1 >= 0 and _is_regional(text[pos - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _cut(text: str, limit: int, render: Callable[[str], str]) -> list[str]:
    """Cut ``text`` into pieces whose text and ``render(piece)`` are both at most ``limit``
    UTF-16 units (``render`` must work character by character). Cuts go after the last
    whitespace that fits, else at the last grapheme-cluster boundary; only a cluster longer
    than ``limit`` on its own is cut between code points (never inside a surrogate pair,
    since the text is cut by code point)."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = start
        plain_len = v2_len = 0
        last_space = -1
        while end < len(text):
            ch = text[end]
            plain_len += utf16_len(ch)
            v2_len += utf16_len(render(ch))
            if plain_len > limit or v2_len > limit:
                break
            end += 1
            if ch.isspace():
                last_space = end
        if end < len(text):
            if last_space > start:
                end = last_space
            else:
                safe = end
                while safe > start and not _is_boundary(text, safe):
                    safe -= 1
                end = safe if safe > start else end
        end = max(end, start + 1)
        pieces.append(text[start:end])
        start = end
    return pieces


def _para_units(block: _Para, limit: int) -> Iterator[_Unit]:
    whole = _Unit("\n".join(block.lines), "\n".join(_render_line(x) for x in block.lines), "\n\n")
    if max(whole.size(first=True)) <= limit:
        yield whole
        return
    sep = "\n\n"
    for line in block.lines:
        unit = _Unit(line, _render_line(line), sep)
        if max(unit.size(first=True)) <= limit:
            yield unit
        else:
            # A monster line loses its Markdown: shown escaped, cut after whitespace.
            for n, piece in enumerate(_cut(line, limit, _escape_text)):
                yield _Unit(piece, _escape_text(piece), sep if n == 0 else "")
        sep = "\n"


def _code_units(block: _Code, limit: int) -> Iterator[_Unit]:
    overhead = max(utf16_len(block.plain([])), utf16_len(block.v2([]))) + 1
    if overhead > limit // 4:
        # An absurdly long language tag or fence would leave no room for the code.
        block = _Code("", block.lines, block.fence[:3])
        overhead = max(utf16_len(block.plain([])), utf16_len(block.v2([]))) + 1
    room = limit - overhead
    lines: list[str] = []
    for line in block.lines:
        if max(utf16_len(line), utf16_len(_escape_code(line))) > room:
            lines.extend(_cut(line, room, _escape_code))
        else:
            lines.append(line)
    piece: list[str] = []
    for line in lines:
        candidate = [*piece, line]
        if piece and max(utf16_len(block.plain(candidate)), utf16_len(block.v2(candidate))) > limit:
            yield _Unit(block.plain(piece), block.v2(piece), "\n\n")
            candidate = [line]
        piece = candidate
    yield _Unit(block.plain(piece), block.v2(piece), "\n\n")


def format_chunks(text: str, limit: int = TELEGRAM_LIMIT) -> list[Chunk]:
    """Split ``text`` (Markdown) into Telegram messages, each at most ``limit`` UTF-16
    units both as typed and as MarkdownV2 (see the module docstring). Blank results give
    an empty list."""
    if limit < 64:
        raise ValueError(f"limit {limit} is too small for a Telegram message (minimum 64)")
    chunks: list[Chunk] = []
    plain: list[str] = []
    v2: list[str] = []
    size = (0, 0)
    for block in _blocks(text):
        units = _para_units(block, limit) if isinstance(block, _Para) else _code_units(block, limit)
        for unit in units:
            first = not plain
            add = unit.size(first=first)
            if not first and (size[0] + add[0] > limit or size[1] + add[1] > limit):
                chunks.append(Chunk("".join(plain), "".join(v2)))
                plain, v2, size, first = [], [], (0, 0), True
                add = unit.size(first=True)
            sep = "" if first else unit.sep
            plain += [sep, unit.plain]
            v2 += [sep, unit.v2]
            size = (size[0] + add[0], size[1] + add[1])
    if plain:
        chunks.append(Chunk("".join(plain), "".join(v2)))
    return [c for c in chunks if c.plain.strip()]
