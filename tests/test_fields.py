"""The API `fields` a search asks for: enough for every column it shows, and no more.

The sufficiency test serves the real records from the loopback API, which prunes each record
to the `fields` asked for as the real API does, and checks that every column built from the
pruned records equals the same column built from whole records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from ctgov_server import FakeCtGov
from records import real_studies

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.settings import Settings
from trialfinder.ctgov.sources import ApiSource
from trialfinder.fields import ALL_FIELDS, COLUMN_FIELDS, fields_for
from trialfinder.render.columns import table_view
from trialfinder.search import SITE_OUTPUT_COLUMNS, all_columns, run_search, site_rows
from trialfinder.spec import SearchOptions, SearchSpec


def _plan(**changes: Any) -> tuple[Query, SearchOptions]:
    search = SearchSpec(status=("any",), **changes).resolve()
    return search.query, search.options


def test_every_column_a_search_can_show_names_its_fields() -> None:
    _, near = _plan(near="77030", radius="500mi", therapy_class=("car-t",))
    assert "therapy_group" in all_columns(near)
    columns = set(all_columns(near)) | set(SITE_OUTPUT_COLUMNS)
    assert columns - set(COLUMN_FIELDS) == set()
    assert {f for fs in COLUMN_FIELDS.values() for f in fs} <= set(ALL_FIELDS)


def test_the_default_table_leaves_out_the_sites() -> None:
    query, options = _plan()
    shown = list(table_view(options, all_columns(options)).columns)
    fields = fields_for(query, options, shown)
    assert "Location" not in fields
    assert {"EligibilityCriteria", "BriefTitle", "LastUpdatePostDate"} <= set(fields)
    assert "Location" in fields_for(*_plan(near="77030"), shown)
    assert "Location" in fields_for(*_plan(sites=True), ["nct_id", "city"])


def test_a_filter_applied_again_locally_brings_its_field() -> None:
    query, options = _plan(sex="FEMALE", age=16, phase=("PHASE2",), study_type="INTERVENTIONAL")
    fields = fields_for(query, options, ["nct_id"])
    assert {"Sex", "MinimumAge", "MaximumAge", "Phase", "StudyType"} <= set(fields)
    assert "EnrollmentCount" in fields_for(*_plan(sort="enrollment"), ["nct_id"])


def test_unknown_or_all_columns_ask_for_everything() -> None:
    query, options = _plan()
    assert fields_for(query, options, None) == ALL_FIELDS
    assert fields_for(query, options, ["no_such_column"]) == ALL_FIELDS


@pytest.fixture(scope="module")
def served() -> Iterator[FakeCtGov]:
    unique = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in real_studies()}
    with FakeCtGov(list(unique.values())) as server:
        yield server
    assert not server.errors


def _source(server: FakeCtGov) -> ApiSource:
    settings = Settings.from_env(
        {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}, base_url=server.base_url
    )
    return ApiSource(CtGovClient(settings))


@pytest.mark.slow
def test_each_column_from_its_own_fields_equals_it_from_the_whole_record(
    served: FakeCtGov,
) -> None:
    query, options = _plan(near="77030", radius="12000mi", any_site_status=True)
    with _source(served) as source:
        whole = run_search(query, source, options)
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for column in whole.columns:
            groups[COLUMN_FIELDS[column]].append(column)
        assert len(whole.studies) > 300
        for columns in groups.values():
            part = run_search(query, source, options, columns=columns)
            assert len(set(fields_for(query, options, columns))) < len(ALL_FIELDS)
            pd.testing.assert_frame_equal(part.studies[columns], whole.studies[columns])


@pytest.mark.slow
def test_site_rows_from_their_own_fields_equal_them_from_the_whole_record(
    served: FakeCtGov,
) -> None:
    query, options = _plan(sites=True)
    shown = list(table_view(options, SITE_OUTPUT_COLUMNS).columns)
    with _source(served) as source:
        whole = site_rows(run_search(query, source, options))
        part = site_rows(run_search(query, source, options, columns=shown))
    assert len(whole) > 1000
    pd.testing.assert_frame_equal(part[shown], whole[shown])
