"""The API-side filter for the CAR-T options: an Essie expression that widens the server's
query with the vocabulary's names, so the server never drops what the classifier would keep."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from trialfinder.cart.vocab import parse_targets, vocabulary

__all__ = ["server_expression"]

# InterventionSearch is the area behind query.intr: intervention names, other names, types and
# descriptions, arm labels and descriptions, both titles, keywords and MeSH terms (the
# /studies/search-areas output saved in metamonk/clinical-trials-api, search-areas.md). One
# area keeps the expression short enough for a URL.
# BasicSearch (what query.term searches: titles, acronym, conditions, keywords, intervention
# names, other names and descriptions, arms, summary) covers everything the classifier reads
# to decide `car_t`; InterventionSearch alone would miss products named only in a title.
_STUDY_AREA = "BasicSearch"
_ELIGIBILITY_AREA = "EligibilityCriteria"


def _essie_group(terms: Iterable[str]) -> str:
    seen: list[str] = []
    for term in terms:
        # Quote anything that is not one plain word; hyphens stay as they are (pitfall 5).
        quoted = term if re.fullmatch(r"[A-Za-z0-9]+", term) else '"' + term.replace('"', "") + '"'
        if quoted.lower() not in (s.lower() for s in seen):
            seen.append(quoted)
    return "(" + " OR ".join(seen) + ")"


def server_expression(
    *, car_t: bool = False, after_car_t: bool = False, targets: Sequence[str] = ()
) -> str | None:
    """An Essie expression for filter.advanced that keeps every study the options could want.

    It widens rather than narrows: the local classifier makes the final decision. Options are
    combined with AND; several targets with OR. Returns None when no option is set. Unknown
    targets raise InvalidOption.
    """
    vocab = vocabulary()
    terms = vocab.data["server_terms"]
    names = [p.generic.split()[0] for p in vocab.products]
    names += [n for p in vocab.products for n in (p.brand, *p.short, *p.codes) if n]
    clauses = []
    if car_t:
        clauses.append(f"AREA[{_STUDY_AREA}]{_essie_group([*terms['car_t'], *names])}")
    if after_car_t:
        clauses.append(f"AREA[{_ELIGIBILITY_AREA}]{_essie_group([*terms['eligibility'], *names])}")
    if targets:
        words: list[str] = []
        for target in parse_targets(targets):
            entry = next(t for t in vocab.data["targets"] if t["name"] == target)
            words += [target, *entry.get("aliases", ())]
            if re.fullmatch(r"CD\d+", target):
                words += [f"CAR{target[2:]}", f"CART{target[2:]}"]
            words += [p.generic.split()[0] for p in vocab.products if target in p.targets]
        clauses.append(f"AREA[{_STUDY_AREA}]{_essie_group(words)}")
    return " AND ".join(clauses) if clauses else None
