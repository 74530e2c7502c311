"""The real labelled set of issue 9 is well formed: provenance, parts and labels for every entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from cart_labels import LABELS, RECORDS_DIR
from cart_real import BATCH_FILES, REAL_FILES, SPLITS, load_real_file

TESTS_DIR = Path(__file__).resolve().parent


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_every_entry_names_its_source_part_and_label(path: Path) -> None:
    data = load_real_file(path)
    assert data["about"].strip() and data["criteria"] and data["studies"]
    for entry in data["criteria"]:
        assert entry["nct_id"] and entry["source"] and entry["why"] and entry["text"].strip()
        assert entry["split"] in SPLITS and entry["label"] in LABELS
    for entry in data["studies"]:
        assert entry["nct_id"] and entry["source"] and entry["title"]
        assert isinstance(entry["interventions"], list)
        assert entry["split"] in SPLITS and isinstance(entry["car_t"], bool)


@pytest.mark.parametrize(("batch", "path"), BATCH_FILES.items(), ids=lambda v: str(v))
def test_a_batch_file_is_one_batch_in_one_part_with_no_repeated_id(batch: int, path: Path) -> None:
    """A blind batch is held out whole, or retired into development whole, saying so."""
    data = load_real_file(path)
    entries = [*data["criteria"], *data["studies"]]
    assert all(e["batch"] == batch for e in entries)
    parts = {e["split"] for e in entries}
    assert len(parts) == 1
    if parts == {"dev"}:
        assert all(e.get("retired") for e in entries)
    for kind in ("criteria", "studies"):
        names = [e["nct_id"] for e in data[kind]]
        assert len(names) == len(set(names)), f"an NCT id is twice in {kind}"


def _ids(split: str) -> set[str]:
    return {
        e["nct_id"]
        for path in REAL_FILES
        for kind in ("criteria", "studies")
        for e in load_real_file(path)[kind]
        if e["split"] == split
    }


def test_parts_are_disjoint_across_files() -> None:
    """Development is never empty; no NCT id is in development and held out, in any file."""
    dev, held = _ids("dev"), _ids("heldout")
    assert dev and not dev & held


def test_heldout_ids_are_not_in_the_hand_labelled_sets_or_shared_records() -> None:
    """A text the rules were written against (labels, families, records) is not held out."""
    written = (TESTS_DIR / "cart_labels.py").read_text(encoding="utf-8") + (
        TESTS_DIR / "cart_families.py"
    ).read_text(encoding="utf-8")
    records = " ".join(p.name for p in RECORDS_DIR.glob("*")) if RECORDS_DIR.is_dir() else ""
    seen = [n for n in _ids("heldout") if n in written or n in records]
    assert not seen, f"held-out ids already used in development: {seen}"
