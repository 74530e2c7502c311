"""The prior-CAR-T stance: what a trial's eligibility text says about people who had CAR-T.

`classify_prior_car_t` reads eligibility text alone and returns a `Stance` with the deciding
sentence verbatim; `trialfinder.cart.profile` puts it in a study's CAR-T profile. The words are
found by `trialfinder.cart.reading` with the vocabulary of `trialfinder.cart.vocab`.

How the prior-CAR-T stance is decided
-------------------------------------
The criteria are split into sections (inclusion / exclusion headers in their many spellings,
inline "Exclusion Criteria:" too; donor sections are skipped; text before a lone exclusion
header counts as inclusion), then into items (bullets, numbers, nesting, with each item's
lead-in line) and sentences. Markdown escapes (``\\>``, ``\\[``, ``\\*``) are undone for
matching only: the evidence returned is always the verbatim sentence.

Records reach here with markdown escapes already undone (`trialfinder.text`); older exports'
wrapped lines (no blank line between, no bullet, a hanging indent or a line stopped
mid-sentence) are joined into their item, and a wrapped item is one sentence: its evidence is
the whole item.

Each CAR mention (spellings, product names, stems, "genetically modified cell therapy") is
first judged by the nearest cue before it: "prior", "received", "relapse after", ... make it
prior therapy; "prior to", "at the time of", "eligible to receive", "manufacturing of",
"the study", "contraindication to", ... make it the trial's own product, which is ignored.
Sentences about pregnancy or contraception are ignored. Each remaining sentence gets a verdict:

- "not excluded", "not required", "with or without", "regardless of" -> allowed (explicit)
- exclusion section, "have not received / no prior / CAR-T-naive" -> required
- "not allowed / not eligible / excluded" after the mention, or "no prior / must not have /
  naive" (outside the exclusion section) -> excluded, unless a washout makes it conditional
  ("... after CAR-T who are not eligible for transplant" is about the transplant: no verdict)
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
  downgraded to allowed (explicit): prior CAR-T is permitted, not needed; so is one followed
  by "or were unwilling / unable / ineligible to receive CAR-T".
- a requirement that binds only some patients ("patients whose disease is still CD19-positive
  must first have received CD19 CAR-T", "if it was available", "candidates for CAR-T must have
  received it") -> allowed: others may enter without CAR-T.
- inclusion: after-effects of CAR-T (cytopenia, aplasia, CRS, ICANS, infections, loss of
  persistence) after it or within N days of it -> required.
- prior therapy named by its target or a class that includes CAR-T ("CD19-directed therapy",
  "any anti-BCMA agent", "agents against GPRC5D", "gene therapy", "any cellular therapy",
  "adoptive cell therapy", "T-cell redirecting therapy"), counted only in texts that name a
  blood cancer or a blood-cancer target: an exclusion -> excluded, an exception -> allowed, a
  washout -> allowed only when the window binds the term (a few words after it, no comma
  between); a requirement of therapy against a target a CAR-T product is aimed at ("relapse
  after anti-CD19 therapy") is one CAR-T against it meets -> allowed; one of a broad class
  ("relapse after cell immunotherapy") or against another target ("anti-CD38 therapy",
  antibodies) does not name CAR-T and decides nothing.
- the trial's own product: a cue before the mention ("prior to", "eligible / ineligible
  for", "manufacturing of") or a sentence that opens on the time after it and goes on with no
  word of disease or prior therapy ("After treatment with CLL1 CAR-T, the subject must have a
  donor") -> no verdict.
- no section header: only the unambiguous phrasings above count; a bare "Prior CAR-T" stays
  unmentioned.

The rule that decided is returned with the stance (`Stance.rule`, the `prior_car_t_rule`
column), in words: "washout", "exclusion, by target or class", "a requirement for some
patients only", ...

Precedence when several sentences speak: required > allowed (explicit) > excluded > allowed
(conditional) > unmentioned. So a cohort that requires prior CAR-T wins over everything; an
explicit allowance ("prior CAR-T is allowed for B-ALL") wins over a subgroup exclusion; an
exclusion of all prior CAR-T wins over a washout. The evidence is the first sentence (in text
order) carrying the winning verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from trialfinder.cart.reading import (
    class_names_target,
    clean_markup,
    cue,
    narrow,
    normalise_mentions,
    plans_after_own,
    read_brackets,
    unbracketed,
)
from trialfinder.cart.sentences import Sentence, could_hold, criteria_sentences
from trialfinder.cart.vocab import vocabulary
from trialfinder.errors import InvalidOption
from trialfinder.schema import PRIOR_CAR_T_LABELS

__all__ = [
    "PRIOR_CAR_T_LABELS",
    "UNMENTIONED",
    "Stance",
    "classify_prior_car_t",
]

_SECTIONS = ("inclusion", "exclusion", "")


@dataclass(frozen=True)
class Stance:
    """What the eligibility criteria say about people who already had CAR-T."""

    label: str  # one of PRIOR_CAR_T_LABELS
    evidence: str  # the deciding sentence, verbatim ("" when unmentioned)
    section: str  # "inclusion", "exclusion" or ""
    rule: str = ""  # the rule that decided, in words ("washout", "exclusion", ...)

    def __post_init__(self) -> None:
        if self.label not in PRIOR_CAR_T_LABELS:
            raise InvalidOption("prior CAR-T label", self.label, PRIOR_CAR_T_LABELS)
        if self.section not in _SECTIONS:
            raise InvalidOption("criteria section", self.section, ("inclusion", "exclusion", '""'))


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
_M = r"(?:zcarz|zmodz|zclsz)"
_NUM = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|thirty|sixty|ninety)"
)
_UNIT = r"(?:days?|weeks?|wks?|months?|mos?|years?|half[- ]lives|d\b)"


_MENTION = re.compile(_M)


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
    r"|\bpermitted\b|\ballowed\b|(?<!not )(?<!in)\beligible\b|\bacceptable\b"
    r"|\b(?:is|are)\s+(?:ok|okay|fine)\b"
)
_CONDITIONAL = _rx(
    r"\b(?:if|when|whether|in case)\b[^.;]{0,60}@M"
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
    r"|myeloma|leuk(?:a)?emia|loss|lost)\b[^.;]{0,80}?\b(?:after|following|post|since|to|despite|on|from|with"
    r"|within\s+@NUM\s*@UNIT\s+of)[\s,]+(?:[\w/+-]+[\s,]+){0,5}?@M"
    r"|@M[- ]+(?:failure|failed|refractory|relapsed|exposed|pretreated|experienced|treated)\b"
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


_REQUIREMENT_RULES = ("one route in among several ('or')", "a requirement for some patients only")
_BOUND_WASHOUT = _rx(
    r"zclsz[^,;]{0,30}?(?:\bwithin|\bless than|<|≤|\bin the (?:last|past|previous)|\bduring"
    r"|\bno more than|\bfewer than|\b@NUM\s*@UNIT\s+(?:before|prior|of|since|from))"
)
# "candidates for CAR-T must have received it": the pronoun refers back to the mention.
_IT_RECEIVED = _rx(
    r"@M[^.;]{0,40}?\b(?:must|should)\s+(?:first\s+|already\s+)?have\s+(?:received|had)\s+"
    r"(?:it|them|this|one)\b"
)
# A requirement that binds only some patients: "patients whose disease is still CD19-positive
# must first have received CD19 CAR-T", "if it was available", "candidates for CAR-T must have
# received it". Others may enter without CAR-T, so prior CAR-T is allowed, not required.
_SOME_PATIENTS = _rx(
    r"\b(?:patients|subjects|participants|those|people|individuals)\s+(?:whose|who\s+(?:are|were)"
    r"\s+(?:eligible|candidates|still)|with\s+[\w-]+[- ]positive|eligible\s+for)\b"
    r"|\bif\s+(?:it\s+)?(?:was|were|is)\s+(?:available|accessible|indicated|approved)"
    r"|\bwhere\s+(?:available|approved|accessible)\b|\bif\s+eligible\b"
)


def _negated_after(norm: str) -> bool:
    """'CAR-T is not allowed', not '... after CAR-T who are not eligible for transplant':
    ineligibility followed by 'for' / 'to' and something that is not CAR-T is about that."""
    for m in _NEG_AFTER.finditer(norm):
        rest = norm[m.end() : m.end() + 60]
        elsewhere = re.match(r"\s+(?:for|to)\b", rest) and not re.search(_M, rest)
        if not (elsewhere and "eligible" in m.group()):
            return True
    return False


# "... or were unwilling/unable to receive prior CAR-T": a route in for those without it.
_WITHOUT_IT = _rx(
    r"\b(?:unwilling|unable|ineligible|not eligible|not (?:a )?candidates?|refus\w*|declin\w*"
    r"|intoleran\w*|no access|not accessible|unavailable)\b[^.;]{0,40}?@M"
)


def _is_alternative(norm: str) -> bool:
    """Whether a requirement is one OR'd route in: another part names a route without CAR-T
    (a transplant, other therapy) or one for those who could not have it."""
    parts = re.split(r"\b(?:or|and/or)\b", norm)
    return len(parts) > 1 and any(
        (not re.search(_M, p) and _ALT_WORDS.search(p)) or (i and _WITHOUT_IT.search(p))
        for i, p in enumerate(parts)
    )


def _verdict(norm: str, section: str, lead: str, alternative: bool) -> tuple[int, str] | None:
    """The verdict for one normalised sentence and the rule that gave it (see the module
    docstring), or None."""
    if _NOT_EXCLUDED.search(norm):
        return ALLOWED, "explicit allowance ('not excluded', 'with or without')"
    if section == "exclusion" and _NEG_PRIOR.search(norm):
        return REQUIRED, "exclusion of those who have not had it"
    if _negated_after(norm) or _NEG_PRIOR.search(norm):
        if _WASHOUT.search(norm):
            return CONDITIONAL, "washout"
        return EXCLUDED, "not allowed / no prior"
    if section != "inclusion" and _EXCEPT.search(norm):
        return ALLOWED, "exception ('except', 'unless', 'other than')"
    if _ALLOW.search(norm) and not _COHORT_ENTRY.search(norm):
        return ALLOWED, "explicit allowance ('allowed', 'eligible')"
    if section != "exclusion" and _CONDITIONAL.search(norm):
        return CONDITIONAL, "conditional allowance ('if previously treated, must')"
    if section == "exclusion":
        if _WASHOUT.search(norm):
            return CONDITIONAL, "washout"
        if _QUALIFIED.search(norm):
            return CONDITIONAL, "exclusion limited to toxicity"
        short = len(norm.split()) <= 8
        if _has_prior(norm) or _PRIORISH.search(norm + " " + lead) or short:
            return EXCLUDED, "exclusion"
        return None
    if section == "inclusion" and _RECOVERED.search(norm):
        return CONDITIONAL, "recovery condition"
    required: tuple[int, str] | None = None
    if _REQ_DISEASE.search(norm) or ("(" in norm and _REQ_DISEASE.search(unbracketed(norm))):
        required = REQUIRED, "relapse, response or after-effects after it"
    elif _MUST_HAVE.search(norm) or _HEAD_PRIOR.search(norm) or _IT_RECEIVED.search(norm):
        required = REQUIRED, "must have received it"
    elif _WASHOUT.search(norm):
        return CONDITIONAL, "washout"
    elif section == "inclusion" and _has_prior(norm) and not plans_after_own(norm):
        required = REQUIRED_BARE, "prior therapy in the inclusion list"
    if required and (alternative or _is_alternative(norm)):
        return ALLOWED, "one route in among several ('or')"
    if required and _SOME_PATIENTS.search(norm):
        return ALLOWED, "a requirement for some patients only"
    return required


def _has_prior(norm: str) -> bool:
    """Whether any remaining mention has a prior-therapy cue before it (and after the last one)."""
    return any(
        cue(re.split(r"[;:]|zcarz|zmodz|zclsz|zownz", norm[: m.start()])[-1]) == "prior"
        for m in re.finditer(_M, norm)
    )


_CAR_KINDS = ("car", "modified")


def classify_prior_car_t(criteria: str | None) -> Stance:
    """The trial's stance on people who already had CAR-T, with the deciding sentence verbatim."""
    vocab = vocabulary()
    if not criteria:
        return UNMENTIONED
    # Read as `clean_markup` reads a sentence: full-width punctuation narrowed, one for one.
    mentioned, anchored = vocab.mentions_anchored(
        criteria if criteria.isascii() else narrow(criteria)
    )
    if not mentioned:
        if not anchored:  # a bracketed target is an anchor too
            return UNMENTIONED
        bracketed = read_brackets(criteria)  # "(BCMA)-directed therapy" alone
        if bracketed is None or not vocab.mentions(bracketed):
            return UNMENTIONED
    text = criteria
    # Whether class terms count in this text: asked the first time a sentence holds one.
    classes = cache(lambda: vocab.class_context(text))

    best: tuple[int, str, Sentence] | None = None
    wanted = could_hold(criteria, _MENTION, mentioned)  # a sentence no mention meets: nothing
    if wanted is not None and not any(m.kind in _CAR_KINDS for m in mentioned) and not classes():
        return UNMENTIONED  # class terms only, where they do not stand for CAR-T: no token
    for sentence in criteria_sentences(criteria, wanted):
        if wanted is not None and not wanted(sentence.start, sentence.end):
            continue
        clean = clean_markup(criteria[sentence.start : sentence.end])
        low = clean.lower()
        # No anchor, no mention: the sentence would normalise to itself, lower-cased.
        if (not vocab.could_mention(clean) and not _MENTION.search(low)) or _SKIP_TOPIC.search(low):
            continue
        norm = normalise_mentions(clean, classes=classes)
        if not _MENTION.search(norm):
            continue
        found = _verdict(norm, sentence.section, sentence.lead, sentence.alternative)
        if found and "zcarz" not in norm and "zmodz" not in norm:
            found = _by_class(found, norm, clean)
        if found and found[0] in (REQUIRED, REQUIRED_BARE) and sentence.lead_text:
            found = _by_lead(found, sentence.lead_text, classes)
        if found and (best is None or found[0] > best[0]):
            best = (found[0], found[1], sentence)
    if best is None:
        return UNMENTIONED
    verdict, rule, sentence = best
    section = sentence.section if sentence.section in _SECTIONS else ""
    return Stance(_LABEL[verdict], criteria[sentence.start : sentence.end], section, rule)


def _by_lead(found: tuple[int, str], lead: str, classes: Callable[[], bool]) -> tuple[int, str]:
    """A requirement under a lead-in that names CAR-T as a condition ("if they have relapsed
    after CAR-T, then:") or as one OR'd route in ("... after transplant or have relapsed
    following CAR-T and meet the following criteria:") details that condition or route: prior
    CAR-T is permitted, not needed."""
    if not vocabulary().could_mention(lead):
        return found
    norm = normalise_mentions(lead, classes=classes)
    if not _MENTION.search(norm):
        return found
    if _CONDITIONAL.search(norm):
        return CONDITIONAL, "a condition for those who had it ('if ..., then:')"
    if _REQ_DISEASE.search(norm) and _is_alternative(norm):
        return ALLOWED, "one route in among several ('or')"
    return found


def _by_class(found: tuple[int, str], norm: str, clean: str) -> tuple[int, str] | None:
    """A verdict from prior therapy named by its target or class ("CD19-directed therapy",
    "any cellular therapy"): an exclusion, washout or exception covers CAR-T as it stands. A
    requirement of therapy against a target ("relapse after CD19-directed therapy") is one
    that CAR-T against it meets, without being needed: allowed. A requirement of a broad class
    ("relapse after cell immunotherapy", which CIK or DC vaccines meet too) does not name
    CAR-T, and decides nothing. A washout counts only when it binds the class term (a few
    words after it, no comma between): a window at the end of a list may belong to another
    item."""
    verdict, rule = found
    if verdict in (REQUIRED, REQUIRED_BARE) or rule in _REQUIREMENT_RULES:
        if class_names_target(clean):
            return ALLOWED, "a requirement of therapy against a target, which CAR-T meets"
        return None  # "relapse after cell immunotherapy": CAR-T not named, say nothing
    if rule == "washout" and not _BOUND_WASHOUT.search(norm):
        return None  # "... or adoptive cell therapy, autologous HSCT within 12 months"
    return verdict, f"{rule}, by target or class"
