# ruff: noqa: E501  (the labelled cases read best one per line)
"""Labelled evaluation set for trialfinder.cart, plus the scoring used by the test and benchmark.

Labels were written by reading each text, before and independently of the classifier's output.
Real records are referred to by NCT id only (their text is read from the shared records folder
at run time, never copied here). Label rules used when reading (the same as the module
docstring of trialfinder.cart):

- required: entry needs prior CAR-T (for the whole trial, a cohort, or a named subgroup).
- allowed: prior CAR-T is permitted, also conditionally (washout, "eligible if", an exclusion
  limited to severe toxicity, an "except CAR-T" carve-out, or one of several OR'd routes in).
- excluded: prior CAR-T, all prior genetically modified cell therapy, or same-target therapy
  that includes CAR-T makes the patient ineligible.
- unmentioned: none of these, or too ambiguous to decide (e.g. "adoptive cell immunotherapy"
  with an unclear time window, CAR-T never named).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trialfinder.cart.profile import CarTProfile
    from trialfinder.records import Study

RECORDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "ctgov" / "records"
LABELS = ("required", "allowed", "excluded", "unmentioned")


@dataclass(frozen=True)
class Case:
    """One hand-written criteria text with its expected prior-CAR-T label."""

    name: str
    family: str
    text: str | None
    label: str
    section: str = ""  # expected section of the evidence, when worth checking


# --- (a) real records -------------------------------------------------------------------------

# Every record whose eligibility text mentions CAR-T, chimeric antigen receptor, a product name,
# genetically modified cell therapy or adoptive cell therapy (and the one "shopping cart").
REAL_PRIOR_LABELS: dict[str, tuple[str, str]] = {
    "NCT02650414": (
        "allowed",
        "relapse after CAR-modified T cells is one OR'd route in; prior CART19 'NOT excluded'",
    ),
    "NCT04272125": (
        "excluded",
        "exclusion: received CAR-T or other genetically modified cell therapy",
    ),
    "NCT04501120": (
        "unmentioned",
        "'adoptive cell immunotherapy' only; CAR-T not named, time window ambiguous",
    ),
    "NCT04571138": (
        "required",
        "exclusion of CD19+ patients who have not attempted CD19 CAR-T; 30-day washout",
    ),
    "NCT04714372": (
        "unmentioned",
        "15-year follow-up for the study's genetically modified product",
    ),
    "NCT04835519": ("unmentioned", "reinfusion of the study's own CAR-T cells"),
    "NCT05086315": ("allowed", "'Prior CAR-T therapy is allowed for participants with B-ALL'"),
    "NCT05147467": (
        "unmentioned",
        "'adoptive cell immunotherapy ... within 24 months'; CAR-T not named",
    ),
    "NCT05164042": ("required", "inclusion: failed autologous CAR-T preparation or therapy"),
    "NCT05309213": ("unmentioned", "only the study's own CAR-T infusion timing"),
    "NCT05326516": ("allowed", "exclusion washout: within 21 days of CAR therapy"),
    "NCT05397184": (
        "allowed",
        "exclusion limited to prior CAR therapy with grade >=3 CRS/neurotoxicity",
    ),
    "NCT05480501": ("unmentioned", "only the study's own CAR-T infusion timing"),
    "NCT05507827": ("allowed", "'prior CD19 CAR T cell ... eligible if' no CD19 negativity"),
    "NCT05521087": ("allowed", "exclusion washout: CAR-T within 4 weeks"),
    "NCT05536349": ("allowed", "RT cohort exclusion washout: CAR-T within 60 days"),
    "NCT05587465": ("unmentioned", "'shopping cart'"),
    "NCT05658640": ("allowed", "washout: 42 days after immunotherapy (e.g. CAR-T)"),
    "NCT05739409": (
        "allowed",
        "exclusion washout: CAR-T within 3 months, except undetectable CAR-T",
    ),
    "NCT05740449": ("allowed", "washout: 42 days after immunotherapy (e.g. CAR-T)"),
    "NCT05745714": ("allowed", "washout: 42 days after immunotherapy (e.g. CAR-T)"),
    "NCT05751044": ("allowed", "washout: 42 days after immunotherapy (e.g. CAR-T)"),
    "NCT05942599": ("allowed", "exclusion limited to prior CAR T with grade >=3 CRS/neurotoxicity"),
}

# Real records that do not mention CAR-T (checked with a broad pattern and by eye): every other
# record of the leukaemia download (the hardest negatives: HSCT, blinatumomab, immunotherapy
# washouts), records naming generic cell or gene therapy, two without eligibility text, and a
# spread of other conditions.
REAL_UNMENTIONED: tuple[str, ...] = (
    # leukaemia download
    "NCT01174615", "NCT01515527", "NCT01949129", "NCT02349698", "NCT02560883", "NCT02643888",
    "NCT02724163", "NCT03058588", "NCT03156790", "NCT03294980", "NCT03319901", "NCT03466944",
    "NCT03564470", "NCT03756675", "NCT03826992", "NCT03873311", "NCT03884829", "NCT03895671",
    "NCT03937544", "NCT03974217", "NCT04092803", "NCT04100187", "NCT04157569", "NCT04224974",
    "NCT04251754", "NCT04265963", "NCT04282811", "NCT04411043", "NCT04478006", "NCT04547049",
    "NCT04678869", "NCT04728893", "NCT04747912", "NCT04767152", "NCT04767165", "NCT04789655",
    "NCT04811560", "NCT04856215", "NCT04874480", "NCT04946890", "NCT04965649", "NCT05014165",
    "NCT05035615", "NCT05035706", "NCT05071482", "NCT05236296", "NCT05268003", "NCT05282459",
    "NCT05304754", "NCT05309018", "NCT05321940", "NCT05335226", "NCT05406817", "NCT05458258",
    "NCT05464836", "NCT05497310", "NCT05519384", "NCT05589896", "NCT05645172", "NCT05645718",
    "NCT05649371", "NCT05664230", "NCT05682924", "NCT05712278", "NCT05739630", "NCT05756322",
    "NCT05774990", "NCT05787951", "NCT05793801", "NCT05809050", "NCT05848687", "NCT05866887",
    "NCT05870995", "NCT05886491", "NCT05901974", "NCT05918692", "NCT05993949", "NCT06058572",
    "NCT06111625",
    # generic cell / gene / stem-cell therapy, never CAR-T by name
    "NCT05879978", "NCT05850520", "NCT05819398", "NCT06001671", "NCT06751901", "NCT06751849",
    "NCT06325566", "NCT06589271", "NCT06053242", "NCT04042844", "NCT05878938",
    # no eligibility text in the saved record
    "NCT03453554", "NCT07014020",
    # other conditions
    "NCT00184067", "NCT01562210", "NCT02315053", "NCT02753764", "NCT03367039", "NCT03609918",
    "NCT03955198", "NCT04207047", "NCT04469387", "NCT04650464", "NCT04871997", "NCT05105490",
    "NCT05299762", "NCT05489822", "NCT05651269", "NCT05809934", "NCT05826366", "NCT05844332",
    "NCT05883007", "NCT05897541", "NCT05915728", "NCT05991206", "NCT06050278", "NCT06171568",
    "NCT06361927", "NCT06465238", "NCT06610240", "NCT06863285",
)  # fmt: skip

# The trial's own intervention is a CAR cell product (PROVENANCE.md, checked by reading the
# interventions and titles). Every other real record is a negative.
REAL_CAR_T: frozenset[str] = frozenset(
    {
        "NCT02349698", "NCT02650414", "NCT03937544", "NCT04100187", "NCT04265963",
        "NCT04272125", "NCT04571138", "NCT04835519", "NCT05164042", "NCT05309213",
        "NCT05397184", "NCT05480501", "NCT05507827", "NCT05942599", "NCT05993949",
    }
)  # fmt: skip


def iter_record_studies(directory: Path = RECORDS_DIR) -> Iterator[Mapping[str, Any]]:
    """Study objects from every records/*.json (an envelope with `studies`, a list, or one study)."""
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, Mapping) and isinstance(data.get("studies"), list):
            items: Sequence[Any] = data["studies"]
        elif isinstance(data, list):
            items = data
        else:
            items = [data]
        yield from (s for s in items if isinstance(s, Mapping))


def load_records(directory: Path = RECORDS_DIR) -> dict[str, Mapping[str, Any]]:
    """Distinct studies by NCT id (the first copy wins)."""
    out: dict[str, Mapping[str, Any]] = {}
    for study in iter_record_studies(directory):
        nct = study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
        if isinstance(nct, str):
            out.setdefault(nct, study)
    return out


def criteria_of(study: Mapping[str, Any]) -> str | None:
    value = study.get("protocolSection", {}).get("eligibilityModule", {}).get("eligibilityCriteria")
    return value if isinstance(value, str) else None


def real_prior_cases(records: Mapping[str, Mapping[str, Any]]) -> list[Case]:
    """The real-record part of the prior-CAR-T set, as Cases with text read from the records."""
    cases = [
        Case(nct, "real", criteria_of(records[nct]), label)
        for nct, (label, _why) in REAL_PRIOR_LABELS.items()
    ]
    cases += [
        Case(nct, "real", criteria_of(records[nct]), "unmentioned") for nct in REAL_UNMENTIONED
    ]
    return cases


# --- (b) hand-written criteria ----------------------------------------------------------------

INC = "Inclusion Criteria:\n\n"
EXC = "\n\nExclusion Criteria:\n\n"


def _c(name: str, family: str, text: str | None, label: str, section: str = "") -> Case:
    return Case(name, family, text, label, section)


HAND_CASES: tuple[Case, ...] = (
    # headers in many spellings
    _c("h-standard", "headers", INC + "* Relapsed or refractory LBCL after CAR T-cell therapy" + EXC + "* Active CNS lymphoma", "required", "inclusion"),
    _c("h-key", "headers", "Key Inclusion Criteria\n- Disease progression after prior anti-CD19 CAR-T\nKey Exclusion Criteria\n- Prior allogeneic HSCT within 90 days", "required", "inclusion"),
    _c("h-upper", "headers", "INCLUSION CRITERIA\n1. Age 18 or older\nEXCLUSION CRITERIA\n1. Prior treatment with CAR-T cell therapy", "excluded", "exclusion"),
    _c("h-short", "headers", "Inclusion:\n- ECOG 0-1\nExclusion:\n- Prior chimeric antigen receptor (CAR) T-cell therapy", "excluded", "exclusion"),
    _c("h-inline", "headers", "Inclusion Criteria: 1. Age >= 18. 2. Prior CAR-T therapy is allowed. Exclusion Criteria: 1. Pregnancy.", "allowed", "inclusion"),
    _c("h-lowercase", "headers", "Inclusion criteria\n* Measurable disease\n\nExclusion criteria\n* Received CAR-T therapy", "excluded", "exclusion"),
    _c("h-none-required", "headers", "* Must have relapsed after CAR-T therapy\n* ECOG 0-2", "required"),
    _c("h-none-ambiguous", "headers", "* Prior CAR-T therapy\n* ECOG 0-2", "unmentioned"),
    _c("h-only-exclusion", "headers", "Patients must have:\n- Relapsed disease\n- ECOG 0-1\n\nExclusion Criteria:\n- Prior CAR-T", "excluded", "exclusion"),
    _c("h-word-inclusion-in-item", "headers", INC + "* Age >= 18" + EXC + "* Patients not meeting inclusion criteria for hepatic function\n* Prior CD19-directed CAR-T therapy", "excluded", "exclusion"),
    _c("h-bold", "headers", "**Inclusion Criteria:**\n\n* Relapse after CAR-T\n\n**Exclusion Criteria:**\n\n* Pregnancy", "required", "inclusion"),
    _c("h-cohort-subheaders", "cohort", INC + "Part A (dose escalation):\n* R/R LBCL after at least 2 lines\nPart B (post-CAR-T expansion):\n* R/R LBCL with progression after CAR-T" + EXC + "* Active infection", "required", "inclusion"),
    # bullets, numbering and markdown escapes
    _c("b-nested-and", "bullets", INC + "1. Relapsed disease defined as:\n   a. progression after at least 2 lines of therapy; and\n   b. progression after CAR T-cell therapy", "required", "inclusion"),
    _c("b-escape-lt", "escapes", INC + "* Age \\>= 18" + EXC + "* Prior CAR-T therapy \\< 30 days before enrollment", "allowed", "exclusion"),
    _c("b-escape-brackets", "escapes", INC + "* Age \\>= 18" + EXC + "* Prior cellular therapy (e.g. chimeric antigen receptor T cells \\[CAR-T\\])", "excluded", "exclusion"),
    _c("b-escape-star", "escapes", INC + "\\* Age \\>= 18" + EXC + "\\* Received prior axi-cel", "excluded", "exclusion"),
    _c("b-dot-bullets", "bullets", INC + "• Age ≥ 18" + EXC + "• Previous CAR-T cell infusion", "excluded", "exclusion"),
    _c("b-escape-ge-washout", "escapes", INC + "* \\>= 30 days since CAR-T infusion", "allowed", "inclusion"),
    _c("b-nested-lead", "bullets", INC + "* Age >= 18" + EXC + "1. Prior treatment with:\n   a. CAR-T cell therapy\n   b. allogeneic HSCT", "excluded", "exclusion"),
    # negation and exceptions
    _c("n-not-excluded", "negation", INC + "* Age >= 18" + EXC + "* Prior investigational agents within 4 weeks. Patients who received CAR-T cells more than 4 weeks before screening are not excluded.", "allowed", "exclusion"),
    _c("n-not-allowed", "negation", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy is not allowed.", "excluded", "exclusion"),
    _c("n-not-permitted-incl", "negation", INC + "* Prior CAR-T therapy is not permitted", "excluded", "inclusion"),
    _c("n-except", "negation", INC + "* Age >= 18" + EXC + "* Prior anti-CD19 therapy, except CD19-directed CAR-T cell therapy", "allowed", "exclusion"),
    _c("n-exception-of", "negation", INC + "* Age >= 18" + EXC + "* Prior gene therapy, with the exception of commercial CAR-T products", "allowed", "exclusion"),
    _c("n-unless", "negation", INC + "* Age >= 18" + EXC + "* Prior CAR T-cell therapy, unless relapse occurred more than 3 months after infusion", "allowed", "exclusion"),
    _c("n-must-not", "negation", INC + "* Patients must not have received prior CAR-T therapy", "excluded", "inclusion"),
    _c("n-have-not-in-exclusion", "negation", INC + "* Age >= 18" + EXC + "* Patients who have not received prior CD19 CAR-T therapy", "required", "exclusion"),
    _c("n-no-prior", "negation", INC + "* No prior CAR T-cell therapy\n* ECOG 0-1", "excluded", "inclusion"),
    _c("n-naive", "negation", INC + "* CAR-T naïve patients with R/R myeloma", "excluded", "inclusion"),
    _c("n-not-required", "negation", INC + "* Prior treatment with CAR-T is not required", "allowed", "inclusion"),
    _c("n-not-exclusion-criterion", "negation", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy is not an exclusion criterion", "allowed", "exclusion"),
    # washouts
    _c("w-within-30d", "washout", INC + "* Age >= 18" + EXC + "* CAR-T therapy within 30 days prior to first dose", "allowed", "exclusion"),
    _c("w-received-3mo", "washout", INC + "* Age >= 18" + EXC + "* Received CAR-T within 3 months before enrollment", "allowed", "exclusion"),
    _c("w-less-than", "washout", INC + "* Age >= 18" + EXC + "* Less than 90 days since prior CAR T-cell infusion", "allowed", "exclusion"),
    _c("w-at-least-incl", "washout", INC + "* At least 30 days since prior CAR-T cell therapy", "allowed", "inclusion"),
    _c("w-washout-word", "washout", INC + "* Washout: ≥ 4 weeks from any prior cellular therapy including CAR-T", "allowed", "inclusion"),
    _c("w-list-lead", "washout", INC + "* Age >= 18" + EXC + "* Treatment with any of the following within 28 days: chemotherapy, radiotherapy, CAR T cells, or investigational agents", "allowed", "exclusion"),
    _c("w-last-6-months", "washout", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy in the last 6 months", "allowed", "exclusion"),
    _c("w-genetically-engineered", "modified", INC + "* Age >= 18" + EXC + "* Received genetically engineered T cells within 60 days", "allowed", "exclusion"),
    # conditional allowance
    _c("c-eligible-if", "conditional", INC + "* Patients previously treated with CAR-T are eligible if CD19 expression is confirmed after relapse", "allowed", "inclusion"),
    _c("c-provided", "conditional", INC + "* Prior CAR-T therapy is permitted provided that CAR-T cells are no longer detectable", "allowed", "inclusion"),
    _c("c-toxicity-qualified", "conditional", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy with grade 3 or higher ICANS", "allowed", "exclusion"),
    _c("c-if-previously", "conditional", INC + "* If previously treated with tisa-cel or axi-cel, must have recovered from all toxicities", "allowed", "inclusion"),
    _c("c-with-or-without", "conditional", INC + "* Subjects with or without prior CAR-T therapy are eligible", "allowed", "inclusion"),
    _c("c-active-crs", "conditional", INC + "* Age >= 18" + EXC + "* Active CRS or ICANS from prior CAR T-cell therapy", "allowed", "exclusion"),
    _c("c-who-have-received-must", "conditional", INC + "* Patients who have received prior CAR T-cell therapy must be at least 3 months post-infusion", "allowed", "inclusion"),
    _c("c-permitted-myeloma", "conditional", INC + "* Relapsed/refractory multiple myeloma, triple-class exposed. Prior BCMA CAR-T (ide-cel or cilta-cel) is permitted.", "allowed", "inclusion"),
    # required: relapse / progression / consolidation / care after CAR-T
    _c("r-relapse-after", "required", INC + "* Relapsed or refractory large B-cell lymphoma after CAR-T", "required", "inclusion"),
    _c("r-products-list", "products", INC + "* Progressive disease following treatment with axicabtagene ciloleucel, tisagenlecleucel or lisocabtagene maraleucel", "required", "inclusion"),
    _c("r-cohort-b", "cohort", INC + "Cohort A:\n* Relapsed myeloma after 3 lines\nCohort B:\n* Relapsed myeloma after BCMA-directed CAR-T (ide-cel or cilta-cel)" + EXC + "* Prior allo-SCT", "required", "inclusion"),
    _c("r-cytopenia", "cytopenia", INC + "* Grade ≥3 neutropenia or thrombocytopenia persisting 30 days or more after CAR T-cell infusion", "required", "inclusion"),
    _c("r-consolidation", "consolidation", INC + "* Patients in partial response on day 30 after commercial CAR-T therapy", "required", "inclusion"),
    _c("r-must-have-received", "required", INC + "* Must have received prior CD19-directed CAR-T therapy", "required", "inclusion"),
    _c("r-history-of", "required", INC + "* History of BCMA CAR-T cell therapy", "required", "inclusion"),
    _c("r-failed-or-relapsed", "required", INC + "* Failed or relapsed after CAR-T cell therapy (CAR-T failure cohort)", "required", "inclusion"),
    _c("r-brands", "products", INC + "* Disease progression after Yescarta or Kymriah", "required", "inclusion"),
    _c("r-car19", "spellings", INC + "1. Relapse after CAR19 therapy", "required", "inclusion"),
    _c("r-breyanzi-soc", "products", INC + "* Received Breyanzi as standard of care and now have measurable disease", "required", "inclusion"),
    _c("r-antigen-loss", "required", INC + "* Patients who have experienced CD19-negative relapse after CAR T-cell therapy", "required", "inclusion"),
    _c("r-must-have-received-washout", "required", INC + "* Must have received CAR-T therapy at least 30 days before enrollment", "required", "inclusion"),
    _c("r-early-relapse", "required", INC + "* Early relapse (within 6 months) after CD19 CAR-T", "required", "inclusion"),
    _c("r-b-cell-aplasia", "care-after", INC + "* Participants who received CAR-T cell therapy and have persistent B-cell aplasia", "required", "inclusion"),
    _c("r-icans", "care-after", INC + "* Adults with ICANS following CAR T-cell therapy", "required", "inclusion"),
    _c("r-long-term-follow-up", "care-after", INC + "* Long-term follow-up of patients previously treated with a CAR-T product", "required", "inclusion"),
    _c("r-brexu-cel", "products", INC + "* Relapse after brexu-cel", "required", "inclusion"),
    _c("r-car-modified", "spellings", INC + "* Progression after CAR-modified T cells", "required", "inclusion"),
    # OR'd routes in: prior CAR-T allowed, not required
    _c("o-or-transplant", "alternatives", INC + "* Relapsed disease after autologous stem cell transplant or CAR-T therapy", "allowed", "inclusion"),
    _c("o-any-of", "alternatives", INC + "1. Any of the following:\n   a. Second or later relapse\n   b. Relapse after CAR T-cell therapy\n   c. Primary refractory disease", "allowed", "inclusion"),
    _c("o-trailing-or", "alternatives", INC + "* Relapse after CAR-T therapy OR\n* Refractory to two prior lines", "allowed", "inclusion"),
    _c("o-ineligible-or-relapsed", "alternatives", INC + "* Patients who are ineligible for, or have relapsed after, CAR-T therapy", "allowed", "inclusion"),
    # genetically modified cell therapy as a class
    _c("g-any-gm", "modified", INC + "* Age >= 18" + EXC + "* Prior treatment with any genetically modified cell therapy", "excluded", "exclusion"),
    _c("g-gene-modified", "modified", INC + "* Age >= 18" + EXC + "* Prior gene-modified T-cell therapy", "excluded", "exclusion"),
    _c("g-follow-up-own", "own-product", INC + "* Must agree to 15 years of follow-up required for genetically modified cell products", "unmentioned"),
    # same-target therapy including CAR-T
    _c("t-anti-cd19-including", "same-target", INC + "* Age >= 18" + EXC + "* Prior anti-CD19 therapy, including CAR-T", "excluded", "exclusion"),
    _c("t-bcma-including", "same-target", INC + "* Age >= 18" + EXC + "* Prior BCMA-targeted therapy, including CAR-T cells and bispecific antibodies", "excluded", "exclusion"),
    _c("t-cd19-agent-list", "same-target", INC + "* Age >= 18" + EXC + "* Prior treatment with a CD19-targeted agent (including tafasitamab, loncastuximab or CD19 CAR-T)", "excluded", "exclusion"),
    _c("t-bcma-allowed", "same-target", INC + "* Prior BCMA-directed therapy, including CAR-T, is allowed", "allowed", "inclusion"),
    # product names
    _c("p-short-names", "products", INC + "* Age >= 18" + EXC + "* Prior axi-cel or tisa-cel", "excluded", "exclusion"),
    _c("p-generic-brand", "products", INC + "* Age >= 18" + EXC + "* Previous treatment with idecabtagene vicleucel (Abecma) or ciltacabtagene autoleucel (Carvykti)", "excluded", "exclusion"),
    _c("p-obe-cel", "products", INC + "* Age >= 18" + EXC + "* Prior obe-cel", "excluded", "exclusion"),
    _c("p-lifileucel", "products", INC + "* Age >= 18" + EXC + "* Prior treatment with lifileucel", "unmentioned"),
    _c("p-afami-cel", "products", INC + "* Age >= 18" + EXC + "* Prior afamitresgene autoleucel (afami-cel)", "unmentioned"),
    _c("p-code", "products", INC + "* Age >= 18" + EXC + "* Prior CTL019", "excluded", "exclusion"),
    # the trial's own CAR-T product, not prior therapy
    _c("s-eligible-to-receive", "own-product", INC + "* Eligible to receive CAR-T infusion per investigator", "unmentioned"),
    _c("s-contraindication", "own-product", INC + "* Age >= 18" + EXC + "* Contraindication to the study CAR-T product or its excipients", "unmentioned"),
    _c("s-infusion-time", "own-product", INC + "* Age >= 18" + EXC + "* Active infection at the time of CAR-T cell infusion", "unmentioned"),
    _c("s-manufacturing", "own-product", INC + "* Adequate apheresis product for manufacturing of CAR-T cells", "unmentioned"),
    _c("s-pregnancy", "own-product", INC + "* Age >= 18" + EXC + "* Pregnant or planning pregnancy within 1 year after CAR-T cell infusion", "unmentioned"),
    _c("s-bridging", "own-product", INC + "* Bridging therapy is allowed before CAR-T infusion", "unmentioned"),
    _c("s-steroids-before", "own-product", INC + "* Age >= 18" + EXC + "* Received systemic steroids within 7 days prior to CAR T-cell infusion", "unmentioned"),
    _c("s-planned-soc", "own-product", INC + "* Planned to receive standard-of-care axicabtagene ciloleucel", "unmentioned"),
    _c("s-candidate", "own-product", INC + "* Patients who are candidates for CAR-T therapy but cannot access it", "unmentioned"),
    _c("s-mixed-own-and-prior", "own-product", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy\n* Hypersensitivity to the study CAR-T product", "excluded", "exclusion"),
    # false friends
    _c("f-car-automobile", "false-positive", INC + "* Age >= 18" + EXC + "* Patients unable to travel by car to the clinic", "unmentioned"),
    _c("f-shopping-cart", "false-positive", INC + "* Able to push a shopping cart", "unmentioned"),
    _c("f-cartilage", "false-positive", INC + "* CARTILAGE DEFECT GRADE 3 OR 4", "unmentioned"),
    _c("f-carboplatin", "false-positive", INC + "* Age >= 18" + EXC + "* Prior treatment with carboplatin", "unmentioned"),
    _c("f-dli", "false-positive", INC + "* Age >= 18" + EXC + "* Prior allogeneic stem cell transplant or donor lymphocyte infusion", "unmentioned"),
    _c("f-tcr-t", "false-positive", INC + "* Age >= 18" + EXC + "* Prior TCR-T therapy", "unmentioned"),
    _c("f-acronym-car", "false-positive", INC + "* Completed the CAR program (Cognitive Adaptation to Retirement)", "unmentioned"),
    # precedence when several sentences speak
    _c("x-required-beats-washout", "precedence", INC + "* Relapse after CAR-T" + EXC + "* CAR-T infusion within 30 days", "required", "inclusion"),
    _c("x-exclusion-beats-washout", "precedence", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy\n* Prior CAR-T within 30 days of enrolment", "excluded", "exclusion"),
    _c("x-explicit-allow-beats-subgroup-exclusion", "precedence", INC + "* Age >= 18" + EXC + "* AML patients with prior CAR-T therapy. Prior CAR-T therapy is allowed for B-ALL.", "allowed", "exclusion"),
    # found by probing the classifier with new phrasings (labelled before the fix that passes them)
    _c("n-is-ok", "negation", INC + "* Age >= 18" + EXC + "* Prior allogeneic HSCT. Prior CAR-T is OK.", "allowed", "exclusion"),
    _c("r-lowercase-failure", "spellings", "Inclusion criteria:\n- car-T cell therapy failure", "required", "inclusion"),
    _c("r-exposed", "required", INC + "* BCMA CAR-T-exposed myeloma", "required", "inclusion"),
    # nothing to say
    _c("u-no-mention", "unmentioned", INC + "* Age ≥ 18" + EXC + "* Prior allogeneic transplant", "unmentioned"),
    _c("u-empty", "unmentioned", "", "unmentioned"),
    _c("u-none", "unmentioned", None, "unmentioned"),
)  # fmt: skip


# Held-out batch: written and labelled after the classifier's rules were settled, and run once
# before any further change, to measure how the rules generalise (see benchmarks/cart_eval.py).
HELDOUT_CASES: tuple[Case, ...] = (
    _c("ho-any-target", "held-out", INC + "* Age >= 18" + EXC + "- Previous treatment with a chimeric antigen receptor therapy directed at any target", "excluded", "exclusion"),
    _c("ho-bcma-products-or-investigational", "held-out", INC + "- Documented relapse or progression after anti-BCMA CAR T-cell therapy (idecabtagene vicleucel, ciltacabtagene autoleucel, or investigational)", "required", "inclusion"),
    _c("ho-cellular-eg-washout", "held-out", INC + "* Age >= 18" + EXC + "* Received any anti-cancer therapy, including chemotherapy, radiotherapy, or cellular therapy (e.g., CAR-T), within 14 days before the first dose", "allowed", "exclusion"),
    _c("ho-lines-may-include", "held-out", INC + "* Subjects must have received at least 2 prior lines of therapy, which may include CAR-T cell therapy", "allowed", "inclusion"),
    _c("ho-less-than-6-months", "held-out", INC + "* Age >= 18" + EXC + "* Patients who received CAR T-cell therapy less than 6 months prior to enrollment", "allowed", "exclusion"),
    _c("ho-exposure-progression", "held-out", INC + "* Prior exposure to CD19-targeted CAR-T therapy with subsequent disease progression", "required", "inclusion"),
    _c("ho-cd19-eg-list", "held-out", INC + "* Age >= 18" + EXC + "* Any prior CD19-directed therapy (e.g., blinatumomab, tafasitamab, CD19 CAR-T)", "excluded", "exclusion"),
    _c("ho-permitted-if-90d", "held-out", INC + "* Age >= 18" + EXC + "* Prior treatment with CAR-T is permitted if completed ≥ 90 days before enrollment", "allowed", "exclusion"),
    _c("ho-acceptable-after-semicolon", "held-out", INC + "* Disease that has relapsed or is refractory after at least 2 lines of systemic therapy; prior CAR-T therapy is acceptable", "allowed", "inclusion"),
    _c("ho-persistent-cytopenia-excl", "held-out", INC + "* Age >= 18" + EXC + "* Persistent cytopenias after prior CAR-T cell therapy", "allowed", "exclusion"),
    _c("ho-cr-3-months-after", "held-out", INC + "* Patients with B-cell lymphoma who have achieved complete remission 3 months after CD19 CAR-T infusion", "required", "inclusion"),
    _c("ho-any-indication", "held-out", INC + "* Age >= 18" + EXC + "* Prior allogeneic or autologous CAR T-cell product administered for any indication", "excluded", "exclusion"),
    _c("ho-bcma-agent-including", "held-out", INC + "* Age >= 18" + EXC + "* History of treatment with a BCMA-targeting agent, including CAR-T cells or bispecific T-cell engagers", "excluded", "exclusion"),
    _c("ho-allowed-provided-60d", "held-out", INC + "* Prior treatment with CAR-T therapy is allowed, provided at least 60 days have passed since the infusion", "allowed", "inclusion"),
    _c("ho-past-90-days", "held-out", INC + "* Age >= 18" + EXC + "* Participants who have had CAR-T cell therapy within the past 90 days", "allowed", "exclusion"),
    _c("ho-no-car", "held-out", INC + "* Relapse after HSCT or chemotherapy", "unmentioned"),
    _c("ho-leukapheresis", "held-out", INC + "* Willing to undergo leukapheresis for CAR T cell manufacturing", "unmentioned"),
    _c("ho-received-tisagenlecleucel", "held-out", INC + "* Age >= 18" + EXC + "* Received tisagenlecleucel", "excluded", "exclusion"),
    _c("ho-cohort-2-only", "held-out", INC + "* Prior CAR-T therapy (cohort 2 only)", "required", "inclusion"),
    _c("ho-same-target-cd22", "held-out", INC + "* Age >= 18" + EXC + "* Patients who have relapsed after prior CAR-T cell therapy targeting CD22", "excluded", "exclusion"),
    _c("ho-colon-conditions", "held-out", INC + "* Age >= 18" + EXC + "* Prior CAR-T therapy: patients must be at least 30 days from infusion and have recovered from CRS and neurotoxicity", "allowed", "exclusion"),
    _c("ho-did-not-respond", "held-out", INC + "* Patients with large B-cell lymphoma whose disease did not respond to CAR-T", "required", "inclusion"),
    _c("ho-last-3-months-or-toxicity", "held-out", INC + "* Age >= 18" + EXC + "* CAR-T within the last 3 months, or ongoing CAR-T related toxicity", "allowed", "exclusion"),
    _c("ho-not-eligible-for", "held-out", INC + "* Patients who are not eligible for CAR-T therapy", "unmentioned"),
    _c("ho-engineered-t-cell", "held-out", INC + "* Age >= 18" + EXC + "* Have had prior treatment with an engineered T-cell therapy (CAR-T or TCR-T)", "excluded", "exclusion"),
    _c("ho-part-2-progressed", "held-out", INC + "* Part 2: participants must have progressed on or after BCMA CAR-T therapy", "required", "inclusion"),
    _c("ho-no-header-relapsed", "held-out", "Adults with relapsed DLBCL after CAR-T therapy", "required"),
    _c("ho-gm-within-6-months", "held-out", INC + "* Age >= 18" + EXC + "* Prior gene therapy or genetically modified cell therapy within 6 months", "allowed", "exclusion"),
)  # fmt: skip

# Second held-out batch, same procedure (labelled first, run once before any change).
HELDOUT2_CASES: tuple[Case, ...] = (
    _c("ho2-redirecting-12-weeks", "held-out", INC + "* Age >= 18" + EXC + "* Prior treatment with any T-cell redirecting therapy (CAR-T or bispecific antibody) within 12 weeks prior to first dose", "allowed", "exclusion"),
    _c("ho2-line-including-cd19-car", "held-out", INC + "* Relapsed/refractory disease following at least one line of therapy including a CD19-targeted CAR T-cell product", "required", "inclusion"),
    _c("ho2-detectable-cells", "held-out", INC + "* Age >= 18" + EXC + "* Subjects who have received a CAR-T product within the last 12 weeks or who have detectable CAR-T cells in peripheral blood", "allowed", "exclusion"),
    _c("ho2-not-candidates-or-failed", "held-out", INC + "1. Patients with relapsed LBCL who are not candidates for, or have failed, autologous transplant and CAR-T therapy", "allowed", "inclusion"),
    _c("ho2-other-than-car-t", "held-out", INC + "* Age >= 18" + EXC + "- Prior CD19-targeted therapy other than CAR-T cell therapy", "allowed", "exclusion"),
    _c("ho2-measurable-after", "held-out", INC + "- Measurable disease after CAR-T cell therapy per Lugano 2014", "required", "inclusion"),
    _c("ho2-recipients", "held-out", INC + "* Age >= 18" + EXC + "- Recipients of prior CAR-T therapy", "excluded", "exclusion"),
    _c("ho2-not-permitted-after-exposure", "held-out", INC + "- Patients must have had prior exposure to a proteasome inhibitor, an IMiD and an anti-CD38 antibody. Prior BCMA-directed CAR-T cell therapy is not permitted.", "excluded", "inclusion"),
    _c("ho2-underwent", "held-out", INC + "* Age >= 18" + EXC + "- Patients that underwent CAR-T therapy", "excluded", "exclusion"),
    # Relabelled (issue 9) from allowed: "any BCMA-targeted agent" covers BCMA CAR-T, and the
    # label rules make same-target therapy including CAR-T an exclusion that wins over a washout.
    _c("ho2-washout-and-bcma-agent", "held-out", INC + "- Age ≥ 18\n- Prior autologous or allogeneic transplant allowed" + EXC + "- Prior treatment with CAR-T within 6 weeks of enrollment\n- Prior treatment with any BCMA-targeted agent", "excluded", "exclusion"),
    _c("ho2-refractory-crs", "held-out", INC + "- Patients with refractory CRS (grade ≥2) after CAR T-cell infusion despite tocilizumab", "required", "inclusion"),
    _c("ho2-hypersensitivity-own", "held-out", INC + "* Age >= 18" + EXC + "- Known hypersensitivity to tisagenlecleucel or any of its excipients", "unmentioned"),
    _c("ho2-eligible-for-cohort-c", "held-out", INC + "* Patients who relapsed after or were refractory to CAR-T cell therapy are eligible for cohort C", "required", "inclusion"),
    _c("ho2-commercial-window", "held-out", INC + "* Received ≥1 dose of commercial axi-cel or liso-cel at least 21 days and no more than 180 days before enrollment", "required", "inclusion"),
    _c("ho2-any-time", "held-out", INC + "* Age >= 18" + EXC + "* Treatment with CAR T cells at any time", "excluded", "exclusion"),
)  # fmt: skip

# --- car_t: hand-written studies ----------------------------------------------------------------


@dataclass(frozen=True)
class StudyCase:
    """A hand-written study object with the expected CAR-T profile fields."""

    name: str
    study: Mapping[str, Any]
    car_t: bool
    targets: tuple[str, ...] = ()
    source: str = ""
    cell_type: str = ""
    classes: tuple[str, ...] = field(default=())


def _study(
    title: str,
    interventions: Sequence[tuple[str, str, Sequence[str]]] = (),
    keywords: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT00000000", "briefTitle": title},
            "conditionsModule": {"keywords": list(keywords)},
            "armsInterventionsModule": {
                "interventions": [
                    {"type": t, "name": n, "otherNames": list(o)} for t, n, o in interventions
                ]
            },
        }
    }


STUDY_CASES: tuple[StudyCase, ...] = (
    StudyCase("axi-cel", _study("Axi-cel in second-line LBCL", [("BIOLOGICAL", "Axicabtagene ciloleucel", ["Yescarta", "axi-cel"])]), True, ("CD19",), "autologous", "T", ("CAR-T",)),
    StudyCase("car-nk", _study("CD19 CAR-NK cells for B-cell lymphoma", [("BIOLOGICAL", "CD19 CAR-NK cells", [])]), True, ("CD19",), "unknown", "NK", ("CAR-NK",)),
    StudyCase("allo-cema-cel", _study("Cema-cel consolidation in LBCL", [("BIOLOGICAL", "ALLO-501A", ["cemacabtagene ansegedleucel"])]), True, ("CD19",), "allogeneic", "T", ("allogeneic CAR-T",)),
    StudyCase("bispecific-after-car-t", _study("Glofitamab for LBCL relapsed after CAR-T", [("DRUG", "Glofitamab", ["Columvi"])], ["CAR-T failure"]), False, classes=("CD3 bispecific",)),
    StudyCase("adc", _study("Loncastuximab tesirine after CAR T-cell therapy", [("DRUG", "Loncastuximab tesirine", ["Zynlonta"])]), False, classes=("ADC",)),
    StudyCase("checkpoint", _study("Pembrolizumab after CAR-T", [("DRUG", "Pembrolizumab", ["MK-3475"])]), False, classes=("checkpoint inhibitor",)),
    StudyCase("til", _study("Lifileucel in melanoma", [("BIOLOGICAL", "Lifileucel", ["LN-144"])]), False, classes=("TIL",)),
    StudyCase("tcr-t", _study("Afami-cel in synovial sarcoma", [("GENETIC", "afamitresgene autoleucel", ["afami-cel"])]), False, classes=("TCR-T",)),
    StudyCase("tocilizumab-crs", _study("Prophylactic tocilizumab for CRS in patients receiving CAR-T cell therapy", [("DRUG", "Tocilizumab", [])], ["CAR-T", "CRS"]), False),
    StudyCase("registry", _study("Registry of patients after CAR-T", []), False),
    StudyCase("dual-target", _study("Tandem CD19/CD22 CAR-T for B-ALL", [("BIOLOGICAL", "CD19/CD22 bispecific CAR-T cells", [])]), True, ("CD19", "CD22"), "unknown", "T", ("CAR-T",)),
    StudyCase("bcma-gprc5d", _study("BCMA and GPRC5D dual CAR-T in myeloma", [("BIOLOGICAL", "Autologous BCMA/GPRC5D CAR-T", [])]), True, ("BCMA", "GPRC5D"), "autologous", "T", ("CAR-T",)),
    StudyCase("in-vivo", _study("In vivo CAR-T for lupus", [("GENETIC", "In vivo CD19 CAR-T (lentiviral vector)", [])]), True, ("CD19",), "unknown", "in vivo", ("in vivo CAR-T",)),
    StudyCase("car-m", _study("HER2 CAR-M in solid tumours", [("BIOLOGICAL", "CT-0508 (anti-HER2 CAR-macrophage)", [])]), True, ("HER2",), "unknown", "macrophage", ("CAR-macrophage",)),
    StudyCase("cartilage", _study("Cartilage repair scaffold", [("DEVICE", "CARTILAGE scaffold", [])]), False),
    StudyCase("automobile", _study("Car seat safety education", [("BEHAVIORAL", "Car seat education", [])]), False),
    StudyCase("acronym-car", _study("Cognitive Adaptation to Retirement (CAR) program", [("BEHAVIORAL", "CAR program", [])]), False),
    StudyCase("title-only-product", _study("Brexucabtagene autoleucel plus dasatinib in ALL", [("DRUG", "Dasatinib", [])]), True, ("CD19",), "autologous", "T", ("CAR-T",)),
    StudyCase("ucart", _study("UCART22 in B-ALL", [("BIOLOGICAL", "UCART22", [])]), True, ("CD22",), "allogeneic", "T", ("allogeneic CAR-T",)),
    StudyCase("tandem-transplant", _study("Autologous CD30 CAR-T before allogeneic stem cell transplant", [("BIOLOGICAL", "CD30 CAR-T", []), ("PROCEDURE", "Allogeneic stem cell transplantation", [])]), True, ("CD30",), "autologous", "T", ("CAR-T", "stem cell transplant")),
    StudyCase("missing-modules", {"protocolSection": {}}, False),
    StudyCase("empty", {}, False),
)  # fmt: skip


HELDOUT_STUDY_CASES: tuple[StudyCase, ...] = (
    StudyCase("ho-liso-cel", _study("A Study of Liso-cel in Patients With CLL", [("BIOLOGICAL", "Lisocabtagene maraleucel", [])]), True, ("CD19",), "autologous", "T", ("CAR-T",)),
    StudyCase("ho-anito-cel", _study("Anito-cel vs Standard Regimens in Myeloma", [("BIOLOGICAL", "Anitocabtagene autoleucel", []), ("DRUG", "Daratumumab", [])]), True, ("BCMA",), "autologous", "T", ("CAR-T", "monoclonal antibody")),
    StudyCase("ho-epcoritamab", _study("Epcoritamab in Patients With LBCL After CAR-T Failure", [("DRUG", "Epcoritamab", [])]), False, classes=("CD3 bispecific",)),
    StudyCase("ho-teclistamab", _study("Teclistamab in myeloma patients previously exposed to BCMA CAR-T", [("DRUG", "Teclistamab", [])]), False, classes=("CD3 bispecific",)),
    StudyCase("ho-car-nk-code", _study("NKX019 in lupus nephritis", [("BIOLOGICAL", "NKX019", ["CD19 CAR-NK"])]), True, ("CD19",), "unknown", "NK", ("CAR-NK",)),
    StudyCase("ho-tabelecleucel", _study("Tabelecleucel for EBV+ PTLD", [("BIOLOGICAL", "Tabelecleucel", ["tab-cel"])]), False, classes=("virus-specific T cells",)),
    StudyCase("ho-cd7", _study("Study of CD7 CAR-T for T-ALL", [("BIOLOGICAL", "CD7 CAR-T cells", [])]), True, ("CD7",), "unknown", "T", ("CAR-T",)),
    StudyCase("ho-observational-icans", _study("Observational study of neurotoxicity after CAR T-cell therapy", [], ["CAR-T", "ICANS"]), False),
    StudyCase("ho-donor-derived", _study("Donor-derived CD19 CAR T cells after allogeneic HSCT", [("BIOLOGICAL", "Donor-derived CD19 CAR-T", [])]), True, ("CD19",), "allogeneic", "T", ("allogeneic CAR-T",)),
    StudyCase("ho-arlo-cel", _study("GPRC5D CAR-T (arlo-cel) in myeloma", [("BIOLOGICAL", "Arlocabtagene autoleucel", [])]), True, ("GPRC5D",), "autologous", "T", ("CAR-T",)),
)  # fmt: skip

# --- (c) the project's fictional sample data ------------------------------------------------------

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"

# The answer key in fixtures/README.md (written by the lead, not by this module's author):
# NCT id -> (car_t, prior CAR-T). First run of the classifier against it: 26 of 30 right.
FIXTURE_KEY: dict[str, tuple[bool, str]] = {
    "NCT90000101": (True, "excluded"), "NCT90000102": (True, "required"),
    "NCT90000103": (True, "required"), "NCT90000104": (True, "unmentioned"),
    "NCT90000105": (True, "excluded"), "NCT90000106": (True, "allowed"),
    "NCT90000107": (True, "allowed"), "NCT90000108": (True, "unmentioned"),
    "NCT90000109": (True, "excluded"), "NCT90000110": (False, "allowed"),
    "NCT90000111": (False, "allowed"), "NCT90000112": (False, "unmentioned"),
    "NCT90000113": (False, "allowed"), "NCT90000114": (False, "required"),
    "NCT90000115": (False, "required"), "NCT90000116": (False, "required"),
    "NCT90000117": (True, "required"), "NCT90000118": (True, "excluded"),
    "NCT90000201": (True, "excluded"), "NCT90000202": (True, "allowed"),
    "NCT90000203": (False, "required"), "NCT90000204": (True, "unmentioned"),
    "NCT90000205": (True, "allowed"), "NCT90000206": (False, "excluded"),
    "NCT90000207": (True, "excluded"), "NCT90000301": (True, "unmentioned"),
    "NCT90000302": (True, "excluded"), "NCT90000303": (False, "unmentioned"),
    "NCT90000304": (False, "unmentioned"), "NCT90000305": (False, "required"),
}  # fmt: skip

# --- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Per-label precision, recall and support, with the confusion matrix (expected -> got)."""

    confusion: Mapping[tuple[str, str], int]
    labels: tuple[str, ...] = LABELS

    def _count(self, *, expected: set[str] | None = None, got: set[str] | None = None) -> int:
        return sum(
            n
            for (e, g), n in self.confusion.items()
            if (expected is None or e in expected) and (got is None or g in got)
        )

    def precision(self, *labels: str) -> float:
        chosen = set(labels)
        predicted = self._count(got=chosen)
        return self._count(expected=chosen, got=chosen) / predicted if predicted else 1.0

    def recall(self, *labels: str) -> float:
        chosen = set(labels)
        support = self._count(expected=chosen)
        return self._count(expected=chosen, got=chosen) / support if support else 1.0

    def support(self, *labels: str) -> int:
        return self._count(expected=set(labels))

    def table(self) -> str:
        rows = [f"{'label':<20}{'precision':>10}{'recall':>10}{'support':>9}"]
        groups: list[tuple[str, tuple[str, ...]]] = [(lbl, (lbl,)) for lbl in self.labels]
        if {"required", "allowed"} <= set(self.labels):
            groups.append(("required+allowed", ("required", "allowed")))
        for name, members in groups:
            rows.append(
                f"{name:<20}{self.precision(*members):>10.3f}{self.recall(*members):>10.3f}"
                f"{self.support(*members):>9}"
            )
        rows.append("")
        rows.append("confusion (rows expected, columns got):")
        rows.append(f"{'':<14}" + "".join(f"{g:>13}" for g in self.labels))
        for e in self.labels:
            rows.append(
                f"{e:<14}" + "".join(f"{self.confusion.get((e, g), 0):>13}" for g in self.labels)
            )
        return "\n".join(rows)


def score(pairs: Sequence[tuple[str, str]], labels: tuple[str, ...] = LABELS) -> Scores:
    """Scores for (expected, got) pairs."""
    return Scores(Counter(pairs), labels)


def record(raw: Mapping[str, Any]) -> Study:
    """A raw study object as a parsed record (every string kept); cases without an NCT id get
    a placeholder one."""
    from trialfinder.records import parse_study

    ps = dict(raw.get("protocolSection") or {})
    ident = {"nctId": "NCT00000000", **(ps.get("identificationModule") or {})}
    return parse_study(
        {**raw, "protocolSection": {**ps, "identificationModule": ident}}, keep_text=True
    )


def profile_study(raw: Mapping[str, Any]) -> CarTProfile:
    """The CAR-T profile of a raw study object."""
    from trialfinder.cart.profile import profile_study as profile_record

    return profile_record(record(raw))
