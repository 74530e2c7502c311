"""The sites frame is built only when the search needs it, and is the same when it is built."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialfinder.ctgov.sources import FileSource
from trialfinder.frames import sites_frame
from trialfinder.search import run_search, site_rows
from trialfinder.spec import SearchSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_sites_are_built_on_first_use_and_match_an_eager_build() -> None:
    search = SearchSpec(condition="lymphoma", status=("any",)).resolve()
    with FileSource(FIXTURES) as source:
        result = run_search(search.query, source, search.options)
    assert not isinstance(result._sites, pd.DataFrame)  # not built by the search itself
    eager = sites_frame(result.records)
    ids = list(result.studies["nct_id"])
    assert sorted(result.sites["nct_id"]) == sorted(eager["nct_id"])
    assert set(result.sites["nct_id"]) <= set(ids)
    assert len(result.sites) == int(result.studies["sites_count"].sum())
    assert result.sites is result.sites  # built once
    assert len(site_rows(result)) == len(result.sites)


def test_per_site_and_near_searches_build_sites_at_once() -> None:
    for spec in (
        SearchSpec(condition="lymphoma", sites=True),
        SearchSpec(condition="lymphoma", near="Houston, TX"),
    ):
        search = spec.resolve()
        with FileSource(FIXTURES) as source:
            result = run_search(search.query, source, search.options)
        assert isinstance(result._sites, pd.DataFrame)


def test_saved_data_keeps_records_only_and_rereads_raw() -> None:
    source = FileSource(FIXTURES)
    studies = source.load()
    raw = source.load_raw()
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in raw] == [
        s.nct_id for s in studies
    ]
    assert source.load() is studies


def test_the_callers_studies_hook_still_hears_every_batch_while_rows_are_made() -> None:
    from trialfinder.ctgov.hooks import Hooks
    from trialfinder.frames import studies_frame

    heard: list[str] = []
    search = SearchSpec(status=("any",)).resolve()
    with FileSource(FIXTURES) as source:
        hooks = Hooks(studies=lambda batch: heard.extend(s.nct_id for s in batch))
        result = run_search(search.query, source, search.options, hooks=hooks)
        plain = studies_frame(source.fetch(search.query).studies)
    assert heard and set(result.studies["nct_id"]) <= set(heard)
    by_id = plain.set_index("nct_id").loc[list(result.studies["nct_id"])].reset_index()
    columns = list(plain.columns)
    pd.testing.assert_frame_equal(result.studies[columns], by_id[columns])
