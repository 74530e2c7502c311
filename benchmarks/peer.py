"""The thin peer: PyPI's `ctgov` 0.1.1 client paging the same search, in a child process.

`ctgov` is a thin paginating client (urllib, one request after another, follows
`nextPageToken`). It is an optional extra: `.venv/bin/pip install -e '.[bench]'`; without it
the benchmark skips the peer's row and says so. It is given every chance: its own sleep between
requests (`delay`, 0.34 s by default) is set to 0, and it asks for the same `fields` as
trialfinder's default table, so only paging and latency separate the two.

Run as `python -m benchmarks.peer STATS BASE_URL FIELDS`; it writes the number of studies it
got and its peak memory to STATS.
"""

from __future__ import annotations

import importlib.util
import sys

from benchmarks.child import write_stats

INSTALL = "pip install -e '.[bench]'"


def available() -> bool:
    """Whether the `ctgov` package is installed."""
    return importlib.util.find_spec("ctgov") is not None


def main(argv: list[str]) -> None:
    """Page every study of BASE_URL with `ctgov.Client` and count them."""
    stats, base_url, fields = argv
    import ctgov
    import ctgov.client

    # The client reads the module's BASE_URL on every request; it has no option for another.
    ctgov.client.BASE_URL = base_url.rstrip("/") + "/"
    client = ctgov.Client(delay=0.0)
    got = client.studies(fields=fields.split(",") if fields else None)
    ids = {s["protocolSection"]["identificationModule"]["nctId"] for s in got}
    write_stats(stats, {"studies": len(got), "distinct": len(ids)})


if __name__ == "__main__":
    main(sys.argv[1:])
