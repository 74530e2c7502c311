"""The measured side of a benchmark: one run in a child process, and what it cost.

`run_child` starts `python -m benchmarks.child STATS ARGS...` (the real CLI, `trialfinder
ARGS...`, its stdout into a file) or `python -m benchmarks.peer STATS ...` and returns a
`ChildRun`: the wall time seen by the parent, the child's CPU time (`getrusage` of children),
its peak resident set size (VmHWM, which starts afresh at exec, so it is the child's own, not
the serving parent's) and the API client's own counts of requests and response bytes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ChildRun:
    """What one child run cost, and what it wrote."""

    code: int
    wall: float  # seconds, as the parent saw it (interpreter start and imports included)
    cpu: float  # the child's user + system seconds
    peak_rss: int  # bytes
    workers_peak_rss: int  # bytes: the largest worker process it forked (0: none)
    requests: int  # the API client's count (0 for files)
    bytes_received: int  # response bodies, the API client's count
    output: Path  # the child's stdout
    err: str
    extra: dict[str, Any]
    # bytes: the most memory the child and its workers held at once (`_TreeSampler`), at
    # least the child's own peak; 0 when not sampled
    tree_peak: int = 0


def peak_rss() -> int:
    """This process's peak resident set size in bytes. Linux's VmHWM starts afresh at exec;
    ru_maxrss does not (it would report the serving parent's size), so it is the fallback."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _TreeSampler:
    """The most memory a process and its descendants hold at once: the sum of their
    proportional set sizes (Pss: a page shared by n processes counts 1/n in each, so pages a
    forked worker shares with its parent count once), read every 20 ms from
    /proc/PID/smaps_rollup. Reading it walks each process's page tables (a few ms for a few
    hundred MB), so it steals CPU from what it measures. A peak shorter than 20 ms may be
    missed; `run_child` takes the child's own exact peak (VmHWM) when it is higher."""

    INTERVAL = 0.02

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, pid: int) -> None:
        while not self._done.wait(self.INTERVAL):
            self.peak = max(self.peak, sum(_pss(p) for p in _tree(pid)))

    @staticmethod
    def available() -> bool:
        """Whether /proc shows each process's Pss and children (else the upper bound is
        used: a sum that missed the workers would be too low)."""
        pid = os.getpid()
        return (
            Path("/proc/self/smaps_rollup").exists()
            and Path(f"/proc/{pid}/task/{pid}/children").exists()
        )


def _tree(pid: int) -> list[int]:
    """The process and its descendants, as far as /proc shows them now."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        with contextlib.suppress(OSError):
            todo += [int(c) for c in children.read_text().split()]
    return out


def _pss(pid: int) -> int:
    """A process's proportional set size in bytes (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def write_stats(path: str, stats: Mapping[str, Any]) -> None:
    """The child's last act: its figures, as JSON, where the parent reads them. The worker
    processes trialfinder forks have ended by now; ru_maxrss of children is the largest."""
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    figures = {"peak_rss": peak_rss(), "workers_peak_rss": workers, **stats}
    Path(path).write_text(json.dumps(figures), encoding="utf-8")


def run_child(
    module: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    workdir: Path,
    sample_memory: bool = False,
) -> ChildRun:
    """Run `python -m benchmarks.<module> STATS args...` and measure it; with `sample_memory`,
    the memory its process tree holds at once, too (which costs CPU: not for timed runs)."""
    stats = Path(tempfile.mktemp(suffix=".json", dir=workdir))
    output = Path(tempfile.mktemp(suffix=".out", dir=workdir))
    # No HTTP cache: every run must fetch what it measures (a kept answer would flatter it).
    no_cache = {"TRIALFINDER_CACHE_MINUTES": "0"}
    child_env = {**os.environ, "COLUMNS": "120", **no_cache, **(env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    sampler = _TreeSampler() if sample_memory and _TreeSampler.available() else None
    with open(output, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{module}", str(stats), *args],
            stdout=out,
            stderr=subprocess.PIPE,
            env=child_env,
            cwd=ROOT,
        )
        if sampler is not None:
            sampler.start(child.pid)
        _, stderr = child.communicate()
        if sampler is not None:
            sampler.stop()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures: dict[str, Any] = {}
    if stats.exists():
        figures = json.loads(stats.read_text(encoding="utf-8"))
        stats.unlink()
    return ChildRun(
        code=child.returncode,
        wall=wall,
        cpu=cpu,
        peak_rss=int(figures.pop("peak_rss", 0)),
        workers_peak_rss=int(figures.pop("workers_peak_rss", 0)),
        requests=int(figures.pop("requests", 0)),
        bytes_received=int(figures.pop("bytes_received", 0)),
        output=output,
        err=stderr.decode("utf-8", "replace"),
        tree_peak=max(sampler.peak, int(figures.get("peak_rss", 0))) if sampler else 0,
        extra=figures,
    )


def main(argv: list[str]) -> None:
    """`python -m benchmarks.child STATS ARGS...`: `trialfinder ARGS...`, counted."""
    from trialfinder.cli.app import main as cli_main
    from trialfinder.ctgov import client as client_module

    counts = {"requests": 0, "bytes_received": 0}
    close = client_module.CtGovClient.close

    def counting_close(self: client_module.CtGovClient) -> None:
        counts["requests"] += self.requests_made
        counts["bytes_received"] += self.bytes_received
        self.requests_made = self.bytes_received = 0  # a second close counts nothing twice
        close(self)

    client_module.CtGovClient.close = counting_close  # type: ignore[method-assign]
    code = 0
    try:
        cli_main(argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        gc.freeze()  # as the `trialfinder` command does (trialfinder.cli.app.entry)
    sys.stdout.flush()
    write_stats(argv[0], counts)
    raise SystemExit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
