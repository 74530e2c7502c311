"""The fake ClinicalTrials.gov API, through httpx: paging, page tokens and countTotal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ctgov_server import FakeCtGov, make_studies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fake_helpers import TLS, assert_text_error, ids_of, page_all, page_ids


@pytest.fixture(scope="session")
def many_studies() -> list[dict[str, Any]]:
    return make_studies(2500)


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


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


def test_a_memo_of_matches_pages_as_filtering_every_page_does(
    ctgov_server: FakeCtGov, client: httpx.Client, many_studies: list[dict[str, Any]]
) -> None:
    """`memo` (the benchmark's server) serves the same pages; a data load clears it."""
    ctgov_server.add_studies(many_studies)
    params = {"pageSize": "700", "sort": "LastUpdatePostDate:desc", "countTotal": "true"}
    plain = page_all(client, params)
    ctgov_server.memo = True
    assert page_all(client, params) == plain
    assert page_all(client, params) == plain  # answered from the memo
    assert ctgov_server._matches  # it was used
    ctgov_server.load(remove=[ids_of(plain[0]["studies"])[0]])
    assert not ctgov_server._matches
    fewer = page_all(client, params)
    assert len(page_ids(fewer)) == len(page_ids(plain)) - 1


@pytest.mark.parametrize(
    "advanced",
    [
        "AREA[LastUpdatePostDate]RANGE[2015-01-01,2022-06-30]",
        "AREA[LastUpdatePostDate]RANGE[MIN,2019-12-31] OR AREA[EnrollmentCount]RANGE[100,MAX]",
        "AREA[LastUpdatePostDate]MISSING",
    ],
)
def test_a_memo_of_field_values_filters_and_sorts_as_reading_them_each_time(
    ctgov_server: FakeCtGov,
    client: httpx.Client,
    many_studies: list[dict[str, Any]],
    advanced: str,
) -> None:
    """With `memo`, each study's field values are kept across searches of other signatures:
    every search still gets the pages it gets without the memo."""
    ctgov_server.add_studies(many_studies)
    searches = [
        {"pageSize": "300", "sort": "LastUpdatePostDate:desc", "countTotal": "true"},
        {"pageSize": "300", "sort": "EnrollmentCount", "filter.advanced": advanced},
    ]
    plain = [page_all(client, params) for params in searches]
    ctgov_server.memo = True
    assert [page_all(client, params) for params in searches] == plain
    assert ctgov_server._values  # it was used
    ctgov_server._matches.clear()  # the values alone, not the matches
    assert [page_all(client, params) for params in searches] == plain
