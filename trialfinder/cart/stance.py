"""CAR-T decisions for one study: is it a CAR product trial, and what it says about prior CAR-T.

`profile_study` reads a raw ClinicalTrials.gov API v2 study object (any module may be missing)
and returns a `CarTProfile`; `classify_prior_car_t` reads eligibility text alone. The vocabulary
(products, targets, spellings, drug classes) is data, compiled once by `trialfinder.cart_vocab`.

How the prior-CAR-T stance is decided
-------------------------------------
The criteria are split into sections (inclusion / exclusion headers in their many spellings,
inline "Exclusion Criteria:" too; donor sections are skipped; text before a lone exclusion
header counts as inclusion), then into items (bullets, numbers, nesting, with each item's
lead-in line) and sentences. Markdown escapes (``\\>``, ``\\[``, ``\\*``) are undone for
matching only: the evidence returned is always the verbatim sentence.

Each CAR mention (spellings, product names, stems, "genetically modified cell therapy") is
first judged by the nearest cue before it: "prior", "received", "relapse after", ... make it
prior therapy; "prior to", "at the time of", "eligible to receive", "manufacturing of",
"the study", "contraindication to", ... make it the trial's own product, which is ignored.
Sentences about pregnancy or contraception are ignored. Each remaining sentence gets a verdict:

- "not excluded", "not required", "with or without", "regardless of" -> allowed (explicit)
- exclusion section, "have not received / no prior / CAR-T-naive" -> required
- "not allowed / not eligible / excluded" after the mention, or "no prior / must not have /
  naive" (outside the exclusion section) -> excluded, unless a washout makes it conditional
- "except / other than / unless / with the exception of" -> allowed (explicit)
- "allowed / permitted / eligible / may be included" -> allowed (explicit)
- inclusion "if previously treated with CAR-T, must ..." -> allowed (conditional)
- exclusion section: a washout ("within 30 days", "less than 3 months since", "at least 42
  days must have elapsed") -> allowed (conditional): prior CAR-T is fine once the window has
  passed; a qualified exclusion ("CAR-T with grade >= 3 CRS", "active ICANS from prior CAR-T")
  -> allowed (conditional); otherwise a prior CAR-T mention -> excluded.
- inclusion section: relapse / progression / cytopenia / response after CAR-T, "must have
  received", or a sentence that opens with "Received CAR-T ..." -> required (a time window
  then only dates the required therapy); "... are eligible for cohort C" defines a cohort and
  is not an allowance; a washout without those -> allowed (conditional); any other prior
  mention ("history of CAR-T") -> required. A requirement that is only one OR'd route in
  ("relapse after transplant or CAR-T", an item ending in OR, "any of the following:") is
  downgraded to allowed (explicit): prior CAR-T is permitted, not needed.
- no section header: only the unambiguous phrasings above count; a bare "Prior CAR-T" stays
  unmentioned.

Precedence when several sentences speak: required > allowed (explicit) > excluded > allowed
(conditional) > unmentioned. So a cohort that requires prior CAR-T wins over everything; an
explicit allowance ("prior CAR-T is allowed for B-ALL") wins over a subgroup exclusion; an
exclusion of all prior CAR-T wins over a washout. The evidence is the first sentence (in text
order) carrying the winning verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trialfinder.cart.vocab import (
    Mention,
    Sentence,
    canonical_target,
    clean_markup,
    criteria_sentences,
    cue,
    known_targets,
    normalise_mentions,
    own_car_mentions,
    parse_targets,
    server_expression,
    vocabulary,
)
from trialfinder.errors import InvalidOption, SourceError
from trialfinder.text import strings_in, strip_controls

__all__ = [
    "CART_COLUMNS",
    "PRIOR_CAR_T_LABELS",
    "CarTProfile",
    "Stance",
    "canonical_target",
    "classify_prior_car_t",
    "describe_stance",
    "evidence_span",
    "known_targets",
    "parse_targets",
    "profile_row",
    "profile_study",
    "row_of",
    "server_expression",
]

PRIOR_CAR_T_LABELS = ("required", "allowed", "excluded", "unmentioned")
CART_COLUMNS = (
    "car_t",
    "car_targets",
    "car_cell_source",
    "car_cell_type",
    "therapy_classes",
    "prior_car_t",
    "prior_car_t_evidence",
    "prior_car_t_section",
)
_SECTIONS = ("inclusion", "exclusion", "")


@dataclass(frozen=True)
class Stance:
    """What the eligibility criteria say about people who already had CAR-T."""

    label: str  # one of PRIOR_CAR_T_LABELS
    evidence: str  # the deciding sentence, verbatim ("" when unmentioned)
    section: str  # "inclusion", "exclusion" or ""

    def __post_init__(self) -> None:
        if self.label not in PRIOR_CAR_T_LABELS:
            raise InvalidOption("prior CAR-T label", self.label, PRIOR_CAR_T_LABELS)
        if self.section not in _SECTIONS:
            raise InvalidOption("criteria section", self.section, ("inclusion", "exclusion", '""'))


@dataclass(frozen=True)
class CarTProfile:
    """CAR-T facts about one study."""

    car_t: bool
    car_targets: tuple[str, ...]
    car_cell_source: str
    car_cell_type: str
    therapy_classes: tuple[str, ...]
    prior_car_t: Stance


UNMENTIONED = Stance("unmentioned", "", "")
# Sentences about pregnancy or contraception time the study's own infusion, never prior therapy.
_SKIP_TOPIC = re.compile(r"pregnan|contracept|breast[- ]?feed|lactat|child[- ]?bearing|fathering")

# -- the verdict for one sentence ------------------------------------------------------------------

# Verdicts, strongest first. A bare prior mention in the inclusion list ("History of CAR-T")
# is required too, but a sentence saying why ("relapse after CAR-T") is better evidence.
REQUIRED, REQUIRED_BARE, ALLOWED, EXCLUDED, CONDITIONAL = 5, 4, 3, 2, 1
_LABEL = {
    REQUIRED: "required",
    REQUIRED_BARE: "required",
    ALLOWED: "allowed",
    EXCLUDED: "excluded",
    CONDITIONAL: "allowed",
}
_M = r"(?:zcarz|zmodz)"
_NUM = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|thirty|sixty|ninety)"
)
_UNIT = r"(?:days?|weeks?|wks?|months?|mos?|years?|half[- ]lives|d\b)"


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a verdict pattern; @M stands for a mention, @NUM for a number, @UNIT for a unit."""
    return re.compile(pattern.replace("@NUM", _NUM).replace("@UNIT", _UNIT).replace("@M", _M))


_NOT_EXCLUDED = _rx(
    r"\bnot\s+(?:be\s+)?(?:considered\s+)?(?:an?\s+)?(?:excluded|exclusionary|exclusion)\b"
    r"|\bnot\s+(?:required|mandatory|necessary)\b|\bwith or without\b|\bregardless of\b"
    r"|\birrespective of\b"
)
_NEG_PRIOR = _rx(
    r"\b(?:have|has|had|having)\s+not\s+(?:\w+\s+){0,2}?(?:received|attempted|had|undergone"
    r"|been\s+(?:treated|exposed)|failed|tried)\b"
    r"|\bnot\s+(?:have\s+)?(?:previously\s+)?(?:received|been\s+treated|undergone|had)\b"
    r"|\bno\s+(?:prior|previous|history\s+of|treatment\s+with|exposure\s+to)\b"
    r"|@M[- ]?na[iï]ve|\bna[iï]ve\s+to\b|\bnever\s+(?:\w+\s+)?(?:received|been\s+treated|had)"
)
_NEG_AFTER = _rx(
    r"@M[^.;]*?\b(?:not\s+(?:be\s+)?(?:allowed|permitted|eligible|acceptable|accepted|included)"
    r"|ineligible|prohibited|excluded|disqualif\w*)\b"
)
_EXCEPT = _rx(
    r"\b(?:except|excepting|exception|other than|excluding|apart from|aside from|unless)\b"
)
_ALLOW = _rx(
    r"\b(?:may|can|could|will)\s+(?:also\s+)?(?:be\s+)?(?:deemed\s+)?(?:enrolled?|included|eligible"
    r"|allowed|permitted|participate|considered)\b|\b(?:may|can|could)\s+(?:also\s+)?include\b"
    r"|\bpermitted\b|\ballowed\b|\beligible\b|\bacceptable\b|\b(?:is|are)\s+(?:ok|okay|fine)\b"
)
_CONDITIONAL = _rx(
    r"\b(?:if|when|whether|in case)\b[^.;]{0,40}@M"
    r"|\b(?:patients|subjects|participants|those|individuals|people)\s+(?:who|that|with)\s+"
    r"(?:have\s+|has\s+|had\s+)?(?:previously\s+|already\s+)?"
    r"(?:received|had|been treated with|undergone|prior)\b[^.;]{0,60}@M"
    r"[^.;]*\b(?:must|should|need|needs|require|are required|will need|have to)\b"
)
_WASHOUT = _rx(
    r"(?:\bwithin|\b(?:in|during) the (?:last|past|previous|preceding)"
    r"|<|≤|=<|<=|\bless than|\bfewer than|\bno more than"
    r"|>|≥|>=|=>|\bat least|\bmore than|\bgreater than"
    r"|\b(?:a\s+)?minimum of)\s*(?:the\s+)?(?:last\s+|past\s+)?@NUM\s*@UNIT"
    r"|\b@NUM\s*@UNIT\s+(?:since|from|after|following|post|prior to|before)\b"
    r"|\bwash[- ]?out\b|\b(?:must\s+)?have\s+elapsed\b"
)
_QUALIFIED = _rx(
    r"@M[^.;]{0,60}?\b(?:associated with|complicated by|resulting in|that (?:caused|resulted)"
    r"|causing|leading to|with)\b[^.;]{0,40}?(?:grade|≥|>=|severe|crs|cytokine|icans|neurotox"
    r"|toxicit|hlh|cytopeni|immune effector)"
    r"|(?:toxicit\w*|crs|icans|cytopeni\w*|neurotoxicit\w*|symptoms|gvhd|cytokine release syndrome"
    r"|adverse events?|complications?)\b[^.;]{0,40}?\b(?:from|after|due to|related to|attributed to"
    r"|following|secondary to|caused by)\s+(?:[\w-]+\s+){0,3}?@M"
)
_COHORT_ENTRY = _rx(r"\beligible for (?:the )?(?:cohort|arm|part|group|stratum|expansion)\b")
_HEAD_PRIOR = _rx(
    r"^\W*(?:(?:must|should)\s+have\s+|has\s+|have\s+)?(?:received|had|underwent|undergone"
    r"|been treated with|treated with|previously treated with|history of)\b[^.;]{0,40}@M"
)
_RECOVERED = _rx(r"\brecover\w*\s+from\b[^.;]{0,60}@M")
_REQ_DISEASE = _rx(
    r"\b(?:relaps\w*|recurr\w*|progress\w*|refractory|resistant|fail\w*|persist\w*|residual"
    r"|cytopeni\w*|neutropeni\w*|thrombocytopeni\w*|an(?:a)?emia|aplasia|hypogammaglobulin\w*|icans|crs"
    r"|neurotoxicit\w*|toxicit\w*|respon\w*|remission|cr|pr|vgpr|mrd|disease|infections?|lymphoma"
    r"|myeloma|leuk(?:a)?emia)\b[^.;]{0,80}?\b(?:after|following|post|since|to|despite|on|from|with)"
    r"[\s,]+(?:[\w/+-]+[\s,]+){0,5}?@M"
    r"|@M[- ]+(?:failure|failed|refractory|relapsed|exposed|pretreated|experienced)\b"
)
_MUST_HAVE = _rx(
    r"\b(?:must|should)\s+have\s+(?:\w+\s+){0,2}?(?:received|had|undergone|been\s+treated|failed)"
    r"\b[^.;]{0,40}@M"
)
_PRIORISH = _rx(
    r"\b(?:prior|previous\w*|history|received|receipt|treated|treatment|therapy|exposure|used)\b"
)
_ALT_WORDS = _rx(
    r"transplant|hsct|\bsct\b|\bhct\b|\bbmt\b|chemo|therap|\blines?\b|regimens?|antibod|bispecific"
    r"|inhibitor|blinatumomab|inotuzumab|\w+mab\b|ineligib|not (?:a )?candidate|refus|declin|unable"
    r"|unfit|intoleran|zownz"
)


def _is_alternative(norm: str) -> bool:
    parts = re.split(r"\b(?:or|and/or)\b", norm)
    return len(parts) > 1 and any(
        "zcarz" not in p and "zmodz" not in p and _ALT_WORDS.search(p) for p in parts
    )


def _verdict(norm: str, section: str, lead: str, alternative: bool) -> int | None:
    """The verdict for one normalised sentence (see the module docstring), or None."""
    if _NOT_EXCLUDED.search(norm):
        return ALLOWED
    if section == "exclusion" and _NEG_PRIOR.search(norm):
        return REQUIRED
    if _NEG_AFTER.search(norm) or _NEG_PRIOR.search(norm):
        return CONDITIONAL if _WASHOUT.search(norm) else EXCLUDED
    if (section != "inclusion" and _EXCEPT.search(norm)) or (
        _ALLOW.search(norm) and not _COHORT_ENTRY.search(norm)
    ):
        return ALLOWED
    if section != "exclusion" and _CONDITIONAL.search(norm):
        return CONDITIONAL
    if section == "exclusion":
        if _WASHOUT.search(norm) or _QUALIFIED.search(norm):
            return CONDITIONAL
        short = len(norm.split()) <= 8
        return (
            EXCLUDED if _has_prior(norm) or _PRIORISH.search(norm + " " + lead) or short else None
        )
    if section == "inclusion" and _RECOVERED.search(norm):
        return CONDITIONAL
    required = None
    if _REQ_DISEASE.search(norm) or _MUST_HAVE.search(norm) or _HEAD_PRIOR.search(norm):
        required = REQUIRED
    elif _WASHOUT.search(norm):
        return CONDITIONAL
    elif section == "inclusion" and _has_prior(norm):
        required = REQUIRED_BARE
    if required and (alternative or _is_alternative(norm)):
        return ALLOWED
    return required


def _has_prior(norm: str) -> bool:
    """Whether any remaining mention has a prior-therapy cue before it (and after the last one)."""
    return any(
        cue(re.split(r"[;:]|zcarz|zmodz|zownz", norm[: m.start()])[-1]) == "prior"
        for m in re.finditer(_M, norm)
    )


def classify_prior_car_t(criteria: str | None) -> Stance:
    """The trial's stance on people who already had CAR-T, with the deciding sentence verbatim."""
    if not criteria or not vocabulary().mentions(criteria):
        return UNMENTIONED
    best: tuple[int, Sentence] | None = None
    for sentence in criteria_sentences(criteria):
        clean = clean_markup(criteria[sentence.start : sentence.end])
        if _SKIP_TOPIC.search(clean.lower()):
            continue
        norm = normalise_mentions(clean)
        if "zcarz" not in norm and "zmodz" not in norm:
            continue
        verdict = _verdict(norm, sentence.section, sentence.lead, sentence.alternative)
        if verdict and (best is None or verdict > best[0]):
            best = (verdict, sentence)
    if best is None:
        return UNMENTIONED
    verdict, sentence = best
    section = sentence.section if sentence.section in _SECTIONS else ""
    return Stance(_LABEL[verdict], criteria[sentence.start : sentence.end], section)


def evidence_span(criteria: str, evidence: str) -> tuple[int, int] | None:
    """Where `evidence` sits in `criteria` (start, end), tolerating re-wrapped whitespace."""
    if not criteria or not evidence:
        return None
    at = criteria.find(evidence)
    if at >= 0:
        return at, at + len(evidence)
    pattern = r"\s+".join(re.escape(word) for word in evidence.split())
    m = re.search(pattern, criteria)
    return (m.start(), m.end()) if m else None


_DESCRIPTIONS = {
    "required": "This trial, or one of its groups, is for people who already had CAR-T "
    "therapy. Read the sentence below to see who it is for.",
    "allowed": "This trial allows people who already had CAR-T therapy, possibly with conditions "
    "such as a waiting period.",
    "excluded": "This trial excludes people who already had CAR-T therapy, or some kinds of it. "
    "Read the sentence below, and ask the trial team if unsure.",
    "unmentioned": "The eligibility criteria do not mention prior CAR-T therapy; ask the trial "
    "team.",
}


def describe_stance(stance: Stance) -> str:
    """One plain-English sentence for patients about the trial's stance on prior CAR-T."""
    return _DESCRIPTIONS[stance.label]


# -- the study profile -----------------------------------------------------------------------------


def _module(study: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    protocol = study.get("protocolSection")
    module = protocol.get(name) if isinstance(protocol, Mapping) else None
    return module if isinstance(module, Mapping) else {}


_PRIOR_THERAPY_TAIL = re.compile(
    r"\b(?:after|following|post|previously|prior|exposed|relaps\w* (?:from|after)|"
    r"refractory to|failure of|failed)\b",
    re.IGNORECASE,
)

# Intervention types a CAR product can be registered under (spec enum InterventionType); a study
# whose interventions are all of other types (behavioural, device, procedure, ...) gives none.
_CELL_PRODUCT_TYPES = {"BIOLOGICAL", "GENETIC", "DRUG", "COMBINATION_PRODUCT", "OTHER", None}


def profile_study(study: Mapping[str, Any]) -> CarTProfile:
    """The CAR-T profile of one raw API v2 study object (missing modules are fine)."""
    if not isinstance(study, Mapping):
        raise SourceError(f"not a ClinicalTrials.gov study object: {type(study).__name__}")
    vocab = vocabulary()
    ident, arms = _module(study, "identificationModule"), _module(study, "armsInterventionsModule")
    interventions = [i for i in arms.get("interventions") or () if isinstance(i, Mapping)]
    named = [
        " ; ".join(strings_in(i.get("name")) + strings_in(i.get("otherNames")))
        for i in interventions
    ]
    named += [
        n
        for g in arms.get("armGroups") or ()
        if isinstance(g, Mapping)
        for n in strings_in(g.get("interventionNames"))
    ]
    titles = [
        t for k in ("briefTitle", "officialTitle", "acronym") for t in strings_in(ident.get(k))
    ]
    weak = strings_in(_module(study, "conditionsModule").get("keywords"))
    weak += [d for i in interventions for d in strings_in(i.get("description"))]

    tiers: list[list[tuple[str, list[Mention]]]] = []
    title_not_own = False
    for texts in (named, titles, weak):
        tier = []
        for text in texts:
            own, other = own_car_mentions(text)
            title_not_own |= other and texts is titles
            if own:
                tier.append((text, own))
        tiers.append(tier)
    if title_not_own and not tiers[0]:
        tiers[2] = []
    types = {i.get("type") for i in interventions}
    if interventions and not types & _CELL_PRODUCT_TYPES:
        tiers[1] = tiers[2] = []  # only behavioural, device, procedure... arms: no CAR product
    car_bearing = [pair for tier in tiers for pair in tier]
    car_t = bool(car_bearing)

    targets: list[str] = []
    source, cell_type = "", ""
    if car_t:
        products = [m.product for _, ms in car_bearing for m in ms if m.product]
        # The most specific tier that names a target decides (intervention names before
        # titles before descriptions), and only what precedes a prior-therapy phrase counts:
        # "GPRC5D CAR T cells ... After BCMA Therapy" targets GPRC5D, not BCMA.
        for tier in tiers:
            for text, _ in tier:
                targets += vocab.targets_in(_PRIOR_THERAPY_TAIL.split(text, maxsplit=1)[0])
            if targets:
                break
        targets += [t for p in products for t in p.targets]
        found: set[str] = set()
        for tier in tiers:
            found = set().union(*(vocab.cell_sources_in(t) for t, _ in tier)) if tier else set()
            if found:
                break
        if not found:
            found = {p.source for p in products if p.source != "unknown"}
        source = found.pop() if len(found) == 1 else "unknown"
        cell_type = next((c for t, _ in car_bearing if (c := vocab.cell_type_in(t))), "T")

    classes: list[str] = []
    if car_t:
        key = "T allogeneic" if cell_type == "T" and source == "allogeneic" else cell_type
        classes.append(vocab.car_classes.get(key, "CAR-T"))
    own_texts = {t for t, _ in tiers[0]}
    for text in named or titles:
        if text not in own_texts:
            classes += vocab.classes_in(text)
    criteria = _module(study, "eligibilityModule").get("eligibilityCriteria")
    # Control characters and terminal escapes go first, so the evidence is a verbatim part of
    # the text as it is shown.
    prior = classify_prior_car_t(strip_controls(criteria) if isinstance(criteria, str) else None)
    return CarTProfile(
        car_t=car_t,
        car_targets=tuple(dict.fromkeys(targets)),
        car_cell_source=source,
        car_cell_type=cell_type,
        therapy_classes=tuple(dict.fromkeys(classes)),
        prior_car_t=prior,
    )


def profile_row(study: Mapping[str, Any]) -> dict[str, object]:
    """The profile as a flat dict keyed by CART_COLUMNS, for building a pandas frame."""
    return row_of(profile_study(study))


def row_of(p: CarTProfile) -> dict[str, object]:
    """A profile already computed, as a flat dict keyed by CART_COLUMNS."""
    return {
        "car_t": p.car_t,
        "car_targets": p.car_targets,
        "car_cell_source": p.car_cell_source,
        "car_cell_type": p.car_cell_type,
        "therapy_classes": p.therapy_classes,
        "prior_car_t": p.prior_car_t.label,
        "prior_car_t_evidence": p.prior_car_t.evidence,
        "prior_car_t_section": p.prior_car_t.section,
    }
