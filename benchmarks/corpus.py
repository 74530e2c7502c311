"""Distinct, real-shaped studies for the benchmarks, built from the shared real records.

Each study is a copy of one of the real records in ../shared/ctgov/records (385 distinct
studies, 19 KB of JSON each on average, up to 840 KB and 1,148 sites) with its own NCT id, and
every text trialfinder reads made its own: titles and acronym, summaries, conditions and
keywords, intervention and arm texts, and the eligibility criteria are marked on every line
(a cache of repeated lines, not only of whole texts, misses); sites get their own facility and
contact names. Enums, dates, ages, cities and coordinates stay real, so filters, the
classifier and distances see real values. The copies are about 2% larger than the originals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cart_labels import RECORDS_DIR, load_records

from trialfinder.records import Study

PAGE_SIZE = 1000  # what the API pages by, and what the saved files hold


@cache
def real_records() -> tuple[dict[str, Any], ...]:
    """The shared real records, each study once, in a stable order."""
    records = load_records(RECORDS_DIR)
    if not records:
        raise SystemExit(f"no real records in {RECORDS_DIR} (the benchmark needs them)")
    return tuple(dict(records[nct]) for nct in sorted(records))


def _lines(text: str, mark: str) -> str:
    """`text` with `mark` and the line number at the end of every non-blank line."""
    return "\n".join(
        f"{line} ({mark}.{i})" if line.strip() else line
        for i, line in enumerate(text.split("\n"), 1)
    )


def _module(protocol: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of one module of `protocol`, put back in place (the original stays untouched)."""
    module = dict(protocol.get(name) or {})
    protocol[name] = module
    return module


def _strings(items: Any, mark: str) -> Any:
    if not isinstance(items, list):
        return items
    return [f"{s} ({mark}.{i})" if isinstance(s, str) else s for i, s in enumerate(items, 1)]


def _objects(items: Any, keys: tuple[str, ...], mark: str) -> Any:
    """A copy of a list of objects with each of `keys` (strings or lists of strings) marked."""
    if not isinstance(items, list):
        return items
    out = []
    for i, item in enumerate(items, 1):
        if isinstance(item, dict):
            item = dict(item)
            for key in keys:
                value = item.get(key)
                if isinstance(value, str):
                    item[key] = _lines(value, f"{mark}.{i}")
                elif isinstance(value, list):
                    item[key] = _strings(value, f"{mark}.{i}")
        out.append(item)
    return out


def distinct(raw: Mapping[str, Any], k: int) -> dict[str, Any]:
    """A copy of one raw study with NCT id `NCT9xxxxxxx` (from `k`) and its texts made its own.

    Only the parts changed are copied; the rest is shared with `raw` (nothing mutates it).
    """
    mark = f"v{k}"
    protocol = dict(raw.get("protocolSection") or {})
    ident = _module(protocol, "identificationModule")
    ident["nctId"] = f"NCT{90000000 + k:08d}"
    ident.pop("nctIdAliases", None)  # an alias shared by copies would merge them
    for key in ("briefTitle", "officialTitle", "acronym"):
        if isinstance(ident.get(key), str):
            ident[key] = f"{ident[key]} {mark}"
    desc = _module(protocol, "descriptionModule")
    for key in ("briefSummary", "detailedDescription"):
        if isinstance(desc.get(key), str):
            desc[key] = _lines(desc[key], mark)
    conditions = _module(protocol, "conditionsModule")
    for key in ("conditions", "keywords"):
        conditions[key] = _strings(conditions.get(key), mark)
    arms = _module(protocol, "armsInterventionsModule")
    arms["interventions"] = _objects(
        arms.get("interventions"), ("name", "description", "otherNames"), mark
    )
    arms["armGroups"] = _objects(arms.get("armGroups"), ("label", "description"), mark)
    elig = _module(protocol, "eligibilityModule")
    if isinstance(elig.get("eligibilityCriteria"), str):
        elig["eligibilityCriteria"] = _lines(elig["eligibilityCriteria"], mark)
    sites = _module(protocol, "contactsLocationsModule")
    sites["locations"] = _objects(sites.get("locations"), ("facility",), mark)
    sites["centralContacts"] = _objects(sites.get("centralContacts"), ("name",), mark)
    for site in sites["locations"] or ():
        if isinstance(site, dict) and isinstance(site.get("contacts"), list):
            site["contacts"] = _objects(site["contacts"], ("name",), mark)
    for name in list(protocol):
        part = protocol[name]
        if isinstance(part, dict):
            for key in [key for key, value in part.items() if value is None]:
                del part[key]  # a key this copy added for a part the record lacks
            if not part and name not in (raw.get("protocolSection") or {}):
                del protocol[name]
    return {**raw, "protocolSection": protocol}


def studies(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """`count` distinct studies (numbers `start`..), cycling through the real records."""
    records = real_records()
    for k in range(start, start + count):
        yield distinct(records[k % len(records)], k)


def write_pages(count: int, folder: Path) -> list[Path]:
    """Save `count` distinct studies in `folder` as the API pages them: one /studies page of
    up to 1,000 full records a file (built and written a page at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, start in enumerate(range(0, count, PAGE_SIZE), 1):
        page = list(studies(min(PAGE_SIZE, count - start), start))
        body: dict[str, Any] = {"studies": page}
        if start + PAGE_SIZE < count:
            body["nextPageToken"] = f"page{number + 1}"
        path = folder / f"page-{number:03d}.json"
        path.write_text(json.dumps(body), encoding="utf-8")
        paths.append(path)
    return paths


def mention_texts(study: Study) -> Iterator[str]:
    """Every text `trialfinder.cart.profile.profile_study` reads for mentions."""
    for i in study.interventions:
        yield " ; ".join(n for n in (i.name, *i.other_names) if n)
        if i.description:
            yield i.description
    yield from study.arm_intervention_names
    yield from (t for t in (study.brief_title, study.official_title, study.acronym) if t)
    yield from study.keywords
    if study.eligibility_criteria:
        yield study.eligibility_criteria
