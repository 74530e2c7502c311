"""The fake ClinicalTrials.gov API, through httpx: queries, filters and sort."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ctgov_server import FakeCtGov, make_study
from test_fake_helpers import TLS, ids_of


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


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
