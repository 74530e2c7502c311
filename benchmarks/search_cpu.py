"""Time the client's pure CPU stages of a large search (issue 11), without any network.

Run from the repository root:

    .venv/bin/python benchmarks/search_cpu.py [--studies N (default 20020)] [--profile]

It builds about 20,000 distinct studies in memory from the shared real records
(../shared/ctgov/records, 385 distinct studies) with `benchmarks.corpus` (each copy with its
own NCT id and every text it reads marked, line by line, so that no cache of repeated texts
could flatter it), and times with `time.perf_counter`:

- records: `trialfinder.records.parse_study` on every raw study;
- profile: `trialfinder.cart.profile.profile_study` on every Study (it calls
  `classify_prior_car_t` and the vocabulary's `mentions`);
- mentions: `Vocabulary.mentions` alone on every text the profile reads (titles, acronym,
  intervention names and descriptions, keywords, criteria), with MB/s;
- clean_line and strip_controls: on every string of every raw study.

`--profile` adds the top of a cProfile of the profile stage.

Figures, 2026-12-02 (with the earlier variation: only a suffix on titles, intervention
descriptions and criteria, before `python -m benchmarks` moved the studies to
benchmarks.corpus), one run each back to back on the development machine (2 cores, shared
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks import corpus  # noqa: E402
from trialfinder.cart.profile import profile_study  # noqa: E402
from trialfinder.cart.vocab import vocabulary  # noqa: E402
from trialfinder.records import Study, all_strings, parse_study  # noqa: E402
from trialfinder.text import clean_line, strip_controls  # noqa: E402


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

    raws = list(corpus.studies(args.studies))
    vocab = vocabulary()
    vocab.mentions("warm up")
    print(f"{len(raws)} studies")

    studies: list[Study] = []
    timed("records", lambda: studies.extend(parse_study(r) for r in raws))
    timed("profile", lambda: [profile_study(s) for s in studies])

    texts = [t for s in studies for t in corpus.mention_texts(s)]
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
