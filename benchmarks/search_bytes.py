"""Bytes and requests a search costs, with and without the `fields` trialfinder asks for.

Serves every real record in ../shared/ctgov/records from the loopback fake API and runs the
same search through trialfinder's client twice: asking for whole records, and asking only for
the fields each output needs (`trialfinder.fields.fields_for`: a table asks only for what its
columns, filters and sort read). Run: .venv/bin/python benchmarks/search_bytes.py

Figures, 2026-12-02, the 385 real studies (share: of the whole records' bytes):

    fields                       requests       bytes  share
    whole records                       1   7,418,368   100%
    every column (CSV, JSON)            1   2,897,304    39%
    every column, no CAR-T              1   1,766,509    24%
    default table                       1   1,410,566    19%
    --after-car-t table                 1   1,370,483    18%
    --near table                        1   2,742,098    37%
    --sites table                       1   1,565,436    21%

Before, every format asked for "every column" (39%); the default table leaves out the sites.
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
from trialfinder.fields import ALL_FIELDS, BASE_FIELDS, fields_for  # noqa: E402
from trialfinder.render.columns import table_view  # noqa: E402
from trialfinder.search import SITE_OUTPUT_COLUMNS, all_columns  # noqa: E402
from trialfinder.spec import SearchSpec  # noqa: E402


def view_fields(**spec: object) -> tuple[str, ...]:
    """The fields the default table of a search with these options asks for."""
    plan = SearchSpec(status=("any",), **spec).resolve()  # type: ignore[arg-type]
    available = list(SITE_OUTPUT_COLUMNS) if plan.options.per_site else all_columns(plan.options)
    shown = list(table_view(plan.options, available).columns)
    return fields_for(plan.query, plan.options, shown)


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
        print(f"{'fields':<28}{'requests':>9}{'bytes':>12}{'share':>7}{'seconds':>9}")
        whole = 0
        for label, fields in (
            ("whole records", ()),
            ("every column (CSV, JSON)", ALL_FIELDS),
            ("every column, no CAR-T", BASE_FIELDS),
            ("default table", view_fields()),
            ("--after-car-t table", view_fields(after_car_t=True)),
            ("--near table", view_fields(near="77030")),
            ("--sites table", view_fields(sites=True)),
        ):
            client = CtGovClient(settings)
            start = time.perf_counter()
            count = sum(len(p.studies) for p in client.iter_pages(query.to_params(fields)))
            took = time.perf_counter() - start
            assert count == len(studies)
            got = client.bytes_received
            whole = whole or got
            share = f"{got / whole:.0%}"
            print(f"{label:<28}{client.requests_made:>9}{got:>12,}{share:>7}{took:>9.2f}")
            client.close()


if __name__ == "__main__":
    main()
