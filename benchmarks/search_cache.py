"""What a repeated search costs with the API cache (issue 11): requests, CPU and wall time.

Run from the repository root:

    .venv/bin/python benchmarks/search_cache.py [--studies N (default 3000)] [--rounds R (5)]

It serves N studies built from the shared real records (../shared/ctgov/records, each copy with
its own NCT id) on the loopback fake API, then runs `trialfinder search --status any -f jsonl`
as a child process R times in each of four ways, the ways taking turns within every round:
`--no-cache`; a cold cache (an empty folder: fetch and store); a warm cache (the same search
again: no request); `--refresh` (fetch and store again). For each it prints the median child
CPU time (user + system, from `resource.getrusage(RUSAGE_CHILDREN)`, which the other work on a
shared machine does not inflate as it does wall time), the median wall time and the requests
the fake API received. Each way also checks that its output is the same as `--no-cache`'s.

Figures, 2026-12-02, on the development machine (2 cores shared with five other engineers'
tests, so wall time is noisy; the fake API runs in this process, so its work shows in the
wall time, not in the child CPU):

    studies  way        CPU s   wall s   requests
    3000     no-cache    6.10    20.05   4
             cold        6.27    20.32   4
             warm        6.15    16.87   0
             refresh     6.56    21.09   4
    500      no-cache    1.96     5.72   1
             cold        1.91     5.99   1
             warm        1.79     4.84   0
             refresh     1.84     5.28   1

Keeping the answers costs no measurable CPU; a warm cache saves every request, and with them
the API's time and the pacing wait (1.2 s a request at the default 50 a minute), which on the
loopback fake is only the server's own work. The client's CPU goes to parsing and classifying
the studies, which the cache does not skip.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cart_labels import RECORDS_DIR, load_records  # noqa: E402
from ctgov_server import FakeCtGov  # noqa: E402

WAYS = ("no-cache", "cold", "warm", "refresh")


def studies(count: int) -> list[dict[str, Any]]:
    """`count` copies of the real records, each with an NCT id of its own."""
    real = list(load_records(RECORDS_DIR).values())
    out = []
    for number in range(count):
        raw: dict[str, Any] = json.loads(json.dumps(real[number % len(real)]))
        raw["protocolSection"]["identificationModule"]["nctId"] = f"NCT{80000000 + number:08d}"
        raw["protocolSection"]["identificationModule"].pop("nctIdAliases", None)
        out.append(raw)
    return out


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(
    server: FakeCtGov, cache_dir: Path, flags: list[str]
) -> tuple[float, float, int, bytes]:
    """(child CPU seconds, wall seconds, requests, stdout) of one search."""
    env = {
        **os.environ,
        "TRIALFINDER_API_URL": server.base_url,
        "TRIALFINDER_REQUESTS_PER_MINUTE": "1000000",
        "TRIALFINDER_CACHE_DIR": str(cache_dir),
    }
    argv = [sys.executable, "-m", "trialfinder", "search", "--status", "any", "-f", "jsonl"]
    before_requests, before_cpu, started = len(server.requests), child_cpu(), time.perf_counter()
    done = subprocess.run([*argv, *flags], env=env, capture_output=True, check=True)
    wall = time.perf_counter() - started
    return child_cpu() - before_cpu, wall, len(server.requests) - before_requests, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float, int]]] = {way: [] for way in WAYS}
    with FakeCtGov(studies(args.studies)) as server, tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            folder = Path(tmp) / f"round-{round_number}"
            bare = one_run(server, folder / "unused", ["--no-cache"])
            figures["no-cache"].append(bare[:3])
            for way, flags in (("cold", []), ("warm", []), ("refresh", ["--refresh"])):
                got = one_run(server, folder / "cache", flags)
                if got[3] != bare[3]:
                    raise SystemExit(f"{way}: the output differs from --no-cache's")
                figures[way].append(got[:3])
    print(f"{args.studies} studies, {args.rounds} rounds; medians")
    print(f"{'way':10} {'CPU s':>7} {'wall s':>7} {'requests':>9}")
    for way, runs in figures.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        requests = statistics.median(r[2] for r in runs)
        print(f"{way:10} {cpu:7.2f} {wall:7.2f} {requests:9g}")


if __name__ == "__main__":
    main()
