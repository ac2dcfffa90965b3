"""Secret redaction for everything odek writes or logs.

:func:`redact` replaces, with ``[REDACTED]``:

- every value given to :func:`register_secret` (the configuration registers the API key,
  the bot token and the secrets read from ``secrets.env``);
- well-known credential formats: OpenAI/Anthropic ``sk-…``, GitHub ``ghp_…``/``gho_…``/
  ``github_pat_…``, Groq ``gsk_…``, xAI ``xai-…``, Hugging Face ``hf_…``, AWS access key
  ids ``AKIA…``/``ASIA…``, PEM private keys (one cut off before its END line up to the end
  of the text, or of the JSON string holding it), JWTs, Slack ``xox?-…``, Stripe
  ``sk_live_…``/``rk_test_…``, Google ``AIza…`` and ``ya29.…``, Twilio ``SK…``, SendGrid
  ``SG.…``, Vault ``hvs.…``, Discord and Telegram bot tokens (``123456:ABC…``, also inside
  ``/bot<token>/`` URLs);
- the value of ``key=value`` / ``key: value`` / ``"key": "value"`` pairs whose key names a
  secret (``api_key``, ``token``, ``password``, ``secret``, …), ``Authorization:`` header
  values and ``Bearer`` tokens; the key itself is kept so the text stays readable;
- the password of ``scheme://user:password@host`` URLs.

Redaction is idempotent: ``redact(redact(t)) == redact(t)``.

JSON text is redacted as well as plain text, so a structured log line can be redacted
once, whole: a credential right after a JSON escape (``\\n``, ``\\u00a0``) is still
found, a replacement never cuts an escape sequence in half or runs past the end of a JSON
string, a secret-named key with a non-string value (``"token": 123456``) gets
``"[REDACTED]"`` (quoted), and registered secrets are also matched in their JSON-escaped
form.

Most text holds nothing secret-looking, and scanning it with every pattern is slow: each
pattern names plain substrings (and, for some, a short expression) that every one of its
matches contains, and runs only on text that contains them.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple

__all__ = ["REDACTED", "forget_secrets", "redact", "register_secret", "scrubbed_environ"]

REDACTED = "[REDACTED]"

# Shorter registered values are ignored: replacing a 3-letter "secret" everywhere would
# mangle ordinary text while protecting nothing.
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
# The registered secrets with their escaped forms, longest first, and one pattern matching
# any of them: replaced together, so a reader never sees one without the other.
_registered: tuple[tuple[str, ...], re.Pattern[str] | None] = ((), None)


def register_secret(value: str) -> None:
    """Make :func:`redact` replace every occurrence of ``value`` from now on, also in its
    JSON-escaped forms (a quote, backslash, control or non-ASCII character escaped).

    Surrounding whitespace is ignored; values shorter than 6 characters are ignored.
    Safe to call from any thread.
    """
    global _registered
    value = value.strip()
    if len(value) < _MIN_SECRET_LEN:
        return
    # JSON text holds the escaped forms: odek writes JSON with ensure_ascii=False;
    # json.dumps by default also escapes non-ASCII.
    forms = {value, *(json.dumps(value, ensure_ascii=ascii)[1:-1] for ascii in (False, True))}
    with _lock:
        known = set(_registered[0])
        if forms <= known:
            return
        # Longest first, so a secret that contains another is replaced whole, and the
        # escaped form of a secret ending in a backslash wins over its raw prefix.
        ordered = tuple(sorted(known | forms, key=len, reverse=True))
        _registered = (ordered, re.compile("|".join(re.escape(s) for s in ordered)))


def forget_secrets() -> None:
    """Drop every registered secret (tests use it to isolate cases)."""
    global _registered
    with _lock:
        _registered = ((), None)


# Variables that carry credentials by convention, whatever their value looks like.
_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)


def scrubbed_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without the variables that hold secrets.

    A variable is dropped when its name ends like a credential (``..._API_KEY``,
    ``..._TOKEN``, ``..._SECRET``, ``..._PASSWORD``) or its value contains a registered
    secret. Child processes the agent starts get this environment: redaction of their
    output cannot catch a key they print in another form (base64, reversed), so they must
    not have it at all.
    """
    source = os.environ if environ is None else environ
    pattern = _registered[1]
    return {
        name: value
        for name, value in source.items()
        if not _SECRET_NAME.search(name) and not (pattern and pattern.search(value))
    }


_Repl = str | Callable[[re.Match[str]], str]


def _after(not_before: str) -> str:
    """Left boundary: the character before is not in ``not_before`` (a character class),
    or is the end of a JSON escape (``\\n``, ``\\u00a0``), which stands for a separator."""
    return rf"(?:(?<!{not_before})|(?<=\\[bfnrt])|(?<=\\u[0-9a-fA-F]{{4}}))"


_TOKEN = _after(r"[\w-]")
# Inside a JSON string: any character but a quote or backslash, or a whole escape.
_IN_STRING = r'(?:[^"\\]|\\.)'


class _Rule(NamedTuple):
    """A pattern and ``screen``, a regular expression (mostly a plain string) found in
    every match of the pattern: text without it skips the pattern."""

    screen: str
    pattern: str


# Each pattern replaces its whole match, or, when it has a group named ``keep``, keeps
# that prefix (a key name, a URL's user part) and replaces the rest. Rules come in groups
# whose screens are searched for together first: grouping is only a matter of speed
# (Python's re scans an alternation of plain strings quickly, other alternations slowly).
_TOKEN_GROUPS: tuple[tuple[_Rule, ...], ...] = (
    (
        # PEM private keys, including a block cut off before its END line. PEM text holds
        # no double quote, so a block never runs past the end of a JSON string.
        _Rule(
            "-----BEGIN",
            rf"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:{_IN_STRING}*?-----END[A-Z ]*PRIVATE KEY-----"
            rf"|{_IN_STRING}*)",
        ),
        _Rule("sk-", _TOKEN + r"sk-[A-Za-z0-9_\-]{20,}"),
        _Rule("gh[pousr]_", _TOKEN + r"gh[pousr]_[A-Za-z0-9]{30,}"),
        _Rule("github_pat_", _TOKEN + r"github_pat_[A-Za-z0-9_]{22,}"),
        _Rule("gsk_", _TOKEN + r"gsk_[A-Za-z0-9]{20,}"),
        _Rule("xai-", _TOKEN + r"xai-[A-Za-z0-9]{20,}"),
        _Rule("hf_", _TOKEN + r"hf_[A-Za-z0-9]{20,}"),
        _Rule("A[KS]IA", _after("[A-Za-z0-9]") + r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
        _Rule("eyJ", _TOKEN + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        _Rule("xox", _TOKEN + r"xox[abposr]-[A-Za-z0-9-]{10,}"),
        _Rule("_live_|_test_", _TOKEN + r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        _Rule("whsec_", _TOKEN + r"whsec_[A-Za-z0-9]{20,}"),
        _Rule("AIza", _TOKEN + r"AIza[0-9A-Za-z_-]{35}"),
        _Rule(r"ya29\.", _TOKEN + r"ya29\.[0-9A-Za-z_-]{20,}"),
        _Rule("SK", _after("[A-Za-z0-9]") + r"SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"),
        _Rule(r"SG\.", _TOKEN + r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
        _Rule(r"hv[sb]\.", _TOKEN + r"hv[sb]\.[A-Za-z0-9_-]{20,}"),
    ),
    # Discord bot tokens.
    (
        _Rule(
            r"\.[\w-]{6}\.",
            _after(r"[\w.-]") + r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}",
        ),
    ),
    # Telegram bot tokens; no word boundary on the left so "/bot123:ABC…" is caught too
    # (but never starting inside a JSON "\u0012" escape).
    (
        _Rule(
            r":[\w-]{30}",
            r"(?:(?<!\d)(?<!\\u)|(?<=\\u[0-9a-fA-F]{4}))\d{5,}:[A-Za-z0-9_-]{30,}",
        ),
    ),
)

_SECRET_WORD = (
    r"(?:api[_-]?key|apikey|access[_-]?key|secret|token|password|passwd|pwd|credentials?|"
    r"private[_-]?key|session[_-]?id|cookie)"
)
_WORD_START = _after(r"\w")
# A value: up to a separator, taking JSON escapes whole so a match never ends inside one.
_VALUE_CHAR = r"(?:[^\s\"',;&}\]\\]|\\.)"

# These patterns are ASCII case-insensitive: their screens are searched for in the lower-
# cased text. Only the secret value is replaced: whatever runs before the secret word
# ("my" in "my_api_key=…") is kept as it is, so the patterns need not match it.
_KEYED_GROUPS: tuple[tuple[_Rule, ...], ...] = (
    (
        # key=value, key: value, "key": "value"; the key must END with a secret word, so
        # "max_tokens=5" and "daily_token_budget: 0" are left alone.
        _Rule(
            _SECRET_WORD + r"[\"']?\s*[:=]",
            rf"(?P<keep>{_SECRET_WORD}[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\])"
            rf"{_VALUE_CHAR}{{3,}}",
        ),
    ),
    # Authorization headers: everything after the colon up to the end of the value.
    (
        _Rule(
            "authorization",
            rf"(?P<keep>{_WORD_START}authorization[\"']?\s*[:=]\s*[\"']?"
            r"(?:(?:bearer|basic|token|bot)\s+)?)(?:[^\s\"',;\\]|\\.)+",
        ),
    ),
    (_Rule("bearer", rf"(?P<keep>{_WORD_START}bearer(?:\s|\\[nrt])+)[A-Za-z0-9._~+/=-]{{12,}}"),),
    # scheme://user:password@host
    (_Rule("://", r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)"),),
)

# After a quoted key, a value not opened by a quote is a JSON number or literal: its
# replacement is quoted so the JSON stays valid.
_BARE_JSON_VALUE = re.compile(r'"\s*:\s*$')


def _keep_prefix(m: re.Match[str]) -> str:
    keep = m.group("keep")
    if _BARE_JSON_VALUE.search(keep):
        return f'{keep}"{REDACTED}"'
    return keep + REDACTED


_Compiled = tuple[re.Pattern[str], tuple[tuple[re.Pattern[str], re.Pattern[str], _Repl], ...]]


def _compile(
    groups: tuple[tuple[_Rule, ...], ...], flags: int, repl: _Repl
) -> tuple[_Compiled, ...]:
    return tuple(
        (
            re.compile("|".join(rule.screen for rule in group)),
            tuple((re.compile(r.screen), re.compile(r.pattern, flags), repl) for r in group),
        )
        for group in groups
    )


_TOKEN_PATTERNS = _compile(_TOKEN_GROUPS, re.DOTALL, REDACTED)
_KEYED_PATTERNS = _compile(_KEYED_GROUPS, re.IGNORECASE | re.ASCII, _keep_prefix)


def _apply(groups: tuple[_Compiled, ...], text: str, lowered: bool) -> str:
    """Run each pattern whose screen is found in ``text`` (lower-cased with ``lowered``)."""
    # A replacement inserts only "[REDACTED]", which holds no screen of a keyed rule, so
    # the text is lower-cased once for all of them.
    haystack = text.lower() if lowered else text
    for group_screen, rules in groups:
        if group_screen.search(haystack):
            for screen, regex, repl in rules:
                if screen.search(haystack if lowered else text):
                    text = regex.sub(repl, text)
    return text


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and common credential formats replaced by
    ``[REDACTED]`` (see the module docstring for the list)."""
    if not text:
        return text
    secrets, pattern = _registered
    if pattern is not None:
        # A few "in" tests are much cheaper than one scan with the pattern.
        for secret in secrets:
            if secret in text:
                text = pattern.sub(REDACTED, text)
                break
    text = _apply(_TOKEN_PATTERNS, text, lowered=False)
    return _apply(_KEYED_PATTERNS, text, lowered=True)
