"""Bytes and requests a search costs, with and without the `fields` trialfinder asks for.

Serves every real record in ../shared/ctgov/records from the loopback fake API and runs the
same search through trialfinder's client twice: asking for whole records, and asking only for
the fields the output needs. Run: .venv/bin/python benchmarks/search_bytes.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from ctgov_server import FakeCtGov, load_record_studies  # noqa: E402

from trialfinder.ctgov.client import CtGovClient  # noqa: E402
from trialfinder.ctgov.query import Query  # noqa: E402
from trialfinder.ctgov.settings import RATE_ENV, Settings  # noqa: E402
from trialfinder.search import BASE_FIELDS, CART_FIELDS  # noqa: E402


def main() -> None:
    records = ROOT.parent / "shared" / "ctgov" / "records"
    studies: dict[str, dict[str, object]] = {}
    for path in sorted(records.glob("*.json")):
        for study in load_record_studies(path):
            studies.setdefault(study["protocolSection"]["identificationModule"]["nctId"], study)
    query = Query.build(status=["any"])
    with FakeCtGov(list(studies.values())) as server:
        # Loopback needs no politeness: measure bytes, not the pace (pitfall 9 is for the API).
        settings = Settings.from_env({RATE_ENV: "1e6"}, base_url=server.base_url)
        print(f"{len(studies)} studies served from {records}")
        print(f"{'fields':<28}{'requests':>9}{'bytes':>12}{'seconds':>9}")
        for label, fields in (
            ("whole records", ()),
            ("search + CAR-T (default)", BASE_FIELDS + CART_FIELDS),
            ("search only", BASE_FIELDS),
        ):
            client = CtGovClient(settings)
            start = time.perf_counter()
            count = sum(len(p.studies) for p in client.iter_pages(query.to_params(fields)))
            took = time.perf_counter() - start
            assert count == len(studies)
            print(f"{label:<28}{client.requests_made:>9}{client.bytes_received:>12,}{took:>9.2f}")
            client.close()


if __name__ == "__main__":
    main()
