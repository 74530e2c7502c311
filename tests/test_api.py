"""The API client: paging, retries, Retry-After, pacing, errors (httpx.MockTransport)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialfinder.ctgov.client import (
    DEFAULT_BASE_URL,
    USER_AGENT,
    CtGovClient,
    Pacer,
    base_url_from_env,
    rate_from_env,
)
from trialfinder.errors import (
    ApiError,
    ApiResponseError,
    ApiUnavailable,
    InvalidNctId,
    StudyNotFound,
    UsageError,
)


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock | None = None, **kw: object
) -> CtGovClient:
    clock = clock or FakeClock()
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return CtGovClient(
        "http://ctgov.test/api/v2",
        http=http,
        sleep=clock.sleep,
        clock=clock.time,
        requests_per_minute=kw.pop("requests_per_minute", 6000),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def study(n: int) -> dict[str, object]:
    return {"protocolSection": {"identificationModule": {"nctId": f"NCT{n:08d}"}}}


def test_base_url_defaults_to_live_api_and_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIALFINDER_API_URL", raising=False)
    assert base_url_from_env() == DEFAULT_BASE_URL == "https://clinicaltrials.gov/api/v2"
    monkeypatch.setenv("TRIALFINDER_API_URL", "http://127.0.0.1:9/api/v2/")
    assert base_url_from_env() == "http://127.0.0.1:9/api/v2"
    assert base_url_from_env("https://example.org/v2") == "https://example.org/v2"
    with pytest.raises(UsageError):
        base_url_from_env("ftp://nope")


def test_rate_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIALFINDER_REQUESTS_PER_MINUTE", raising=False)
    assert rate_from_env() == 50
    monkeypatch.setenv("TRIALFINDER_REQUESTS_PER_MINUTE", "120")
    assert rate_from_env() == 120
    monkeypatch.setenv("TRIALFINDER_REQUESTS_PER_MINUTE", "fast")
    with pytest.raises(UsageError):
        rate_from_env()
    with pytest.raises(UsageError):
        rate_from_env(0)


def test_paging_follows_tokens_until_none_and_repeats_params() -> None:
    seen: list[dict[str, str]] = []
    pages = {
        None: {"studies": [study(1), study(2)], "nextPageToken": "tokA", "totalCount": 4},
        "tokA": {"studies": [study(3), study(4)], "nextPageToken": "tokB"},
        "tokB": {"studies": []},  # an exactly full last page is followed by an empty one
    }

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        assert request.headers["User-Agent"] == USER_AGENT
        return httpx.Response(200, json=pages[params.get("pageToken")])

    client = make_client(handler)
    got = list(client.iter_pages({"query.cond": "lymphoma", "fields": "NCTId"}, page_size=2))
    assert [len(p.studies) for p in got] == [2, 2, 0]
    assert got[0].total == 4 and got[1].total is None
    assert len(seen) == 3
    assert seen[0]["countTotal"] == "true" and "countTotal" not in seen[1]
    for params in seen:
        assert params["query.cond"] == "lymphoma" and params["fields"] == "NCTId"
        assert params["pageSize"] == "2"
    assert [p.get("pageToken") for p in seen] == [None, "tokA", "tokB"]


def test_page_size_is_capped_at_1000() -> None:
    sizes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(request.url.params["pageSize"])
        return httpx.Response(200, json={"studies": []})

    list(make_client(handler).iter_pages({}, page_size=5000))
    assert sizes == ["1000"]


def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    clock = FakeClock()
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(429, headers={"Retry-After": "7"}, text="slow down")
        return httpx.Response(200, json={"studies": [study(1)]})

    pages = list(make_client(handler, clock).iter_pages({}))
    assert len(pages[0].studies) == 1
    assert calls["n"] == 3
    assert clock.sleeps.count(7.0) == 2


def test_retries_5xx_and_connection_errors_with_growing_backoff() -> None:
    clock = FakeClock()
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        if calls["n"] in (2, 3):
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"studies": []})

    list(make_client(handler, clock, backoff=1.0).iter_pages({}))
    backoffs = [s for s in clock.sleeps if s >= 0.25]
    assert len(backoffs) == 3
    # Equal jitter: attempt k waits between 2**k / 2 and 2**k seconds.
    for k, delay in enumerate(backoffs):
        assert 2**k / 2 <= delay <= 2**k


def test_gives_up_after_retries_with_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    client = make_client(handler, max_retries=2)
    with pytest.raises(ApiUnavailable, match="after 3 attempts"):
        list(client.iter_pages({}))
    assert client.requests_made == 0


def test_persistent_500_raises_response_error() -> None:
    client = make_client(lambda r: httpx.Response(500, text="boom"), max_retries=1)
    with pytest.raises(ApiResponseError) as info:
        list(client.iter_pages({}))
    assert info.value.status == 500 and "boom" in info.value.message


def test_huge_retry_after_is_a_failure_not_a_long_sleep() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "86400"}), clock)
    with pytest.raises(ApiError, match="wait 86400 s"):
        list(client.iter_pages({}))
    assert max(clock.sleeps, default=0) < 60


def test_failure_in_the_middle_of_paging_is_an_error_naming_the_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "pageToken" in request.url.params:
            return httpx.Response(500, text="broken")
        return httpx.Response(200, json={"studies": [study(1)], "nextPageToken": "t"})

    client = make_client(handler, max_retries=1)
    with pytest.raises(ApiError, match="page 2"):
        list(client.iter_pages({}))


def test_400_text_plain_is_usage_error_with_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, text="`filter.phase` is unknown parameter", headers={"content-type": "text/plain"}
        )

    with pytest.raises(ApiResponseError) as info:
        list(make_client(handler).iter_pages({"filter.phase": "PHASE2"}))
    assert info.value.exit_code == 2
    assert "filter.phase" in info.value.message


def test_non_json_answer_is_an_error() -> None:
    client = make_client(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(ApiError, match="not JSON"):
        list(client.iter_pages({}))


def test_repeated_token_stops_instead_of_looping_forever() -> None:
    client = make_client(
        lambda r: httpx.Response(200, json={"studies": [], "nextPageToken": "same"})
    )
    with pytest.raises(ApiError, match="repeated a page token"):
        list(client.iter_pages({}))


def test_get_study_ok_404_and_malformed_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("NCT00000001"):
            return httpx.Response(200, content=json.dumps(study(1)))
        return httpx.Response(404, text="not found", headers={"content-type": "text/plain"})

    client = make_client(handler)
    assert client.get_study("nct00000001")["protocolSection"]["identificationModule"]
    with pytest.raises(StudyNotFound):
        client.get_study("NCT00000002")
    with pytest.raises(InvalidNctId):
        client.get_study("NCT12")


def test_pacer_spaces_requests_and_caps_the_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(50, clock=clock.time, sleep=clock.sleep)
    starts = []
    for _ in range(120):
        pacer.wait()
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 60 / 50 - 1e-9
    for i in range(len(starts)):
        in_window = [t for t in starts if starts[i] <= t < starts[i] + 60]
        assert len(in_window) <= 50


def test_client_pace_applies_to_every_request() -> None:
    clock = FakeClock()
    client = make_client(
        lambda r: httpx.Response(200, json={"studies": []}), clock, requests_per_minute=30
    )
    for _ in range(3):
        list(client.iter_pages({}))
    assert sum(clock.sleeps) >= 2 * 60 / 30 - 1e-9


def test_repeated_read_timeouts_give_up_early_with_a_clear_message() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler, max_retries=5, timeout=2.0)
    with pytest.raises(ApiUnavailable, match=r"did not answer within 2 s, 3 times"):
        list(client.iter_pages({}))
    assert calls["n"] == 3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=120), page_size=st.integers(min_value=1, max_value=50)
)
def test_paging_never_loses_or_repeats_a_study(count: int, page_size: int) -> None:
    from ctgov_server import FakeCtGov, make_studies

    with FakeCtGov(make_studies(count)) as server:
        client = CtGovClient(server.base_url, requests_per_minute=1e6)
        pages = list(client.iter_pages({"format": "json"}, page_size=page_size))
        client.close()
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for p in pages for s in p.studies]
    assert len(ids) == len(set(ids)) == count
    assert all(len(p.studies) <= page_size for p in pages)


def test_a_200_without_studies_is_an_error_not_an_empty_result() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"message": "maintenance"}))
    with pytest.raises(ApiError, match="not a /studies page"):
        list(client.iter_pages({}))


def test_error_bodies_lose_terminal_escapes() -> None:
    client = make_client(lambda r: httpx.Response(400, text="bad \x1b]0;owned\x07query"))
    with pytest.raises(ApiResponseError) as info:
        list(client.iter_pages({}))
    assert "\x1b" not in info.value.message and "\x07" not in info.value.message


def test_each_retry_is_reported_to_the_caller() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503 if calls["n"] <= 2 else 200, json={"studies": []})

    client = make_client(handler, backoff=1.0)
    seen: list[tuple[str, int, int]] = []
    client.on_retry = lambda problem, delay, attempt, retries: seen.append(
        (problem, attempt, retries)
    )
    list(client.iter_pages({}))
    assert seen == [("HTTP 503", 1, 5), ("HTTP 503", 2, 5)]
