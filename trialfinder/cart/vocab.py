"""The CAR-T vocabulary: products, targets, spellings and drug classes, and the server filter.

The vocabulary is data in data/cart_vocabulary.json, read and compiled once per process.
`trialfinder.cart.reading` reads text with it; `trialfinder.cart.stance` and
`trialfinder.cart.profile` make the decisions. Recognisers return spans into the text they
were given, so evidence can stay verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from trialfinder.cart.alternation import alternation as _alternation
from trialfinder.cart.scan import AnchorScan, gaps_before_anchor, name_anchors, partnered, run_at
from trialfinder.cart.vocab_file import vocabulary_data
from trialfinder.errors import InvalidOption, TrialfinderError

__all__ = [
    "Mention",
    "Product",
    "Vocabulary",
    "canonical_target",
    "known_targets",
    "parse_targets",
    "vocabulary",
]

_L = r"(?<![A-Za-z0-9])"  # left word edge that also treats digits as word characters
_R = r"(?![A-Za-z0-9])"

# No part of the mention regex (lookarounds included) can match one of these characters, and it
# has no ^, $ or \b, so a mention never spans one and a search ending before one behaves as
# it would in the whole text (a test walks the parsed regex): a mention is looked for only in
# the run between them that holds its anchor.
_SEPARATORS = ",;:()[]{}<>=+*&^%$#@!~`\"'\\|?"
_SEPARATOR = re.compile("[" + re.escape(_SEPARATORS) + "]")


def _run(text: str, at: int) -> tuple[int, int]:
    """Where the run of text between separators that holds position `at` starts and ends."""
    return run_at(text, at, _SEPARATOR)


_EDGE = re.compile(_L)  # where a mention may start
# A mention starts at most this many runs of white space, hyphens or slashes before its first
# anchor ("agents directed against CD19": three), or before a name's anchor chunk (counted).
_ENTRY_GAPS = 4
_REACH = 32  # how far a class-context match may reach beyond its anchor, either side


@dataclass(frozen=True)
class Product:
    """One named CAR cell product (approved or investigational)."""

    generic: str
    brand: str
    short: tuple[str, ...]
    codes: tuple[str, ...]
    targets: tuple[str, ...]
    source: str
    cell_type: str
    verified: bool

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling the vocabulary knows for this product."""
        names = [self.generic, self.generic.split()[0], *self.short, *self.codes]
        return tuple(n for n in (*names, self.brand) if n)


@dataclass(frozen=True)
class Mention:
    """A CAR-related phrase found in text.

    kind is "car" (a CAR product or construct), "modified" (genetically modified cell therapy
    as a class), "class" (prior therapy named by its target or a wider class that includes
    CAR-T: "CD19-directed therapy", "gene therapy", "any cellular therapy") or "not_car" (a
    named cell product that is not CAR-T, e.g. lifileucel).
    """

    start: int
    end: int
    kind: str
    product: Product | None = None


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text.casefold())


def _flags(entry: Mapping[str, Any]) -> int:
    return re.IGNORECASE if entry.get("ignore_case", True) else 0


def _scoped(entry: Mapping[str, Any]) -> str:
    """One pattern entry as a group with its own case flag, for use inside an alternation."""
    flag = "i" if entry.get("ignore_case", True) else "-i"
    return f"(?{flag}:{entry['pattern']})"


class Vocabulary:
    """The compiled vocabulary; get the shared instance with `vocabulary()`."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.products = tuple(
            Product(
                generic=p["generic"],
                brand=p.get("brand", ""),
                short=tuple(p.get("short", ())),
                codes=tuple(p.get("codes", ())),
                targets=tuple(p.get("targets", ())),
                source=p.get("source", "unknown"),
                cell_type=p.get("cell_type", "T"),
                verified=bool(p.get("verified", False)),
            )
            for p in data["products"]
        )
        self._product_by_key = {_key(n): p for p in self.products for n in p.names}
        self.product_targets: frozenset[str] = frozenset(
            t for p in self.products for t in p.targets
        )
        self.targets: tuple[str, ...] = tuple(t["name"] for t in data["targets"])
        self._target_by_key: dict[str, str] = {}
        for t in data["targets"]:
            for name in (t["name"], *t.get("aliases", ())):
                self._target_by_key.setdefault(_key(name), t["name"])
        self._compile(data)

    def _compile(self, data: Mapping[str, Any]) -> None:
        not_car = [
            n for p in data["not_car_products"] for n in (p["generic"], p["brand"], *p["short"])
        ]
        not_car_alt = "|".join(
            [f"(?i:{_alternation(filter(None, not_car), loose_hyphen=True, fold=True)})"]
            + [_scoped(s) for s in data["not_car_stems"]]
        )
        names = [n for p in self.products for n in (p.generic, p.brand, *p.short, *p.codes) if n]
        product_alt = _alternation(names, loose_hyphen=True, fold=True)
        target_words = [n for t in data["targets"] for n in (t["name"], *t.get("aliases", ()))]
        targets = [w for w in target_words if len(w) > 2 and w.lower() != "kappa"]
        target_alt = _alternation(targets, fold=True)  # under IGNORECASE
        cased_alt = _alternation(targets, fold=False)
        prefixed = data["target_prefixed_car"]["pattern"].replace(
            "{targets}", rf"(?:anti[- ]?)?(?:{cased_alt})(?:\s*/\s*(?:{cased_alt}))*"
        )
        car_alt = "|".join(
            [_scoped(s) for s in data["car_stems"]]
            + [_scoped(s) for s in data["car_spellings"]]
            + [f"(?-i:{prefixed})"]
        )
        modified_alt = "|".join(_scoped(s) for s in data["modified_cell_terms"])
        class_alt = "|".join(
            "(?i:" + c["pattern"].replace("{targets}", target_alt) + ")"
            for c in data["prior_class_terms"]
        )
        # The literal prefilter: every alternative of the mention regex holds one of these
        # anchors (targets whole, loose-hyphen names by `scan.name_anchors`, pattern entries by
        # their "anchors", "{targets}" standing for the targets), lower-cased unless the entry
        # is case-sensitive.
        folded = [a for n in (*not_car, *names) if n for a in name_anchors(n)]
        cased: list[str] = []
        partners: list[str] = []
        for entry in (
            *data["car_stems"], *data["car_spellings"], *data["modified_cell_terms"],
            *data["prior_class_terms"], *data["not_car_stems"], data["target_prefixed_car"],
        ):  # fmt: skip
            if "{targets}" in entry["anchors"]:  # every match holds a target and a partner
                if not entry["partners"]:
                    raise ValueError("a pattern entry anchored by targets names no partner")
                partners += entry["partners"]
            for anchor in entry["anchors"]:
                if anchor != "{targets}":
                    (folded if entry.get("ignore_case", True) else cased).append(anchor)
        if any(c in _SEPARATORS for a in (*folded, *cased, *targets) for c in a):
            raise ValueError("a mention anchor holds a separator")
        # A target found where no partner is in its run anchors nothing ("EGFR mutation"):
        # only targets that are no other entry's anchor are dropped so (`scan.partnered`).
        others = {a.lower() for a in (*folded, *cased)}
        self._lone_targets = frozenset(t.lower() for t in targets) - others
        self._partners = tuple(sorted({p.lower() for p in partners}))
        if not all(p.isascii() and p for p in self._partners):
            raise ValueError("a partner that is empty or not ASCII")
        self.anchors = AnchorScan([*folded, *(targets if partners else ())], cased)
        gaps = max(gaps_before_anchor(n) for n in (*not_car, *names) if n)
        # Read backwards from an anchor: the rest of its word, then up to that many gaps and
        # the words before them.
        self._back_re = re.compile(rf"[^\s/-]*(?:[\s/-]+[^\s/-]*){{0,{max(gaps, _ENTRY_GAPS)}}}")
        self._mention_re = re.compile(
            f"{_L}(?:(?P<not_car>{not_car_alt})|(?P<product>(?i:{product_alt}))"
            f"|(?P<car>{car_alt})|(?P<modified>{modified_alt})|(?P<class>{class_alt})){_R}"
        )
        context = data["prior_class_context"]["pattern"].replace("{targets}", target_alt)
        self._class_context_re = re.compile(context, re.IGNORECASE)
        self._context_scan = AnchorScan(data["prior_class_context"]["anchors"], ())
        self._target_re = re.compile(
            "|".join(
                f"{_L}(?P<t{i}>{'(?-i:' if t.get('case_sensitive') else '(?i:'}"
                f"{_alternation((t['name'], *t.get('aliases', ())))})){_R}"
                for i, t in enumerate(data["targets"])
            )
        )
        self._compact_re = re.compile(
            r"(?<![A-Za-z])(?:[A-Z]?[a-z]{1,6})?(?:UCART|CART|CAR)-?(\d{1,3})(?!\d)"
        )
        src = data["cell_sources"]
        self._source_res = {
            name: re.compile(f"{_L}(?:{src[name]['pattern']})", _flags(src[name]))
            for name in ("allogeneic", "autologous")
        }
        self._not_about_car = re.compile(src["not_about_car"]["pattern"], re.IGNORECASE)
        self._cell_type_res: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
            (c["name"], re.compile(f"{_L}(?:{c['pattern']})", _flags(c)))
            for c in data["cell_types"]
        )
        self.car_classes: dict[str, str] = dict(data["car_classes"])
        classes: list[tuple[str, re.Pattern[str]]] = []
        # Each class is tried only where one of its anchors is (its drugs' names, and the
        # "anchors" its patterns hold): most names and titles hold none of them.
        self._class_of: dict[str, set[int]] = {}
        for number, c in enumerate(data["therapy_classes"]):
            parts = [_alternation(c["drugs"], loose_hyphen=True)] if c["drugs"] else []
            parts += c["patterns"]
            classes.append((c["name"], re.compile(f"{_L}(?:{'|'.join(parts)}){_R}", re.I)))
            for anchor in [a for d in c["drugs"] for a in name_anchors(d)] + c["anchors"]:
                self._class_of.setdefault(anchor.lower(), set()).add(number)
        self._class_res = tuple(classes)
        self._class_scan = AnchorScan(self._class_of, ())

    # -- recognisers -----------------------------------------------------------------------

    def mentions(self, text: str) -> list[Mention]:
        """CAR, modified-cell, class and not-CAR product mentions in `text`, in order.

        Only text holding an anchor (`could_mention`) is read, and only near each anchor:
        the regex is tried at the word edges a few words before it, up to the next separator.
        `plain_mentions` is the scan of the whole text, which this must equal."""
        return self.mentions_anchored(text)[0]

    def mentions_anchored(self, text: str) -> tuple[list[Mention], bool]:
        """`mentions(text)`, and whether text holds any anchor (`could_mention`): in one scan."""
        spans = self.anchors.spans(text)
        if spans is None:
            return self._scan(text, 0, len(text)), True
        kept = partnered(text, spans, self._lone_targets, self._partners, _run)
        return self._near(text, kept), bool(spans)

    def _near(self, text: str, spans: list[tuple[int, int]]) -> list[Mention]:
        found: list[Mention] = []
        if not spans:
            return found
        pos, i = 0, 0  # no mention starts before pos; spans[i] is the next anchor to read
        while i < len(spans):
            start = spans[i][0]
            if start < pos:
                i += 1
                continue
            floor, end = _run(text, start)  # an anchor holds no separator
            floor = max(pos, floor)
            back = self._back_re.match(text[floor:start][::-1])
            lo = start - back.end() if back else floor
            for edge in _EDGE.finditer(text, lo, start + 1):
                m = self._mention_re.match(text, edge.start(), end)
                if m:
                    found.append(self._mention(m))
                    pos = m.end()  # the same anchor is read again if the mention ends before it
                    break
            else:
                pos, i = start + 1, i + 1
        return found

    def could_mention(self, text: str) -> bool:
        """False only when `text` cannot hold a mention: none of the anchors is in it."""
        return self.anchors.found_in(text)

    def plain_mentions(self, text: str) -> list[Mention]:
        """The mentions found by the full regex alone (what `mentions` must equal)."""
        return self._scan(text, 0, len(text))

    def _scan(self, text: str, start: int, end: int) -> list[Mention]:
        return [self._mention(m) for m in self._mention_re.finditer(text, start, end)]

    def _mention(self, m: re.Match[str]) -> Mention:
        kind = m.lastgroup or "car"
        product = None
        if kind == "product":
            kind, product = "car", self.product(m.group())
        return Mention(m.start(), m.end(), kind, product)

    def class_context(self, text: str) -> bool:
        """Whether class terms ("gene therapy", "CD19-directed therapy") may stand for CAR-T in
        this text: it names a blood cancer or a CAR target (vocabulary `prior_class_context`)."""
        spans = self._context_scan.spans(text)
        if spans is None:
            return self.plain_class_context(text)
        search = self._class_context_re.search
        # Every match holds an anchor and reaches less than _REACH characters past it.
        return any(search(text, max(0, s - _REACH), e + _REACH) for s, e in spans)

    def plain_class_context(self, text: str) -> bool:
        """`class_context` by the pattern alone, over the whole text (what it must equal)."""
        return bool(self._class_context_re.search(text))

    def product(self, name: str) -> Product | None:
        """The product a name (generic, brand, short name or code) refers to."""
        return self._product_by_key.get(_key(name)) or self._product_by_key.get(
            _key(name.split()[0]) if name.split() else ""
        )

    def targets_in(self, text: str) -> list[str]:
        """Canonical CAR targets named in `text` (also CAR19 / CART22 style), in order."""
        hits: list[tuple[int, str]] = []
        for m in self._target_re.finditer(text):
            hits.append((m.start(), self.targets[int((m.lastgroup or "t0")[1:])]))
        for m in self._compact_re.finditer(text):
            name = self._target_by_key.get(f"cd{m.group(1)}")
            if name:
                hits.append((m.start(), name))
        return [name for _, name in sorted(hits)]

    def cell_sources_in(self, text: str) -> set[str]:
        """{"autologous", "allogeneic"} words in text, ignoring e.g. 'allogeneic transplant'."""
        found = set()
        for name, pattern in self._source_res.items():
            for m in pattern.finditer(text):
                if not self._not_about_car.match(text, m.end()):
                    found.add(name)
        return found

    def cell_type_in(self, text: str) -> str | None:
        """The first non-T cell type named in text (NK, macrophage, in vivo, ...), if any."""
        for name, pattern in self._cell_type_res:
            if pattern.search(text):
                return name
        return None

    def classes_in(self, text: str) -> list[str]:
        """Names of the therapy classes whose drugs or phrases occur in text."""
        spans = self._class_scan.spans(text)
        if spans is None:  # case twins or a lower case of another length: try every class
            return self.plain_classes_in(text)
        # An anchor found is ASCII, as written in text (`scan.AnchorScan`).
        tried = set().union(*(self._class_of[text[a:b].lower()] for a, b in spans))
        return [
            name for i, (name, rx) in enumerate(self._class_res) if i in tried and rx.search(text)
        ]

    def could_name_class(self, text: str) -> bool:
        """False only when `text` names no therapy class: none of their anchors is in it."""
        return self._class_scan.found_in(text)

    def plain_classes_in(self, text: str) -> list[str]:
        """The classes found by trying every class pattern (what `classes_in` must equal)."""
        return [name for name, pattern in self._class_res if pattern.search(text)]

    def canonical_target(self, text: str) -> str | None:
        """Case- and hyphen-insensitive lookup of a target name or alias."""
        return self._target_by_key.get(_key(text.strip()), None)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The vocabulary, read from the package data and compiled once per process."""
    try:
        return Vocabulary(vocabulary_data())
    except (KeyError, TypeError, re.error) as exc:  # a packaging bug, not user input
        raise TrialfinderError(f"the CAR-T vocabulary could not be loaded: {exc}") from exc


def known_targets() -> tuple[str, ...]:
    """Canonical CAR target names, in vocabulary order (for validating --target)."""
    return vocabulary().targets


def canonical_target(text: str) -> str | None:
    """The canonical name for a target the user typed ('cd19' -> 'CD19'), or None."""
    return vocabulary().canonical_target(text)


def parse_targets(values: Sequence[str], option: str = "--target") -> tuple[str, ...]:
    """Canonical names for user-typed targets; raises InvalidOption naming the valid ones."""
    out: list[str] = []
    for value in values:
        name = canonical_target(value)
        if name is None:
            raise InvalidOption(option, value, known_targets())
        if name not in out:
            out.append(name)
    return tuple(out)
