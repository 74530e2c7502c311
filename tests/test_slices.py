"""Concurrent date slices (ctgov/slices.py): the same studies as paging one page after another,
a failure in any slice fails the search, and slicing happens only where it pays."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from ctgov_server import FakeCtGov, make_studies

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.pages import Page
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.settings import RATE_ENV, RETRIES_ENV, Settings
from trialfinder.ctgov.slices import (
    NEWEST_FIRST,
    QUEUED_PAGES,
    Slices,
    _as_dense,
    _recent_first,
    workers_for,
)
from trialfinder.ctgov.sources import ApiSource
from trialfinder.errors import ApiError
from trialfinder.search import run_search
from trialfinder.spec import SearchSpec


def _spread(count: int, undated: int = 97) -> list[dict[str, Any]]:
    """Studies last updated over 25 years, most of them recently, one in `undated` with no
    date."""
    studies = make_studies(count)
    for n, study in enumerate(studies):
        status = study["protocolSection"]["statusModule"]
        if n % undated == 0:
            del status["lastUpdatePostDateStruct"]
            continue
        back = (n * 7919) % 9000 if n % 3 == 0 else (n * 31) % 400  # days before 2026-11-30
        day = dt.date(2026, 11, 30) - dt.timedelta(days=back)
        status["lastUpdatePostDateStruct"] = {"date": day.isoformat(), "type": "ACTUAL"}
    return studies


def _source(server: FakeCtGov, workers: int, **env: str) -> ApiSource:
    settings = Settings.from_env({RATE_ENV: "1e6", **env}, base_url=server.base_url)
    return ApiSource(CtGovClient(settings), workers=workers)


@pytest.mark.parametrize(("workers", "undated"), [(3, 97), (8, 97), (4, 3)])
def test_sliced_and_sequential_fetches_bring_the_same_studies(workers: int, undated: int) -> None:
    """Also when a third of the studies have no date: more than a page of them, all in the
    oldest slice, which cannot be cut by date and is paged on."""
    with FakeCtGov(_spread(4500, undated)) as server:
        query = Query.build(status=["any"])
        with _source(server, 1) as plain:
            sequential = plain.fetch(query)
            assert plain.requests_made == 5
        with _source(server, workers) as sliced_source:
            sliced = sliced_source.fetch(query)
            made = sliced_source.requests_made
    assert len(sequential.studies) == 4500
    assert sorted(s.nct_id for s in sliced.studies) == sorted(s.nct_id for s in sequential.studies)
    by_id = {s.nct_id: s for s in sequential.studies}
    assert all(by_id[s.nct_id] == s for s in sliced.studies)
    assert sliced.total == sequential.total == 4500
    assert sliced.notes == sequential.notes == []
    assert made < 5 + 4 * workers  # the first page, then about a page per slice more
    if undated == 3:
        assert sum(s.last_update is None for s in sliced.studies) == 1500


def test_a_search_sliced_or_not_gives_the_same_result() -> None:
    search = SearchSpec(status=("any",), after_car_t=False).resolve()
    with FakeCtGov(_spread(4200)) as server:
        results = []
        for workers in (1, 6):
            with _source(server, workers) as source:
                results.append(run_search(search.query, source, search.options))
    pd.testing.assert_frame_equal(results[0].studies, results[1].studies)
    assert results[0].notes == results[1].notes


def test_a_failing_slice_fails_the_whole_search() -> None:
    with FakeCtGov(_spread(4500)) as server, _source(server, 4, **{RETRIES_ENV: "0"}) as source:
        server.before_request(3, lambda: server.fail_next(500, times=50))
        with pytest.raises(ApiError):
            source.fetch(Query.build(status=["any"]))


def test_relevance_to_a_text_query_is_never_sliced() -> None:
    """The API's order is the result's order then; slices would lose it."""
    with FakeCtGov(_spread(3500)) as server, _source(server, 8) as source:
        fetched = source.fetch(Query.build(condition="lymphoma", status=["any"]))
        assert source.requests_made == 4
    assert len(fetched.studies) == 3500


def test_slicing_pays_only_when_the_link_is_slower_than_the_pace() -> None:
    assert workers_for(0.3, 1.2, 20) == 1  # the default pace: the pace is what limits
    assert workers_for(1.0, 0.2, 20) == 6
    assert workers_for(5.0, 0.01, 20) == 8  # at most 8 at once
    assert workers_for(1.0, 0.2, 2) == 1  # two pages left: not worth the extra requests
    assert workers_for(1.0, 0.2, 4) == 4


def test_slices_cover_every_day_once() -> None:
    low, high = dt.date(1999, 1, 1), dt.date(2026, 11, 30)
    for parts in (1, 2, 3, 8):
        spans = _recent_first(low, high, parts)
        assert spans[0][0] is None and spans[-1][1] == high
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start == end + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("floor", "pages", "expected"),
    [
        # A page of 10 days over [2024-03-01, 2024-03-10]; three pages left below it.
        (dt.date(2020, 1, 1), 3, [("2020-01-01", "2024-02-10"), ("2024-02-11", "2024-02-20"),
                                  ("2024-02-21", "2024-03-01")]),
        (dt.date(2024, 2, 15), 3, [("2024-02-15", "2024-02-20"), ("2024-02-21", "2024-03-01")]),
        (dt.date(2024, 2, 25), 3, [("2024-02-25", "2024-03-01")]),
        (dt.date(2020, 1, 1), 1, [("2020-01-01", "2024-03-01")]),
    ],
)  # fmt: skip
def test_what_is_left_of_a_slice_is_cut_as_dense_as_its_first_page(
    floor: dt.date, pages: int, expected: list[tuple[str, str]]
) -> None:
    oldest, newest = dt.date(2024, 3, 1), dt.date(2024, 3, 10)
    spans = _as_dense(floor, oldest, newest, pages)
    assert [(a.isoformat(), b.isoformat()) for a, b in spans] == expected
    # Every day from the floor to the page's oldest is in one stretch (that day in two:
    # the page holds some of its studies, the stretch the rest).
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start == end + dt.timedelta(days=1)


class _InstantLink:
    """A client whose pages come at once: only the caller's pace holds the slices back."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.made = 0
        self._lock = threading.Lock()

    def iter_pages(self, params: dict[str, str], on_retry: Any = None) -> Iterator[Any]:
        for number in range(1, self.pages + 1):
            with self._lock:
                self.made += 1
            last = number == self.pages
            yield Page([{}], next_token=None if last else "t", total=None, number=number)


def _slicer(link: _InstantLink, workers: int) -> Slices:
    slicer = Slices(link, {"sort": NEWEST_FIRST}, workers, on_retry=None)  # type: ignore[arg-type]
    for _ in range(workers):
        slicer.submit(None, None)
    return slicer


def test_slices_wait_for_a_slow_caller_instead_of_queueing_every_page() -> None:
    """A caller slower than the link (it classifies every page) holds a few pages, not all."""
    workers = 3
    link = _InstantLink(pages=25)
    taken, most_ahead = 0, 0
    for _ in _slicer(link, workers):
        taken += 1
        most_ahead = max(most_ahead, link.made - taken)
        time.sleep(0.005)
    assert taken == link.made == 25 * workers  # every page still comes
    assert most_ahead <= QUEUED_PAGES * workers + workers  # queued, plus one in each hand


def test_slices_left_early_never_keep_a_thread_waiting() -> None:
    link = _InstantLink(pages=1000)
    pages = _slicer(link, 4).results()
    next(pages)
    pages.close()  # the caller stops reading, e.g. after an error of its own
    deadline = time.monotonic() + 10
    while any(t.name.startswith("trialfinder") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a slice thread still waits for a caller that has gone"
        time.sleep(0.05)
    assert link.made < 20  # they stopped asking for pages too
