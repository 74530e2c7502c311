"""Where studies come from: the live API (filtered by the server) or saved API output on disk.

Both return `Study` records, parsed once (`trialfinder.records`). A source takes explicit hooks
for progress and retries, says how long one request takes at its pace, and is closed by
whoever opened it; nobody reaches inside it. The API source is here; the others, and what all
sources share, are in `ctgov.local` and `ctgov.hooks` and are named here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from trialfinder.ctgov.cores import Workers, worker_count
from trialfinder.ctgov.hooks import (
    NO_HOOKS,
    Closing,
    Fetched,
    Hooks,
    Progress,
    RetryHook,
    StudySource,
    classify_batch,
    dedupe,
)
from trialfinder.ctgov.lean import NotLean, lean_studies
from trialfinder.ctgov.local import FileSource, LocalSource, RecordsSource
from trialfinder.ctgov.pages import Page, decode_json
from trialfinder.ctgov.prefetch import ahead
from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query, check_nct_id
from trialfinder.ctgov.slices import Slices, sliced_pages, workers_for
from trialfinder.describe import describe_raw
from trialfinder.errors import ApiError, RecordError
from trialfinder.records import Study, parse_study

if TYPE_CHECKING:
    from trialfinder.ctgov.client import CtGovClient

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


def _from_api(raw: Any, where: str, *, sites: bool = True) -> Study:
    try:
        return parse_study(raw, sites=sites)
    except RecordError as exc:
        raise ApiError(f"the API sent {where} that is {exc}: {describe_raw(raw)}") from None


class PageJob(NamedTuple):
    """One page's work for `_page_records`, as sent to a worker process."""

    data: bytes | list[Any]  # the page's raw studies, as the JSON array that came or decoded
    where: str  # "on page N", for errors
    classify: Callable[[Study], Any] | None  # hooks.classify
    long_texts: bool  # hooks.long_texts
    sites: bool = True  # read the sites, or only count them (records.UnreadSites)


_Records = tuple[list[Study], list[Any]]


def _page_records(job: PageJob) -> _Records:
    """One page's records and `classify` of each (in a worker process, or here). The JSON
    that came is decoded lean (`ctgov.lean`: the pieces a Study is made from); a page that
    does not decode so, or holds a record that is no study, is decoded whole, so that the
    error names the record as the API sent it."""

    def records(raws: Iterable[Any]) -> _Records:
        batch = [
            _from_api(s, f"item {i} {job.where}", sites=job.sites) for i, s in enumerate(raws, 1)
        ]
        return classify_batch(batch, job.classify, job.long_texts)

    if not isinstance(job.data, bytes):
        return records(job.data)
    try:
        return records(lean_studies(job.data, sites=job.sites))
    except (NotLean, ApiError):
        return records(decode_json(job.data))


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
        sites: bool = True,
    ) -> Fetched:
        """Page through the whole search (or until `limit` studies have come). The records
        hold what `fields` asked for; without `sites`, their sites are counted, not read
        (`records.UnreadSites`: the caller reads none of them)."""
        params = query.to_params(fields)
        page_size = min(limit, MAX_PAGE_SIZE) if limit else MAX_PAGE_SIZE
        studies: list[Study] = []
        classified: dict[str, Any] = {}
        total: int | None = None
        truncated = False
        if hooks.progress:
            hooks.progress(0, None)  # show that work started before the first page arrives

        seen: set[str] | None = None  # with date slices: the ids read so far

        def record(batch: list[Study], results: list[Any]) -> None:
            if seen is not None:
                # Slices meet on a boundary day and start over the first page's newest
                # studies: a study that comes twice that way is no news, kept once.
                batch = [s for s in batch if s.nct_id not in seen]
                seen.update(s.nct_id for s in batch)
            studies.extend(batch)
            for study, result in zip(batch, results, strict=False):
                classified.setdefault(study.nct_id, result)
            if hooks.studies:
                hooks.studies(batch)
            if hooks.progress:
                hooks.progress(len(studies), total)

        def take(page: Page, where: str) -> None:
            data = page.studies_json()
            if data is not None and workers.forked:
                done = workers.put(PageJob(data, where, hooks.classify, hooks.long_texts, sites))
            else:
                job = PageJob(page.studies, where, hooks.classify, hooks.long_texts, sites)
                done = [_page_records(job)]
            for batch, results in done:
                record(batch, results)

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
        # while this one is worked on, or, on a slow link, in concurrent date slices; and
        # read their records on every core, in processes forked before those threads start.
        every = bool(first.next_token) and (limit is None or (total or limit + 1) <= limit)
        workers: Workers[PageJob, _Records] = Workers(_page_records, worker_count() if every else 1)
        try:
            rest = self._slices(params, first, seconds, hooks) if every else None
            later = ahead(pages) if every and rest is None else pages  # before the work
        except BaseException:
            workers.close()
            raise
        with workers:
            try:
                take(first, "on page 1")
            except BaseException:
                (rest or later).close()
                raise
            next_token = first.next_token
            del first  # the raw page goes once its records exist (or are on their way)
            if every and hooks.idle:
                hooks.idle()  # the next page is on its way
            if rest is not None:
                pages.close()  # the slices bring the rest
                seen = {s.nct_id for s in studies}
                for page in rest:
                    take(page, "on a page of a date slice")
                    del page
            elif not reached(next_token):
                for page in later:
                    if page.total is not None:
                        total = page.total
                    take(page, f"on page {page.number}")
                    next_token = page.next_token
                    del page
                    if reached(next_token):
                        break
            for batch, results in workers.rest():
                record(batch, results)
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
        pages_left = -(-((first.total or 0) - len(first)) // MAX_PAGE_SIZE)
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
