"""The benchmark's studies (benchmarks/corpus.py): real-shaped, full-sized, and all distinct."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

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
