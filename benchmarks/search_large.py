"""Wall time, bytes and peak memory of one large search, end to end through the CLI.

Serves ~20,000 distinct studies (each with its own title, criteria and sites) from the loopback
fake API and runs `trialfinder search --status any --limit 100000` in-process, once as CSV and
once as the default table, at a pace that never waits (TRIALFINDER_REQUESTS_PER_MINUTE=1e6),
so what is measured is the client's own work. The measured run is a child process of the one
serving, and its peak memory is that child's peak resident set size (VmHWM: Python, pandas
and all). Bytes received are the client's own count of response bodies.

Run: .venv/bin/python benchmarks/search_large.py [COUNT]   (default 20000)

Figures (20,000 studies, 21 requests: the full last page brings an empty one, pitfall 1;
101.1 MB received; one run each, this machine, 2026-12-02; HEAD and HEAD + this change only,
without other work in progress):

    before (37ebf60)  csv    wall 44.5 s  peak RSS 587 MB
                      table  wall 46.6 s  peak RSS 577 MB
    after             csv    wall 44.3 s  peak RSS 434 MB
                      table  wall 42.2 s  peak RSS 427 MB

The wall time is the client's CPU (classifying and cleaning: issue 11's other part); the
sites frame built only when a view needs it takes ~150 MB off the peak. Bytes received do not
change yet: every format still asks for the same fields.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from clirun import run  # noqa: E402
from ctgov_server import FakeCtGov, make_studies  # noqa: E402

from benchmarks.child import peak_rss  # noqa: E402
from trialfinder.ctgov import client as client_module  # noqa: E402

_CITIES = (
    ("Houston", "Texas", "77030", "United States", 29.71, -95.40),
    ("Boston", "Massachusetts", "02115", "United States", 42.34, -71.10),
    ("Seattle", "Washington", "98109", "United States", 47.63, -122.33),
    ("Paris", "Île-de-France", "75013", "France", 48.83, 2.36),
    ("Lyon", "Auvergne-Rhône-Alpes", "69008", "France", 45.74, 4.88),
    ("Berlin", "Berlin", "13353", "Germany", 52.54, 13.34),
    ("Tokyo", "Tokyo", "104-0045", "Japan", 35.66, 139.77),
    ("Toronto", "Ontario", "M5G 2M9", "Canada", 43.66, -79.39),
)
_DRUGS = ("axicabtagene", "tisagenlecleucel", "glofitamab", "epcoritamab", "lenalidomide")
_DISEASES = ("large B-cell lymphoma", "multiple myeloma", "follicular lymphoma", "ALL", "CLL")


def _criteria(n: int) -> str:
    disease = _DISEASES[n % len(_DISEASES)]
    prior = (
        "Prior CAR T-cell therapy is allowed if at least 90 days have passed",
        "Prior treatment with any CAR T-cell product",
        "Relapse after CD19-directed CAR T-cell therapy",
        "Prior autologous stem cell transplant is allowed",
    )[n % 4]
    return (
        "Inclusion Criteria:\n\n"
        f"* Adults with relapsed or refractory {disease} (case {n})\n"
        f"* At least {n % 5 + 1} prior lines of therapy, including an anti-CD20 antibody\n"
        f"* ECOG performance status 0-{n % 3}; creatinine clearance above {30 + n % 40} mL/min\n"
        + (f"* {prior}\n" if n % 2 == 0 else "")
        + "\nExclusion Criteria:\n\n"
        f"* Active CNS involvement by {disease}\n"
        + (f"* {prior}\n" if n % 2 else "")
        + f"* Uncontrolled infection, or hepatitis B or C (screening visit {n})\n"
    )


def _locations(n: int) -> list[dict[str, Any]]:
    out = []
    for k in range(n % 25 + 1):
        city, state, zip_, country, lat, lon = _CITIES[(n + k) % len(_CITIES)]
        out.append(
            {
                "facility": f"{city} Cancer Center {n % 97}-{k}",
                "status": ("RECRUITING", "NOT_YET_RECRUITING", "COMPLETED")[(n + k) % 3],
                "city": city,
                "state": state,
                "zip": zip_,
                "country": country,
                "contacts": [
                    {"name": f"Site Lead {n}-{k}", "role": "CONTACT", "phone": "555-0100"}
                ],
                "geoPoint": {"lat": lat + k * 0.01, "lon": lon - k * 0.01},
            }
        )
    return out


def served(count: int) -> list[dict[str, Any]]:
    """`count` studies whose titles, criteria and sites differ from one another."""
    studies = make_studies(count)
    for n, study in enumerate(studies):
        protocol = study["protocolSection"]
        drug = _DRUGS[n % len(_DRUGS)]
        disease = _DISEASES[n % len(_DISEASES)]
        ident = protocol["identificationModule"]
        ident["briefTitle"] = f"{drug.title()} for {disease} after {n % 4} lines (cohort {n})"
        ident["officialTitle"] = f"A Study of {drug} in {disease}, protocol {n}, arm {n % 7}"
        protocol["eligibilityModule"]["eligibilityCriteria"] = _criteria(n)
        protocol["contactsLocationsModule"]["locations"] = _locations(n)
        protocol["statusModule"]["overallStatus"] = (
            "RECRUITING",
            "NOT_YET_RECRUITING",
            "COMPLETED",
            "ACTIVE_NOT_RECRUITING",
        )[n % 4]
    return studies


_received = [0]
_close = client_module.CtGovClient.close


def _counting_close(self: client_module.CtGovClient) -> None:
    _received[0] += self.bytes_received
    _close(self)


def client(base_url: str, fmt: str) -> None:
    """The measured run (a child process, so its peak memory is its own)."""
    client_module.CtGovClient.close = _counting_close  # type: ignore[method-assign]
    argv = ["search", "--status", "any", "--limit", "100000", "--api-url", base_url]
    if fmt != "table":
        argv += ["--format", fmt]
    start = time.perf_counter()
    result = run(argv, {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"})
    wall = time.perf_counter() - start
    peak = peak_rss()
    assert result.code == 0, result.err
    print(
        f"{fmt:<6} wall {wall:6.1f} s  received {_received[0] / 1e6:6.1f} MB  "
        f"output {len(result.out) / 1e6:5.1f} MB  peak RSS {peak / 1e6:6,.0f} MB",
        end="",
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3])
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with FakeCtGov(served(count)) as server:
        print(f"{count} studies served at {server.base_url}")
        for fmt in ("csv", "table"):
            before = len(server.requests)
            child = [sys.executable, __file__, "--client", server.base_url, fmt]
            subprocess.run(child, check=True)
            print(f"  requests {len(server.requests) - before}")


if __name__ == "__main__":
    main()
