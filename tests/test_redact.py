"""Secret redaction: registered values and common credential formats."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odek.redact import REDACTED, forget_secrets, redact, register_secret


@pytest.fixture(autouse=True)
def _no_registered_secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


SECRETS = {
    "openai": "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "openai-project": "sk-proj-" + "Ab3dEf6hIj9kLm2n_Op5qRs8t-Uv1wXy4z",
    "anthropic": "sk-ant-api03-" + "Ab3dEf6hIj9kLm2nOp5qRs8t",
    "github-pat": "ghp_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0123",
    "github-fine": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "groq": "gsk_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    "xai": "xai-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    "huggingface": "hf_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    "aws-akia": "AKIAIOSFODNN7EXAMPLE",
    "aws-asia": "ASIAIOSFODNN7EXAMPLE",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlF",
    "slack": "xoxb-1234567890-abcdefghijkl",
    "stripe": "sk_live_" + "Ab3dEf6hIj9kLm2nOp5q",
    "google-api": "AIza" + "SyAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0",
    "google-oauth": "ya29." + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    "telegram": "123456789:AAH" + "b3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0",
    "sendgrid": "SG." + "Ab3dEf6hIj9kLm2nOp5q" + "." + "Rs8tUv1wXy4z0Ab3dEf6",
    "vault": "hvs." + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
}


@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_known_formats_are_redacted_in_running_text(secret: str) -> None:
    out = redact(f"before {secret} after")
    assert secret not in out
    assert out == f"before {REDACTED} after"


def test_pem_private_key_block_is_redacted_whole() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----"
    assert redact(f"key:\n{pem}\nnext line") == f"key:\n{REDACTED}\nnext line"
    # A block cut off before its END line is redacted to the end of the text.
    assert redact("x -----BEGIN PRIVATE KEY-----\nMIIEow") == f"x {REDACTED}"


def test_bot_token_inside_an_api_url_is_redacted() -> None:
    url = "https://api.telegram.org/bot" + SECRETS["telegram"] + "/sendMessage"
    assert redact(url) == f"https://api.telegram.org/bot{REDACTED}/sendMessage"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_key=abc123xyz", f"api_key={REDACTED}"),
        ("OPENAI_API_KEY=hello-world", f"OPENAI_API_KEY={REDACTED}"),
        ('{"password": "hunter2!", "user": "bob"}', f'{{"password": "{REDACTED}", "user": "bob"}}'),
        ("client_secret: s3cr3tvalue", f"client_secret: {REDACTED}"),
        ("?token=abcdef&page=2", f"?token={REDACTED}&page=2"),
        ("Authorization: Bearer abc.def.ghi", f"Authorization: Bearer {REDACTED}"),
        ("authorization: Basic dXNlcjpwYXNz", f"authorization: Basic {REDACTED}"),
        ("curl -H 'bearer abcdefghijklmnop'", f"curl -H 'bearer {REDACTED}'"),
        ("postgres://app:pa55word@db:5432/x", f"postgres://app:{REDACTED}@db:5432/x"),
    ],
)
def test_keyed_values_keep_the_key_and_lose_the_value(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=512 and daily_token_budget: 0",
        "the meeting is at 12:30:45, id 123456:short",
        "see https://example.com/path?q=1",
        "ordinary prose about skis and sk-8 boards",
        "ask for a token of appreciation",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_registered_secret_is_redacted_wherever_it_appears() -> None:
    register_secret("  correct-horse-battery  ")
    assert redact("id=xcorrect-horse-batteryx") == f"id=x{REDACTED}x"
    assert redact("say correct-horse-battery twice: correct-horse-battery") == (
        f"say {REDACTED} twice: {REDACTED}"
    )


def test_longer_registered_secret_wins_over_its_prefix() -> None:
    register_secret("abcdef")
    register_secret("abcdefghijkl")
    assert redact("v abcdefghijkl v") == f"v {REDACTED} v"


def test_short_registered_values_are_ignored() -> None:
    register_secret("abc")
    register_secret("")
    assert redact("abc abc") == "abc abc"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(list("ab:=_-/@.\n") + list(SECRETS.values())), max_size=40))
def test_redaction_is_idempotent_and_removes_every_known_secret(words: list[str]) -> None:
    text = " ".join(words)
    once = redact(text)
    assert redact(once) == once
    for secret in SECRETS.values():
        assert secret not in once


def test_scrubbed_environ_drops_credential_names_and_registered_values() -> None:
    from odek.redact import forget_secrets, register_secret, scrubbed_environ

    register_secret("hunter2-but-longer")
    try:
        env = scrubbed_environ(
            {
                "PATH": "/usr/bin",
                "OPENAI_API_KEY": "x",
                "GITHUB_TOKEN": "y",
                "DB_PASSWORD": "z",
                "INNOCENT": "prefix hunter2-but-longer suffix",
            }
        )
    finally:
        forget_secrets()
    assert env == {"PATH": "/usr/bin"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"api_key": "abc123xyz", "user": "bob"}, {"api_key": REDACTED, "user": "bob"}),
        ({"token": 123456, "tokens": 12}, {"token": REDACTED, "tokens": 12}),
        ({"event": f"line\n{SECRETS['openai']}"}, {"event": f"line\n{REDACTED}"}),
        ({"event": f"\x12{SECRETS['telegram']}"}, {"event": f"\x12{REDACTED}"}),
        (
            {"event": "a\nAuthorization: Basic dXNlcjpwYXNz"},
            {"event": f"a\nAuthorization: Basic {REDACTED}"},
        ),
        (
            {"event": 'password=ab\\"cd', "next": "kept"},
            {"event": f"password={REDACTED}", "next": "kept"},
        ),
        (
            {"key": "x -----BEGIN PRIVATE KEY-----\nMIIEow", "next": "kept"},
            {"key": f"x {REDACTED}", "next": "kept"},
        ),
    ],
)
def test_json_text_is_redacted_as_json(
    value: dict[str, object], expected: dict[str, object]
) -> None:
    assert json.loads(redact(json.dumps(value, ensure_ascii=False))) == expected


def test_registered_secret_is_redacted_in_its_json_escaped_forms() -> None:
    secret = 'qu"ote\\back-é'
    register_secret(secret)
    for ensure_ascii in (False, True):
        text = json.dumps({"event": f"x {secret} y"}, ensure_ascii=ensure_ascii)
        assert json.loads(redact(text)) == {"event": f"x {REDACTED} y"}


_SEPARATORS = [" ", "\n", '"', "\\", "\x12", "→", ":", "/", "="]
_PIECES = [
    *SECRETS.values(),
    "plain",
    "password=",
    "token: ",
    "Authorization: Basic ",
    "https://user:",
    "@host",
    "-----BEGIN PRIVATE KEY-----",
]


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["event", "token", "api_key", "note"]),
        st.one_of(
            st.integers(min_value=-(10**6), max_value=10**6),
            st.none(),
            st.lists(
                st.tuples(st.sampled_from(_SEPARATORS), st.sampled_from(_PIECES)), max_size=8
            ).map(lambda parts: "".join(sep + piece for sep, piece in parts)),
        ),
    )
)
def test_redacted_json_stays_json_and_keeps_no_known_secret(value: dict[str, object]) -> None:
    out = redact(json.dumps(value, ensure_ascii=False))
    decoded = json.loads(out)
    assert set(decoded) == set(value)
    text = json.dumps(decoded, ensure_ascii=False)
    for secret in SECRETS.values():
        assert secret not in text
    assert redact(out) == out
