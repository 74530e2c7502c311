"""The fake ClinicalTrials.gov API, through httpx: injected faults, delays, the request record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from ctgov_server import FakeCtGov, make_studies
from test_fake_helpers import TLS, assert_text_error, ids_of


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


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


def test_trickle_next_sends_headers_at_once_then_a_byte_at_a_time(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    ctgov_server.trickle_next(0.05)
    started = time.monotonic()
    with client.stream("GET", "/version") as response:
        headers_after = time.monotonic() - started
        chunks = list(response.iter_raw())
    total = time.monotonic() - started
    body = b"".join(chunks)
    assert response.status_code == 200 and int(response.headers["content-length"]) == len(body)
    assert body.startswith(b'{"apiVersion"')
    assert headers_after < 0.5 and total >= 0.05 * len(body) * 0.9
    assert len(chunks) > 1
    assert client.get("/version").status_code == 200  # one request only
