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

import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from trialfinder.errors import SourceError, TrialfinderError, UsageError

__all__ = ["WORKERS_ENV", "map_files", "worker_count"]

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
    """An error raised in a worker, carried back as its text (exception classes with their
    own arguments do not all survive pickling)."""

    def __init__(self, exc: TrialfinderError) -> None:
        self.message = str(exc)


def _guarded(work: Callable[[Item], Result], item: Item) -> Result | _Failed:
    try:
        return work(item)
    except TrialfinderError as exc:
        return _Failed(exc)


def map_files(
    work: Callable[[Item], Result], items: Sequence[Item], *, workers: int | None = None
) -> Iterator[Result]:
    """`work(item)` for each item, in order, in up to `workers` forked processes.

    `work` must be a module-level function (it is sent to the workers by name) whose results
    pickle. An error it raises comes back as a `SourceError` with its text.
    """
    count = min(worker_count() if workers is None else workers, len(items))
    if count < 2 or not _can_fork():
        yield from map(work, items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from functools import partial
    from multiprocessing import get_context

    with ProcessPoolExecutor(count, mp_context=get_context("fork")) as pool:
        try:
            for result in pool.map(partial(_guarded, work), items):
                if isinstance(result, _Failed):
                    raise SourceError(result.message)
                yield result
        except BrokenProcessPool:
            raise SourceError(
                "a worker process reading the saved data died (out of memory?); "
                f"try again with {WORKERS_ENV}=1"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
