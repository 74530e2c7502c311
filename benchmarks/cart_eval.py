"""Evaluate trialfinder.cart on the labelled sets: per-label precision / recall / support.

Run from the repository root:

    .venv/bin/python benchmarks/cart_eval.py

Prints, for `prior_car_t` and then for `car_t`, four tables kept apart: real development,
real held-out, hand-written development, hand-written held-out (with confusion matrices), then
the sample data's answer key on its own, then every case the classifier gets wrong.

- Real development: the shared records (../shared/ctgov/records, labelled in
  tests/cart_labels.py; skipped with a note when the folder is absent) and the `dev` part of
  tests/data/cart_real_texts.json. Rules were written while reading these: in-sample.
- Real held-out: the `heldout` part of tests/data/cart_real_texts.json (registry texts from
  public sources the rules were not written against, labelled before they were run).
- Hand-written development: tests/cart_labels.py (including its two old held-out batches,
  in-sample since the changes they prompted) and the `dev` half of tests/cart_families.py.
- Hand-written held-out: the held-out half of tests/cart_families.py (issue 9's families).

Held-out parts are scored once per change and never tuned to. Their first run, on the
classifier as it was before any rule of issue 9 changed (the honest baseline):

- prior_car_t, real held-out (16: 3 excluded, 2 required, 1 allowed, 10 unmentioned): 13 of
  16 right; excluded precision 1.00 recall 1.00; required+allowed precision 1.00 recall 1.00
  as a group, but all three swapped inside it (two after-effects populations called allowed,
  one OR'd route in called required).
- prior_car_t, hand-written held-out (27): 17 of 27 right; excluded recall 0.43 (target and
  class phrasings unmentioned), required+allowed recall 0.76.
- car_t, real held-out (26: 19 CAR, 7 not): recall 0.89 (ICAR19 and SynKIR-310 missed),
  precision 1.00; hand-written held-out (6): 5 of 6 (CAR.BCMA missed).

A second real held-out batch of 7 texts and 1 title ("batch": 2 in the data) was gathered
after issue 9's changes and scored once: 6 of 7 texts and the title right (the miss:
NCT05429905, "relapsed after prior CAR-T ... who are not eligible for stem cell transplant",
read as excluded); the negation rule was then fixed against hand-written development cases
(tests/cart_families.py NEGATION_ELSEWHERE), so that text is no longer an independent check.

A third real held-out batch of 9 texts ("batch": 3: 1 required, 1 excluded, 7 unmentioned) was
gathered after every rule change and scored once: 8 of 9 right (the miss: tufts-STUDY00002673,
"Received any prior B cell maturation antigen (BCMA)-directed therapy", read as unmentioned).
The real held-out set is now 32 texts (4 excluded, 3 required, 2 allowed, 23 unmentioned):
27 of 32 right, excluded precision 1.00 recall 0.75, required+allowed 1.00 / 1.00 as a group.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cart_families import (  # noqa: E402
    FAMILY_DEV,
    FAMILY_HELDOUT,
    FAMILY_STUDY_DEV,
    FAMILY_STUDY_HELDOUT,
)
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
    StudyCase,
    criteria_of,
    load_records,
    profile_study,
    real_prior_cases,
    score,
)
from cart_real import real_study_cases, real_text_cases  # noqa: E402

from trialfinder.cart.stance import classify_prior_car_t  # noqa: E402


def prior_report(title: str, cases: Sequence[Case], misses: list[str]) -> None:
    pairs = []
    for case in cases:
        stance = classify_prior_car_t(case.text)
        pairs.append((case.label, stance.label))
        if stance.label != case.label:
            misses.append(f"  [{title}] {case.name}: expected {case.label}, got {stance.label}: "
                          f"{stance.evidence[:120]!r}")  # fmt: skip
    print(f"\n== prior_car_t: {title} ({len(cases)} texts)\n")
    print(score(pairs).table() if pairs else "(none yet)")


def car_t_report(title: str, pairs: list[tuple[str, str, str]], misses: list[str]) -> None:
    for name, expected, got in pairs:
        if expected != got:
            misses.append(f"  [{title}] {name}: expected car_t={expected}, got {got}")
    print(f"\n== car_t: {title} ({len(pairs)} studies)\n")
    print(
        score([(e, g) for _, e, g in pairs], ("True", "False")).table() if pairs else "(none yet)"
    )


def study_pairs(cases: Sequence[StudyCase]) -> list[tuple[str, str, str]]:
    return [(c.name, str(c.car_t), str(profile_study(c.study).car_t)) for c in cases]


def main() -> int:
    misses: list[str] = []
    records = load_records() if RECORDS_DIR.is_dir() else {}
    if not records:
        print(f"\n(shared-record part skipped: {RECORDS_DIR} not found)")
    real_dev = [*(real_prior_cases(records) if records else []), *real_text_cases("dev")]
    real_held = list(real_text_cases("heldout"))
    hand_dev = [*HAND_CASES, *HELDOUT_CASES, *HELDOUT2_CASES, *FAMILY_DEV]
    hand_held = list(FAMILY_HELDOUT)
    prior_report("real, development (in-sample)", real_dev, misses)
    prior_report("real, held-out", real_held, misses)
    prior_report("hand-written, development (in-sample)", hand_dev, misses)
    prior_report("hand-written, held-out", hand_held, misses)

    fixtures = load_records(FIXTURES_DIR) if FIXTURES_DIR.is_dir() else {}
    fixture_cases = [
        Case(n, "fixture", criteria_of(s), FIXTURE_KEY[n][1]) for n, s in fixtures.items()
    ]
    if fixture_cases:
        prior_report("sample data answer key (fixtures/README.md)", fixture_cases, misses)

    record_pairs = [
        (n, str(n in REAL_CAR_T), str(profile_study(s).car_t)) for n, s in records.items()
    ]
    car_t_report("real, development (in-sample)",
                 record_pairs + study_pairs(real_study_cases("dev")), misses)  # fmt: skip
    car_t_report("real, held-out", study_pairs(real_study_cases("heldout")), misses)
    hand_studies = [*STUDY_CASES, *HELDOUT_STUDY_CASES, *FAMILY_STUDY_DEV]
    car_t_report("hand-written, development (in-sample)", study_pairs(hand_studies), misses)
    car_t_report("hand-written, held-out", study_pairs(FAMILY_STUDY_HELDOUT), misses)
    if fixtures:
        car_t_report("sample data answer key",
                     [(n, str(FIXTURE_KEY[n][0]), str(profile_study(s).car_t))
                      for n, s in fixtures.items()], misses)  # fmt: skip

    gathered = len(real_text_cases("dev"))
    print(f"\nsizes: prior_car_t real dev {len(real_dev)} ({len(real_dev) - gathered} shared "
          f"records + {gathered} gathered texts), real held-out "
          f"{len(real_held)}, hand-written dev {len(hand_dev)}, hand-written held-out "
          f"{len(hand_held)}; sample data {len(fixture_cases)} (reported on its own)")  # fmt: skip
    if records:
        start = time.perf_counter()
        for study in records.values():
            profile_study(study)
        print(f"profile_study over {len(records)} records: {time.perf_counter() - start:.2f} s")
    print("\nmisclassified cases:" if misses else "\nno misclassified cases")
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
