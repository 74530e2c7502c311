"""Tests of the fake ClinicalTrials.gov API (tests/ctgov_server.py), through httpx only."""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ctgov_server
import httpx
import pytest
from ctgov_server import (
    DEFAULT_METADATA_PATH,
    STATUSES,
    STUDIES_PARAMS,
    STUDY_PARAMS,
    FakeCtGov,
    load_record_studies,
    make_studies,
    make_study,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPEC_PATH = DEFAULT_METADATA_PATH.with_name("ctg-oas-v2.yaml")

# httpx builds a fresh TLS context (with the CA bundle) for every client unless given one: share
# one, which keeps client creation from dominating these loopback tests.
TLS = ssl.create_default_context()

Params = Mapping[str, str | int]


@pytest.fixture(scope="session")
def many_studies() -> list[dict[str, Any]]:
    return make_studies(2500)


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


def page_all(client: httpx.Client, params: Params) -> list[dict[str, Any]]:
    """Every page of a /studies query, following nextPageToken until it is absent."""
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while len(pages) < 100:
        query = dict(params) | ({"pageToken": token} if token else {})
        response = client.get("/studies", params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1].get("nextPageToken")
        if token is None:
            return pages
    raise AssertionError("paging did not end")


def ids_of(studies: list[dict[str, Any]]) -> list[str]:
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def page_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [nct for page in pages for nct in ids_of(page["studies"])]


def assert_text_error(response: httpx.Response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain"
    for needle in needles:
        assert needle in response.text


# ----------------------------------------------------------------------------------------------
# Paging


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, [0]),
        (1, [1]),
        (999, [999]),
        (1000, [1000, 0]),  # pitfall 1: a full last page still carries a token
        (1001, [1000, 1]),
        (2500, [1000, 1000, 500]),
    ],
)
def test_paging_returns_each_study_once(
    ctgov_server: FakeCtGov,
    client: httpx.Client,
    many_studies: list[dict[str, Any]],
    count: int,
    sizes: list[int],
) -> None:
    ctgov_server.add_studies(many_studies[:count])
    pages = page_all(client, {"pageSize": 1000, "fields": "NCTId"})
    assert [len(page["studies"]) for page in pages] == sizes
    assert page_ids(pages) == ids_of(many_studies[:count])
    assert all("nextPageToken" in page for page in pages[:-1])
    assert "nextPageToken" not in pages[-1]


def test_exact_multiple_ends_with_an_empty_page(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.add_studies(make_studies(10))
    pages = page_all(client, {"pageSize": 5})
    assert pages[-1] == {"studies": []}
    assert [len(p["studies"]) for p in pages] == [5, 5, 0]


def test_page_size_default_zero_and_cap(
    ctgov_server: FakeCtGov, client: httpx.Client, many_studies: list[dict[str, Any]]
) -> None:
    ctgov_server.add_studies(many_studies[:1001])
    for params in ({}, {"pageSize": 0}):
        page = client.get("/studies", params={"fields": "NCTId", **params}).json()
        assert len(page["studies"]) == 10
    page = client.get("/studies", params={"fields": "NCTId", "pageSize": 5000}).json()
    assert len(page["studies"]) == 1000
    assert "nextPageToken" in page


def test_page_size_may_change_between_pages(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies(make_studies(12))
    first = client.get("/studies", params={"pageSize": 5}).json()
    rest = client.get(
        "/studies", params={"pageSize": 100, "pageToken": first["nextPageToken"]}
    ).json()
    assert ids_of(first["studies"] + rest["studies"]) == ids_of(make_studies(12))


def test_tokens_are_opaque_and_bound_to_their_server(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    studies = make_studies(25)
    ctgov_server.add_studies(studies)
    pages = page_all(client, {"pageSize": 10})
    tokens = [page["nextPageToken"] for page in pages[:-1]]
    assert len(tokens) == len(set(tokens)) == 2
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", token)
        assert not token.isdigit()
    first = tokens[0]
    tampered = [("A" if first[0] != "A" else "B") + first[1:], first[:-1] + chr(ord(first[-1]) ^ 1)]
    for bad in (*tampered, "abc", "10", first + "x", first + "A", ""):
        response = client.get("/studies", params={"pageSize": 10, "pageToken": bad})
        assert_text_error(response, 400, "pageToken")
    with (
        FakeCtGov(studies) as other,
        httpx.Client(base_url=other.base_url, verify=TLS) as other_client,
    ):
        response = other_client.get("/studies", params={"pageSize": 10, "pageToken": first})
        assert_text_error(response, 400, "pageToken")


FIRST: dict[str, str | int] = {
    "pageSize": 2,
    "fields": "NCTId",
    "filter.overallStatus": "RECRUITING",
    "sort": "LastUpdatePostDate",
    "query.cond": "lymphoma",
}


@pytest.mark.parametrize(
    "change",
    [
        {"query.cond": "myeloma"},
        {"fields": "NCTId,BriefTitle"},
        {"sort": "LastUpdatePostDate:asc"},
        {"filter.overallStatus": "RECRUITING|COMPLETED"},
        {"filter.advanced": "AREA[Phase]PHASE2"},
        {"format": "json"},  # the default, but not what the first request said
        {"query.cond": None},
    ],
)
def test_token_reused_with_other_parameters_is_400(
    ctgov_server: FakeCtGov, client: httpx.Client, change: dict[str, str | None]
) -> None:
    ctgov_server.add_studies(make_studies(5))
    first = client.get("/studies", params=FIRST).json()
    query = {**FIRST, **change, "pageToken": first["nextPageToken"]}
    response = client.get("/studies", params={k: v for k, v in query.items() if v is not None})
    assert_text_error(response, 400, "pageToken")


def test_token_allows_other_page_size_and_count_total(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.add_studies(make_studies(5))
    first = client.get("/studies", params=FIRST).json()
    query = {**FIRST, "pageSize": 3, "countTotal": "true", "pageToken": first["nextPageToken"]}
    response = client.get("/studies", params=query)
    assert response.status_code == 200, response.text
    assert "totalCount" not in response.json()


def test_count_total_on_first_page_only(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies(make_studies(25))
    pages = page_all(client, {"pageSize": 10, "countTotal": "true"})
    assert pages[0]["totalCount"] == 25
    assert all("totalCount" not in page for page in pages[1:])
    assert "totalCount" not in client.get("/studies").json()
    assert "totalCount" not in client.get("/studies", params={"countTotal": "false"}).json()
    filtered = client.get(
        "/studies", params={"countTotal": "TRUE", "filter.overallStatus": "COMPLETED"}
    ).json()
    assert filtered == {"studies": [], "totalCount": 0}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page_size=st.integers(min_value=3, max_value=40), limit=st.integers(0, 120))
def test_paging_never_loses_or_repeats_a_study(page_size: int, limit: int) -> None:
    studies = make_studies(60)
    wanted = [
        s
        for s in studies
        if s["protocolSection"]["designModule"]["enrollmentInfo"]["count"] <= limit
    ]
    with FakeCtGov(studies) as server, httpx.Client(base_url=server.base_url, verify=TLS) as client:
        params: dict[str, str | int] = {
            "pageSize": page_size,
            "filter.advanced": f"AREA[EnrollmentCount]RANGE[MIN,{limit}]",
        }
        pages = page_all(client, params)
    assert page_ids(pages) == ids_of(wanted)
    assert len(pages) == len(wanted) // page_size + 1
    assert all(len(p["studies"]) == page_size for p in pages[:-1])


# ----------------------------------------------------------------------------------------------
# Parameter validation


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


# ----------------------------------------------------------------------------------------------
# fields


def test_fields_by_piece_name(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT00000001", brief_title="Hello")])
    page = client.get("/studies", params={"fields": "NCTId,BriefTitle,OverallStatus"}).json()
    assert page["studies"] == [
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Hello"},
                "statusModule": {"overallStatus": "RECRUITING"},
            }
        }
    ]


def test_fields_leaf_in_a_list_keeps_the_list(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    sites = [
        {"facility": "A", "city": "Houston", "geoPoint": {"lat": 29.7, "lon": -95.3}},
        {"facility": "B", "country": "United States"},  # no city, no geoPoint
        {"facility": "C", "city": "Boston", "status": "RECRUITING"},
    ]
    ctgov_server.add_studies([make_study("NCT00000001", locations=sites)])
    one = client.get("/studies", params={"fields": "LocationCity"}).json()["studies"][0]
    assert one == {
        "protocolSection": {
            "contactsLocationsModule": {"locations": [{"city": "Houston"}, {"city": "Boston"}]}
        }
    }
    two = client.get("/studies", params={"fields": "LocationCity|LocationGeoPoint"}).json()
    assert two["studies"][0]["protocolSection"]["contactsLocationsModule"]["locations"] == [
        {"city": "Houston", "geoPoint": {"lat": 29.7, "lon": -95.3}},
        {"city": "Boston"},
    ]


def test_fields_by_module_section_and_path(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT00000001")
    ctgov_server.add_studies([study])

    def fields(value: str) -> Any:
        response = client.get("/studies", params={"fields": value})
        assert response.status_code == 200, response.text
        return response.json()["studies"][0]

    protocol = study["protocolSection"]
    assert fields("IdentificationModule") == {
        "protocolSection": {"identificationModule": protocol["identificationModule"]}
    }
    assert fields("ProtocolSection") == {"protocolSection": protocol}
    assert fields("ProtocolSection,NCTId") == {"protocolSection": protocol}
    assert fields("HasResults") == {"hasResults": False}
    assert fields("protocolSection.designModule.phases") == {
        "protocolSection": {"designModule": {"phases": ["PHASE2"]}}
    }
    assert fields("Phase,EnrollmentCount") == {
        "protocolSection": {
            "designModule": {"phases": ["PHASE2"], "enrollmentInfo": {"count": 10 + 1 % 491}}
        }
    }
    assert fields("ResultsSection") == {}  # the study has none
    assert fields("@query") == study


# ----------------------------------------------------------------------------------------------
# Queries and filters

A, B, C, D = "NCT00000101", "NCT00000102", "NCT00000103", "NCT00000104"
RECENT = "AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]"


def houston(status: str) -> dict[str, Any]:
    return {
        "facility": "MD Anderson Cancer Center",
        "status": status,
        "city": "Houston",
        "state": "Texas",
        "country": "United States",
        "geoPoint": {"lat": 29.76328, "lon": -95.36327},
    }


def filter_studies() -> list[dict[str, Any]]:
    return [
        make_study(
            A,
            brief_title="Axi-cel in Large B-cell Lymphoma",
            official_title="A Study of Axicabtagene Ciloleucel in Diffuse Large B-Cell Lymphoma",
            conditions=["Diffuse Large B-Cell Lymphoma"],
            keywords=["DLBCL"],
            interventions=[
                {
                    "type": "BIOLOGICAL",
                    "name": "Axicabtagene ciloleucel",
                    "otherNames": ["Yescarta"],
                }
            ],
            lead_sponsor="Kite, A Gilead Company",
            last_update_post_date="2026-02-01",
            enrollment_count=120,
            locations=[houston("RECRUITING")],
        ),
        make_study(
            B,
            brief_title="Ide-cel in Myeloma",
            official_title="Idecabtagene Vicleucel in Relapsed Multiple Myeloma",
            conditions=["Multiple Myeloma"],
            keywords=[],
            overall_status="COMPLETED",
            phases=["PHASE1"],
            interventions=["Ide-cel"],
            collaborators=["Bristol-Myers Squibb"],
            last_update_post_date="2025-06-01",
            enrollment_count=40,
            locations=[
                {
                    "facility": "Dana-Farber Cancer Institute",
                    "status": "COMPLETED",
                    "city": "Boston",
                    "country": "United States",
                    "geoPoint": {"lat": 42.35843, "lon": -71.05977},
                }
            ],
        ),
        make_study(
            C,
            brief_title="CAR-T Cells for Relapsed ALL",
            official_title="CD19 CAR-T Cells in Children With Acute Lymphoblastic Leukemia",
            conditions=["Acute Lymphoblastic Leukemia"],
            keywords=["CAR T"],
            overall_status="NOT_YET_RECRUITING",
            phases=["PHASE1", "PHASE2"],
            interventions=["CD19 CAR-T cells"],
            last_update_post_date="2025-12-31",
            enrollment_count=75,
            minimum_age="1 Year",
            locations=[
                houston("COMPLETED"),
                {
                    "facility": "Fred Hutchinson Cancer Center",
                    "status": "RECRUITING",
                    "city": "Seattle",
                    "state": "Washington",
                    "country": "United States",
                    "geoPoint": {"lat": 47.60621, "lon": -122.33207},
                },
            ],
        ),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [A, B, C]),
        ({"filter.overallStatus": "RECRUITING|NOT_YET_RECRUITING"}, [A, C]),
        ({"filter.overallStatus": "COMPLETED"}, [B]),
        ({"postFilter.overallStatus": "COMPLETED"}, [B]),
        ({"filter.ids": "NCT00000103,NCT00000101"}, [A, C]),
        ({"filter.ids": "NCT00000103 nct102"}, [B, C]),
        ({"query.cond": "lymphoma"}, [A]),  # whole words: not "lymphoblastic"
        ({"query.cond": "LARGE lymphoma"}, [A]),  # every word, anywhere
        ({"query.cond": '"large lymphoma"'}, []),  # a phrase
        ({"query.cond": '"large b cell"'}, [A]),  # hyphens are word breaks
        ({"query.cond": "dlbcl"}, [A]),  # keywords
        ({"query.cond": "myeloma OR leukemia"}, [B, C]),
        ({"query.cond": "(myeloma OR leukemia) NOT children"}, [B]),
        ({"query.cond": "relapsed AND NOT myeloma"}, [C]),
        ({"query.intr": "yescarta"}, [A]),  # other names
        ({"query.intr": "lymphoma"}, []),
        ({"query.spons": "bristol"}, [B]),  # collaborators
        ({"query.spons": "gilead"}, [A]),
        ({"query.lead": "bristol"}, []),
        ({"query.locn": "seattle"}, [C]),
        ({"query.locn": "texas"}, [A, C]),
        ({"query.titles": "car t"}, [C]),
        ({"query.titles": "myeloma"}, [B]),
        ({"query.term": "ciloleucel"}, [A]),
        ({"query.term": "fred hutchinson"}, [C]),
        ({"query.id": "ORG-102"}, [B]),
        ({"query.cond": "lymphoma", "filter.overallStatus": "COMPLETED"}, []),
        # The spec: a query of NCT ids only makes the filters ignored.
        ({"query.term": "NCT00000102", "filter.overallStatus": "RECRUITING"}, [B]),
        ({"query.id": "NCT00000101, NCT00000103"}, [A, C]),
        ({"filter.advanced": "AREA[Phase]PHASE2"}, [A, C]),
        ({"filter.advanced": "AREA[Phase]PHASE1 AND AREA[Phase]PHASE2"}, [C]),
        ({"filter.advanced": "AREA[OverallStatus]RECRUITING"}, [A]),  # whole enum values
        ({"filter.advanced": "AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]"}, [A]),
        ({"filter.advanced": "AREA[LastUpdatePostDate]RANGE[2025-06, 2025-12-31]"}, [B, C]),
        ({"filter.advanced": f"AREA[Phase]PHASE2 AND {RECENT}"}, [A]),
        ({"filter.advanced": "AREA[EnrollmentCount]RANGE[50, 100]"}, [C]),
        ({"filter.advanced": "AREA[MinimumAge]RANGE[MIN, 16 years]"}, [C]),
        ({"filter.advanced": "AREA[MaximumAge]RANGE[16 years, MAX]"}, [A, B, C]),  # no limit
        ({"filter.advanced": "AREA[MaximumAge]MISSING"}, [A, B, C]),
        ({"filter.advanced": "AREA[Acronym]MISSING"}, [A, B, C]),
        ({"filter.advanced": "AREA[Condition]leukemia OR AREA[Phase]PHASE1"}, [B, C]),
        (
            {"filter.advanced": "AREA[LocationCity]Houston AND AREA[LocationStatus]RECRUITING"},
            [A, C],
        ),
        (
            {
                "filter.advanced": (
                    "SEARCH[Location](AREA[LocationCity]Houston AND AREA[LocationStatus]RECRUITING)"
                )
            },
            [A],
        ),
        ({"filter.advanced": "AREA[LocationGeoPoint]DISTANCE[42.36,-71.06,25mi]"}, [B]),
        ({"filter.geo": "distance(29.7604,-95.3698,50mi)"}, [A, C]),  # any site, any status
        ({"filter.geo": "distance(47.6,-122.3,10km)"}, [C]),
        ({"filter.geo": "distance(0,0,100)"}, []),
    ],
)
def test_filters(
    ctgov_server: FakeCtGov, client: httpx.Client, params: dict[str, str], expected: list[str]
) -> None:
    ctgov_server.add_studies(filter_studies())
    response = client.get("/studies", params={**params, "fields": "NCTId"})
    assert response.status_code == 200, response.text
    assert ids_of(response.json()["studies"]) == expected
    assert ctgov_server.requests[-1].unapplied == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("filter.advanced", "AREA[ConditionSearch]lymphoma"),
        ("filter.advanced", "EXPANSION[Concept]lymphoma"),
        ("filter.advanced", "AREA[BriefTitle]RANGE[a,b]"),
        ("query.cond", "lymph*"),
        ("query.term", "COVERAGE[FullMatch]myeloma"),
    ],
)
def test_unimplemented_essie_does_not_filter_and_is_recorded(
    ctgov_server: FakeCtGov, client: httpx.Client, name: str, value: str
) -> None:
    ctgov_server.add_studies(filter_studies())
    response = client.get("/studies", params={name: value, "fields": "NCTId"})
    assert response.status_code == 200, response.text
    assert ids_of(response.json()["studies"]) == [A, B, C]
    assert name in ctgov_server.requests[-1].unapplied


def test_age_range_reads_a_missing_age_as_no_limit(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.add_studies(
        [
            make_study("NCT00000001"),  # 18 Years, no maximum
            make_study("NCT00000002", minimum_age="12 Years", maximum_age="17 Years"),
            make_study("NCT00000003", minimum_age=None),  # no limits at all
            make_study("NCT00000004", minimum_age="6 Months", maximum_age="15 Years"),
            make_study("NCT00000005", minimum_age="16 Years", maximum_age="16 Years"),
        ]
    )
    # The spec's example: the studies a 16-year-old is eligible for.
    sixteen = "AREA[MinimumAge]RANGE[MIN, 16 years] AND AREA[MaximumAge]RANGE[16 years, MAX]"
    response = client.get("/studies", params={"filter.advanced": sixteen, "fields": "NCTId"})
    assert ids_of(response.json()["studies"]) == ["NCT00000002", "NCT00000003", "NCT00000005"]


# ----------------------------------------------------------------------------------------------
# sort


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, [A, B, C, D]),
        ("@relevance", [A, B, C, D]),
        ("LastUpdatePostDate", [A, C, B, D]),  # dates sort descending by default
        ("LastUpdatePostDate:desc", [A, C, B, D]),
        ("LastUpdatePostDate:asc", [B, C, A, D]),  # missing values last either way
        ("EnrollmentCount", [B, C, D, A]),  # numbers sort ascending by default
        ("EnrollmentCount:desc", [A, C, D, B]),  # ties keep their order
        ("protocolSection.designModule.enrollmentInfo.count:desc", [A, C, D, B]),
        ("StartDate|EnrollmentCount:desc", [A, C, B, D]),
    ],
)
def test_sort(
    ctgov_server: FakeCtGov, client: httpx.Client, sort: str | None, expected: list[str]
) -> None:
    no_date = make_study(
        D,
        enrollment_count=75,
        start_date="2020-01",
        **{"protocolSection.statusModule.lastUpdatePostDateStruct": None},
    )
    studies = filter_studies()
    for study in studies:
        study["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2024-01"
    ctgov_server.add_studies([*studies, no_date])
    params = {"fields": "NCTId"} | ({"sort": sort} if sort else {})
    response = client.get("/studies", params=params)
    assert response.status_code == 200, response.text
    assert ids_of(response.json()["studies"]) == expected


# ----------------------------------------------------------------------------------------------
# Injected faults and recording


def test_fail_next_429_with_retry_after(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.fail_next(429, retry_after="3")
    response = client.get("/studies")
    assert_text_error(response, 429, "Too Many Requests")
    assert response.headers["retry-after"] == "3"
    assert client.get("/studies").status_code == 200


def test_fail_next_several_times_then_recover(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.fail_next(500, times=2, body="boom")
    ctgov_server.fail_next(503)
    responses = [client.get("/version") for _ in range(4)]
    assert [r.status_code for r in responses] == [500, 500, 503, 200]
    assert responses[0].text == "boom"
    assert "retry-after" not in responses[0].headers
    assert [r.status for r in ctgov_server.requests] == [500, 500, 503, 200]


def test_drop_next_closes_the_connection(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    assert client.get("/version").status_code == 200  # a pooled keep-alive connection
    ctgov_server.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/version")
    assert client.get("/version").status_code == 200
    assert [r.status for r in ctgov_server.requests] == [200, None, 200]


def test_delay_makes_slow_responses(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.delay = 0.2
    started = time.monotonic()
    assert client.get("/version").status_code == 200
    assert time.monotonic() - started >= 0.2
    with pytest.raises(httpx.ReadTimeout):
        client.get("/version", timeout=0.05)


def test_stop_does_not_wait_for_a_delayed_answer() -> None:
    server = FakeCtGov().start()
    server.delay = 30
    with (
        httpx.Client(base_url=server.base_url, verify=TLS) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/version", timeout=0.05)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2


def test_fail_on_page_in_the_middle_of_paging(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    studies = make_studies(25)
    ctgov_server.add_studies(studies)
    ctgov_server.fail_on_page(2, 503, times=2, retry_after="1")
    first = client.get("/studies", params={"pageSize": 10}).json()
    second = {"pageSize": 10, "pageToken": first["nextPageToken"]}
    for _ in range(2):
        response = client.get("/studies", params=second)
        assert_text_error(response, 503)
        assert response.headers["retry-after"] == "1"
    page2 = client.get("/studies", params=second).json()
    page3 = client.get("/studies", params={"pageToken": page2["nextPageToken"]}).json()
    assert ids_of(first["studies"] + page2["studies"] + page3["studies"]) == ids_of(studies)
    assert [r.status for r in ctgov_server.requests] == [200, 503, 503, 200, 200]


def test_fail_on_page_ignores_invalid_requests(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.fail_on_page(1, 500)
    assert client.get("/studies", params={"pageSize": -1}).status_code == 400
    assert client.get("/studies").status_code == 500
    assert client.get("/studies").status_code == 200


def test_requests_are_recorded(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    client.get(
        "/studies",
        params={"query.cond": "car t", "filter.ids": "NCT00000001|NCT00000002"},
        headers={"User-Agent": "trialfinder-test/1"},
    )
    client.get("/studies/NCT00000001")
    first, second = ctgov_server.requests
    assert first.method == "GET"
    assert first.path == "/api/v2/studies"
    assert first.params == {"query.cond": "car t", "filter.ids": "NCT00000001|NCT00000002"}
    assert first.headers["user-agent"] == "trialfinder-test/1"
    assert first.status == 200
    assert second.path == "/api/v2/studies/NCT00000001"
    assert second.status == 404
    assert first.time <= second.time <= time.monotonic()


def test_concurrent_requests(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies(make_studies(50))
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda i: client.get(f"/studies/NCT{90000001 + i:08d}"), range(40)))
    assert {r.status_code for r in codes} == {200}
    assert len(ctgov_server.requests) == 40


# ----------------------------------------------------------------------------------------------
# Single study, other endpoints


def test_single_study(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT01234567")
    ctgov_server.add_studies([study])
    response = client.get("/studies/NCT01234567")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == study
    assert client.get("/studies/nct1234567").json() == study  # the spec's pattern allows it
    pruned = client.get("/studies/NCT01234567", params={"fields": "NCTId|OverallStatus"})
    assert pruned.json() == {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT01234567"},
            "statusModule": {"overallStatus": "RECRUITING"},
        }
    }


def test_single_study_errors(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT01234567")])
    assert_text_error(client.get("/studies/NCT07654321"), 404, "NCT07654321")
    for bad in ("NCT123456789", "ABC01234567", "NCT00000000", "NCT0123456X", "01234567"):
        assert_text_error(client.get(f"/studies/{bad}"), 400, bad)
    assert_text_error(client.get("/studies/NCT01234567", params={"pageSize": 1}), 400, "pageSize")
    assert_text_error(client.get("/studies/NCT01234567", params={"fields": "Nope"}), 400, "Nope")
    assert_text_error(client.get("/studies/NCT01234567", params={"format": "ris"}), 501)


def test_single_study_alias_redirects(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT01234567", nct_id_aliases=["NCT00000999"])])
    response = client.get("/studies/NCT00000999", params={"fields": "NCTId"})
    assert response.status_code == 301
    assert response.headers["location"] == "/api/v2/studies/NCT01234567?fields=NCTId"
    followed = client.get("/studies/NCT00000999", follow_redirects=True)
    assert followed.json()["protocolSection"]["identificationModule"]["nctId"] == "NCT01234567"
    by_alias = client.get("/studies", params={"filter.ids": "NCT00000999"}).json()
    assert ids_of(by_alias["studies"]) == ["NCT01234567"]


def test_version_metadata_and_unknown_paths(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    version = client.get("/version")
    assert version.headers["content-type"] == "application/json"
    assert version.json() == {"apiVersion": "2.0.5", "dataTimestamp": ctgov_server.data_timestamp}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", version.json()["dataTimestamp"])
    metadata = client.get("/studies/metadata").json()
    assert metadata[0]["name"] == "protocolSection"
    for path in ("/nope", "/studies/NCT01234567/history", "/studies/"):
        assert_text_error(client.get(path), 404)
    with httpx.Client(verify=TLS) as bare:
        root = ctgov_server.base_url.removesuffix("/api/v2")
        assert_text_error(bare.get(root + "/studies"), 404)
    assert_text_error(client.get("/stats/size"), 501)
    assert_text_error(client.post("/studies", content=b"{}"), 405)


# ----------------------------------------------------------------------------------------------
# Life cycle


def test_context_manager_and_restart() -> None:
    server = FakeCtGov([make_study("NCT00000001")])
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        url = server.base_url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v2")
        with httpx.Client(verify=TLS) as client:
            assert client.get(url + "/studies/NCT00000001").status_code == 200
            # An idle keep-alive connection must not hold up stop().
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with httpx.Client(verify=TLS) as client, pytest.raises(httpx.ConnectError):
        client.get(url + "/version")
    server.stop()  # a second stop is harmless
    with server, httpx.Client(verify=TLS) as client:
        assert client.get(server.base_url + "/studies/NCT00000001").status_code == 200


def test_stop_with_an_idle_connection_open() -> None:
    with httpx.Client(verify=TLS) as client:
        server = FakeCtGov().start()
        assert client.get(server.base_url + "/version").status_code == 200
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2


def test_add_studies_copies_and_replaces(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT00000001", brief_title="Old")
    ctgov_server.add_studies([study, make_study("NCT00000002")])
    study["protocolSection"]["identificationModule"]["briefTitle"] = "Mutated"
    assert (
        client.get("/studies/NCT00000001").json()["protocolSection"]["identificationModule"][
            "briefTitle"
        ]
        == "Old"
    )
    ctgov_server.add_studies([make_study("NCT00000001", brief_title="New")])
    assert ids_of(ctgov_server.studies) == ["NCT00000001", "NCT00000002"]
    assert ctgov_server.studies[0]["protocolSection"]["identificationModule"]["briefTitle"] == "New"
    with pytest.raises(ValueError, match="nctId"):
        ctgov_server.add_studies([{"protocolSection": {}}])


# ----------------------------------------------------------------------------------------------
# Helpers: make_study, load_record_studies


def test_make_study_overrides() -> None:
    study = make_study(
        "NCT00000042",
        overall_status="COMPLETED",
        phases=["PHASE1", "PHASE2"],
        interventions=["Tisagenlecleucel", {"type": "GENETIC", "name": "Gene X"}],
        collaborators=["NCI"],
        **{"protocolSection.statusModule.whyStopped": "Funding", "hasResults": None},
    )
    protocol = study["protocolSection"]
    assert protocol["statusModule"]["overallStatus"] == "COMPLETED"
    assert protocol["statusModule"]["whyStopped"] == "Funding"
    assert protocol["designModule"]["phases"] == ["PHASE1", "PHASE2"]
    assert [i["name"] for i in protocol["armsInterventionsModule"]["interventions"]] == [
        "Tisagenlecleucel",
        "Gene X",
    ]
    assert protocol["armsInterventionsModule"]["armGroups"][0]["interventionNames"] == [
        "Drug: Tisagenlecleucel",
        "Genetic: Gene X",
    ]
    assert protocol["sponsorCollaboratorsModule"]["collaborators"] == [
        {"name": "NCI", "class": "OTHER"}
    ]
    assert "hasResults" not in study
    with pytest.raises(TypeError, match="colour"):
        make_study("NCT00000042", colour="red")
    with pytest.raises(ValueError):
        make_study("42")


def test_make_studies_are_distinct_and_json_clean() -> None:
    studies = make_studies(3, first=12345678)
    assert ids_of(studies) == ["NCT12345678", "NCT12345679", "NCT12345680"]
    dates = {
        s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] for s in studies
    }
    assert len(dates) == 3
    assert json.loads(json.dumps(studies)) == studies


def test_load_record_studies_shapes(tmp_path: Path) -> None:
    one, two = make_study("NCT00000001"), make_study("NCT00000002")
    shapes = {
        "page.json": {"studies": [one, two], "nextPageToken": "x", "totalCount": 9},
        "study.json": one,
        "array.json": [one, two],
        "empty_page.json": {"studies": []},
    }
    for name, data in shapes.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    assert load_record_studies(tmp_path / "page.json") == [one, two]
    assert load_record_studies(tmp_path / "study.json") == [one]
    assert load_record_studies(tmp_path / "array.json") == [one, two]
    assert load_record_studies(tmp_path / "empty_page.json") == []
    for bad in ({"apiVersion": "2.0.5"}, [1, 2], "text"):
        (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(ValueError):
            load_record_studies(tmp_path / "bad.json")


def test_serves_the_saved_records(records_dir: Path) -> None:
    studies = [s for path in sorted(records_dir.glob("*.json")) for s in load_record_studies(path)]
    assert studies
    latest = {ids_of([s])[0]: s for s in studies}  # a repeated id: the last one wins
    with FakeCtGov(studies) as server, httpx.Client(base_url=server.base_url, verify=TLS) as client:
        pages = page_all(client, {"pageSize": 1000, "fields": "NCTId,BriefTitle"})
        served = [s for page in pages for s in page["studies"]]
        assert ids_of(served) == list(latest)
        for study in served:
            ident = study["protocolSection"]["identificationModule"]
            original = latest[ident["nctId"]]["protocolSection"]["identificationModule"]
            assert ident.get("briefTitle") == original.get("briefTitle")
        biggest = max(latest.values(), key=lambda s: len(json.dumps(s)))
        nct = ids_of([biggest])[0]
        assert client.get(f"/studies/{nct}").json() == biggest
        sites = client.get(
            "/studies", params={"fields": "NCTId,LocationGeoPoint", "pageSize": 1000}
        )
        assert sites.status_code == 200
    assert not server.errors


# ----------------------------------------------------------------------------------------------
# The fake against the spec


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


def test_embedded_field_tree_matches_the_metadata() -> None:
    if not DEFAULT_METADATA_PATH.is_file():
        pytest.skip(f"metadata not found at {DEFAULT_METADATA_PATH}")
    full, _ = ctgov_server._FieldIndex.load(DEFAULT_METADATA_PATH)
    embedded = list(ctgov_server._fields_from_table(ctgov_server._EMBEDDED_FIELDS))
    assert len(embedded) > 150
    for node in embedded:
        assert full.by_path.get(node.dotted) == node, node.dotted


def test_works_without_the_metadata_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ctgov_server, "DEFAULT_METADATA_PATH", tmp_path / "absent.json")
    server = FakeCtGov([make_study("NCT00000001")])
    assert server.metadata_source is None
    with server, httpx.Client(base_url=server.base_url, verify=TLS) as client:
        page = client.get(
            "/studies",
            params={
                "fields": "NCTId,LocationCity",
                "filter.advanced": "AREA[Phase]PHASE2",
                "sort": "LastUpdatePostDate",
                "query.cond": "lymphoma",
            },
        )
        assert page.status_code == 200, page.text
        assert page.json()["studies"][0]["protocolSection"]["contactsLocationsModule"] == {
            "locations": [{"city": "Houston"}]
        }
        assert client.get("/studies/metadata").json()[0]["piece"] == "ProtocolSection"
