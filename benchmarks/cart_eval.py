"""Evaluate trialfinder.cart on the labelled set: per-label precision / recall / support.

Run from the repository root:

    .venv/bin/python benchmarks/cart_eval.py

Prints the prior-CAR-T tables (with confusion matrices) for the real records, the hand-written
cases, the held-out batch and everything combined, then the same for `car_t`, then every case
the classifier gets wrong. The real-record part is skipped, with a note, when the shared records
folder is absent. Labels live in tests/cart_labels.py.

The sample data in fixtures/ (fictional studies with an answer key written by the lead) is a
third, independent check, reported on its own: first run 26 of 30 right on both fields (misses:
NCT90000104, NCT90000114, NCT90000203, NCT90000305; all from general gaps that were fixed).

Held-out batches, first runs (before any change prompted by them): batch 1, 27 of 28 criteria
texts and 10 of 10 studies right (the miss, "... which may include CAR-T cell therapy", led to
the allowance phrase "may include"); batch 2, 13 of 15 right (the misses led to two rules: a
sentence opening "Received CAR-T ... at least 21 days ..." is required, and "eligible for
cohort C" defines a cohort rather than allowing). After those changes they count as in-sample.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cart_labels import (  # noqa: E402
    FIXTURE_KEY,
    FIXTURES_DIR,
    HAND_CASES,
    HELDOUT2_CASES,
    HELDOUT_CASES,
    HELDOUT_STUDY_CASES,
    REAL_CAR_T,
    RECORDS_DIR,
    STUDY_CASES,
    Case,
    criteria_of,
    load_records,
    profile_study,
    real_prior_cases,
    score,
)

from trialfinder.cart.stance import classify_prior_car_t  # noqa: E402


def prior_report(title: str, cases: Sequence[Case], misses: list[str]) -> None:
    pairs = []
    for case in cases:
        stance = classify_prior_car_t(case.text)
        pairs.append((case.label, stance.label))
        if stance.label != case.label:
            misses.append(f"  {case.name}: expected {case.label}, got {stance.label}: "
                          f"{stance.evidence[:120]!r}")  # fmt: skip
    print(f"\n== prior_car_t: {title} ({len(cases)} cases)\n")
    print(score(pairs).table())


def car_t_report(title: str, pairs: list[tuple[str, str]]) -> None:
    print(f"\n== car_t: {title} ({len(pairs)} studies)\n")
    print(score(pairs, ("True", "False")).table())


def main() -> int:
    misses: list[str] = []
    records = load_records() if RECORDS_DIR.is_dir() else {}
    real = real_prior_cases(records) if records else []
    hand, held = list(HAND_CASES), [*HELDOUT_CASES, *HELDOUT2_CASES]
    if real:
        prior_report("real records", real, misses)
    else:
        print(f"\n(real-record part skipped: {RECORDS_DIR} not found)")
    prior_report("hand-written", hand, misses)
    prior_report("held-out hand-written batches", held, misses)
    prior_report("combined", [*real, *hand, *held], misses)

    fixtures = load_records(FIXTURES_DIR) if FIXTURES_DIR.is_dir() else {}
    fixture_cases = [
        Case(n, "fixture", criteria_of(s), FIXTURE_KEY[n][1]) for n, s in fixtures.items()
    ]
    if fixture_cases:
        prior_report("sample data answer key (fixtures/README.md)", fixture_cases, misses)

    studies = [*STUDY_CASES, *HELDOUT_STUDY_CASES]
    hand_pairs = [(str(c.car_t), str(profile_study(c.study).car_t)) for c in studies]
    real_pairs = [(str(n in REAL_CAR_T), str(profile_study(s).car_t)) for n, s in records.items()]
    fixture_pairs = [
        (str(FIXTURE_KEY[n][0]), str(profile_study(s).car_t)) for n, s in fixtures.items()
    ]
    if real_pairs:
        car_t_report("real records", real_pairs)
    if fixture_pairs:
        car_t_report("sample data answer key", fixture_pairs)
    car_t_report("hand-written studies", hand_pairs)
    car_t_report("combined", real_pairs + hand_pairs)

    print(f"\ncases by source: real records {len(real)} (prior_car_t), {len(real_pairs)} (car_t); "
          f"hand-written {len(hand)} + held-out {len(held)} (prior_car_t), "
          f"{len(studies)} studies (car_t); sample data {len(fixture_cases)} (both; reported "
          f"separately, not in 'combined')")  # fmt: skip
    if records:
        start = time.perf_counter()
        for study in records.values():
            profile_study(study)
        print(f"profile_study over {len(records)} records: {time.perf_counter() - start:.2f} s")
    print("\nmisclassified prior_car_t cases:" if misses else "\nno misclassified cases")
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
