"""Reading text with the vocabulary: markup undone for matching, CAR mentions normalised to
tokens, and the cue before each mention (prior therapy, or the study's own product).

Criteria are split into sections, items and sentences by `trialfinder.cart.sentences`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trialfinder.cart.vocab import vocabulary

# -- eligibility text: markup, mentions and the cues around them -----------------------------------

_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
# Full-width punctuation and the no-break space, read as their ASCII selves (one for one).
_WIDE = (("；", ";"), ("，", ","), ("：", ":"), ("（", "("), ("）", ")"), ("\u00a0", " "))


def narrow(text: str) -> str:
    """`text` with `_WIDE` characters replaced (str.translate with a table is several times
    slower on the non-ASCII text that most criteria are: "≥")."""
    for wide, plain in _WIDE:
        if wide in text:
            text = text.replace(wide, plain)
    return text


_TOKENS = {"car": "zcarz", "modified": "zmodz", "class": "zclsz"}
_MERGE = re.compile(
    r"(?:zcarz|zmodz)(?:[- ]+t\b|[- ]+(?:cells?|lymphocytes?)\b|\s*[(\[]\s*(?:zcarz|zmodz)\s*[)\]]"
    r"|[- ]+(?:(?:cell[- ])?(?:therapy|therapies|immunotherapy|immunotherapies|treatments?"
    r"|products?))\b)*"
)
_PRIOR_CUE = re.compile(
    r"(?:\bprior(?!\s+to\b)|\bprevious(?:ly)?|\bearlier|\bhistory of|\breceived|\breceipt of"
    r"|\btreated with|\btreatment with|\bexposed to|\bexposure to|\bafter|\bpost|\bfollowing"
    r"|\bfail\w*|\bfailure (?:of|to|after|on)|\brefractory to|\bresistant to|\brelaps\w*"
    r"|\bprogress\w*|\bsince|\bmost recent|\blast|\bhad|\bunderwent|\bundergone|\battempted"
    r"|\bused|\breceived\s+or\s+(?:are|is)\s+(?:currently\s+)?receiving)\W*$"
)
_OWN_CUE = re.compile(
    r"(?:\bprior to|\bbefore|\buntil|\btime of|\bend of|\bduring|\bbetween\b.{1,40}\band"
    r"|\b(?:in)?eligib\w*(?: (?:for|to receive|to undergo))?|\bcandidates? for"
    r"|\bsuitable for|\bfit for"
    r"|\bindicat\w* for|\breferred for|\bscheduled (?:for|to receive)|\bplann\w* (?:for|to receive)"
    r"|\breceive|\breceiving|\bundergo|\bundergoing|\bmanufactur\w*(?: of)?|\bgenerat\w*(?: of)?"
    r"|\bproduction of|\bcollection for"
    r"|\bagainst|\brisks? of|\bhypersensitivity to|\ballerg\w* to|\bintolerance to"
    r"|\bcontraindications? (?:to|for)|\btolerate|\breinfusion of"
    r"|\bbridging\w*(?: to| for| before)?)\W*$"
)
# "candidates for CAR-T must have received it": the pronoun makes the mention prior therapy.
_RECEIVED_IT = re.compile(
    r"^[^.;]{0,40}?\b(?:must|should)\s+(?:first\s+|already\s+)?have\s+(?:received|had)\s+"
    r"(?:it|them|this|one)\b"
)
_OWN_NEAR = re.compile(r"\b(?:the|this|their|his|her|study)\W*$")
_OWN_AFTER = re.compile(
    r"^\W*(?:infusions?\s+)?(?:is|are|will be)\s+(?:administered|given|infused)"
)


# A target named in brackets before the class word: "B cell maturation antigen (BCMA)-directed
# therapy" reads as "BCMA-directed therapy" (a mention never spans a bracket).
BRACKETED_TARGET = re.compile(
    r"\(([A-Za-z0-9.]{2,12})\)(?=[- ](?:directed|targeted|targeting|specific|based)\b)", re.I
)


def clean_markup(text: str) -> str:
    """Undo markdown escapes and full-width punctuation, and read a bracketed target before a
    class word as the target itself (for matching, never for evidence)."""
    if "\\" in text or not text.isascii():
        text = narrow(_UNESCAPE.sub(r"\1", text) if "\\" in text else text)
    return read_brackets(text) or text


def read_brackets(text: str) -> str | None:
    """`text` with "(BCMA)-directed" read as "BCMA-directed"; None when it holds none."""
    if ")" not in text:
        return None
    read, count = BRACKETED_TARGET.subn(r"\1", text)
    return read if count else None


def normalise_mentions(text: str, *, classes: bool | Callable[[], bool] = True) -> str:
    """Lower-case text with each prior/neutral mention as zcarz / zmodz / zclsz (a target or
    class that includes CAR-T; only when `classes`, which may be a function asked only when
    the text holds a class mention) and the trial's own ones as zownz."""
    found = vocabulary().mentions(text)
    if callable(classes):
        classes = any(m.kind == "class" for m in found) and classes()
    kinds = _TOKENS if classes else {k: v for k, v in _TOKENS.items() if k != "class"}
    mentions = [m for m in found if m.kind in kinds]
    out, pos = [], 0
    for m in mentions:
        out += [text[pos : m.start].lower(), _TOKENS[m.kind]]
        pos = m.end
    out.append(text[pos:].lower())
    merged = _MERGE.sub(lambda m: "zcarz" if "zcarz" in m.group() else "zmodz", "".join(out))
    parts = re.split(r"(zcarz|zmodz|zclsz)", merged)
    for i in range(1, len(parts), 2):
        before = re.split(r"[;:]", parts[i - 1])[-1]
        after = parts[i + 1] if i + 1 < len(parts) else ""
        if is_own(before, after) and not _RECEIVED_IT.match(after):
            parts[i] = "zownz"
    return "".join(parts)


def cue(before: str) -> str | None:
    """'prior' or 'own' from the nearest cue in the ten words before a mention, else None."""
    words = before.split()
    for k in range(min(len(words), 10) + 1):
        tail = " ".join(words[: len(words) - k])
        if _PRIOR_CUE.search(tail):
            return "prior"
        if _OWN_CUE.search(tail) or (k <= 1 and _OWN_NEAR.search(tail)):
            return "own"
    return None


def is_own(before: str, after: str) -> bool:
    """Whether a mention is the trial's own product (its nearest cue, or 'is administered')."""
    return bool(_OWN_AFTER.match(after)) or cue(before) == "own"


def unbracketed(text: str) -> str:
    """Text without its bracketed asides: "cytopenia (ANC <= 1; platelets <= 30) 3 weeks after
    CAR-T" keeps the after-effect and its cause close."""
    return re.sub(r"\s*\([^()]*\)", "", text) if "(" in text else text


# "After treatment with CLL1 CAR-T, the subject must have a stem cell donor": a sentence that
# opens on the time after a CAR-T and goes on with no word of disease, response or prior
# therapy plans what follows the trial's own infusion.
_OPENS_AFTER = re.compile(
    r"^\W*(?:after|following|post)\b(?P<before>[^,;.]{0,60}?)(?:zcarz|zmodz|zclsz)"
    r"(?P<after>[^,;.]{0,30}),(?P<rest>.*)$"
)
_DISEASE_OR_PRIOR = re.compile(
    r"zcarz|zmodz|zclsz|\b(?:relaps|recurr|progress|refractor|resistan|fail|persist|residual"
    r"|respon|remission|cytopeni|aplasia|toxicit|crs\b|icans|loss\b|lost\b|disease|prior\b"
    r"|previous|received|had\b|history|treated|exposure)"
)


def plans_after_own(norm: str) -> bool:
    """Whether a normalised sentence plans what follows the trial's CAR-T (`_OPENS_AFTER`)."""
    m = _OPENS_AFTER.match(norm)
    return m is not None and not any(
        map(_DISEASE_OR_PRIOR.search, m.group("before", "after", "rest"))
    )


def class_names_target(clean: str) -> bool:
    """Whether a class term of the sentence names a target that a CAR-T product of the
    vocabulary is aimed at ("CD19-directed", "anti-BCMA"; not "anti-CD38 therapy", which
    names antibodies only)."""
    vocab = vocabulary()
    aimed = vocab.product_targets
    return any(
        m.kind == "class" and aimed.intersection(vocab.targets_in(clean[m.start : m.end]))
        for m in vocab.mentions(clean)
    )
