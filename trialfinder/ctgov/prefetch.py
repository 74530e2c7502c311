"""Fetch ahead: the next page travels while the caller works on this one.

Paging is sequential (each page's token comes from the one before), and most of a page's time
is the network and the polite pace: time in which the client could be turning the last page
into records and classifying them. `ahead` drives an iterator of pages in a worker thread and
hands its items over through a small queue, so that work overlaps the wait.

Whatever the worker raises is raised to the caller at the point the failed item would have
come: a failed page fails the search, never shortens it. When the caller stops early (a
`--limit` reached, an error of its own, Ctrl-C), the worker stops before its next item.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["ahead"]


class _Done:
    """The worker's last message: the iterator ended, or raised `error`."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Worker(Generic[T]):
    def __init__(self, items: Iterable[T], depth: int) -> None:
        self._items = items
        self._queue: queue.Queue[list[T] | _Done] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trialfinder-pages", daemon=True)

    def _put(self, item: list[T] | _Done) -> bool:
        """Hand one item over, waiting for room; False once the caller has gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        items = iter(self._items)
        try:
            while not self._stop.is_set():
                try:
                    # Boxed, so that once the caller takes the item out nothing here holds it.
                    box = [next(items)]
                except StopIteration:
                    self._put(_Done())
                    return
                if not self._put(box):
                    return
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._put(_Done(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally runs in the thread that drove it

    def start(self) -> _Worker[T]:
        """Start fetching now, before the caller asks for the first item."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the worker before its next item (also when the items were never read)."""
        self._stop.set()

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                box = self._queue.get()
                if isinstance(box, _Done):
                    if box.error is not None:
                        raise box.error
                    return
                yield box.pop()
        finally:
            self._stop.set()
            # The worker sees the stop before its next item: wait for it unless it is stuck
            # in a request, which the client's own deadlines end.
            self._thread.join(timeout=0.5)


def ahead(items: Iterable[T], depth: int = 1) -> _Worker[T]:
    """Iterate `items` in a worker thread, started at once, at most `depth` items ahead of
    the caller; `close()` it when it may not be read to the end.

    The worker may have started on item n+1 (one more request) when the caller stops at n.
    """
    return _Worker(items, depth).start()
