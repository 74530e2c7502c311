"""The benchmark's studies (benchmarks/corpus.py): real-shaped, full-sized, and all distinct; and
the sampler its memory rows stand on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks import corpus
from trialfinder.ctgov.sources import FileSource
from trialfinder.records import parse_study


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out = set()
        for key, item in value.items():
            out |= {prefix + key} | _paths(item, f"{prefix}{key}.")
        return out
    if isinstance(value, list):
        return set().union(*(_paths(item, prefix) for item in value))
    return set()


def test_every_copy_keeps_its_records_shape_and_size() -> None:
    originals = corpus.real_records()
    copies = list(corpus.studies(len(originals)))
    alias = "protocolSection.identificationModule.nctIdAliases"
    for original, copy in zip(originals, copies, strict=True):
        assert _paths(copy) == _paths(original) - {alias}
    before = sum(len(json.dumps(r)) for r in originals)
    after = sum(len(json.dumps(c)) for c in copies)
    assert before < after < before * 1.1


def test_no_two_studies_share_a_text_the_client_reads() -> None:
    count = 2 * len(corpus.real_records()) + 7  # every record copied at least twice
    studies = [parse_study(raw) for raw in corpus.studies(count)]
    assert len({s.nct_id for s in studies}) == count
    texts: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for study in studies:
        texts.update({study.brief_title, *study.conditions, *study.keywords} - {""})
        texts.update(i.description for i in study.interventions if i.description)
        texts.update(site.facility for site in study.sites if site.facility)
        if study.eligibility_criteria:
            texts[study.eligibility_criteria] += 1
            lines.update({line for line in study.eligibility_criteria.splitlines() if line.strip()})
    assert texts and max(texts.values()) == 1
    assert lines and max(lines.values()) == 1  # a cache of repeated lines misses too


def test_the_saved_pages_read_back_whole(tmp_path: Path) -> None:
    paths = corpus.write_pages(1_050, tmp_path)
    assert [len(json.loads(p.read_text())["studies"]) for p in paths] == [1000, 50]
    assert "nextPageToken" in json.loads(paths[0].read_text())
    assert "nextPageToken" not in json.loads(paths[1].read_text())
    studies = FileSource(tmp_path).load()
    assert len({s.nct_id for s in studies}) == 1_050


_HOLDS_MEMORY = """
import os, sys, time
pid = os.fork()
block = bytearray(int(sys.argv[1]) * 2**20)  # parent and child each touch their own
block[:: 4096] = b"x" * len(block[:: 4096])
time.sleep(0.4)
if pid:
    os.waitpid(pid, 0)
"""


def test_the_memory_sampler_counts_a_forked_worker_too(tmp_path: Path) -> None:
    """What the benchmark's memory rows stand on: the tree's memory held at once, the
    worker's too (two processes of 60 MB each: more than either one's peak)."""
    from benchmarks.child import _TreeSampler

    if not _TreeSampler.available():
        pytest.skip("/proc shows no Pss or children here")
    import subprocess
    import sys

    sampler = _TreeSampler()
    child = subprocess.Popen([sys.executable, "-c", _HOLDS_MEMORY, "60"])
    sampler.start(child.pid)
    child.wait(timeout=30)
    sampler.stop()
    assert child.returncode == 0
    assert sampler.peak > 110 * 2**20
