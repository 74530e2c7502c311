"""What a cron report of a 1,000-trial watch costs, against the loopback API (not a timed test).

Takes a baseline of 1,000 trials, then simulates 30 daily runs: on weekdays the registry
loads new data in which 20 trials change (status, enrollment or a site), at weekends nothing
is loaded. Prints the requests and wall time per kind of run and the database size at the end.

    .venv/bin/python benchmarks/watch_cost.py
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from clirun import run
from ctgov_server import FakeCtGov, make_studies

TRIALS = 1000
CHANGED_PER_LOAD = 20
DAYS = 30


def main() -> None:
    studies = make_studies(TRIALS)
    with tempfile.TemporaryDirectory() as home, FakeCtGov(studies) as server:
        env = {
            "TRIALFINDER_API_URL": server.base_url,
            "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6",
            "TRIALFINDER_HOME": home,
        }
        assert run(["watch", "add", "all", "-c", "lymphoma"], env).code == 0

        def report() -> tuple[int, float, int]:
            before, start = len(server.requests), time.perf_counter()
            result = run(["report", "all", "--quiet", "-f", "json"], env)
            assert result.code == 0, result.err
            return (
                len(server.requests) - before,
                time.perf_counter() - start,
                result.out.count('"nct_id"'),
            )

        requests, seconds, _ = report()
        print(f"baseline of {TRIALS} trials: {requests} requests, {seconds:.2f} s")
        quiet, loaded = [], []
        for day in range(DAYS):
            if day % 7 in (5, 6):
                quiet.append(report())
                continue
            changed = []
            for i in range(CHANGED_PER_LOAD):
                study = copy.deepcopy(studies[(day * CHANGED_PER_LOAD + i * 37) % TRIALS])
                ps = study["protocolSection"]
                ps["designModule"]["enrollmentInfo"] = {"count": 100 + day}
                ps["statusModule"]["lastUpdatePostDateStruct"] = {
                    "date": f"2026-12-{day % 28 + 1:02d}"
                }
                changed.append(study)
            server.load(changed)
            loaded.append(report())
        for name, runs in (("no new data", quiet), (f"{CHANGED_PER_LOAD} trials changed", loaded)):
            reqs = sorted({r for r, _, _ in runs})
            mean = sum(s for _, s, _ in runs) / len(runs)
            listed = sorted({n for _, _, n in runs})
            print(
                f"{name}: {len(runs)} runs, requests {reqs}, mean {mean:.2f} s, "
                f"trials listed {listed}"
            )
        full = run(["report", "all", "--full", "--quiet"], env)
        assert full.code == 0
        db = Path(home) / "data" / "snapshots.sqlite3"
        size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("*.sqlite3-wal"))
        print(f"database after {DAYS} daily runs and one full refresh: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
