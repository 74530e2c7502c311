"""API pages read in the workers as saved pages are (`sources._page_records`): decoded lean,
with the sites counted instead of read when the search shows none, and the same studies and
errors as a page decoded whole."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from ctgov_server import FakeCtGov
from records import real_studies

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.settings import RATE_ENV, Settings
from trialfinder.ctgov.sources import ApiSource, PageJob, _page_records
from trialfinder.errors import ApiError
from trialfinder.fields import ALL_FIELDS
from trialfinder.records import Study, UnreadSites, parse_study


def _whole(raws: list[Any], sites: bool = True) -> list[Study]:
    return [parse_study(raw, sites=sites) for raw in raws]


@pytest.mark.parametrize("sites", [True, False])
def test_a_page_as_it_came_makes_the_studies_it_makes_decoded_whole(sites: bool) -> None:
    raws = real_studies()
    job = PageJob(json.dumps(raws).encode(), "on page 1", None, True, sites)
    studies, _ = _page_records(job)
    assert studies == _whole(raws, sites)
    if not sites:
        assert all(isinstance(s.sites, UnreadSites) for s in studies)
        assert [len(s.sites) for s in studies] == [len(s.sites) for s in _whole(raws)]


def test_a_record_that_is_no_study_is_named_as_the_api_sent_it() -> None:
    bad = {"protocolSection": {"statusModule": {"x": 1}}, "hasResults": False}
    raws: list[Any] = [real_studies()[0], bad]
    data = json.dumps(raws).encode()
    with pytest.raises(ApiError) as lean:
        _page_records(PageJob(data, "on page 1", None, True, False))
    with pytest.raises(ApiError) as whole:
        _page_records(PageJob(raws, "on page 1", None, True, False))
    assert str(lean.value) == str(whole.value)
    assert "item 2 on page 1 that is not a study" in str(lean.value)
    assert "hasResults" in str(lean.value)  # what the lean decoding drops is named too


def test_a_search_that_shows_no_site_counts_them_in_the_workers_too() -> None:
    """Five pages, read in forked workers: the same studies with their sites counted."""
    raws = real_studies()
    copies = [
        {**raw, "protocolSection": {**raw["protocolSection"], "identificationModule": {
            **raw["protocolSection"]["identificationModule"], "nctId": f"NCT9{n:07d}"}}}
        for n, raw in enumerate(raws * 12)
    ]  # fmt: skip
    settings = {RATE_ENV: "1e6"}
    with FakeCtGov(copies) as server:
        fetched = []
        for sites in (True, False):
            client = CtGovClient(Settings.from_env(settings, base_url=server.base_url))
            with ApiSource(client, workers=1) as source:
                found = source.fetch(Query.build(status=["any"]), ALL_FIELDS, sites=sites)
                fetched.append({s.nct_id: s for s in found.studies})
    read, counted = fetched
    assert len(read) == len(copies) > 4000 and read.keys() == counted.keys()
    for nct, study in counted.items():
        assert isinstance(study.sites, UnreadSites)
        assert len(study.sites) == len(read[nct].sites)
        assert replace(study, sites=read[nct].sites) == read[nct]
