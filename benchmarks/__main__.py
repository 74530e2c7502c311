"""`python -m benchmarks`: the speed benchmark issue 11 is judged by, as one table.

    .venv/bin/python -m benchmarks [--studies N] [--quick] [--only NAME ...]

It serves N distinct, real-shaped studies (default 20,020: 21 pages, the last one partial)
from the loopback fake API with latency injected, runs the real CLI in child processes, and
prints one table: wall and CPU seconds, requests, bytes per study, studies a second, peak
memory, and each target with PASS or FAIL, the floors they are judged against measured in the
same run. Scenarios (--only): slow, pace, source, memory, apimem, stages, bytes, help.

CPU seconds include the worker processes trialfinder forks to read pages on every core, and
so does peak memory. In the timed rows it is the main process's peak plus each worker's: an
upper bound, since a worker's counts the pages it shares with the main process again, and the
workers' peaks and the main process's come at different times. The memory rows measure what
the targets mean, the most the run holds at once: in runs of their own (sampling costs CPU),
the process tree's proportional set sizes summed every 20 ms, and at least the main process's
own exact peak.

The header also prints the machine reference (`benchmarks/machine.py`): one fixed workload
timed at the start and the end of the run, so runs on other machines or hours compare.

`--quick` is for iterating: 1,020 studies, 0.2 s and 0.1 s latency; about a minute. The thin
peer's row needs `pip install -e '.[bench]'` (PyPI's ctgov), and is skipped without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctgov_server import FakeCtGov

from benchmarks import corpus, machine
from benchmarks.scenarios import NEEDS_SERVER, SCENARIOS, Bench, Row

HEADERS = ("measure", "wall s", "cpu s", "requests", "bytes/study", "studies/s", "peak MB")


def _cell(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    """The rows as one plain-text table."""
    lines = [
        [
            r.name,
            _cell(r.wall, 2),
            _cell(r.cpu, 2),
            _cell(r.requests),
            _cell(r.bytes_per_study, 0),
            _cell(r.rate, 0),
            _cell(r.peak_mb, 0),
            r.target,
            r.result,
        ]
        for r in rows
    ]
    head = [*HEADERS, "target", "result"]
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    out = []
    for line in [head, *lines]:
        cells = [
            cell.ljust(w) if i in (0, 7, 8) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
    return done.stdout.strip() + (" + changes" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios and print the table; 0 when every target passed, else 1."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--studies", type=int, help="studies served (default 20,020)")
    parser.add_argument("--quick", action="store_true", help="1,020 studies, short latency")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), metavar="NAME")
    args = parser.parse_args(argv)
    count = args.studies or (1_020 if args.quick else 20_020)
    chosen = [name for name in SCENARIOS if not args.only or name in args.only]
    if count < 4:
        parser.error("--studies must be at least 4")
    started = time.perf_counter()
    reference = machine.reference_seconds()
    with tempfile.TemporaryDirectory(prefix="trialfinder-bench-") as scratch:
        bench = Bench(
            count,
            slow_latency=0.2 if args.quick else 1.0,
            pace_latency=0.1 if args.quick else 0.3,
            workdir=Path(scratch),
        )
        server = FakeCtGov(list(corpus.studies(count))) if NEEDS_SERVER & set(chosen) else None
        try:
            if server is not None:
                # Each search's matches are filtered and sorted once, not again for every
                # page: the fake's own CPU (0.3 to 0.7 s a page) is not the API's latency.
                server.memo = True
                bench.server = server.start()
                # The fake server's own heap (every study it serves) is not what is measured:
                # kept out of its cycle collections, which otherwise stall a page by up to
                # 1.7 s in the middle of a run (measured with gc.callbacks).
                gc.collect()
                gc.freeze()
            for name in chosen:
                SCENARIOS[name](bench)
        finally:
            if server is not None:
                server.stop()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"trialfinder benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"commit {_commit()}, {count:,} distinct studies, {os.cpu_count()} cores "
        f"(load {load}), {time.perf_counter() - started:.0f} s in all"
    )
    print(
        f"machine reference (benchmarks/machine.py, CPU s, best of 3; smaller is faster): "
        f"{reference:.3f} at the start, {machine.reference_seconds():.3f} at the end"
    )
    print(table(bench.rows))
    for problem in bench.problems:
        print(f"problem: {problem}")
    failed = [r for r in bench.rows if r.result in ("FAIL", "ERROR", "SHORT")]
    return 1 if failed or bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
