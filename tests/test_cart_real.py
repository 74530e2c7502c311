"""The real labelled set of issue 9 is well formed: provenance, parts and labels for every entry."""

from __future__ import annotations

import json

from cart_labels import LABELS
from cart_real import REAL_TEXTS, SPLITS, real_study_cases, real_text_cases


def test_every_entry_names_its_source_part_and_label() -> None:
    data = json.loads(REAL_TEXTS.read_text(encoding="utf-8"))
    assert data["criteria"] and data["studies"]
    for entry in data["criteria"]:
        assert entry["source"] and entry["why"] and entry["text"].strip()
        assert entry["split"] in SPLITS and entry["label"] in LABELS
    for entry in data["studies"]:
        assert entry["source"] and entry["title"]
        assert entry["split"] in SPLITS and isinstance(entry["car_t"], bool)


def test_parts_are_disjoint() -> None:
    """Development is never empty; the held-out part may be, between a retirement of the
    scored entries into development (stop 16) and the next blind batch."""
    for cases in (real_text_cases, real_study_cases):
        dev = {c.name for c in cases("dev")}
        held = {c.name for c in cases("heldout")}
        assert dev and not dev & held
