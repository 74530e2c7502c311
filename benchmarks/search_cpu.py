"""Time the client's pure CPU stages of a large search (issue 11), without any network.

Run from the repository root:

    .venv/bin/python benchmarks/search_cpu.py [--studies N (default 20020)] [--profile]

It builds about 20,000 studies in memory from the shared real records
(../shared/ctgov/records, 385 distinct studies), each copy with its own NCT id and a slightly
varied title, official title, intervention description and criteria text (so that no cache of
repeated texts could flatter it), and times with `time.perf_counter`:

- records: `trialfinder.records.parse_study` on every raw study;
- profile: `trialfinder.cart.profile.profile_study` on every Study (it calls
  `classify_prior_car_t` and the vocabulary's `mentions`);
- mentions: `Vocabulary.mentions` alone on every text the profile reads (titles, acronym,
  intervention names and descriptions, keywords, criteria), with MB/s;
- clean_line and strip_controls: on every string of every raw study.

`--profile` adds the top of a cProfile of the profile stage.

Figures, 2026-12-02, one run each back to back on the development machine (2 cores, shared
with other work, so about ±15%), 20,020 studies, 227,448 mention texts (62.6 MB), 6,704,360
raw strings; seconds:

    stage            before    after   (before: the code as issue 11 found it)
    records           10.07     6.06
    profile           38.87    23.63
    mentions          29.99    14.43   (2.1 MB/s -> 4.3 MB/s)
    clean_line        11.49     3.63
    strip_controls    10.04     1.02

The mention scan skips text holding none of the prefilter words (`Vocabulary.could_mention`),
and scans long text only in the runs between separators that pass it; `strip_controls` returns
printable text untouched. Most of what is left of `mentions` is criteria text whose runs do
hold a prefilter word ("cell therapy", a target name): the big regex still runs over them.
`benchmarks/cart_eval.py` prints the same figures as before; tests/test_speed_paths.py
compares the fast paths with the plain ones.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cart_labels import RECORDS_DIR, load_records  # noqa: E402

from trialfinder.cart.profile import profile_study  # noqa: E402
from trialfinder.cart.vocab import vocabulary  # noqa: E402
from trialfinder.records import Study, all_strings, parse_study  # noqa: E402
from trialfinder.text import clean_line, strip_controls  # noqa: E402

_VARIANTS = (
    "",
    " (Cohort {k})",
    " - Extension {k}",
    ": Site Group {k}",
    " in Adults, Part {k}",
)
_CRITERIA_TAILS = (
    "",
    "\n\n* Participants must be willing to attend follow-up visit {k}.",
    "\n\n* Life expectancy of at least {k} weeks.",
    "\n\n* No major surgery within {k} days before enrolment.",
)


def _varied(raw: Mapping[str, Any], k: int) -> dict[str, Any]:
    """A copy of one raw study with its own NCT id and slightly different texts.

    Only the modules changed are copied; the rest is shared (nothing here mutates a record).
    """
    protocol = dict(raw.get("protocolSection", {}))
    ident = dict(protocol.get("identificationModule", {}))
    ident["nctId"] = f"NCT{90000000 + k:08d}"
    suffix = _VARIANTS[k % len(_VARIANTS)].format(k=k)
    for key in ("briefTitle", "officialTitle"):
        if isinstance(ident.get(key), str):
            ident[key] = ident[key] + suffix
    protocol["identificationModule"] = ident
    elig = dict(protocol.get("eligibilityModule", {}))
    if isinstance(elig.get("eligibilityCriteria"), str):
        tail = _CRITERIA_TAILS[k % len(_CRITERIA_TAILS)].format(k=k)
        elig["eligibilityCriteria"] = elig["eligibilityCriteria"] + tail
        protocol["eligibilityModule"] = elig
    arms = dict(protocol.get("armsInterventionsModule", {}))
    interventions = arms.get("interventions")
    if isinstance(interventions, list):
        copies = []
        for item in interventions:
            item = dict(item) if isinstance(item, dict) else item
            if isinstance(item, dict) and isinstance(item.get("description"), str):
                item["description"] = item["description"] + f" Dose level {k % 7 + 1}."
            copies.append(item)
        arms["interventions"] = copies
        protocol["armsInterventionsModule"] = arms
    return {**raw, "protocolSection": protocol}


def build_studies(count: int) -> list[dict[str, Any]]:
    """`count` raw studies built from the shared records, each distinct."""
    records = list(load_records(RECORDS_DIR).values())
    if not records:
        raise SystemExit(f"no records in {RECORDS_DIR}")
    return [_varied(records[k % len(records)], k) for k in range(count)]


def mention_texts(study: Study) -> Iterator[str]:
    """Every text `profile_study` reads for mentions."""
    for i in study.interventions:
        yield " ; ".join(n for n in (i.name, *i.other_names) if n)
        if i.description:
            yield i.description
    yield from study.arm_intervention_names
    yield from (t for t in (study.brief_title, study.official_title, study.acronym) if t)
    yield from study.keywords
    if study.eligibility_criteria:
        yield study.eligibility_criteria


def timed(label: str, work: Callable[[], object], note: str = "") -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"  {label:<16}{seconds:8.2f} s{note}")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=20_020)
    parser.add_argument("--profile", action="store_true", help="cProfile the profile stage")
    args = parser.parse_args(argv)

    raws = build_studies(args.studies)
    vocab = vocabulary()
    vocab.mentions("warm up")
    print(f"{len(raws)} studies")

    studies: list[Study] = []
    timed("records", lambda: studies.extend(parse_study(r) for r in raws))
    timed("profile", lambda: [profile_study(s) for s in studies])

    texts = [t for s in studies for t in mention_texts(s)]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    seconds = time.perf_counter()
    for text in texts:
        vocab.mentions(text)
    seconds = time.perf_counter() - seconds
    print(
        f"  {'mentions':<16}{seconds:8.2f} s  ({len(texts)} texts, {megabytes:.1f} MB, "
        f"{megabytes / seconds:.1f} MB/s)"
    )

    strings = [s for r in raws for s in all_strings(r)]
    note = f"  ({len(strings)} strings)"
    timed("clean_line", lambda: [clean_line(s) for s in strings], note)
    timed("strip_controls", lambda: [strip_controls(s) for s in strings], note)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for study in studies:
            profile_study(study)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
