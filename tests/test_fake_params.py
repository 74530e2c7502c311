"""The fake ClinicalTrials.gov API, through httpx: which parameters and values /studies accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from ctgov_server import (
    DEFAULT_METADATA_PATH,
    STATUSES,
    STUDIES_PARAMS,
    STUDY_PARAMS,
    FakeCtGov,
    make_studies,
)
from test_fake_helpers import TLS, assert_text_error

SPEC_PATH = DEFAULT_METADATA_PATH.with_name("ctg-oas-v2.yaml")


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


@pytest.mark.parametrize("name", ["filter.phase", "query.recrs", "page_size", "Fields"])
def test_unknown_parameter_is_400_text_plain(client: httpx.Client, name: str) -> None:
    response = client.get("/studies", params={name: "x"})
    assert_text_error(response, 400)
    assert response.text == f"`{name}` is unknown parameter"


def test_every_spec_parameter_is_accepted(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies(make_studies(3))
    valid = {
        "format": "json",
        "markupFormat": "legacy",
        "filter.overallStatus": "RECRUITING",
        "postFilter.overallStatus": "RECRUITING",
        "filter.geo": "distance(29.7,-95.3,50mi)",
        "postFilter.geo": "distance(29.7,-95.3,50)",
        "filter.ids": "NCT90000001|NCT90000002|NCT90000003",
        "postFilter.ids": "NCT90000001,NCT90000002,NCT90000003",
        "filter.synonyms": "ConditionSearch:1651367",
        "postFilter.synonyms": "BasicSearch:2013558",
        "aggFilters": "results:with,status:com",
        "geoDecay": "func:linear,scale:100km,offset:10km,decay:0.1",
        "fields": "NCTId",
        "sort": "@relevance",
        "countTotal": "true",
        "pageSize": "0",
    }
    queries = {name: "lymphoma" for name in STUDIES_PARAMS if name.startswith("query.")}
    queries |= {"query.id": "ORG-90000001 OR ORG-90000002 OR ORG-90000003"}
    queries |= {"query.outc": "response", "query.spons": "example", "query.lead": "example"}
    queries |= {"query.locn": "houston", "query.intr": "drug"}
    advanced = {n: "AREA[Phase]PHASE2" for n in ("filter.advanced", "postFilter.advanced")}
    params = valid | queries | advanced
    assert set(params) | {"pageToken"} == STUDIES_PARAMS
    response = client.get("/studies", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["totalCount"] == 3
    assert set(ctgov_server.requests[-1].unapplied) == {
        "markupFormat",
        "filter.synonyms",
        "postFilter.synonyms",
        "aggFilters",
        "geoDecay",
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pageSize", "-1"),
        ("pageSize", "ten"),
        ("pageSize", "1.5"),
        ("pageSize", ""),
        ("countTotal", "yes"),
        ("countTotal", "1"),
        ("format", "xml"),
        ("markupFormat", "html"),
        ("filter.overallStatus", "OPEN"),
        ("filter.overallStatus", "recruiting"),
        ("postFilter.overallStatus", "RECRUITING,CLOSED"),
        ("filter.geo", "distance(29.7,-95.3)"),
        ("filter.geo", "distance(29.7, -95.3, 50mi)"),
        ("filter.geo", "near(29.7,-95.3,50mi)"),
        ("filter.ids", "NCT123456789"),
        ("filter.ids", "ABC00000001"),
        ("fields", "NoSuchField"),
        ("fields", "nctid"),
        ("fields", "protocolSection.identificationModule.nope"),
        ("fields", ""),
        ("fields", ",|"),
        ("sort", "BriefTitle"),
        ("sort", "NoSuchDate"),
        ("sort", "LastUpdatePostDate:up"),
        ("sort", "LastUpdatePostDate,StartDate,EnrollmentCount"),
        ("pageToken", "not-a-token"),
        ("geoDecay", "func:exp"),
        ("filter.advanced", "(lymphoma"),
        ("filter.advanced", "lymphoma)"),
        ("query.cond", '"unterminated phrase'),
        ("query.term", "AREA[Phase"),
        ("query.term", "lymphoma AND"),
        ("filter.advanced", "AREA[LocationGeoPoint]DISTANCE[here,there]"),
    ],
)
def test_bad_value_is_400_text_plain(client: httpx.Client, name: str, value: str) -> None:
    assert_text_error(client.get("/studies", params={name: value}), 400, name)


def test_repeated_parameter_is_400(client: httpx.Client) -> None:
    response = client.get("/studies", params=[("query.cond", "a"), ("query.cond", "b")])
    assert_text_error(response, 400, "query.cond")


def test_csv_format_is_not_implemented(client: httpx.Client) -> None:
    assert_text_error(client.get("/studies", params={"format": "csv"}), 501, "csv")


def test_parameter_lists_match_the_spec() -> None:
    if not SPEC_PATH.is_file():
        pytest.skip(f"spec not found at {SPEC_PATH}")
    spec = SPEC_PATH.read_text(encoding="utf-8")

    def parameters(path: str) -> set[str]:
        block = spec.split(f"\n  {path}:\n", 1)[1].split("\n  /", 1)[0]
        return set(re.findall(r'^      - name: "([^"]+)"', block, flags=re.MULTILINE))

    assert parameters("/studies") == STUDIES_PARAMS
    assert parameters("/studies/{nctId}") - {"nctId"} == STUDY_PARAMS
    status_block = spec.split("\n    Status:\n", 1)[1].split("\n    StudyType:", 1)[0]
    assert set(re.findall(r'- "([A-Z_]+)"', status_block)) == STATUSES
