"""Fetching ahead (ctgov/prefetch.py): same items, same order, errors where they happened,
and no work left running after the caller stops; and a search works while pages travel."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from ctgov_server import FakeCtGov, make_studies

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.prefetch import ahead
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.settings import RATE_ENV, Settings
from trialfinder.ctgov.sources import ApiSource, Hooks
from trialfinder.records import Study


def test_items_come_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def items() -> Iterator[int]:
        for n in range(50):
            threads.add(threading.current_thread().name)
            yield n

    assert list(ahead(items(), depth=2)) == list(range(50))
    assert threads == {"trialfinder-pages"}


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    got: list[int] = []
    with pytest.raises(ValueError, match="page 3 failed"):
        for item in ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_worker_and_closes_the_iterator() -> None:
    made: list[int] = []
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            for n in range(1000):
                made.append(n)
                yield n
        finally:
            closed.set()

    for item in ahead(items(), depth=1):
        if item == 3:
            break
    assert closed.wait(2.0)
    assert len(made) <= 3 + 3  # the item taken, one queued, one being made, one put back


def test_pages_are_worked_on_while_the_next_one_travels() -> None:
    """Page 2 is asked for while page 1's records are being worked on."""
    page_two_asked = threading.Event()
    with FakeCtGov(make_studies(2500)) as server:
        server.before_request(2, page_two_asked.set)
        settings = Settings.from_env({RATE_ENV: "1e6"}, base_url=server.base_url)
        sizes: list[int] = []
        overlapped: list[bool] = []

        def batch(studies: Sequence[Study]) -> None:
            # Sequential paging (work, then ask) would wait here in vain.
            if not sizes:
                overlapped.append(page_two_asked.wait(10))
            sizes.append(len(studies))

        with ApiSource(CtGovClient(settings), workers=1) as source:  # page by page
            fetched = source.fetch(Query.build(status=["any"]), hooks=Hooks(studies=batch))
            assert source.requests_made == 3
    assert overlapped == [True]
    assert sizes == [1000, 1000, 500]
    assert len({s.nct_id for s in fetched.studies}) == 2500


def test_with_a_limit_no_page_is_fetched_ahead() -> None:
    """A --limit search stops at the page that reaches it: no request is wasted."""
    with FakeCtGov(make_studies(2500)) as server:
        settings = Settings.from_env({RATE_ENV: "1e6"}, base_url=server.base_url)
        with ApiSource(CtGovClient(settings)) as source:
            fetched = source.fetch(Query.build(status=["any"], limit=1000), limit=1000)
            assert source.requests_made == 1
    assert len(fetched.studies) == 1000
    assert fetched.truncated


def test_the_idle_hook_is_called_once_while_the_next_page_travels() -> None:
    """`Hooks.idle` runs once, after page 1 and before page 2 has come (the caller imports
    pandas there); a search of one page has no wait and no call."""
    with FakeCtGov(make_studies(2500)) as server:
        settings = Settings.from_env({RATE_ENV: "1e6"}, base_url=server.base_url)
        calls: list[int] = []
        pages_then: list[int] = []

        def idle() -> None:
            calls.append(1)
            pages_then.append(len(sizes))

        sizes: list[int] = []
        hooks = Hooks(studies=lambda batch: sizes.append(len(batch)), idle=idle)
        with ApiSource(CtGovClient(settings), workers=1) as source:
            source.fetch(Query.build(status=["any"]), hooks=hooks)
            assert calls == [1] and pages_then == [1]
            source.fetch(Query.build(status=["any"], limit=10), limit=10, hooks=hooks)
            assert calls == [1]
