"""Secret redaction for everything odek writes or logs.

:func:`redact` replaces, with ``[REDACTED]``:

- every value given to :func:`register_secret` (the configuration registers the API key,
  the bot token and the secrets read from ``secrets.env``);
- well-known credential formats: OpenAI/Anthropic ``sk-…``, GitHub ``ghp_…``/``gho_…``/
  ``github_pat_…``, Groq ``gsk_…``, xAI ``xai-…``, Hugging Face ``hf_…``, AWS access key
  ids ``AKIA…``/``ASIA…``, PEM private keys, JWTs, Slack ``xox?-…``, Stripe
  ``sk_live_…``/``rk_test_…``, Google ``AIza…`` and ``ya29.…``, Twilio ``SK…``, SendGrid
  ``SG.…``, Vault ``hvs.…``, Discord and Telegram bot tokens (``123456:ABC…``, also inside
  ``/bot<token>/`` URLs);
- the value of ``key=value`` / ``key: value`` / ``"key": "value"`` pairs whose key names a
  secret (``api_key``, ``token``, ``password``, ``secret``, …), ``Authorization:`` header
  values and ``Bearer`` tokens; the key itself is kept so the text stays readable;
- the password of ``scheme://user:password@host`` URLs.

Redaction is idempotent: ``redact(redact(t)) == redact(t)``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping

__all__ = ["REDACTED", "forget_secrets", "redact", "register_secret", "scrubbed_environ"]

REDACTED = "[REDACTED]"

# Shorter registered values are ignored: replacing a 3-letter "secret" everywhere would
# mangle ordinary text while protecting nothing.
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secrets_re: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Make :func:`redact` replace every occurrence of ``value`` from now on.

    Surrounding whitespace is ignored; values shorter than 6 characters are ignored.
    Safe to call from any thread.
    """
    global _secrets, _secrets_re
    value = value.strip()
    if len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets = _secrets | {value}
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secrets_re = re.compile("|".join(re.escape(s) for s in ordered))


def forget_secrets() -> None:
    """Drop every registered secret (tests use it to isolate cases)."""
    global _secrets, _secrets_re
    with _lock:
        _secrets = frozenset()
        _secrets_re = None


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
    pattern = _secrets_re
    return {
        name: value
        for name, value in source.items()
        if not _SECRET_NAME.search(name) and not (pattern and pattern.search(value))
    }


_Repl = str | Callable[[re.Match[str]], str]

# Each pattern either replaces the whole match or, when it has a group named ``keep``,
# keeps that prefix (a key name, a URL's user part) and replaces the rest.
_TOKEN_PATTERNS: tuple[str, ...] = (
    # PEM private keys, including a block cut off before its END line.
    r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:.*?-----END[A-Z ]*PRIVATE KEY-----|.*)",
    r"(?<![\w-])sk-[A-Za-z0-9_\-]{20,}",
    r"(?<![\w-])gh[pousr]_[A-Za-z0-9]{30,}",
    r"(?<![\w-])github_pat_[A-Za-z0-9_]{22,}",
    r"(?<![\w-])gsk_[A-Za-z0-9]{20,}",
    r"(?<![\w-])xai-[A-Za-z0-9]{20,}",
    r"(?<![\w-])hf_[A-Za-z0-9]{20,}",
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])",
    r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}",
    r"(?<![\w-])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",
    r"(?<![\w-])whsec_[A-Za-z0-9]{20,}",
    r"(?<![\w-])AIza[0-9A-Za-z_-]{35}",
    r"(?<![\w-])ya29\.[0-9A-Za-z_-]{20,}",
    r"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])",
    r"(?<![\w-])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
    r"(?<![\w-])hv[sb]\.[A-Za-z0-9_-]{20,}",
    r"(?<![\w.-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}",
    # Telegram bot tokens; no word boundary on the left so "/bot123:ABC…" is caught too.
    r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}",
)

_SECRET_KEY = (
    r"[A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|access[_-]?key|secret|token|password|passwd|"
    r"pwd|credentials?|private[_-]?key|session[_-]?id|cookie)"
)

_KEYED_PATTERNS: tuple[str, ...] = (
    # Authorization headers: everything after the colon up to the end of the value.
    r"(?i)(?P<keep>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot)\s+)?)"
    r"[^\s\"',;]+",
    r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}",
    # key=value, key: value, "key": "value"; the key must END with a secret word, so
    # "max_tokens=5" and "daily_token_budget: 0" are left alone.
    rf"(?i)(?P<keep>(?<![A-Za-z0-9])[\"']?{_SECRET_KEY}[\"']?\s*[:=]\s*[\"']?)"
    r"(?!\[REDACTED\])[^\s\"',;&}\]]{3,}",
    # scheme://user:password@host
    r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)",
)


def _compile() -> tuple[tuple[re.Pattern[str], _Repl], ...]:
    def keep_prefix(m: re.Match[str]) -> str:
        return m.group("keep") + REDACTED

    tokens = tuple((re.compile(p, re.DOTALL), REDACTED) for p in _TOKEN_PATTERNS)
    keyed = tuple((re.compile(p), keep_prefix) for p in _KEYED_PATTERNS)
    return tokens + keyed


_PATTERNS = _compile()


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and common credential formats replaced by
    ``[REDACTED]`` (see the module docstring for the list)."""
    if not text:
        return text
    pattern = _secrets_re
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, repl in _PATTERNS:
        text = regex.sub(repl, text)
    return text
