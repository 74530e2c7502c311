"""The real labelled set gathered for issue 9: registry eligibility texts and study titles.

The texts live in tests/data/cart_real_texts.json with where each came from (`source`), its
label and why, and its part: `dev` (rules may be written against it) or `heldout` (scored once
per change, never tuned to). Labels follow the label rules of `trialfinder.cart.stance`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cart_labels import Case, StudyCase, _study

REAL_TEXTS = Path(__file__).resolve().parent / "data" / "cart_real_texts.json"
SPLITS = ("dev", "heldout")


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REAL_TEXTS.read_text(encoding="utf-8"))
    return data


def real_text_cases(split: str) -> tuple[Case, ...]:
    """The real eligibility texts of one part, as Cases (name = NCT id or source key)."""
    return tuple(
        Case(c["nct_id"], "real-text", c["text"], c["label"])
        for c in _data()["criteria"]
        if c["split"] == split
    )


def real_study_cases(split: str) -> tuple[StudyCase, ...]:
    """The real study titles (and intervention names) of one part, for `car_t`."""
    return tuple(
        StudyCase(
            s["nct_id"],
            _study(s["title"], [("OTHER", n, []) for n in s["interventions"]]),
            s["car_t"],
        )
        for s in _data()["studies"]
        if s["split"] == split
    )
