"""How a prior-CAR-T stance is told: a sentence for patients, where the evidence sits in the
criteria, and why a CAR-T filter dropped a study."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from trialfinder.cart.stance import Stance

__all__ = ["describe_stance", "evidence_span", "stance_reason"]


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


def stance_reason(row: pd.Series[Any]) -> str:
    """Why a CAR-T filter dropped a study, from its `prior_car_t` columns (for --explain)."""
    evidence = row["prior_car_t_evidence"]
    said = f': "{evidence}"' if evidence else " (the criteria do not mention prior CAR-T)"
    return f"prior CAR-T {row['prior_car_t']}{said}"
