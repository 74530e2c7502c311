"""Time the client's pure CPU stages of a large search (issue 11), without any network.

Run from the repository root:

    .venv/bin/python benchmarks/search_cpu.py [--studies N (default 20020)] [--profile]

It builds about 20,000 distinct studies in memory from the shared real records
(../shared/ctgov/records, 385 distinct studies) with `benchmarks.corpus` (each copy with its
own NCT id and every text it reads marked, line by line, so that no cache of repeated texts
could flatter it), and times, in CPU seconds of this process (one core, `time.process_time`;
wall seconds beside them):

- records: `trialfinder.records.parse_study` on every raw study;
- profile: `trialfinder.cart.profile.profile_study` on every Study (it calls
  `classify_prior_car_t` and the vocabulary's `mentions`), with studies a CPU second;
- classifier: `trialfinder.cart.stance.classify_prior_car_t` on each distinct criteria text
  (14,639 texts, 37.6 M characters), with texts a CPU second;
- mentions: `Vocabulary.mentions` alone on every text the profile reads (titles, acronym,
  intervention names and descriptions, keywords, criteria), with MB/s;
- clean_line and strip_controls: on every string of every raw study.

`--profile` adds the top of a cProfile of the profile stage.

Figures, CPU seconds, 20,020 studies, 227,448 mention texts (62.6 MB), 6,704,360 raw strings,
on the development machine (2 cores shared with other engineers' tests, so about ±15%), taken
with the earlier corpus (a suffix varied on titles, intervention descriptions and criteria),
before the studies moved to benchmarks.corpus:

    2026-12-02, one run each        first     before    after
    records                         10.07      6.22      6.71
    profile                         38.87     24.61      9.46   (813 -> 2,116 studies/s)
    classifier                          -     14.85      4.18   (985 -> 3,498 texts/s)
    mentions                        29.99     17.62      4.13   (3.6 -> 15.2 MB/s)
    clean_line                      11.49      4.66      3.84
    strip_controls                  10.04      1.06      0.99

"first" is the code as issue 11 found it (wall seconds, `time.perf_counter`); "before" and
"after" the anchor scan below, run back to back (`.venv/bin/python benchmarks/search_cpu.py`
in a worktree of the earlier commit, then in this one).

The mention scan finds the vocabulary's literal anchors (every name and target, each pattern
entry's "anchors") in one Aho–Corasick pass (`trialfinder.cart.scan`), and tries the regex
only at the word edges a few words before each anchor, up to the next separator; the stance
skips sentences with no anchor and asks `class_context` only when a class term is there;
`strip_controls` returns printable text untouched. What is left: the Aho–Corasick pass itself
(about 25 ns a character, most of a criteria text with no mention), and for the 8% of
criteria texts that mention CAR-T, the sentence splitting and the per-sentence cue and verdict
patterns (about 2 ms such a text). `benchmarks/cart_eval.py` prints the same figures as
before; tests/test_speed_paths.py compares the fast paths with the plain ones.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks import corpus  # noqa: E402
from trialfinder.cart.profile import profile_study  # noqa: E402
from trialfinder.cart.stance import classify_prior_car_t  # noqa: E402
from trialfinder.cart.vocab import vocabulary  # noqa: E402
from trialfinder.records import Study, parse_study  # noqa: E402
from trialfinder.text import (  # noqa: E402
    all_strings,
    clean_line,
    strip_controls,
)


def timed(label: str, work: Callable[[], object], note: str = "", count: int = 0) -> float:
    """Run `work` once and print its CPU time (`time.process_time`: this process, one core)
    and wall time; with `count`, also how many items a CPU second."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rate = f"  {count / cpu:,.0f}/s" if count else ""
    print(f"  {label:<16}{cpu:8.2f} s cpu {wall:8.2f} s wall{rate}{note}")
    return cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=20_020)
    parser.add_argument("--profile", action="store_true", help="cProfile the profile stage")
    args = parser.parse_args(argv)

    raws = list(corpus.studies(args.studies))
    vocab = vocabulary()
    vocab.mentions("warm up")
    print(f"{len(raws)} studies")

    studies: list[Study] = []
    timed("records", lambda: studies.extend(parse_study(r) for r in raws))
    timed("profile", lambda: [profile_study(s) for s in studies], "  (studies)", len(studies))

    criteria = list(
        dict.fromkeys(s.eligibility_criteria for s in studies if s.eligibility_criteria)
    )
    chars = sum(map(len, criteria)) / 1e6
    note = f"  ({len(criteria):,} distinct criteria texts, {chars:.1f} M characters)"
    timed("classifier", lambda: [classify_prior_car_t(c) for c in criteria], note, len(criteria))

    texts = [t for s in studies for t in corpus.mention_texts(s)]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    seconds = timed("mentions", lambda: [vocab.mentions(t) for t in texts])
    print(f"  {'':<16}({len(texts)} texts, {megabytes:.1f} MB, {megabytes / seconds:.1f} MB/s)")

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
