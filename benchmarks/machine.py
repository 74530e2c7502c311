"""How fast the machine itself is, so that benchmark runs on other machines, or in other hours
of a shared one, can be compared.

The development machines drift by a fifth or more from hour to hour, and a new session may
run on a slower or faster one; a figure of trialfinder's own means little without the
machine's. `reference_seconds` times one fixed workload that none of trialfinder's code
is part of (so no commit changes it): an interpreter loop over dicts and strings, a regular
expression and JSON, the kinds of work a search does. It is timed by CPU time, best of three,
and printed at the start and the end of a run: a figure twice as fast as another on a machine
whose reference is half as long is the same speed.
"""

from __future__ import annotations

import json
import re
import time

_WORDS = ("CAR-T", "lymphoma", "prior", "BCMA", "relapsed", "Exclusion", "cell", "therapy")
_PATTERN = re.compile(r"\b(?:prior|previous)\s+(?:CAR-T|cell)\b", re.IGNORECASE)
_TEXT = " ".join(_WORDS[i * 7 % len(_WORDS)] for i in range(400))
_JSON = json.dumps([{"id": i, "title": _TEXT[i : i + 40], "n": [i, i + 1]} for i in range(400)])


def workload() -> int:
    """The fixed work, returning a checksum of it (pinned by a test: it must never change,
    or references of different commits would not compare)."""
    total = 0
    counts: dict[str, int] = {}
    for i in range(1_200_000):
        word = _WORDS[i % len(_WORDS)]
        counts[word] = counts.get(word, 0) + len(word.lower())
        total += i % 7
    for _ in range(300):
        total += len(_PATTERN.findall(_TEXT))
        total += sum(len(item["title"]) for item in json.loads(_JSON))
    return total + sum(counts.values())


def reference_seconds(repeats: int = 3) -> float:
    """The workload's best CPU seconds of `repeats` runs (smaller: a faster machine)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        workload()
        best = min(best, time.process_time() - started)
    return best
