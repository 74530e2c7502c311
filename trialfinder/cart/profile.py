"""A study's CAR-T profile: is its own treatment a CAR cell product, which targets, cells, classes.

`profile_study` reads a `Study` record and adds the prior-CAR-T stance of its eligibility text
(`trialfinder.cart.stance`); `row_of` flattens a profile into the CAR-T output columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialfinder.cart.stance import Stance, classify_prior_car_t
from trialfinder.cart.titles import own_car_mentions
from trialfinder.cart.vocab import Mention, vocabulary
from trialfinder.records import Study

__all__ = ["CART_COLUMNS", "CarTProfile", "profile_row", "profile_study", "row_of"]

CART_COLUMNS = (
    "car_t",
    "car_targets",
    "car_cell_source",
    "car_cell_type",
    "therapy_classes",
    "prior_car_t",
    "prior_car_t_evidence",
    "prior_car_t_section",
    "prior_car_t_rule",
)


@dataclass(frozen=True)
class CarTProfile:
    """CAR-T facts about one study."""

    car_t: bool
    car_targets: tuple[str, ...]
    car_cell_source: str
    car_cell_type: str
    therapy_classes: tuple[str, ...]
    prior_car_t: Stance


_PRIOR_THERAPY_TAIL = re.compile(
    r"\b(?:after|following|post|previously|prior|exposed|relaps\w* (?:from|after)|"
    r"refractory to|failure of|failed)\b",
    re.IGNORECASE,
)

# Intervention types a CAR product can be registered under (spec enum InterventionType); a study
# whose interventions are all of other types (behavioural, device, procedure, ...) gives none.
_CELL_PRODUCT_TYPES = {"BIOLOGICAL", "GENETIC", "DRUG", "COMBINATION_PRODUCT", "OTHER", None}


def profile_study(study: Study) -> CarTProfile:
    """The CAR-T profile of one study (missing parts of the record are fine; a record whose
    long texts were let go is not: `Study.need_long_texts`)."""
    study.need_long_texts()
    vocab = vocabulary()
    interventions = study.interventions
    named = [" ; ".join(n for n in (i.name, *i.other_names) if n) for i in interventions]
    named += list(study.arm_intervention_names)
    titles = [t for t in (study.brief_title, study.official_title, study.acronym) if t]
    weak = list(study.keywords) + [i.description for i in interventions if i.description]

    tiers: list[list[tuple[str, list[Mention]]]] = [[], [], []]
    title_not_own = False
    # The strings joined hold every anchor any of them holds: most studies' strings hold
    # none, and one scan says so.
    if vocab.could_mention("\n".join([*named, *titles, *weak])):
        tiers = []
    for texts in (named, titles, weak) if not tiers else ():
        tier = []
        for text in texts:
            own, other = own_car_mentions(text)
            title_not_own |= other and texts is titles
            if own:
                tier.append((text, own))
        tiers.append(tier)
    if title_not_own and not tiers[0]:
        tiers[2] = []
    types = {i.type for i in interventions}
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
    class_texts = [t for t in named or titles if t not in own_texts]
    if vocab.could_name_class("\n".join(class_texts)):
        for text in class_texts:
            classes += vocab.classes_in(text)
    # The record's criteria have no control characters or terminal escapes, so the evidence
    # is a verbatim part of the text as it is shown.
    prior = classify_prior_car_t(study.eligibility_criteria)
    return CarTProfile(
        car_t=car_t,
        car_targets=tuple(dict.fromkeys(targets)),
        car_cell_source=source,
        car_cell_type=cell_type,
        therapy_classes=tuple(dict.fromkeys(classes)),
        prior_car_t=prior,
    )


def profile_row(study: Study) -> dict[str, object]:
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
        "prior_car_t_rule": p.prior_car_t.rule,
    }
