"""The API client: its surface, paging, and the answers that are errors (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest
from api_fakes import BASE_URL, failing, make_client, study
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.settings import RATE_ENV, USER_AGENT, Settings
from trialfinder.errors import ApiError, ApiResponseError, InvalidNctId, StudyNotFound, UsageError

# -- the public surface -------------------------------------------------------------------


def test_client_takes_settings_and_exposes_its_pace() -> None:
    client = make_client(failing(), requests_per_minute=30.0)
    assert client.base_url == BASE_URL
    assert client.settings.requests_per_minute == 30.0
    assert client.pace == 2.0
    assert client.requests_made == client.bytes_received == 0
    # Hooks are passed per call; nobody reaches inside the client.
    assert not hasattr(client, "on_retry") and not hasattr(client, "pacer")


def test_client_without_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALFINDER_API_URL", "http://127.0.0.1:9/api/v2/")
    monkeypatch.setenv(RATE_ENV, "120")
    with CtGovClient() as client:
        assert client.base_url == "http://127.0.0.1:9/api/v2"
        assert client.pace == 0.5
    monkeypatch.setenv("TRIALFINDER_API_URL", "ftp://nope")
    with pytest.raises(UsageError, match="invalid API URL"):
        CtGovClient()


def test_counts_requests_and_bytes() -> None:
    body = json.dumps({"studies": [study(1)]}).encode()
    client = make_client(lambda r: httpx.Response(200, content=body))
    list(client.iter_pages({}))
    list(client.iter_pages({}))
    assert client.requests_made == 2
    assert client.bytes_received == 2 * len(body)


# -- paging -------------------------------------------------------------------------------


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
    assert [p.number for p in got] == [1, 2, 3]
    assert got[0].total == 4 and got[1].total is None
    assert [p.next_token for p in got] == ["tokA", "tokB", None]
    assert len(seen) == 3
    assert seen[0]["countTotal"] == "true" and "countTotal" not in seen[1]
    for params in seen:
        assert params["query.cond"] == "lymphoma" and params["fields"] == "NCTId"
        assert params["pageSize"] == "2"
    assert [p.get("pageToken") for p in seen] == [None, "tokA", "tokB"]


def test_page_size_is_capped_at_1000_and_count_total_can_be_off() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json={"studies": []})

    list(make_client(handler).iter_pages({"pageToken": "stale"}, page_size=5000, count_total=False))
    assert seen == [{"pageSize": "1000"}]


def test_failure_in_the_middle_of_paging_is_an_error_naming_the_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "pageToken" in request.url.params:
            return httpx.Response(500, text="broken")
        return httpx.Response(200, json={"studies": [study(1)], "nextPageToken": "t"})

    client = make_client(handler, retries=1)
    with pytest.raises(ApiError, match="page 2") as info:
        list(client.iter_pages({}))
    assert info.value.message == (
        "failed while fetching page 2: the API answered HTTP 500: broken "
        f"(request: {BASE_URL}/studies)"
    )


def test_repeated_token_stops_instead_of_looping_forever() -> None:
    client = make_client(
        lambda r: httpx.Response(200, json={"studies": [], "nextPageToken": "same"})
    )
    with pytest.raises(ApiError, match="repeated a page token on page 2; stopping"):
        list(client.iter_pages({}))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=120), page_size=st.integers(min_value=1, max_value=50)
)
def test_paging_never_loses_or_repeats_a_study(count: int, page_size: int) -> None:
    from ctgov_server import FakeCtGov, make_studies

    with FakeCtGov(make_studies(count)) as server:
        client = CtGovClient(Settings.from_env({RATE_ENV: "1e6"}, base_url=server.base_url))
        pages = list(client.iter_pages({"format": "json"}, page_size=page_size))
        client.close()
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for p in pages for s in p.studies]
    assert len(ids) == len(set(ids)) == count
    assert all(len(p.studies) <= page_size for p in pages)


# -- answers that are errors --------------------------------------------------------------


def test_400_text_plain_is_usage_error_with_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, text="`filter.phase` is unknown parameter", headers={"content-type": "text/plain"}
        )

    with pytest.raises(ApiResponseError) as info:
        list(make_client(handler).iter_pages({"filter.phase": "PHASE2"}))
    assert info.value.exit_code == 2
    assert info.value.message.startswith("page 1: ")
    assert "filter.phase" in info.value.message
    assert info.value.hint == "the API rejected the query; check the search terms' syntax"


def test_non_json_answer_is_an_error() -> None:
    client = make_client(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(ApiError, match="not JSON"):
        list(client.iter_pages({}))


def test_a_200_without_studies_is_an_error_not_an_empty_result() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"message": "maintenance"}))
    with pytest.raises(ApiError, match="page 1 of the search is not a /studies page"):
        list(client.iter_pages({}))


def test_error_bodies_lose_terminal_escapes() -> None:
    client = make_client(lambda r: httpx.Response(400, text="bad \x1b]0;owned\x07query"))
    with pytest.raises(ApiResponseError) as info:
        list(client.iter_pages({}))
    assert "\x1b" not in info.value.message and "\x07" not in info.value.message


def test_get_study_ok_404_and_malformed_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("NCT00000001"):
            assert request.url.params["fields"] == "NCTId,BriefTitle"
            return httpx.Response(200, content=json.dumps(study(1)))
        return httpx.Response(404, text="not found", headers={"content-type": "text/plain"})

    client = make_client(handler)
    got = client.get_study("nct00000001", ["NCTId", "BriefTitle"])
    assert got["protocolSection"]["identificationModule"]
    with pytest.raises(StudyNotFound, match=r"no study NCT00000002 on ClinicalTrials\.gov"):
        client.get_study("NCT00000002")
    with pytest.raises(InvalidNctId):
        client.get_study("NCT12")


def test_unusable_url_is_a_usage_error() -> None:
    client = make_client(failing(httpx.UnsupportedProtocol))
    with pytest.raises(UsageError) as info:
        list(client.iter_pages({}))
    assert info.value.message == "the API URL cannot be used: failed"
    assert client.requests_made == 0
