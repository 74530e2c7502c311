"""The grouped alternations (`trialfinder.cart.alternation`) match what the plain ones match:
on generated strings, and as part of the whole mention regex on every shared real text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_speed_paths import _VOCAB_WORDS, real_raws, study_texts

from trialfinder.cart import vocab as vocab_module
from trialfinder.cart.alternation import alternation
from trialfinder.cart.vocab import Vocabulary, vocabulary
from trialfinder.records import parse_study

_WORDS = ["CD19", "cd19", "CD1a", "CD123", "Kymriah", "kappa", "sipuleucel-T", "ide-cel", "27T51"]
_WORDS += ["i", "is", "iS", "Igκ", "s", "k", "K", "CD 19", "CD-19", "IL-13Rα2", "tisa cel"]
_TWIN_TEXT = st.sampled_from(["\u212a", "\u017f", "\u0130", "\u0131", "-", " ", "  ", "/", "x"])


def _plain(words: list[str], loose: bool) -> str:
    return alternation(words, loose_hyphen=loose)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8),
    st.lists(st.sampled_from(_WORDS) | _TWIN_TEXT | st.text(max_size=4), max_size=10),
    st.booleans(),
)
def test_a_grouped_alternation_matches_what_the_plain_one_matches(
    words: list[str], pieces: list[str], loose: bool
) -> None:
    text = "".join(pieces)
    for variant in (text, text.upper(), text.lower(), text.swapcase()):
        for fold, flags in ((True, re.IGNORECASE), (False, 0)):
            grouped = re.compile(alternation(words, loose_hyphen=loose, fold=fold), flags)
            plain = re.compile(_plain(words, loose), flags)
            for at in range(len(variant) + 1):
                a, b = grouped.match(variant, at), plain.match(variant, at)
                assert (a and a.group()) == (b and b.group()), (words, variant, at, fold)


def test_words_of_one_first_letter_share_a_group_led_by_every_character_it_matches() -> None:
    assert alternation(["kymriah", "KTE-X19", "Kelvin"], fold=True).startswith(
        "(?-i:[Kk\u212a])(?:"
    )
    assert alternation(["CD19", "cd19"], fold=False) == "C(?:D19)|c(?:d19)"
    assert alternation(["(a)", "b"], fold=True) == r"\(a\)|b"  # not a letter first: plain


@pytest.fixture(scope="module")
def ungrouped() -> Vocabulary:
    """The vocabulary compiled with every alternation plain."""
    patch = pytest.MonkeyPatch()
    patch.setattr(
        vocab_module,
        "_alternation",
        lambda words, loose_hyphen=False, fold=None: alternation(words, loose_hyphen=loose_hyphen),
    )
    try:
        return Vocabulary(vocabulary().data)
    finally:
        patch.undo()


def test_the_grouped_mention_regex_finds_what_the_plain_one_finds_on_every_real_text(
    ungrouped: Vocabulary,
) -> None:
    vocab = vocabulary()
    assert vocab._mention_re.pattern != ungrouped._mention_re.pattern
    texts = {t for raw in real_raws() for t in study_texts(parse_study(raw)) if t}
    found = 0
    for text in texts:
        mentions = vocab.plain_mentions(text)
        assert mentions == ungrouped.plain_mentions(text), text[:200]
        assert vocab.plain_class_context(text) == ungrouped.plain_class_context(text)
        found += bool(mentions)
    assert found > 100


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_VOCAB_WORDS) | _TWIN_TEXT | st.text(max_size=6), max_size=12))
def test_the_grouped_mention_regex_finds_what_the_plain_one_finds_on_generated_text(
    ungrouped: Vocabulary, pieces: list[str]
) -> None:
    text = "".join(pieces)
    for variant in (text, text.upper(), text.lower()):
        assert vocabulary().plain_mentions(variant) == ungrouped.plain_mentions(variant)
