"""Where a vocabulary mention could be: its literal anchors, found in one pass (Aho–Corasick).

`trialfinder.cart.vocab` derives the anchors from the vocabulary (every mention holds one) and
runs its precise patterns only around the places this finds. pyahocorasick is imported here
and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import ahocorasick

__all__ = ["AnchorScan"]

# The characters IGNORECASE matches with an anchor letter although their lower case differs
# (İ ı ſ, the Kelvin sign, ϰ; tests/test_speed_paths.py checks every code point): text holding
# one is scanned whole.
_CASE_TWINS = re.compile("[\u0130\u0131\u017f\u212a\u03f0]")


class _Automaton:
    """One Aho–Corasick automaton over a set of words."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted(set(words)))
        self._automaton = ahocorasick.Automaton()
        for word in self.words:
            self._automaton.add_word(word, len(word))
        if self.words:
            self._automaton.make_automaton()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of every word in text (overlaps included)."""
        if not self.words:
            return []
        return [(end + 1 - size, end + 1) for end, size in self._automaton.iter(text)]

    def found_in(self, text: str) -> bool:
        """Whether any word occurs in text."""
        return bool(self.words) and next(self._automaton.iter(text), None) is not None


class AnchorScan:
    """Anchors looked for in lower-cased text (`folded`) and in the text as it is (`cased`)."""

    def __init__(self, folded: Iterable[str], cased: Iterable[str]) -> None:
        self.folded = _Automaton(w.lower() for w in folded)
        self.cased = _Automaton(cased)
        for word in (*self.folded.words, *self.cased.words):
            if not word:
                raise ValueError("an empty anchor")

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """Every anchor's (start, end) in text, sorted; None when text must be scanned whole
        (its lower case has another length, or it holds a case twin)."""
        low = text.lower()
        if not text.isascii() and (len(low) != len(text) or _CASE_TWINS.search(text)):
            return None
        return sorted(self.folded.spans(low) + self.cased.spans(text))

    def found_in(self, text: str) -> bool:
        """Whether text could hold a mention: an anchor is in it (or a case twin)."""
        low = text.lower()
        if not text.isascii() and (len(low) != len(text) or _CASE_TWINS.search(text)):
            return True
        return self.cased.found_in(text) or self.folded.found_in(low)
