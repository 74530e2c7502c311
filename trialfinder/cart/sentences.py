"""Eligibility text split into sections (inclusion / exclusion), items (with each item's
lead-in) and sentences, with their offsets, so that evidence stays a verbatim part of the
text. A semicolon inside brackets ends no sentence; in a text flattened onto one line, the
sentences after "one of the following:" are OR'd routes until the next lead-in; an older
export's numbered sub-list under an item ending in ':' has that item as its lead-in.
`could_hold` says which sentences a mention of the whole text meets, so that the others need
not be read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, islice, pairwise

from trialfinder.cart.reading import BRACKETED_TARGET, clean_markup, narrow, unbracketed
from trialfinder.cart.vocab import Mention, vocabulary

__all__ = ["Sentence", "could_hold", "criteria_sentences"]

_HEADER = re.compile(
    r"^(?P<pre>(?:[A-Za-z][\w/&'()-]*\s+){0,4}?)(?P<kind>inclusion|exclusion|ineligibility)"
    r"(?:\s+(?:criteria|criterion|conditions))?(?:\s*\([^)]*\))?(?:\s+(?:for|in|-|–)\s+[^.:]{1,50})?"
    r"\s*[:：.]?$",
    re.IGNORECASE,
)
_INLINE_HEADER = re.compile(
    r"(?<!\w)(?:(?:key|main|general|patient|participant|subject|donor)\s+)?"
    r"(?P<kind>inclusion|exclusion)\s+criteri(?:a|on)(?:\s*[:：]|(?=\s+1[.)]\s))",
    re.IGNORECASE,
)
_BULLET = re.compile(
    r"^(?:[-*•·+‣◦▪]|\\\*|\d{1,2}[.)]|\(\d{1,2}\)|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,5}[.)]|o)\s+"
)
_SPLIT = re.compile(
    r"(?<=[.;!?。])\s+(?=[A-Z0-9\\*(\[])|(?<=[;。])\s*|\s+(?=(?:[ivx]{1,4}|[a-z]|\d{1,2})[.)]\s+[A-Z])"
    r"|\s+(?=(?:Note|NOTE|N\.B\.)\s*:)"  # "... immunotherapies Note: ADCs are allowed."
)
_ABBREV = re.compile(
    r"(?:\be\.g|\bi\.e|\betc|\bvs|\bapprox|\bincl|\bno|\bdr|\bst|\bfig|\bv)\.$", re.I
)
_ALT_LEAD = re.compile(
    r"\b(?:one|any|either) of (?:the following|these)|\bat least one of|\beither\b"
)
_TRAILING_OR = re.compile(r"\b(?:or|and/or)\s*[;,.]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """One sentence of eligibility text: its span, section and the item it belongs to."""

    start: int
    end: int
    section: str
    lead_text: str  # the item's lead-in line(s), cleaned, in their own case (for mentions)
    alternative: bool  # the item is one OR'd route among several

    @property
    def lead(self) -> str:
        """The lead-in in lower case (for the verdict patterns)."""
        return self.lead_text.lower()


# The EU register's layout: "E.3 | Principal inclusion criteria |".
_REGISTER_CODE = re.compile(r"^[A-Z]\.\d+(?:\.\d+)*\s*\|\s*|\s*\|\s*$")


def _header_kind(line: str) -> str | None:
    stripped = line.strip().strip("*_#").strip()
    if "|" in stripped:
        stripped = _REGISTER_CODE.sub("", stripped).strip()
    if not stripped or _BULLET.match(line.strip()) or len(stripped) > 80:
        return None
    m = _HEADER.match(stripped)
    if not m or (not stripped.endswith((":", "：")) and len(stripped.split()) > 6):
        return None
    if "donor" in m.group("pre").lower():
        return "donor"
    return _kind(m.group("kind"))


def _kind(word: str) -> str:
    """ "exclusion" for exclusion / ineligibility, else "inclusion", by letters lower() keeps
    ("EXCLUSİON", "İNCLUSION")."""
    return "exclusion" if word[0] in "eE" or word[2:3] in ("e", "E") else "inclusion"


class Wanted:
    """Which sentences of a text could hold a mention (`could_hold`): called with a span
    (start, end), False only when no mention and no bracketed target meets it."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        # never falls: bisect finds the first span that ends after a place
        self.ends = list(accumulate((e for _, e in self.spans), max))
        self.last = self.ends[-1] if self.ends else 0  # no span reaches past this

    def __call__(self, start: int, end: int) -> bool:
        at = bisect_right(self.ends, start)  # the first span that ends after `start`
        return at < len(self.spans) and self.spans[at][0] < end


def could_hold(
    text: str, tokens: re.Pattern[str], found: list[Mention] | None = None
) -> Wanted | None:
    """Where in `text` a sentence could hold a mention: a test of a span (start, end) that is
    False only when no mention of the vocabulary in the whole text and no bracketed target
    ("(BCMA)-directed") meets it, so reading the span would find nothing. It looks at the
    text as `clean_markup` reads it: full-width punctuation is one character for one, so
    positions hold. `found` are the mentions of `text` so read, when already scanned. None
    when text must be read everywhere: with escapes (unescaping moves positions), or holding
    one of the normalised `tokens` as written."""
    if "\\" in text:
        return None
    read = text if text.isascii() else narrow(text)
    if tokens.search(read.lower()):
        return None
    mentions = found if found is not None else vocabulary().mentions(read)
    # A mention is a span (a sentence that starts inside one is read too); a bracketed
    # target, the place where reading it starts.
    spans = [(m.start, m.end) for m in mentions]
    spans += [(m.start(), m.start() + 1) for m in BRACKETED_TARGET.finditer(read)]
    return Wanted(spans)


def criteria_sentences(text: str, wanted: Wanted | None = None) -> Iterator[Sentence]:
    """Sentences of eligibility text with their section, lead-in and OR-alternative flag;
    with `wanted` (see `could_hold`), only those of the lines it wants (the others still give
    their section and lead-ins)."""
    lines: list[tuple[int, int, str | None]] = []  # (start, end, header kind or None)
    pos, ascii = 0, text.isascii()
    # Once a header is seen (the first decides the section before it), a line that starts
    # an item of its own after the last wanted span ends the reading: nothing after it is
    # wanted, and nothing before it depends on what follows.
    last, headed = (wanted.last if wanted is not None else len(text) + 1), False
    for raw in text.splitlines(keepends=True):
        start, end, pos = pos, pos + len(raw.rstrip("\r\n")), pos + len(raw)
        if raw.isspace():  # a blank line: no header, item or sentence, and no continuation
            continue  # (the line after it starts an item of its own either way)
        kind = _header_kind(text[start:end])
        if kind:
            if headed and start >= last:
                break
            lines.append((start, end, kind))
            headed = True
            continue
        if lines and _continues(text, lines[-1], start, end):
            lines[-1] = (lines[-1][0], end, None)  # a wrapped line: the same item goes on
            continue
        if headed and start >= last:
            break
        cut = start
        # Every inline header holds "criteri" (its letters have no IGNORECASE twin but İ and
        # ı, which lower() lengthens or keeps): no finditer on the other lines.
        seg = text[start:end]
        inline = "criteri" in seg.lower() or (not ascii and ("\u0130" in seg or "\u0131" in seg))
        for m in _INLINE_HEADER.finditer(text, start, end) if inline else ():
            lines.append((cut, m.start(), None))
            lines.append((m.start(), m.end(), _kind(m.group("kind"))))
            headed = True
            cut = m.end()
        lines.append((cut, end, None))
    kinds = [k for _, _, k in lines if k]
    section = "inclusion" if kinds and kinds[0] == "exclusion" else ""
    stack: list[tuple[int, bool, str]] = []  # (indent, is_bullet, text) of earlier lines
    sub = _SubList()
    for start, end, kind in lines:
        if kind:
            section, stack, sub = kind, [], _SubList()
            continue
        raw = text[start:end]
        body = raw.lstrip(" \t")
        if not body.strip() or section == "donor":
            continue
        indent, bullet = len(raw) - len(body), bool(_BULLET.match(body))
        opened = sub.lead(indent, body)
        if wanted is None or wanted(start + indent, end):  # lead-ins only for lines read
            above = (
                t
                for i, b, t in reversed(stack)
                if i < indent or (i == indent and bullet and not b and _lead_in(t))
            )
            leads = [] if opened is None else [opened]  # the nearest two, cleaned
            leads += map(_cleaned, islice(above, 2 - len(leads)))
            lead_text = " ".join(leads)
            previous_or = (
                bool(stack) and stack[-1][0] == indent and _trailing_or(_cleaned(stack[-1][2]))
            )
            alternative = bool(_alt_lead(lead_text.lower()) or _trailing_or(body) or previous_or)
            yield from _split(text, start + indent, end, section, lead_text, alternative)
        stack.append((indent, bullet, body))


def _cleaned(line: str) -> str:
    return clean_markup(line).strip()


def _lead_in(line: str) -> bool:
    """Whether a line ends in a colon (as `clean_markup` reads it: a full-width one too)."""
    return line.rstrip().endswith((":", "："))


_NUMBER = re.compile(r"^\(?(\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s", re.IGNORECASE)


class _SubList:
    """A list nested under an item by its numbering only, as older exports write it: "5. ...
    and meet the following criteria:" then "1. ...", "2. ..." at the same indent, then "6. ..."
    again. The items numbered from 1 after a numbered item ending in ':' have it as their
    lead-in, until the numbering goes on otherwise."""

    def __init__(self) -> None:
        self.pending: tuple[int, str] | None = None  # (indent, text) of an item ending in ':'
        self.open: tuple[int, str, int] | None = None  # (indent, lead-in, last number)

    def lead(self, indent: int, body: str) -> str | None:
        """The lead-in this line has from a numbered item above it, else None."""
        m = _NUMBER.match(body)
        number = _ordinal(m.group(1)) if m else None
        lead = None
        if self.open and number is not None and self.open[0] == indent:
            if number == self.open[2] + 1:
                lead, self.open = self.open[1], (indent, self.open[1], number)
            else:
                self.open = None
        elif self.pending and number == 1 and self.pending[0] == indent:
            lead, self.open = self.pending[1], (indent, self.pending[1], 1)
        ends = number is not None and _lead_in(body)
        self.pending = (indent, _cleaned(body)) if ends else None
        return lead


def _ordinal(mark: str) -> int:
    """1 for "1", "a" or "i"; the number of a numeral or letter otherwise."""
    low = mark.lower()
    if low.isdigit():
        return int(low)
    roman = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
    return roman.get(low, ord(low[0]) - ord("a") + 1)


def _trailing_or(line: str) -> bool:
    """Whether a line ends with 'or' / 'and/or' (`_TRAILING_OR`); most lines do not end in
    'or' once white space and one ; , or . are taken off, and need no search."""
    tail = line.rstrip()
    if tail.endswith((";", ",", ".")):
        tail = tail[:-1].rstrip()
    return tail[-2:].lower() == "or" and bool(_TRAILING_OR.search(line))


def _alt_lead(lead: str) -> bool:
    """Whether a lead-in offers alternatives (`_ALT_LEAD`: each of its phrases holds ' of ' or
    'either')."""
    return (" of " in lead or "either" in lead) and bool(_ALT_LEAD.search(lead))


_SENTENCE_END = re.compile(r"[.;!?。:]\s*$")


def _continues(text: str, previous: tuple[int, int, str | None], start: int, end: int) -> bool:
    """Whether a line is the wrapped rest of the item on the line before it.

    Older exports wrap items at about 70 characters with a hanging indent; a line goes on the
    item above it when there is no blank line between them, it is no bullet, header or lead-in
    of its own, and it is indented deeper or the line above stopped mid-sentence.
    """
    p_start, p_end, kind = previous
    line, above = text[start:end], text[p_start:p_end]
    body = line.lstrip(" \t")
    if kind or not body.strip() or not above.strip() or "\n" not in text[p_end : start + 1]:
        return False
    if text[p_end:start].count("\n") > 1 or _BULLET.match(body):
        return False
    if line.rstrip().endswith(":"):  # a lead-in of its own, or the end of a wrapped one
        last = above.rsplit("\n", 1)[-1]
        return len(last.strip()) >= 60 and not _SENTENCE_END.search(above)
    first = above.split("\n", 1)[0]
    deeper = len(line) - len(body) > len(first) - len(first.lstrip(" \t"))
    return not above.rstrip().endswith(":") and (deeper or not _SENTENCE_END.search(above))


def _split(
    text: str, start: int, end: int, section: str, lead_text: str, alt: bool
) -> Iterator[Sentence]:
    cuts = [start]
    depth, seen = 0, start  # brackets open at `seen`
    # A wrapped item (it spans lines) is one sentence: its evidence is the whole item.
    for m in () if "\n" in text[start:end] else _SPLIT.finditer(text, start, end):
        if _ABBREV.search(text[max(start, m.start() - 8) : m.start()]):
            continue
        depth += text.count("(", seen, m.start()) - text.count(")", seen, m.start())
        seen = m.start()
        if depth > 0:  # "(ANC <= 1; platelets <= 30; hemoglobin <= 70) after CAR-T": one sentence
            continue
        cuts.append(m.end())
    cuts.append(end)
    listed = False  # inside a flattened "one of the following: * ..., or * ..." list
    for a, b in pairwise(cuts):
        chunk = text[a:b]
        while (bullet := _BULLET.match(chunk.lstrip())) is not None:
            a += len(chunk) - len(chunk.lstrip()) + bullet.end()
            chunk = text[a:b]
        a += len(chunk) - len(chunk.lstrip())
        b -= len(chunk) - len(chunk.rstrip())
        if a < b:
            # a lead-in inside the sentence ("Cohort B must meet: * ...") decides for its rest
            listed = _lists_routes(text[a:b].lower(), listed)
            yield Sentence(a, b, section, lead_text, alt or listed)


def _lists_routes(sentence: str, listed: bool) -> bool:
    """Whether the sentences after this one, on the same line, are routes of an OR'd list: a
    text flattened onto one line keeps "meeting one of the following: * A, or * B. * C" but
    not the nesting, so the list is read as going on until a new lead-in (a sentence ending
    in ':')."""
    if ":" not in sentence:  # the common case: no lead-in here
        return listed
    # "(meeting any of the following: ANC ...; platelets ...)" is an aside
    head, colon, _ = unbracketed(sentence).rpartition(":")
    if not colon:
        return listed
    return _alt_lead(head[-120:]) if head.strip() else listed
