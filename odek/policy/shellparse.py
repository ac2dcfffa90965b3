"""A small POSIX-shell parser, just deep enough to classify what a command line runs.

It turns a command line into lists of pipelines of simple commands (or ``( )`` groups),
keeping for each word its text after quote removal, whether any part of it is only known
at run time (``$VAR``, ``$(...)``, globbing is not counted), and the bodies of the command
substitutions it contains (``$(...)``, backticks, ``<(...)``, ``>(...)``) so that those can
be classified as commands of their own. Here-documents are attached to their redirection.

Anything it does not understand (an unterminated quote, a ``case`` pattern, a function
definition) raises :class:`ShellSyntaxError`; the classifier turns that into the
``unknown`` class, so an unparsable command fails closed.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

__all__ = [
    "CommandList",
    "Group",
    "Pipeline",
    "Redirect",
    "ShellSyntaxError",
    "Simple",
    "Word",
    "decode_ansi_c",
    "parse",
]


class ShellSyntaxError(ValueError):
    """Raised when a command line cannot be parsed (the classifier then fails closed)."""


@dataclass(slots=True)
class Word:
    """One shell word. ``text`` has quotes removed and escapes resolved; a run-time part
    (``$HOME``, ``$(cmd)``) is kept in its source spelling and sets ``dynamic``.
    ``assignment`` is true when the word begins with an unquoted ``NAME=``.
    ``heredoc`` is the body when this word is the delimiter of a here-document."""

    text: str = ""
    dynamic: bool = False
    quoted: bool = False
    glob: bool = False
    assignment: bool = False
    subs: list[str] = field(default_factory=list)
    heredoc: str | None = None
    heredoc_expands: bool = True


@dataclass(slots=True)
class Redirect:
    """A redirection: ``op`` without its file-descriptor number (``>``, ``>>``, ``<``,
    ``<<``, ``<<<``, ``>&``, ``&>``...), and its target word."""

    op: str
    target: Word


@dataclass(slots=True)
class Simple:
    """A simple command: its words (assignments included) and redirections."""

    words: list[Word]
    redirects: list[Redirect]


@dataclass(slots=True)
class Group:
    """A ``( ... )`` subshell with its own command list and redirections."""

    body: CommandList
    redirects: list[Redirect]


Pipeline = list[Simple | Group]
CommandList = list[Pipeline]

# Longest first, so that ">>" is not read as ">" twice.
_OPERATORS = (
    *("&>>", "<<<", "<<-"),
    *("&&", "||", ";;", "|&", "&>", ">>", "<<", ">|", "<>", ">&", "<&"),
    *("|", "&", ";", "<", ">", "(", ")"),
)
_REDIRECT_OPS = frozenset({"<", ">", ">>", ">|", "<>", "<<", "<<-", "<<<", ">&", "<&", "&>", "&>>"})
_SEPARATORS = frozenset({";", "&", "&&", "||", ";;", "\n"})
_META = frozenset(" \t\n|&;<>()")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


def decode_ansi_c(body: str) -> str:
    """Decode the escapes of a ``$'...'`` string (``\\x72``, ``\\n``, ``\\101``...)."""
    try:
        return codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
    except UnicodeDecodeError as exc:
        raise ShellSyntaxError(f"bad escape in $'...': {exc}") from None


@dataclass(slots=True)
class _Op:
    text: str


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.tokens: list[Word | _Op] = []
        self.pending_heredocs: list[tuple[Word, bool]] = []

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def run(self) -> list[Word | _Op]:
        while self.pos < len(self.src):
            ch = self.peek()
            if ch in " \t":
                self.pos += 1
            elif ch == "\\" and self.peek(1) == "\n":
                self.pos += 2
            elif ch == "#":
                while self.pos < len(self.src) and self.peek() != "\n":
                    self.pos += 1
            elif ch == "\n":
                self.pos += 1
                self.tokens.append(_Op("\n"))
                self.read_heredoc_bodies()
            elif ch in "<>" and self.peek(1) == "(":
                self.tokens.append(self.word())
            elif ch in _META:
                self.operator()
            else:
                word = self.word()
                # An all-digit word glued to a redirection is its descriptor (2>x, 3<&0).
                if not (word.text.isdigit() and not word.quoted and self.peek() in ("<", ">")):
                    self.tokens.append(word)
        if self.pending_heredocs:
            # A here-document without its body: what it feeds is unknown.
            for word, _ in self.pending_heredocs:
                word.dynamic = True
            self.pending_heredocs.clear()
        return self.tokens

    def operator(self) -> None:
        for op in _OPERATORS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                self.tokens.append(_Op(op))
                if op in ("<<", "<<-"):
                    self.heredoc_delimiter(strip_tabs=op == "<<-")
                return
        raise ShellSyntaxError(f"unexpected {self.peek()!r}")  # pragma: no cover

    def heredoc_delimiter(self, *, strip_tabs: bool) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1
        start = self.pos
        word = self.word()
        raw = self.src[start : self.pos]
        word.heredoc_expands = not any(q in raw for q in "'\"\\")
        self.tokens.append(word)
        self.pending_heredocs.append((word, strip_tabs))

    def read_heredoc_bodies(self) -> None:
        for word, strip_tabs in self.pending_heredocs:
            lines: list[str] = []
            while True:
                if self.pos >= len(self.src):
                    raise ShellSyntaxError(f"here-document {word.text!r} is not terminated")
                end = self.src.find("\n", self.pos)
                end = len(self.src) if end < 0 else end
                line = self.src[self.pos : end]
                self.pos = end + 1
                if (line.lstrip("\t") if strip_tabs else line) == word.text:
                    break
                lines.append(line)
            word.heredoc = "\n".join(lines) + "\n"
            if word.heredoc_expands:
                scan = _Lexer(word.heredoc)
                body = Word()
                scan.double_quoted(body, terminator="")
                word.subs.extend(body.subs)
                word.dynamic = body.dynamic
        self.pending_heredocs.clear()

    def word(self) -> Word:
        w = Word()
        parts: list[str] = []
        plain = 0  # how many leading parts are plain unquoted characters
        while self.pos < len(self.src):
            ch = self.peek()
            if ch in "<>" and self.peek(1) == "(":
                body = self.balanced(self.pos + 2)
                w.subs.append(body)
                w.dynamic = True
                parts.append(f"{ch}({body})")
            elif ch in _META:
                break
            elif ch == "'":
                end = self.src.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated single quote")
                parts.append(self.src[self.pos + 1 : end])
                w.quoted = True
                self.pos = end + 1
            elif ch == '"':
                self.pos += 1
                w.quoted = True
                parts.append(self.double_quoted(w, terminator='"'))
            elif ch == "\\":
                if self.peek(1) == "\n":
                    self.pos += 2
                    continue
                parts.append(self.peek(1))
                w.quoted = True
                self.pos += 2
            elif ch == "$":
                parts.append(self.dollar(w, in_double=False))
            elif ch == "`":
                parts.append(self.backtick(w))
            else:
                if ch in "*?[":
                    w.glob = True
                plain += plain == len(parts)
                parts.append(ch)
                self.pos += 1
        w.assignment = _ASSIGNMENT.match("".join(parts[:plain])) is not None
        w.text = "".join(parts)
        return w

    def double_quoted(self, w: Word, *, terminator: str) -> str:
        parts: list[str] = []
        while True:
            if self.pos >= len(self.src):
                if terminator:
                    raise ShellSyntaxError("unterminated double quote")
                return "".join(parts)
            ch = self.peek()
            if terminator and ch == terminator:
                self.pos += 1
                return "".join(parts)
            if ch == "\\" and self.peek(1) in ("$", "`", '"', "\\", "\n"):
                if self.peek(1) != "\n":
                    parts.append(self.peek(1))
                self.pos += 2
            elif ch == "$":
                parts.append(self.dollar(w, in_double=True))
            elif ch == "`":
                parts.append(self.backtick(w))
            else:
                parts.append(ch)
                self.pos += 1

    def dollar(self, w: Word, *, in_double: bool) -> str:
        nxt = self.peek(1)
        if nxt == "'" and not in_double:
            end = self.pos + 2
            while end < len(self.src) and self.src[end] != "'":
                end += 2 if self.src[end] == "\\" else 1
            if end >= len(self.src):
                raise ShellSyntaxError("unterminated $'...' string")
            text = decode_ansi_c(self.src[self.pos + 2 : end])
            self.pos = end + 1
            w.quoted = True
            return text
        if nxt == '"' and not in_double:
            self.pos += 2
            w.quoted = True
            return self.double_quoted(w, terminator='"')
        if nxt == "(":
            arithmetic = self.peek(2) == "("
            body = self.balanced(self.pos + 2)
            if arithmetic:
                body = body[1:-1] if body.endswith(")") else body
                if "$(" in body or "`" in body:
                    w.subs.append(body)
                w.dynamic = True
                return f"$(({body}))"
            w.subs.append(body)
            w.dynamic = True
            return f"$({body})"
        if nxt == "{":
            end = self.src.find("}", self.pos + 2)
            if end < 0:
                raise ShellSyntaxError("unterminated ${...}")
            body = self.src[self.pos + 2 : end]
            if "$(" in body or "`" in body:
                _Lexer(body).double_quoted(w, terminator="")
            self.pos = end + 1
            w.dynamic = True
            return "${" + body + "}"
        m = _NAME.match(self.src, self.pos + 1)
        if m:
            self.pos = m.end()
            w.dynamic = True
            return "$" + m.group()
        self.pos += 1
        return "$"

    def backtick(self, w: Word) -> str:
        parts: list[str] = []
        i = self.pos + 1
        while i < len(self.src) and self.src[i] != "`":
            if self.src[i] == "\\" and i + 1 < len(self.src):
                parts.append(self.src[i + 1])
                i += 2
            else:
                parts.append(self.src[i])
                i += 1
        if i >= len(self.src):
            raise ShellSyntaxError("unterminated backquote")
        self.pos = i + 1
        body = "".join(parts)
        w.subs.append(body)
        w.dynamic = True
        return f"`{body}`"

    def balanced(self, start: int) -> str:
        """Return the text from ``start`` to the ``)`` that closes the ``(`` before it,
        skipping quoted text, and move past that ``)``."""
        depth = 1
        i = start
        src = self.src
        while i < len(src):
            ch = src[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'":
                end = src.find("'", i + 1)
                if end < 0:
                    break
                i = end + 1
                continue
            if ch == '"':
                i += 1
                while i < len(src) and src[i] != '"':
                    i += 2 if src[i] == "\\" else 1
                i += 1
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    self.pos = i + 1
                    return src[start:i]
            i += 1
        raise ShellSyntaxError("unterminated $( or <( )")


class _Parser:
    def __init__(self, tokens: list[Word | _Op]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Word | _Op | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def command_list(self, *, closing: str | None) -> CommandList:
        result: CommandList = []
        while True:
            tok = self.peek()
            if tok is None:
                if closing is not None:
                    raise ShellSyntaxError(f"missing {closing!r}")
                return result
            if isinstance(tok, _Op):
                if tok.text == closing:
                    return result
                if tok.text in _SEPARATORS:
                    self.pos += 1
                    continue
            result.append(self.pipeline())

    def pipeline(self) -> Pipeline:
        stages: Pipeline = [self.command()]
        while True:
            tok = self.peek()
            if isinstance(tok, _Op) and tok.text in ("|", "|&"):
                self.pos += 1
                stages.append(self.command())
            else:
                return stages

    def command(self) -> Simple | Group:
        tok = self.peek()
        if isinstance(tok, _Op) and tok.text == "(":
            self.pos += 1
            body = self.command_list(closing=")")
            self.pos += 1
            return Group(body, self.redirects_only())
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            tok = self.peek()
            if tok is None:
                break
            if isinstance(tok, Word):
                words.append(tok)
                self.pos += 1
            elif tok.text in _REDIRECT_OPS:
                redirects.append(self.redirect(tok.text))
            elif tok.text in _SEPARATORS or tok.text in ("|", "|&", ")"):
                break
            else:
                raise ShellSyntaxError(f"unexpected {tok.text!r}")
        if not words and not redirects:
            raise ShellSyntaxError("empty command")
        return Simple(words, redirects)

    def redirect(self, op: str) -> Redirect:
        self.pos += 1
        target = self.peek()
        if not isinstance(target, Word):
            raise ShellSyntaxError(f"{op!r} without a target")
        self.pos += 1
        return Redirect(op, target)

    def redirects_only(self) -> list[Redirect]:
        redirects: list[Redirect] = []
        while True:
            tok = self.peek()
            if isinstance(tok, _Op) and tok.text in _REDIRECT_OPS:
                redirects.append(self.redirect(tok.text))
            elif isinstance(tok, Word):
                raise ShellSyntaxError(f"unexpected word {tok.text!r} after ')'")
            else:
                return redirects


def parse(command: str) -> CommandList:
    """Parse ``command`` into pipelines of simple commands and groups.

    Raises :class:`ShellSyntaxError` when the text is not a command line this parser
    understands.
    """
    parser = _Parser(_Lexer(command).run())
    result = parser.command_list(closing=None)
    if parser.peek() is not None:  # pragma: no cover - command_list consumes everything
        raise ShellSyntaxError("trailing tokens")
    return result
