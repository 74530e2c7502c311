"""Where studies come from: the live API (filtered by the server) or saved API output on disk.

Both return `Study` records, parsed once (`trialfinder.records`). A source takes explicit hooks
for progress and retries, says how long one request takes at its pace, and is closed by
whoever opened it; nobody reaches inside it. The API source is here; the others, and what all
sources share, are in `ctgov.local` and `ctgov.hooks` and are named here too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trialfinder.ctgov.hooks import (
    NO_HOOKS,
    Closing,
    Fetched,
    Hooks,
    Progress,
    RetryHook,
    StudySource,
    classify_into,
    dedupe,
)
from trialfinder.ctgov.local import FileSource, LocalSource, RecordsSource
from trialfinder.ctgov.prefetch import ahead
from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query, check_nct_id
from trialfinder.ctgov.slices import Slices, sliced_pages, workers_for
from trialfinder.errors import ApiError, RecordError
from trialfinder.records import Study, describe_raw, nct_id_of, parse_study

if TYPE_CHECKING:
    from trialfinder.ctgov.client import CtGovClient, Page

__all__ = [
    "NO_HOOKS",
    "ApiSource",
    "Fetched",
    "FileSource",
    "Hooks",
    "LocalSource",
    "Progress",
    "RecordsSource",
    "RetryHook",
    "StudySource",
    "count_slack",
]


def _from_api(raw: Any, where: str) -> Study:
    try:
        return parse_study(raw)
    except RecordError as exc:
        raise ApiError(f"the API sent {where} that is {exc}: {describe_raw(raw)}") from None


def count_slack(total: int) -> int:
    """How many studies fewer than `totalCount` a finished search may bring (pitfall 10).

    The registry is refreshed while a long search pages, so a study may leave the match
    between pages: up to 1% of the count, and at least 3 studies, is a note; more is an error.
    """
    return max(3, total // 100)


class ApiSource(Closing):
    """The ClinicalTrials.gov API v2, which applies the query's filters itself."""

    def __init__(self, client: CtGovClient, *, workers: int | None = None) -> None:
        self._client = client
        # Date slices fetched at once on a slow link; None: decided from the first page's
        # time and the pace, 1: always page by page.
        self.workers = workers
        self.description = f"ClinicalTrials.gov API at {client.base_url}"

    @property
    def pace(self) -> float:
        """Seconds between request starts at the client's pace."""
        return self._client.pace

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    @property
    def requests_made(self) -> int:
        """Requests sent so far (for counting what a run cost)."""
        return self._client.requests_made

    def cache_notes(self) -> list[str]:
        """What the cache did this run, for the user (none without a cache)."""
        cache = self._client.cache
        return cache.notes(self._client.requests_made) if cache is not None else []

    def data_timestamp(self, *, hooks: Hooks = NO_HOOKS) -> str | None:
        """When the registry's data was last loaded (/version's `dataTimestamp`)."""
        value = self._client.version(on_retry=hooks.retry).get("dataTimestamp")
        return str(value) if value else None

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Fetched:
        """Page through the whole search (or until `limit` studies have come)."""
        params = query.to_params(fields)
        page_size = min(limit, MAX_PAGE_SIZE) if limit else MAX_PAGE_SIZE
        studies: list[Study] = []
        classified: dict[str, Any] = {}
        total: int | None = None
        truncated = False
        if hooks.progress:
            hooks.progress(0, None)  # show that work started before the first page arrives

        def take(raws: list[dict[str, Any]], where: str) -> None:
            batch = [_from_api(s, f"item {i} {where}") for i, s in enumerate(raws, 1)]
            studies.extend(batch)
            classify_into(classified, hooks.classify, batch)
            if hooks.studies:
                hooks.studies(batch)
            if hooks.progress:
                hooks.progress(len(studies), total)

        def reached(next_token: str | None) -> bool:
            nonlocal studies, truncated
            if limit is None or len(studies) < limit:
                return False
            # A full page carries a token even when nothing follows (pitfall 1): trust
            # totalCount when the API sent it.
            more = total > limit if total is not None else bool(next_token)
            truncated = more or len(studies) > limit
            studies = studies[:limit]
            return True

        started = time.monotonic()
        pages = self._client.iter_pages(params, page_size=page_size, on_retry=hooks.retry)
        first = next(pages)
        seconds = time.monotonic() - started
        total = first.total
        # When nothing will cut the search short, every page is needed: fetch them ahead
        # while this one is worked on, or, on a slow link, in concurrent date slices.
        every = bool(first.next_token) and (limit is None or (total or limit + 1) <= limit)
        rest = self._slices(params, first, seconds, hooks) if every else None
        later = ahead(pages) if every and rest is None else pages  # started before the work
        try:
            take(first.studies, "on page 1")
        except BaseException:
            (rest or later).close()
            raise
        next_token = first.next_token
        del first  # the raw page goes once its records exist
        if rest is not None:
            pages.close()  # the slices bring the rest
            # Slices meet on a boundary day and start over the first page's newest
            # studies: a study that comes twice that way is no news, kept once.
            seen = {s.nct_id for s in studies}
            for raws in rest:
                fresh = []
                for raw in raws:
                    nct = nct_id_of(raw)
                    if nct not in seen:  # a raw with no id is kept: parsing then says why
                        fresh.append(raw)
                        seen.add(nct or "")
                take(fresh, "on a page of a date slice")
        elif not reached(next_token):
            for page in later:
                if page.total is not None:
                    total = page.total
                take(page.studies, f"on page {page.number}")
                next_token = page.next_token
                del page
                if reached(next_token):
                    break
        notes: list[str] = []
        studies = dedupe(studies, notes, "the API's pages")
        if not truncated and total is not None and total - len(studies) > count_slack(total):
            raise ApiError(
                f"the API counted {total} matching studies but its pages ended after "
                f"{len(studies)}; the result would be short",
                hint="try again later; the API may be failing",
            )
        if not truncated and total is not None and len(studies) != total:
            notes.append(
                f"the API counted {total} matching studies but sent {len(studies)} "
                "(the data may have changed while paging)"
            )
        kept = {s.nct_id for s in studies}  # --limit may have cut some classified ones
        classified = {n: c for n, c in classified.items() if n in kept}
        return Fetched(studies, self.description, True, total, truncated, notes, classified)

    def _slices(
        self, params: dict[str, str], first: Page, seconds: float, hooks: Hooks
    ) -> Slices | None:
        """The rest of the search in concurrent date slices, when the link is what limits
        (ctgov/slices.py); None to go on page by page."""
        pages_left = -(-((first.total or 0) - len(first.studies)) // MAX_PAGE_SIZE)
        if self.workers is not None:
            workers = min(self.workers, max(1, pages_left))
        else:
            workers = workers_for(seconds, self.pace, pages_left)
        if workers < 2:
            return None
        return sliced_pages(self._client, params, first, workers, on_retry=hooks.retry)

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study from /studies/{nctId}; for an alias id, the study it now belongs to
        (its `nct_id` then differs from the one asked for)."""
        raw = self._client.get_study(nct_id, fields, on_retry=hooks.retry)
        return _from_api(raw, f"the record for {check_nct_id(nct_id)}")
