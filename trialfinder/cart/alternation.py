"""Literal words as one regex alternation, built so that `re` tries few of them at a place.

`re` skips an alternative at once when its first item is a plain character or a plain
character class that the text's next character is not; an alternative that starts with a
letter under IGNORECASE is tried in full. So the words are grouped by their first character,
each group led by a case-sensitive class of every character the regex would match there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["alternation"]

# The characters IGNORECASE matches with an ASCII letter besides its two cases (a test in
# tests/test_speed_paths.py checks every code point): Kelvin sign, long s, dotted and
# dotless i.
_TWINS = "\u212a\u017f\u0130\u0131"


def alternation(
    words: Iterable[str], *, loose_hyphen: bool = False, fold: bool | None = None
) -> str:
    """The words, longest first, as an alternation (a hyphen in a word matching '-', ' ' or
    nothing and a space any run of white space or hyphens when `loose_hyphen`).

    With `fold` (True: for use under IGNORECASE; False: case-sensitive) the words that start
    with an ASCII letter or digit are grouped by it, each group keeping their order: two
    words of different groups cannot match at one place, so the alternation matches what the
    plain one does (a test compares them), with a fast first step."""
    parts = []
    for word in sorted(set(words), key=lambda w: (-len(w), w)):  # longest first, then A-Z
        pattern = re.escape(word)
        if loose_hyphen:
            pattern = pattern.replace(r"\-", "[- ]?").replace(r"\ ", r"[\s-]+")
        parts.append(pattern)
    if fold is None or not all(p[0].isascii() and p[0].isalnum() for p in parts):
        return "|".join(parts)
    groups: dict[str, list[str]] = {}
    for part in parts:
        groups.setdefault(part[0].lower() if fold else part[0], []).append(part[1:])
    return "|".join(f"{_lead(head, fold)}(?:{'|'.join(rest)})" for head, rest in groups.items())


def _lead(head: str, fold: bool) -> str:
    """A case-sensitive pattern for the characters the regex matches with `head`."""
    if not fold or not head.isalpha():
        return head
    chars = {head.lower(), head.upper()} | {c for c in _TWINS if re.fullmatch(head, c, re.I)}
    return "(?-i:[" + "".join(sorted(chars)) + "])"
