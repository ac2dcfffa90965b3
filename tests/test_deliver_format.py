"""Markdown to MarkdownV2 conversion and splitting to Telegram's UTF-16 limit."""

from __future__ import annotations

import re

import pytest
from fakes.botapi import markdown_v2_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odek.deliver.format import TELEGRAM_LIMIT, format_chunks, to_markdown_v2, utf16_len


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("Hello **world**. Done!", r"Hello *world*\. Done\!"),
        ("*it* and _it_ and ~~gone~~", "_it_ and _it_ and ~gone~"),
        ("## Weekly report", "*Weekly report*"),
        ("# Title with **bold** inside", "*Title with bold inside*"),
        ("- one\n* two", "• one\n• two"),
        ("1. first\n2) second", "1\\. first\n2\\) second"),
        ("> quoted.", ">quoted\\."),
        ("use `a_b.c()` here", "use `a_b.c()` here"),
        ("see [the docs](https://ex.com/a_(b)).", r"see [the docs](https://ex.com/a_(b\))\."),
        ("snake_case_name and 2*3*4", r"snake\_case\_name and 2\*3\*4"),
        ("unmatched **bold and `tick", r"unmatched \*\*bold and \`tick"),
        ("a | b is prose", r"a \| b is prose"),
        ("back\\slash {x} #tag +1 -1 =", r"back\\slash \{x\} \#tag \+1 \-1 \="),
        ("---", "——————"),
    ],
)
def test_markdown_converts_to_valid_markdown_v2(markdown: str, expected: str) -> None:
    converted = to_markdown_v2(markdown)
    assert converted == expected
    assert markdown_v2_error(converted) is None


def test_fenced_code_keeps_content_and_escapes_only_backslash_and_backtick() -> None:
    converted = to_markdown_v2('```python\nprint("a.b", "`", "\\\\")\n```')
    assert converted == '```python\nprint("a.b", "\\`", "\\\\\\\\")\n```'
    assert markdown_v2_error(converted) is None


def test_only_a_real_table_becomes_a_pre_block() -> None:
    table = "| a | b |\n|---|---|\n| 1 | 2.5 |"
    assert to_markdown_v2(table) == f"```\n{table}\n```"
    assert to_markdown_v2("| just a pipe line |") == r"\| just a pipe line \|"


def test_unclosed_fence_is_closed_at_the_end() -> None:
    converted = to_markdown_v2("intro\n```\ncode.here")
    assert converted == "intro\n\n```\ncode.here\n```"
    assert markdown_v2_error(converted) is None


def test_short_result_is_one_chunk_with_both_renderings() -> None:
    [chunk] = format_chunks("Done: **3** files.")
    assert chunk.plain == "Done: **3** files."
    assert chunk.markdown_v2 == r"Done: *3* files\."


def test_blank_result_gives_no_chunks() -> None:
    assert format_chunks(" \n\n \n") == []


def test_paragraphs_are_packed_and_cut_only_between_paragraphs() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 150 for n in range(40)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = format_chunks(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert utf16_len(chunk.markdown_v2) <= TELEGRAM_LIMIT
        assert chunk.plain.startswith("Paragraph ")
        assert chunk.plain.endswith("word")
    assert "\n\n".join(c.plain for c in chunks) == text


@pytest.mark.parametrize(
    "unit",
    ["😀", "漢", "👨\u200d👩\u200d👧", "🇩🇪", "é", "👍🏽"],
    ids=["emoji", "cjk", "zwj-family", "flag", "combining", "skin-tone"],
)
def test_long_word_is_cut_between_whole_grapheme_clusters(unit: str) -> None:
    text = unit * (3 * TELEGRAM_LIMIT // utf16_len(unit))
    chunks = format_chunks(text)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert utf16_len(chunk.plain) <= TELEGRAM_LIMIT
        assert utf16_len(chunk.markdown_v2) <= TELEGRAM_LIMIT
        assert chunk.plain.startswith(unit)
        assert len(chunk.plain) % len(unit) == 0
        chunk.plain.encode("utf-8")  # no lone surrogate
    assert "".join(c.plain for c in chunks) == text


def test_limit_is_counted_in_utf16_units_not_characters() -> None:
    text = " ".join(["😀😀😀"] * 2000)  # 6 UTF-16 units + a space per word
    chunks = format_chunks(text)
    assert all(utf16_len(c.plain) <= TELEGRAM_LIMIT for c in chunks)
    assert max(len(c.plain) for c in chunks) < TELEGRAM_LIMIT  # characters < units here
    assert max(utf16_len(c.plain) for c in chunks) > TELEGRAM_LIMIT - 10
    assert " ".join(c.plain.strip() for c in chunks) == text


def test_escaping_growth_is_counted_against_the_limit() -> None:
    text = "a.b! " * 2000  # every dot and bang doubles in MarkdownV2
    chunks = format_chunks(text)
    for chunk in chunks:
        assert utf16_len(chunk.markdown_v2) <= TELEGRAM_LIMIT
        assert markdown_v2_error(chunk.markdown_v2) is None


def test_long_code_block_is_closed_and_reopened_with_its_language() -> None:
    lines = [f"value_{n} = compute({n}) * 2  # step {n}." for n in range(400)]
    text = "Before.\n\n```python\n" + "\n".join(lines) + "\n```\n\nAfter."
    chunks = format_chunks(text)
    code_chunks = [c for c in chunks if "```python" in c.plain]
    assert len(code_chunks) >= 3
    seen: list[str] = []
    for chunk in code_chunks:
        v2 = chunk.markdown_v2
        body = v2[v2.index("```python\n") + len("```python\n") : v2.rindex("\n```")]
        assert v2.count("```") == 2
        assert markdown_v2_error(v2) is None
        assert utf16_len(v2) <= TELEGRAM_LIMIT
        seen += body.split("\n")
    assert seen == lines


def test_code_line_longer_than_a_message_is_wrapped_inside_the_block() -> None:
    line = "x" * (2 * TELEGRAM_LIMIT)
    chunks = format_chunks(f"```\n{line}\n```")
    assert len(chunks) >= 3
    assert all(
        c.markdown_v2.startswith("```\n") and c.markdown_v2.endswith("\n```") for c in chunks
    )
    assert "".join(c.markdown_v2[4:-4] for c in chunks) == line


def test_plain_text_of_a_chunk_is_the_original_markdown() -> None:
    text = "Total: **42** items (see `log.txt`)!"
    [chunk] = format_chunks(text)
    assert chunk.plain == text
    assert "\\" not in chunk.plain


_ALPHABET = st.sampled_from(
    [*"ab xyz_*[]()~`>#+-=|{}.!\\\n", "😀", "漢", "\u200d", "🇩", "\u0301", "**", "```", "\n\n"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(_ALPHABET, max_size=300).map("".join), limit=st.integers(64, 400))
def test_every_chunk_is_valid_markdown_v2_within_the_limit(text: str, limit: int) -> None:
    chunks = format_chunks(text, limit)
    for chunk in chunks:
        assert markdown_v2_error(chunk.markdown_v2) is None, chunk.markdown_v2
        assert utf16_len(chunk.markdown_v2) <= limit
        assert utf16_len(chunk.plain) <= limit
        chunk.plain.encode("utf-8")
        chunk.markdown_v2.encode("utf-8")
    if "`" not in text and "~" not in text and "|" not in text:
        # Nothing is added or dropped: the chunks hold every visible character in order.
        assert re.sub(r"\s", "", "".join(c.plain for c in chunks)) == re.sub(r"\s", "", text)
