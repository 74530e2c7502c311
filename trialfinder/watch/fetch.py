"""Fetching a watch's snapshot from the API, incrementally, without missing anything.

The registry loads new data about once a weekday, and `/version`'s `dataTimestamp` says when.
A run therefore (1) asks `/version`, and stops there when the data is the baseline's; (2) sweeps
the search's membership cheaply (only id, last-update date and status; `countTotal` proves
the sweep complete); (3) fetches whole records only for new members and members whose update
date or status moved (pitfall 3's `filter.ids`, in chunks that fit a URL); (4) asks for each
trial that left by id, to say why. The last-update date has no time and the registry sets
overdue records to UNKNOWN without moving it, which is why the status is swept too. If the
data is reloaded during the run, the run starts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import NO_HOOKS, ApiSource, Fetched, Hooks
from trialfinder.errors import ApiError, StudyNotFound, TrialfinderError
from trialfinder.fields import ALL_FIELDS
from trialfinder.records import Study
from trialfinder.search import server_query
from trialfinder.spec import Search

SWEEP_FIELDS = ("NCTId", "LastUpdatePostDate", "OverallStatus")
# Everything a change report compares, beyond what the search output needs.
WATCH_FIELDS = (
    *ALL_FIELDS,
    "CollaboratorName",
    "OverallOfficial",
    "BriefSummary",
)
ID_CHUNK = 200  # NCT ids per filter.ids request: about 2.8 kB of URL, well inside the limits
MAX_RELOADS = 3  # data loads noticed during one run before giving up


@lru_cache(maxsize=1)
def classifier_version() -> str:
    """A fingerprint of the CAR-T rules and vocabulary: a new classifier is not a trial change."""
    digest = hashlib.sha256()
    package = resources.files("trialfinder")
    for name in sorted(
        p.name for p in package.joinpath("cart").iterdir() if p.name.endswith(".py")
    ):
        digest.update(package.joinpath("cart", name).read_bytes())
    digest.update(package.joinpath("data", "cart_vocabulary.json").read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Candidates:
    """What the server returns for the watch's query, as whole records."""

    studies: list[Study]
    data_timestamp: str | None
    full: bool
    reused: int  # records taken from the baseline instead of fetched again


def _complete(fetched: Fetched, what: str) -> list[Study]:
    """The studies, or an error when the API's own count says some are missing."""
    if fetched.total is not None and len(fetched.studies) != fetched.total:
        raise ApiError(
            f"{what} returned {len(fetched.studies)} studies but the API counted "
            f"{fetched.total}; nothing was stored (the data may be loading: try again later)"
        )
    return fetched.studies


def by_ids(source: ApiSource, ids: Sequence[str], hooks: Hooks) -> dict[str, Study]:
    """Whole records for these NCT ids, any status, in chunks that fit a URL."""
    out: dict[str, Study] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = tuple(ids[start : start + ID_CHUNK])
        query = Query(ids=chunk, statuses=(), sort="nct-id")
        for study in source.fetch(query, WATCH_FIELDS, hooks=hooks).studies:
            out[study.nct_id] = study
    return out


def candidates(
    source: ApiSource,
    search: Search,
    baseline: Mapping[str, Study] | None,
    *,
    full: bool,
    hooks: Hooks = NO_HOOKS,
) -> Candidates:
    """Every study the server returns for the watch's query, fetched as little as possible."""
    for _ in range(MAX_RELOADS):
        before = source.data_timestamp(hooks=hooks)
        sent = replace(server_query(search.query, search.options), limit=None)
        if full or baseline is None:
            studies = _complete(source.fetch(sent, WATCH_FIELDS, hooks=hooks), "the search")
            reused = 0
        else:
            swept = _complete(source.fetch(sent, SWEEP_FIELDS, hooks=hooks), "the sweep")
            stale = [
                s.nct_id
                for s in swept
                if s.nct_id not in baseline
                or baseline[s.nct_id].last_update != s.last_update
                or baseline[s.nct_id].status != s.status
            ]
            fresh = by_ids(source, stale, hooks)
            missing = [n for n in stale if n not in fresh]
            if missing:
                raise ApiError(
                    f"the API did not return {len(missing)} trial(s) it had just listed "
                    f"(e.g. {missing[0]}); nothing was stored"
                )
            studies = [fresh.get(s.nct_id) or baseline[s.nct_id] for s in swept]
            reused = len(swept) - len(stale)
        if source.data_timestamp(hooks=hooks) == before:
            return Candidates(studies, before, full or baseline is None, reused)
    raise TrialfinderError(
        f"the registry loaded new data {MAX_RELOADS} times during this run; try again later"
    )


def why_left(
    source: ApiSource,
    gone: Sequence[str],
    statuses: Sequence[str],
    hooks: Hooks = NO_HOOKS,
    *,
    on_found: Callable[[Study], None] | None = None,
) -> dict[str, str]:
    """Why each trial no longer comes back from the search: asked for by id."""
    found = by_ids(source, list(gone), hooks) if gone else {}
    reasons: dict[str, str] = {}
    for nct in gone:
        study = found.get(nct)
        if study is None:
            try:
                moved = source.get(nct, ("NCTId",), hooks=hooks)
            except StudyNotFound:
                reasons[nct] = "no longer in the registry (removed or withdrawn)"
                continue
            reasons[nct] = (
                f"moved to {moved.nct_id}" if moved.nct_id != nct else "no longer returned"
            )
            continue
        if on_found is not None:
            on_found(study)
        if statuses and study.status not in statuses:
            reasons[nct] = f"status now {study.status or 'not given'}"
        else:
            reasons[nct] = "no longer matches the search terms"
    return reasons
