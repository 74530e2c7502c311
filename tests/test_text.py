"""Untrusted text is shown without control characters or terminal escapes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trialfinder.text import clean_block, clean_line, strip_controls, truncate


def test_escape_sequences_are_removed() -> None:
    evil = "Trial\x1b[31m RED\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07 \x9b2J\x07bell\x00"
    assert strip_controls(evil) == "Trial RED link bell"


def test_bidi_overrides_are_removed() -> None:
    assert clean_line("abc\u202edef") == "abcdef"


def test_clean_line_folds_whitespace_and_clean_block_keeps_lines() -> None:
    assert clean_line("  a\n\tb   c ") == "a b c"
    assert clean_block("Inclusion:\r\n\n* one  \n* two\x1b[2K") == "Inclusion:\n\n* one\n* two"
    assert clean_line(None) == "" and clean_block(None) == ""


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    out = clean_line(text)
    assert "\x1b" not in out
    assert all(ch == " " or ch.isprintable() or ord(ch) > 0x9F for ch in out)


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_truncate_never_exceeds_width(text: str, width: int) -> None:
    cut = truncate(text, width)
    assert len(cut) <= width
    if len(text) <= width:
        assert cut == text
