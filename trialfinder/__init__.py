"""trialfinder: find CAR-T trials, and trials open after CAR-T, on ClinicalTrials.gov.

A library as well as a command:

    from trialfinder import ApiSource, CtGovClient, Query, SearchOptions, run_search

    with CtGovClient() as client:
        result = run_search(Query.build(condition="lymphoma"), ApiSource(client),
                            SearchOptions(after_car_t=True))
    print(result.studies[["nct_id", "prior_car_t", "prior_car_t_evidence"]])

The public names are imported lazily, so `import trialfinder` (and `trialfinder --help`) does
not load pandas or httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "Query": "ctgov.query",
    "SearchOptions": "search",
    "SearchResult": "search",
    "run_search": "search",
    "ApiSource": "ctgov.sources",
    "FileSource": "ctgov.sources",
    "CtGovClient": "ctgov.client",
    "profile_study": "cart.stance",
    "classify_prior_car_t": "cart.stance",
    "resolve_place": "geo.places",
    "parse_radius": "geo.distance",
    "study_detail": "detail",
    "TrialfinderError": "errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'trialfinder' has no attribute {name!r}")
