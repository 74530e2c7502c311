"""trialfinder: find CAR-T trials, and trials open after CAR-T, on ClinicalTrials.gov.

A library as well as a command:

    from trialfinder import ApiSource, CtGovClient, SearchSpec, run_search

    search = SearchSpec(condition="lymphoma", after_car_t=True, near="Houston, TX").resolve()
    with ApiSource(CtGovClient()) as source:
        result = run_search(search.query, source, search.options)
    print(result.studies[["nct_id", "prior_car_t", "prior_car_t_evidence"]])

`SearchSpec` validates every option and combination the same way the command line does, and
round-trips through a plain dict (`to_dict` / `from_dict`). The public names are imported
lazily, so `import trialfinder` (and `trialfinder --help`) loads neither pandas nor httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "SearchSpec": "spec",
    "Search": "spec",
    "SearchOptions": "spec",
    "Study": "records",
    "Site": "records",
    "parse_study": "records",
    "Query": "ctgov.query",
    "Settings": "ctgov.settings",
    "CtGovClient": "ctgov.client",
    "ApiSource": "ctgov.sources",
    "FileSource": "ctgov.sources",
    "Hooks": "ctgov.sources",
    "SearchResult": "search",
    "run_search": "search",
    "profile_study": "cart.profile",
    "classify_prior_car_t": "cart.stance",
    "resolve_place": "geo.places",
    "parse_radius": "geo.distance",
    "study_detail": "detail",
    "TrialfinderError": "errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(f"trialfinder.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'trialfinder' has no attribute {name!r}")
