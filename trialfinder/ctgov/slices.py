"""Concurrent paging on a slow link: the search split into disjoint date slices.

Paging is sequential by nature: each page's token comes from the one before, so on a link
where one page takes a second, 21 pages take 21 seconds however polite the pace allows us to
be. When the first page shows that the link, not the pace, is what limits (it took longer
than the pace interval) and much is left, the rest of the search is split by the last-update
date (`AREA[LastUpdatePostDate]RANGE[...]`) into slices paged at once, each in its own thread,
all through the one client and so under its one pacer (`TRIALFINDER_REQUESTS_PER_MINUTE`).

How the slices are found costs no probe requests. The search is sorted newest first
(`LastUpdatePostDate:desc`), so its first page holds the newest studies and everything after it
was last updated on or before the oldest date on that page. That span is cut into stretches of
time that double in length going back (most of the registry was updated recently); the oldest,
open below, also holds the studies without a date. Each slice's first page says how many it holds
(`countTotal`); a slice with more than one page left splits what is left of its span (its first
page, sorted newest first, bounds it) into as many slices as it has pages left, each as long in
time as that first page took: as full as a page if the span below is as dense, and one that is
still crowded splits again after its own first page. So the work spreads where the studies are,
and a crowded slice is not paged one page a second. Slices overlap only on a boundary day, and
a study fetched twice is kept once.

A failure in any slice fails the search: the first error is raised, and the other slices stop
before their next request. The caller checks the studies against the search's count, as it
does for sequential paging.

Pages wait for the caller in a queue of a few pages (`QUEUED_PAGES` a worker): when the caller
is slower than the link (it parses and classifies every page), the slices wait before their
next request instead of holding every page of the search in memory at once. A slice never
waits for a caller that has gone: closing the slices lets every waiting one return.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trialfinder.ctgov.client import CtGovClient, Page

__all__ = ["MAX_WORKERS", "NEWEST_FIRST", "QUEUED_PAGES", "sliced_pages", "workers_for"]

NEWEST_FIRST = "LastUpdatePostDate:desc"
MAX_WORKERS = 8
# Pages a worker may have fetched ahead of the caller; more would only cost memory.
QUEUED_PAGES = 1
# How often a slice waiting to hand over a page checks whether the caller has gone.
_WAIT_CHECK = 0.1
# The registry opened in 2000: no study was last updated before this.
_FIRST_DAY = dt.date(1999, 1, 1)

RetryHook = Callable[[str, float, int, int], None]


def workers_for(seconds_per_page: float, pace: float, pages_left: int) -> int:
    """How many slices pay: as many pages as fit in one page's time at the pace, at most
    MAX_WORKERS and never more than the pages left; 1 means page sequentially."""
    if pages_left < 3 or seconds_per_page <= 1.5 * pace:
        return 1
    fit = int(seconds_per_page / pace) + 1 if pace > 0 else MAX_WORKERS
    return max(1, min(MAX_WORKERS, fit, pages_left))


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def oldest_date(page: Page) -> dt.date | None:
    """The oldest last-update date on a page (None when no study on it has one)."""
    return date_span(page)[0]


def date_span(page: Page) -> tuple[dt.date | None, dt.date | None]:
    """The oldest and newest last-update dates on a page (None when none has one)."""
    dates = [d for d in map(_date, page.update_dates()) if d is not None]
    return (min(dates), max(dates)) if dates else (None, None)


def _as_dense(
    floor: dt.date, oldest: dt.date, newest: dt.date, pages: int
) -> list[tuple[dt.date, dt.date]]:
    """[floor, oldest] in up to `pages` stretches, oldest first, each as long as the page
    just read took ([oldest, newest]): as many studies a stretch if the span below is as
    dense as the one above (it is, near the page; further back, fewer are found). The last
    stretch reaches down to `floor`."""
    days = max(1, (newest - oldest).days + 1)
    out: list[tuple[dt.date, dt.date]] = []
    high = oldest
    for _ in range(pages - 1):
        low = high - dt.timedelta(days=days - 1)
        if low <= floor:
            break
        out.append((low, high))
        high = low - dt.timedelta(days=1)
    out.append((floor, high))
    return out[::-1]


def _range(low: dt.date | None, high: dt.date | None) -> str:
    """The slice's expression; the one open below (the oldest) also holds the studies
    without a date, which come after every dated one (sorted newest first)."""
    lo = low.isoformat() if low else "MIN"
    hi = high.isoformat() if high else "MAX"
    dated = f"AREA[LastUpdatePostDate]RANGE[{lo},{hi}]"
    return dated if low else f"({dated} OR AREA[LastUpdatePostDate]MISSING)"


def _recent_first(low: dt.date, high: dt.date, parts: int) -> list[tuple[dt.date | None, dt.date]]:
    """[low, high] in `parts` stretches that double in length going back from `high`: most
    of the registry was updated recently, so recent stretches are short. The oldest is open
    below (RANGE from MIN)."""
    days = (high - low).days + 1
    parts = max(1, min(parts, days))
    unit = days / (2**parts - 1)
    # ends[i]: days back from `high` where stretch i (0 = newest) begins
    ends = [min(days, max(i + 1, round(unit * (2 ** (i + 1) - 1)))) for i in range(parts)]
    ends[-1] = days
    out: list[tuple[dt.date | None, dt.date]] = []
    newer = high
    for i, back in enumerate(ends):
        start = high - dt.timedelta(days=back - 1)
        out.append((None if i == parts - 1 else start, newer))
        newer = start - dt.timedelta(days=1)
    return out[::-1]


class Slices:
    """The slices of one search, fetched at once by a pool of threads; iterate for pages."""

    def __init__(
        self,
        client: CtGovClient,
        params: Mapping[str, str],
        workers: int,
        on_retry: RetryHook | None,
    ) -> None:
        self._client = client
        self._params = dict(params)
        self._workers = workers
        self._on_retry = on_retry
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trialfinder")
        self._out: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=QUEUED_PAGES * workers)
        self._outstanding = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()  # no slice makes another request
        self._gone = threading.Event()  # nobody reads the queue any more
        self.slices = 0

    def _put(self, kind: str, value: Any) -> None:
        """Hand one message to the caller, waiting while the queue is full, unless the caller
        has gone (then the message has nobody to go to)."""
        while not self._gone.is_set():
            try:
                self._out.put((kind, value), timeout=_WAIT_CHECK)
                return
            except queue.Full:
                continue

    def _params_for(self, expression: str) -> dict[str, str]:
        params = dict(self._params)
        advanced = params.get("filter.advanced")
        params["filter.advanced"] = f"({advanced}) AND {expression}" if advanced else expression
        params["sort"] = NEWEST_FIRST
        return params

    def submit(self, low: dt.date | None, high: dt.date | None) -> None:
        """Queue one slice: studies last updated from `low` to `high` (None: open; open below,
        with the studies without a date)."""
        with self._lock:
            self._outstanding += 1
            self.slices += 1
        self._pool.submit(self._run, low, high)

    def _run(self, low: dt.date | None, high: dt.date | None) -> None:
        try:
            expression = _range(low, high)
            pages = self._client.iter_pages(self._params_for(expression), on_retry=self._on_retry)
            try:
                for page in pages:
                    if self._stop.is_set():
                        return
                    self._put("page", page)
                    first_of_many = page.number == 1 and page.next_token
                    if first_of_many and self._split(page, low):
                        return
            finally:
                close = getattr(pages, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # raised in the caller's thread
            self._stop.set()
            self._put("error", exc)
        finally:
            self._put("done", None)

    def _split(self, page: Page, low: dt.date | None) -> bool:
        """After a big slice's first page: split what is left of it into as many stretches
        as it has pages left (at most one a worker, at least two), so that a crowded span
        takes few rounds of splitting; False to keep paging it (small enough, or a span of
        one day)."""
        left = (page.total or 0) - len(page)
        oldest, newest = date_span(page)
        floor = low or _FIRST_DAY
        if left <= len(page) or oldest is None or newest is None or oldest <= floor:
            return False  # one more page at most (or nothing to cut by): page on
        pages = -(-left // max(1, len(page)))
        for i, (start, end) in enumerate(_as_dense(floor, oldest, newest, pages)):
            self.submit(low if i == 0 else start, end)  # open below when this slice was
        return True

    def close(self) -> None:
        """Stop every slice before its next request (also when nothing was read)."""
        self._stop.set()
        self._gone.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __iter__(self) -> Iterator[Page]:
        return self.results()

    def results(self) -> Generator[Page, None, None]:
        """Each page as it comes, from whichever slice; raises a slice's error."""
        try:
            while True:
                with self._lock:
                    if self._outstanding == 0:
                        return
                kind, value = self._out.get()
                if kind == "error":
                    raise value
                if kind == "done":
                    with self._lock:
                        self._outstanding -= 1
                else:
                    yield value
        finally:
            self.close()


def sliced_pages(
    client: CtGovClient,
    params: Mapping[str, str],
    first: Page,
    workers: int,
    *,
    on_retry: RetryHook | None = None,
) -> Slices | None:
    """The rest of a newest-first search after its first page, fetched in concurrent date
    slices; None when the first page gives nothing to cut by (no dates on it)."""
    oldest = oldest_date(first)
    if oldest is None or params.get("sort") != NEWEST_FIRST:
        return None
    slicer = Slices(client, params, workers, on_retry=on_retry)
    for low, high in _recent_first(_FIRST_DAY, oldest, workers):
        slicer.submit(low, high)
    return slicer
