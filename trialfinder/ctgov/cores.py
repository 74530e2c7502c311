"""Saved files read on every core: each file decoded, parsed and classified in its own process.

Reading saved data is CPU work from end to end (JSON, records, the CAR-T classifier), and each
file is independent of the others, so a folder of pages is shared out among forked worker
processes, one file at a time, and the results come back in file order. The workers are
forked from the running process, so they share its loaded code and compiled vocabulary;
where forking is not safe (not Linux, or other threads already running) or would not pay
(one file, one core), the files are read here, one after another, with the same function.

A worker that fails sends its error back as text, raised here as the same kind of error; a
worker that dies (killed, out of memory) fails the whole read: never a silently short result.
`TRIALFINDER_WORKERS` sets how many processes (1: read here; unset: one per usable core).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Generic, TypeVar

from trialfinder.errors import TrialfinderError, UsageError

__all__ = ["WORKERS_ENV", "Workers", "map_files", "worker_count"]

WORKERS_ENV = "TRIALFINDER_WORKERS"

Item = TypeVar("Item")
Result = TypeVar("Result")


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(environ: Mapping[str, str] | None = None) -> int:
    """How many processes read files: $TRIALFINDER_WORKERS, else one per usable core."""
    env = os.environ if environ is None else environ
    raw = env.get(WORKERS_ENV, "").strip()
    if not raw:
        return usable_cores()
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"invalid {WORKERS_ENV}={raw!r} (expected a whole number, 1 or more)")
    return int(raw)


def _can_fork() -> bool:
    # Forking copies only the calling thread: a lock another thread holds would stay held
    # in the child for ever. Other systems start workers by spawning, which pays only for
    # long runs; they read here.
    return sys.platform.startswith("linux") and threading.active_count() == 1


class _Failed:
    """An error raised in a worker, carried back as its class, text and hint (exceptions
    with arguments of their own do not all survive pickling)."""

    def __init__(self, exc: TrialfinderError) -> None:
        self.kind = type(exc)
        self.message = str(exc)
        self.hint = exc.hint

    def error(self) -> TrialfinderError:
        """The error to raise in the caller: of the same kind where it can be made again."""
        try:
            return self.kind(self.message, hint=self.hint)
        except TypeError:  # a kind with arguments of its own
            return TrialfinderError(self.message, hint=self.hint)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one item is read. Decoding a page of full
    records makes about a million containers, and the collections they set off walk the
    whole growing heap: with the default thresholds, a third of the time of reading saved
    pages (2.05 -> 1.39 s for five files of 1,000 records); with the CLI's rarer ones,
    `--source` of 20,020 studies to CSV took 7.55 -> 7.1 s of CPU. What the work frees,
    reference counting frees as before; a cycle, if any, waits for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _guarded(work: Callable[[Item], Result], item: Item) -> Result | _Failed:
    try:
        with _collector_paused():
            return work(item)
    except TrialfinderError as exc:
        return _Failed(exc)


class Workers(Generic[Item, Result]):
    """Up to `count` forked processes doing `work` on items handed over one at a time, as
    they come (pages while the next ones travel); the results come back in the order given.

    The processes are forked when it is made, so make it before starting other threads. At
    most two items a process wait their turn: `put` waits for the oldest one first, so a slow
    `work` slows the caller instead of filling memory. Without processes (see the module's
    doc) `put` does the work at once, here. Use it as a context manager.
    """

    def __init__(self, work: Callable[[Item], Result], count: int) -> None:
        self._work = work
        self._pending: deque[Future[Result | _Failed]] = deque()
        self._pool: ProcessPoolExecutor | None = None
        self._count = count
        if count >= 2 and _can_fork():
            self._pool = ProcessPoolExecutor(count, mp_context=get_context("fork"))
            self._pool.submit(int).result()  # every process forked now, while no thread runs

    @property
    def forked(self) -> bool:
        """Whether the work is done in worker processes."""
        return self._pool is not None

    @property
    def full(self) -> bool:
        """Whether as many items wait their turn as may (the next `put` waits for one)."""
        return len(self._pending) >= 2 * self._count

    def put(self, item: Item) -> list[Result]:
        """Hand over one item; the results finished by now, oldest first."""
        if self._pool is None:
            with _collector_paused():
                return [self._work(item)]
        self._pending.append(self._pool.submit(_guarded, self._work, item))
        done = []
        while self._pending and (self._pending[0].done() or len(self._pending) > 2 * self._count):
            done.append(self._result(self._pending.popleft()))
        return done

    def rest(self) -> list[Result]:
        """Every result not yet returned, oldest first (waiting for them)."""
        done = []
        while self._pending:
            done.append(self._result(self._pending.popleft()))
        return done

    @staticmethod
    def _result(future: Future[Result | _Failed]) -> Result:
        try:
            result = future.result()
        except BrokenProcessPool:
            raise TrialfinderError(
                f"a worker process died (out of memory?); try again with {WORKERS_ENV}=1"
            ) from None
        if isinstance(result, _Failed):
            raise result.error()
        return result

    def close(self) -> None:
        """Stop the processes (work not yet returned is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def __enter__(self) -> Workers[Item, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_files(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    workers: int | None = None,
    waiting: Callable[[], None] | None = None,
) -> Iterator[Result]:
    """`work(item)` for each item, in order, in up to `workers` forked processes.

    `work` must be a module-level function (it is sent to the workers by name) whose results
    pickle. An error it raises comes back as the same kind of error with its text. `waiting`
    is called once, when the workers first have all the items they may queue and this process
    would only wait for them (other work fits there); without workers, before the first item.
    """
    count = min(worker_count() if workers is None else workers, len(items))
    with Workers(work, count) as pool:
        for item in items:
            if waiting is not None and (pool.full or not pool.forked):
                waiting()
                waiting = None
            yield from pool.put(item)
        if waiting is not None:
            waiting()
        yield from pool.rest()
