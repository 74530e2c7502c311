"""Where a vocabulary mention could be: its literal anchors, found in one pass (Aho–Corasick).

`trialfinder.cart.vocab` derives the anchors from the vocabulary (every mention holds one) and
runs its precise patterns only around the places this finds. ahocorasick_rs (a binding of the
Rust aho-corasick crate) is imported here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import ahocorasick_rs

__all__ = [
    "AnchorScan",
    "gaps_before_anchor",
    "name_anchors",
    "partnered",
    "rare_letters",
    "run_at",
]

# The characters IGNORECASE matches with an anchor letter although their lower case differs
# (İ ı ſ, the Kelvin sign, ϰ; tests/test_speed_paths.py checks every code point): text holding
# one is scanned whole.
_CASE_TWINS = "\u0130\u0131\u017f\u212a\u03f0"


def _whole(text: str, low: str) -> bool:
    """Whether text must be scanned whole: its lower case has another length, or it holds a
    case twin."""
    return not text.isascii() and (len(low) != len(text) or any(c in text for c in _CASE_TWINS))


_GAP_CHARS = re.compile(r"[\s/-]")


def _anchor_chunk(name: str) -> int:
    """Which space-separated chunk of a loose-hyphen name is its anchor: the longest."""
    chunks = name.split(" ")
    return max(range(len(chunks)), key=lambda k: len(chunks[k].replace("-", "")))


def name_anchors(name: str) -> list[str]:
    """Every way a loose-hyphen name's anchor chunk can be written (a hyphen in it matches
    '-', ' ' or nothing; a space in the name matches any run of them, so the chunk is whole in
    every match)."""
    spellings = [""]
    for i, piece in enumerate(name.split(" ")[_anchor_chunk(name)].split("-")):
        joins = ("",) if i == 0 else ("-", " ", "")
        spellings = [s + j + piece for s in spellings for j in joins]
    return spellings


def gaps_before_anchor(name: str) -> int:
    """At most how many runs of white space, hyphens or slashes a spelling of a loose-hyphen
    name has before its anchor chunk."""
    k = _anchor_chunk(name)
    return len(_GAP_CHARS.findall(" ".join(name.split(" ")[:k]))) + (k > 0)


class _Automaton:
    """One Aho–Corasick automaton over a set of words, run on str (code-point offsets)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted(set(words)))
        # Standard match kind: every occurrence, overlapping ones too.
        self._automaton = ahocorasick_rs.AhoCorasick(
            self.words, matchkind=ahocorasick_rs.MatchKind.Standard
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of every word in text (overlaps included)."""
        if not self.words:
            return []
        found = self._automaton.find_matches_as_indexes(text, overlapping=True)
        return [(start, end) for _, start, end in found]


class _ByteAutomaton:
    """One Aho–Corasick automaton over byte strings, run on bytes as a DFA: three to four times
    faster than the str automaton, which also pays for converting text and offsets."""

    def __init__(self, words: Iterable[bytes]) -> None:
        self.words = tuple(words)
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            self.words,
            matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.DFA,
        )

    def found(self, data: bytes) -> list[tuple[int, int, int]]:
        """(word number, start, end) of every occurrence of every word in data, overlapping
        ones too."""
        return self._automaton.find_matches_as_indexes(data, overlapping=True)

    def found_in(self, data: bytes) -> bool:
        """Whether any word occurs in data."""
        return bool(self.words) and bool(self._automaton.find_matches_as_indexes(data))


def rare_letters(words: Iterable[str]) -> str:
    """The characters a text must hold for a word's letters that are not ASCII to be found:
    each of them in both cases (the code points IGNORECASE adds are `_CASE_TWINS`)."""
    rare = {c for w in words for c in w if not c.isascii()}
    forms = {f for c in rare for f in (c, c.lower(), c.upper()) if len(f) == 1}
    return "".join(sorted(forms))


def _char_spans(data: bytes, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte spans of ASCII anchors in UTF-8 data, sorted by start, as code-point offsets."""
    out, byte, char = [], 0, 0
    for start, end in spans:
        char += len(data[byte:start].decode("utf-8"))  # an ASCII byte starts a code point
        byte = start
        out.append((char, char + end - start))  # an ASCII anchor: a byte a code point
    return out


class AnchorScan:
    """Anchors looked for in lower-cased text (`folded`) and in the text as it is (`cased`,
    a handful of case-sensitive spellings).

    Text is scanned as UTF-8 bytes, its ASCII letters lower-cased for the folded anchors
    (every byte of a character that is not ASCII is 0x80 or more, which no ASCII anchor holds
    and `bytes.lower` keeps), and the anchors' byte offsets are turned into the text's own.
    That finds every anchor that text.lower() holds but in a text with a character that
    IGNORECASE matches with an ASCII letter although it is not one (`_CASE_TWINS`), or with a
    letter of an anchor that is not ASCII (κ in "Igκ"): the byte automaton looks for those
    characters too, and such text is scanned as str, lower-cased whole, as it was before."""

    def __init__(self, folded: Iterable[str], cased: Iterable[str]) -> None:
        words = {w.lower() for w in folded}
        self.cased = tuple(sorted(set(cased)))
        if "" in words or "" in self.cased:
            raise ValueError("an empty anchor")
        if not all(w.isascii() for w in self.cased):
            raise ValueError("a case-sensitive anchor that is not ASCII")
        self.folded = _Automaton(words)  # every folded anchor, for the str path
        ascii_words = sorted(w.encode("ascii") for w in words if w.isascii())
        rare = rare_letters(words) + _CASE_TWINS
        self._rare = len(ascii_words)  # word numbers from here on are rare characters
        self._folded = _ByteAutomaton([*ascii_words, *(c.encode("utf-8") for c in rare)])
        self._cased = _ByteAutomaton(w.encode("ascii") for w in self.cased)

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """Every anchor's (start, end) in text, sorted; None when text must be scanned whole
        (its lower case has another length, or it holds a case twin)."""
        data = text.encode("utf-8")  # ASCII text: one byte a character
        found = self._folded.found(data.lower())
        cased = self._cased.found(data)
        if not found and not cased:
            return []
        if len(data) != len(text) and any(number >= self._rare for number, _, _ in found):
            return self._str_spans(text)
        spans = sorted([(start, end) for _, start, end in found + cased])
        return spans if len(data) == len(text) else _char_spans(data, spans)

    def found_in(self, text: str) -> bool:
        """Whether text could hold a mention: an anchor is in it (or a case twin)."""
        if text.isascii():
            data = text.encode("ascii")
            return self._cased.found_in(data) or self._folded.found_in(data.lower())
        return self.spans(text) != []

    def _str_spans(self, text: str) -> list[tuple[int, int]] | None:
        low = text.lower()
        if _whole(text, low):
            return None
        return sorted(self.folded.spans(low) + _find_all(text, self.cased))


def _find_all(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of a few words, by `str.find`."""
    spans = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = text.find(word, at + 1)
    return spans


def run_at(text: str, at: int, separator: re.Pattern[str]) -> tuple[int, int]:
    """Where the run of text between separators that holds position `at` starts and ends."""
    after = separator.search(text, at)
    end = after.start() if after else len(text)
    width = 256
    while True:  # the separator before: the first one in the text before `at`, read backwards
        lo = max(0, at - width)
        before = separator.search(text[lo:at][::-1])
        if before:
            return at - before.start(), end
        if not lo:
            return 0, end
        width *= 4


def partnered(
    text: str,
    spans: list[tuple[int, int]],
    lone: frozenset[str],
    partners: tuple[str, ...],
    run: Callable[[str, int], tuple[int, int]],
) -> list[tuple[int, int]]:
    """spans without the `lone` words (lower-cased) found in a run of text (`run`) that holds
    none of the `partners`: the vocabulary's targets that only the entries anchored by
    "{targets}" hold, each match of which also holds one of those entries' "partners" (a test
    checks it). Every mention still holds a span kept: one of its entry's anchors, which for
    a target entry has its partner in the same run."""
    kept = []
    runs: dict[int, bool] = {}  # the run's end, and whether a partner is in it
    for span in spans:
        start, end = span
        if text[start:end].lower() in lone:
            floor, stop = run(text, start)
            if stop not in runs:
                # A partner is ASCII, and text with a case twin is scanned whole: the run
                # lower-cased holds a partner wherever IGNORECASE would match one.
                low = text[floor:stop].lower()
                runs[stop] = any(partner in low for partner in partners)
            if not runs[stop]:
                continue
        kept.append(span)
    return kept
