"""The fast paths (issue 11) find exactly what the plain ones find.

`Vocabulary.mentions` skips text that holds none of its prefilter words; `text.strip_controls`
returns clean text untouched. Both are compared with the plain path on every text of every
shared real record and on generated strings.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

import pytest
from cart_labels import RECORDS_DIR, load_records
from hypothesis import given, settings
from hypothesis import strategies as st

from trialfinder.cart import scan as scan_module
from trialfinder.cart import vocab as vocab_module
from trialfinder.cart.reading import clean_markup, read_brackets
from trialfinder.cart.sentences import criteria_sentences
from trialfinder.cart.vocab import vocabulary
from trialfinder.records import Study, parse_study
from trialfinder.text import _CONTROLS, _ESCAPES, all_strings, clean_line, strip_controls


def plain_strip_controls(text: str) -> str:
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def study_texts(study: Study) -> Iterator[str]:
    """Every text the classifier gives `mentions`: names, titles, descriptions, keywords,
    criteria and each criteria sentence as the stance reads it."""
    for i in study.interventions:
        yield " ; ".join(n for n in (i.name, *i.other_names) if n)
        yield from (i.name, *i.other_names)
        if i.description:
            yield i.description
    yield from study.arm_intervention_names
    yield from (study.brief_title, study.official_title, study.acronym)
    yield from study.keywords
    yield from study.conditions
    criteria = study.eligibility_criteria
    if criteria:
        yield criteria
        for s in criteria_sentences(criteria):
            yield clean_markup(criteria[s.start : s.end])


@lru_cache(maxsize=1)
def real_raws() -> tuple[Any, ...]:
    if not RECORDS_DIR.is_dir():
        pytest.skip(f"no shared records at {RECORDS_DIR}")
    return tuple(load_records(RECORDS_DIR).values())


def test_mentions_equal_the_plain_scan_on_every_real_text() -> None:
    vocab = vocabulary()
    texts = {t for raw in real_raws() for t in study_texts(parse_study(raw)) if t}
    skipped = 0
    for text in texts:
        assert vocab.mentions(text) == vocab.plain_mentions(text), text[:200]
        skipped += not vocab.could_mention(text)
    assert len(texts) > 5000 and skipped > len(texts) / 2  # the prefilter does skip


def test_strip_controls_equals_the_plain_path_on_every_real_string() -> None:
    for raw in real_raws():
        for text in all_strings(raw):
            assert strip_controls(text) == plain_strip_controls(text)
            assert clean_line(text) == " ".join(plain_strip_controls(text).split())


_VOCAB_WORDS = sorted(
    {*vocabulary().anchors.folded.words, *vocabulary().anchors.cased}
    | {"CAR", "CAR-T", "car-t", "Car-T", "UCART19", "CART19", "CAR.BCMA", "huCART19", "CAR-NK"}
    | {"chimeric antigen receptor", "CD19-directed", "anti-BCMA", "gene therapy", "leucel"}
    | {"cell therapy", "cellular immunotherapy", "cell-based therapy", "T-cell redirecting"}
    | {"genetically modified", "engineered T cell therapy", "adoptive cell transfer"}
    | {"agents targeting", "CD19", "BCMA", "Kymriah", "tisa-cel", "axi cel", "ide-\ncel"}
    | {"cilta", "Yescarta", "lifileucel", "afamitresgene autoleucel", "IL-13Rα2", "Igκ"}
    | {"\u0130", "\u0131", "\u017f", "\u212a", "\u03f0", "\u03ba", "K", "k", "s", "i", ":"}
)
_GLUE = [" ", "-", "  ", "\n", "/", ".", ",", ";", "(", ")", "", "\t", "\u00a0", "\u2009"]
_PIECES = st.sampled_from(_VOCAB_WORDS) | st.sampled_from(_GLUE) | st.text(max_size=8)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_mentions_equal_the_plain_scan_on_generated_text(text: str) -> None:
    vocab = vocabulary()
    assert vocab.mentions(text) == vocab.plain_mentions(text)
    long = "Prior therapy (any): " * 20 + text + " ; cell " + text
    for variant in (text.upper(), text.lower(), text.title(), long, long.upper()):
        assert vocab.mentions(variant) == vocab.plain_mentions(variant)


def _vocabulary_phrases() -> list[str]:
    """Every name, target and alias the vocabulary holds, and the words pattern entries put
    before or after them (the scan reads back a few words from each anchor)."""
    data = vocabulary().data
    names = [n for p in vocabulary().products for n in p.names]
    names += [n for p in data["not_car_products"] for n in (p["generic"], p["brand"], *p["short"])]
    names += [n for t in data["targets"] for n in (t["name"], *t.get("aliases", ()))]
    words = "anti agents therapies drugs treatments directed targeted against targeting at immune"
    words += " cellular cell based immunotherapy therapy products genetically modified engineered"
    words += " gene transduced T NK CAR CARs chimeric antigen receptor redirecting adoptive stem"
    return sorted({n for n in names if n} | set(words.split()))


_PHRASES = _vocabulary_phrases()
# Runs of what the patterns' [- ]?, [- ]+, \s+ and [- /]* match, and word edges.
_GAPS = st.text(alphabet=" -/\n\t\u00a0", min_size=0, max_size=4)


@st.composite
def _spelled(draw: st.DrawFn) -> str:
    """Vocabulary phrases, each split at its hyphens and spaces and re-joined with generated
    runs of white space, hyphens and slashes, between generated gaps and bits of text."""
    out = []
    for phrase in draw(st.lists(st.sampled_from(_PHRASES), min_size=1, max_size=6)):
        pieces = re.split(r"[\s-]+", phrase)
        out.append("".join(p + draw(_GAPS) for p in pieces))
        out.append(draw(st.sampled_from(_GLUE) | _GAPS | st.text(max_size=3)))
    text = "".join(out)
    return draw(st.sampled_from((text, text.upper(), text.lower(), text.title())))


@settings(max_examples=600, deadline=None)
@given(_spelled())
def test_mentions_equal_the_plain_scan_on_respelled_vocabulary(text: str) -> None:
    vocab = vocabulary()
    assert vocab.mentions(text) == vocab.plain_mentions(text)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.from_regex(vocabulary()._mention_re) | st.sampled_from(_GLUE) | _GAPS, max_size=5
    ).map("".join)
)
def test_mentions_equal_the_plain_scan_on_text_the_regex_generates(text: str) -> None:
    """Text made of what the mention regex itself matches: every alternative, with its own
    runs of white space and hyphens, must hold an anchor no further away than the scan reads
    back (vocab._ENTRY_GAPS)."""
    vocab = vocabulary()
    for variant in (text, text.lower(), text.upper()):
        assert vocab.mentions(variant) == vocab.plain_mentions(variant)


_CONTROL_BITS = ["\x1b[31m", "\x1b]8;;x\x07", "\x9b2J", "\r\n", "\r", "\x00", "\u202e", "\x7f"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_CONTROL_BITS + _GLUE) | st.text(max_size=8)).map("".join))
def test_strip_controls_equals_the_plain_path_on_generated_text(text: str) -> None:
    assert strip_controls(text) == plain_strip_controls(text)
    assert clean_line(text) == " ".join(plain_strip_controls(text).split())


def _pattern_entries() -> list[dict[str, Any]]:
    data = json.loads(
        (resources.files("trialfinder") / "data/cart_vocabulary.json").read_text("utf-8")
    )
    return [
        *data["car_stems"],
        *data["car_spellings"],
        *data["modified_cell_terms"],
        *data["prior_class_terms"],
        *data["not_car_stems"],
        data["target_prefixed_car"],
    ]


def _target_words() -> list[str]:
    data = vocabulary().data
    words = [n for t in data["targets"] for n in (t["name"], *t.get("aliases", ()))]
    return [w for w in words if len(w) > 2 and w.lower() != "kappa"]


def _each_generated_match(
    compiled: re.Pattern[str], examples: int, check: Callable[[str], None]
) -> None:
    """`check` on the match in each string the pattern generates (hypothesis `from_regex`:
    a match with text around it), but those holding a case twin (such text is scanned
    whole)."""

    @settings(max_examples=examples, deadline=None)
    @given(st.from_regex(compiled))
    def each(text: str) -> None:
        found = compiled.search(text)
        assert found is not None
        if not any(c in found.group() for c in scan_module._CASE_TWINS):
            check(found.group())

    each()


@pytest.mark.parametrize("number", range(len(_pattern_entries())))
def test_every_match_of_a_pattern_entry_holds_one_of_its_anchors(number: int) -> None:
    """Each pattern entry lists literals one of which every match holds (its "anchors",
    "{targets}" for the target names): strings its pattern generates each hold one, as
    written for a case-sensitive entry, lower-cased otherwise. (Text with a case twin is
    scanned whole.)"""
    entry = _pattern_entries()[number]
    targets = "|".join(re.escape(w) for w in _target_words())
    pattern = entry["pattern"].replace("{targets}", f"(?:{targets})")
    fold = entry.get("ignore_case", True)
    anchors = [a for a in entry["anchors"] if a != "{targets}"]
    if "{targets}" in entry["anchors"]:
        anchors += _target_words()
    anchors = [a.lower() for a in anchors] if fold else anchors
    assert anchors, entry["pattern"]
    compiled = re.compile(pattern, re.IGNORECASE if fold else 0)

    def holds_an_anchor(match: str) -> None:
        seen = match.lower() if fold else match
        assert any(a in seen for a in anchors), (match, entry["anchors"])

    _each_generated_match(compiled, 150, holds_an_anchor)


_TARGET_ENTRIES = [e for e in _pattern_entries() if "{targets}" in e["anchors"]]


@pytest.mark.parametrize("number", range(len(_TARGET_ENTRIES)))
def test_every_match_of_a_target_entry_holds_one_of_its_partners(number: int) -> None:
    """A target is dropped from the anchors found where no "partner" of the entries it
    anchors is in its run (`scan.partnered`): strings each such pattern generates
    (its targets as the mention regex writes them, "anti-" and "CD19/CD22" included) hold one
    of its partners, lower-cased, in the match itself."""
    entry = _TARGET_ENTRIES[number]
    targets = "|".join(re.escape(w) for w in _target_words())
    listed = rf"(?:anti[- ]?)?(?:{targets})(?:\s*/\s*(?:{targets}))*"
    pattern = entry["pattern"].replace(
        "{targets}", listed if "CARs?" in entry["pattern"] else targets
    )
    compiled = re.compile(pattern, re.IGNORECASE)
    partners = [p.lower() for p in entry["partners"]]
    assert partners and all(p in vocabulary()._partners for p in partners)

    def holds_a_partner(match: str) -> None:
        assert any(p in match.lower() for p in partners), (match, partners)

    _each_generated_match(compiled, 200, holds_a_partner)


def test_targets_without_a_partner_are_dropped_and_mentions_stay_the_same() -> None:
    """ "EGFR mutation" anchors nothing and is not read; "EGFR-directed therapy" and
    "CD19 CAR" are."""
    vocab = vocabulary()
    text = "EGFR mutation, BCMA expression; prior EGFR-directed therapy or CD19 CAR T cells"
    spans = vocab.anchors.spans(text)
    assert spans is not None
    kept = scan_module.partnered(
        text, spans, vocab._lone_targets, vocab._partners, vocab_module._run
    )
    words = [text[a:b] for a, b in kept]
    assert words == ["EGFR", "CD19", "CAR"]  # not the first EGFR, nor BCMA
    assert [text[a:b] for a, b in spans if (a, b) not in kept] == ["EGFR", "BCMA"]
    assert vocab.mentions(text) == vocab.plain_mentions(text)
    assert [text[m.start : m.end] for m in vocab.mentions(text)] == [
        "EGFR-directed therapy",
        "CD19 CAR",
    ]


def test_the_case_twins_are_every_code_point_ignorecase_adds() -> None:
    """The byte scan lower-cases ASCII letters only. IGNORECASE matches an ASCII anchor letter
    with no other character but the case twins, and a letter that is not ASCII ("κ" in "Igκ")
    with no character but its two cases and the twins: text holding one of those is scanned
    as str (`AnchorScan._needs_str`)."""
    words = vocabulary().anchors.folded.words
    letters = {c for w in words for c in w if c.isalpha()}
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(letters)) + "]", re.I)
    rare = set(scan_module.rare_letters(words))
    assert {"κ", "Κ"} <= rare  # "Igκ"
    twins = set(scan_module._CASE_TWINS)
    for t in set(pattern.findall(every)):
        for k in letters:
            if t != k and re.fullmatch(re.escape(k), t, re.I):
                if k.isascii():
                    assert (t.isascii() and t.lower() == k.lower()) or t in twins, (t, k)
                else:
                    assert t in rare or t in twins, (t, k)


def test_the_byte_scan_finds_what_the_str_scan_finds() -> None:
    """Text with letters that are not ASCII gives the same anchors by bytes (each such letter
    one '?') as lower-cased whole; with a case twin or a rare letter it takes the str path."""
    scan = vocabulary().anchors
    for text in (
        "prior CD19 CAR-T ≥ 3 months; gene therapy µg",
        "Prior cell therapy (≤ 90 days) – EGFR–directed",
        "İNCLUSİON: no CAR-T",
        "IGΚ-directed therapy; IL-13RΑ2 CAR",
        "ﬁrst-line chimeric antigen receptor",
    ):
        low = text.lower()
        if len(low) == len(text):
            assert scan.spans(text) == scan._str_spans(text), text
    assert scan.spans("İNCLUSİON: CAR-T") is None


def test_no_part_of_the_mention_regex_can_match_a_separator() -> None:
    """What lets long text be scanned between separators only (vocab._SEPARATORS)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    singles: set[int] = set()
    ranges: list[tuple[int, int]] = []
    odd: list[object] = []

    def walk(items: Any) -> None:
        for op, av in items:
            if op is c.LITERAL:
                singles.add(av)
            elif op is c.IN:
                for o, a in av:
                    if o is c.LITERAL:
                        singles.add(a)
                    elif o is c.RANGE:
                        ranges.append(a)
                    elif o is not c.CATEGORY or a not in (
                        c.CATEGORY_DIGIT,
                        c.CATEGORY_SPACE,
                        c.CATEGORY_WORD,
                    ):
                        odd.append((o, a))
            elif op is c.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op is c.SUBPATTERN:
                walk(av[3])
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                walk(av[2])
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(av[1])
            elif op is not c.CATEGORY or av not in (
                c.CATEGORY_DIGIT,
                c.CATEGORY_SPACE,
                c.CATEGORY_WORD,
            ):
                odd.append(op)  # ANY, NOT_LITERAL, AT (^ $ \b), back references...

    pattern = vocabulary()._mention_re
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    walk(parsed)
    assert not odd
    assert parsed.getwidth()[0] > 0
    for sep in vocab_module._SEPARATORS:
        assert not re.match(r"[\w\s\d]", sep)
        assert ord(sep) not in singles and not any(a <= ord(sep) <= b for a, b in ranges), sep


def _criteria_texts() -> list[str]:
    from cart_families import FAMILY_DEV
    from cart_labels import HAND_CASES, HELDOUT_CASES
    from cart_real import real_text_cases

    texts = [t for raw in real_raws() if (t := parse_study(raw).eligibility_criteria)]
    written = (*FAMILY_DEV, *HAND_CASES, *HELDOUT_CASES, *real_text_cases("dev"))
    texts += [c.text for c in written if c.text]
    return texts


def test_the_stance_reads_only_sentences_that_could_hold_a_mention_and_loses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sentences without an anchor are skipped unread (`reading.could_hold`): the stance and
    its evidence equal those of reading every sentence, on every real and written text."""
    from trialfinder.cart import stance
    from trialfinder.cart.sentences import could_hold

    texts = _criteria_texts()
    assert sum(could_hold(t, stance._MENTION) is not None for t in texts) > 100
    fast = [stance.classify_prior_car_t(t) for t in texts]
    monkeypatch.setattr(stance, "could_hold", lambda text, tokens, found=None: None)
    assert [stance.classify_prior_car_t(t) for t in texts] == fast
    assert {s.label for s in fast} == {"required", "allowed", "excluded", "unmentioned"}


@lru_cache(maxsize=1)
def real_texts() -> frozenset[str]:
    return frozenset(t for raw in real_raws() for t in study_texts(parse_study(raw)) if t)


@pytest.mark.parametrize(
    ("fast", "plain"),
    [("classes_in", "plain_classes_in"), ("class_context", "plain_class_context")],
)
def test_an_anchored_search_equals_its_plain_one_on_every_real_text(fast: str, plain: str) -> None:
    """Therapy classes tried only where their anchors are, and the class context searched only
    around its anchors, find what trying everything everywhere finds."""
    vocab = vocabulary()
    texts = real_texts()
    found = 0
    for text in texts:
        assert getattr(vocab, fast)(text) == getattr(vocab, plain)(text), text[:200]
        found += bool(getattr(vocab, plain)(text))
    assert 100 < found < len(texts)  # both answers are compared


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([rx for _, rx in vocabulary()._class_res]).flatmap(st.from_regex)
        | st.sampled_from(_GLUE)
        | _GAPS,
        max_size=4,
    ).map("".join)
)
def test_therapy_classes_equal_trying_every_class_on_text_the_patterns_generate(
    text: str,
) -> None:
    """Text made of what each class pattern matches: every alternative must hold one of its
    class's anchors (the drugs' names, and the "anchors" its patterns name)."""
    vocab = vocabulary()
    for variant in (text, text.lower(), text.upper()):
        assert vocab.classes_in(variant) == vocab.plain_classes_in(variant)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.from_regex(vocabulary()._class_context_re, fullmatch=True)
        | st.sampled_from(_GLUE)
        | _GAPS,
        max_size=4,
    ).map("".join)
)
def test_class_context_equals_the_plain_search_on_text_the_pattern_generates(text: str) -> None:
    """Text made of what the context pattern matches: every alternative must hold an anchor."""
    vocab = vocabulary()
    for variant in (text, text.lower(), text.upper()):
        assert vocab.class_context(variant) == vocab.plain_class_context(variant)


@pytest.mark.parametrize(
    ("inclusion", "exclusion"),
    [
        ("Inclusion Criteria:", "Exclusion Criteria:"),
        ("İNCLUSİON CRİTERİA:", "EXCLUSİON CRİTERİA:"),
        ("ınclusıon criterıa:", "exclusıon criterıa:"),
    ],
)
def test_a_header_is_found_in_any_spelling_ignorecase_matches(
    inclusion: str, exclusion: str
) -> None:
    """Lines are searched for inline headers only when they hold "criteri" in lower case, or
    one of the letters (İ, ı) whose IGNORECASE match lower() does not keep; a header's kind is
    read from letters lower() keeps."""
    text = f"{inclusion} Relapsed B-ALL ≥ 18 years. {exclusion} Prior CAR-T therapy."
    sections = {text[s.start : s.end]: s.section for s in criteria_sentences(text)}
    assert sections == {
        "Relapsed B-ALL ≥ 18 years.": "inclusion",
        "Prior CAR-T therapy.": "exclusion",
    }
    lines = f"{inclusion}\n* B-ALL\n{exclusion}\n* Prior CAR-T therapy"
    sections = {lines[s.start : s.end]: s.section for s in criteria_sentences(lines)}
    assert sections == {"B-ALL": "inclusion", "Prior CAR-T therapy": "exclusion"}


def _unanchored_texts() -> Iterator[str]:
    for raw in real_raws():
        criteria = parse_study(raw).eligibility_criteria
        if criteria:
            yield criteria
    yield from ("Prior B cell maturation antigen (BCMA)-directed therapy", "(cd19)-targeted")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(vocab_module.vocabulary().targets)), st.sampled_from(_GLUE))
def test_a_bracketed_target_is_an_anchor(target: str, glue: str) -> None:
    """The stance skips the bracket reading ("(BCMA)-directed") in text without anchors."""
    for text in (f"Prior{glue}({target})-directed therapy", f"({target.lower()}) based agents"):
        assert vocabulary().mentions_anchored(text)[1], text


def test_text_without_anchors_gives_no_bracketed_mention() -> None:
    vocab = vocabulary()
    for text in _unanchored_texts():
        if not vocab.mentions_anchored(text)[1]:
            read = read_brackets(text)
            assert read is None or not vocab.mentions(read), text[:200]
