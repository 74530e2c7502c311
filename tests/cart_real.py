"""The real labelled set gathered for issue 9: registry eligibility texts and study titles.

The texts live in JSON files under tests/data (`REAL_FILES`), each entry with where it came
from (`source`), its label and why, and its part: `dev` (rules may be written against it) or
`heldout` (scored once per change, never tuned to). Labels follow the label rules of
`trialfinder.cart.stance`. `REAL_TEXTS` holds batches 1-3 (all retired into development in
stop 16); `REAL_BATCH4` holds blind batch 4, labelled before any classifier run, scored once
held out and retired into development in stop 18; `REAL_BATCH5` and `REAL_BATCH6` hold
blind batches 5 and 6, held out in stop 18 and retired into development in stop 19;
`REAL_BATCH7` and `REAL_BATCH8` hold blind batches 7 and 8, scored once held out and
retired into development in stop 19: no held-out part is left.
The case functions read every file.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cart_labels import Case, StudyCase, _study

DATA_DIR = Path(__file__).resolve().parent / "data"
REAL_TEXTS = DATA_DIR / "cart_real_texts.json"
REAL_BATCH4 = DATA_DIR / "cart_real_batch4.json"
REAL_BATCH5 = DATA_DIR / "cart_real_batch5.json"
REAL_BATCH6 = DATA_DIR / "cart_real_batch6.json"
REAL_BATCH7 = DATA_DIR / "cart_real_batch7.json"
REAL_BATCH8 = DATA_DIR / "cart_real_batch8.json"
# The blind batches, each gathered and labelled in one go.
BATCH_FILES = {
    4: REAL_BATCH4,
    5: REAL_BATCH5,
    6: REAL_BATCH6,
    7: REAL_BATCH7,
    8: REAL_BATCH8,
}
REAL_FILES = (REAL_TEXTS, *BATCH_FILES.values())
SPLITS = ("dev", "heldout")


@cache
def load_real_file(path: Path) -> dict[str, Any]:
    """One real-text file as stored: {"about": str, "criteria": [...], "studies": [...]}."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _entries(kind: str) -> list[dict[str, Any]]:
    """The `criteria` or `studies` entries of every real file, file by file."""
    return [entry for path in REAL_FILES for entry in load_real_file(path)[kind]]


def real_text_cases(split: str) -> tuple[Case, ...]:
    """The real eligibility texts of one part, as Cases (name = NCT id or source key)."""
    return tuple(
        Case(c["nct_id"], "real-text", c["text"], c["label"])
        for c in _entries("criteria")
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
        for s in _entries("studies")
        if s["split"] == split
    )
