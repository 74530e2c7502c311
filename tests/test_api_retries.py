"""The API client retries as the policy says, sleeps no more than it says, and keeps the pace."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest
from api_fakes import BASE_URL, FakeClock, failing, make_client, study

from trialfinder.ctgov.retries import RetryPolicy
from trialfinder.errors import ApiError, ApiResponseError, ApiUnavailable

# -- retries, as the policy says ----------------------------------------------------------


def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    clock = FakeClock()
    slow_down = [httpx.Response(429, headers={"Retry-After": "7"}) for _ in range(2)]
    client = make_client(
        failing(*slow_down, httpx.Response(200, json={"studies": [study(1)]})), clock
    )
    pages = list(client.iter_pages({}))
    assert len(pages[0].studies) == 1
    assert client.requests_made == 3
    assert clock.sleeps == [7.0, 7.0]


def test_retry_after_as_an_http_date_waits_until_then() -> None:
    clock = FakeClock()
    # Five seconds after the fake wall clock's time at the first request.
    when = email.utils.formatdate(clock.wall() + 5, usegmt=True)
    client = make_client(failing(httpx.Response(503, headers={"Retry-After": when})), clock)
    list(client.iter_pages({}))
    assert clock.sleeps == [pytest.approx(5.0)]


def test_retry_after_in_the_past_retries_at_once() -> None:
    clock = FakeClock()
    past = email.utils.formatdate(clock.wall() - 3600, usegmt=True)
    seen: list[float] = []
    client = make_client(failing(httpx.Response(429, headers={"Retry-After": past})), clock)
    list(client.iter_pages({}, on_retry=lambda problem, delay, n, allowed: seen.append(delay)))
    assert seen == [0.0]
    assert sum(clock.sleeps) < 0.1  # at most the pacer's 0.01 s spacing


def test_huge_retry_after_is_a_failure_not_a_long_sleep() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "86400"}), clock)
    with pytest.raises(ApiError) as info:
        list(client.iter_pages({}))
    assert info.value.message == (
        "the API is rate-limiting trialfinder and asked it to wait 86400 s (HTTP 429); "
        "try again later"
    )
    assert clock.sleeps == []
    assert client.requests_made == 1


def test_client_sleeps_exactly_what_the_policy_says() -> None:
    clock = FakeClock()
    handler = failing(503, httpx.ConnectError, 500, httpx.RemoteProtocolError, 502)
    client = make_client(handler, clock, rng=random.Random(11), backoff=1.0)
    seen: list[tuple[str, float, int, int]] = []
    list(client.iter_pages({}, on_retry=lambda *args: seen.append(args)))
    policy = RetryPolicy(retries=5, backoff=1.0, uniform=random.Random(11).uniform)
    expected = [policy.backoff_delay(attempt) for attempt in range(5)]
    # The pace (0.01 s) is shorter than every backoff, so the pacer never sleeps here.
    assert clock.sleeps == expected == [delay for _, delay, _, _ in seen]
    for attempt, delay in enumerate(clock.sleeps):
        assert policy.ceiling(attempt) / 2 <= delay <= policy.ceiling(attempt)
    assert [(problem, n, allowed) for problem, _, n, allowed in seen] == [
        ("HTTP 503", 1, 5),
        ("ConnectError: failed", 2, 5),
        ("HTTP 500", 3, 5),
        ("RemoteProtocolError: failed", 4, 5),
        ("HTTP 502", 5, 5),
    ]


def test_backoff_never_exceeds_max_backoff() -> None:
    clock = FakeClock()
    client = make_client(failing(*[503] * 8), clock, retries=8, backoff=10.0, max_backoff=15.0)
    list(client.iter_pages({}))
    assert len(clock.sleeps) == 8
    assert all(5.0 <= s <= 15.0 for s in clock.sleeps)


def test_gives_up_after_retries_with_clear_error() -> None:
    client = make_client(failing(*[httpx.ConnectError] * 3), retries=2)
    with pytest.raises(ApiUnavailable) as info:
        list(client.iter_pages({}))
    assert info.value.message == (
        f"could not reach the ClinicalTrials.gov API at {BASE_URL} after 3 attempts "
        "(ConnectError: failed)"
    )
    assert info.value.hint == (
        "check your connection, or set TRIALFINDER_API_URL; use --source to read saved data"
    )
    assert client.requests_made == 0


def test_persistent_500_raises_response_error() -> None:
    client = make_client(lambda r: httpx.Response(500, text="boom"), retries=1)
    with pytest.raises(ApiResponseError) as info:
        list(client.iter_pages({}))
    assert info.value.status == 500 and "boom" in info.value.message
    assert client.requests_made == 2


def test_no_retries_means_one_attempt() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(503, text="busy"), clock, retries=0)
    with pytest.raises(ApiResponseError):
        list(client.iter_pages({}))
    assert client.requests_made == 1 and clock.sleeps == []


def test_repeated_read_timeouts_give_up_early_with_a_clear_message() -> None:
    client = make_client(failing(*[httpx.ReadTimeout] * 6), retries=5, timeout=2.0)
    with pytest.raises(ApiUnavailable) as info:
        list(client.iter_pages({}))
    assert info.value.message == (
        f"the ClinicalTrials.gov API at {BASE_URL} did not answer within 2 s, 3 times in a row"
    )
    assert info.value.hint == "try again later, or raise TRIALFINDER_TIMEOUT"


def test_connect_timeouts_do_not_count_as_read_timeouts() -> None:
    client = make_client(failing(*[httpx.ConnectTimeout] * 4), retries=5)
    pages = list(client.iter_pages({}))
    assert client.requests_made == 1 and pages[0].studies == []


def test_each_retry_is_reported_to_the_callers_hook() -> None:
    client = make_client(failing(503, 503), backoff=1.0)
    seen: list[tuple[str, int, int]] = []

    def hook(problem: str, delay: float, attempt: int, retries: int) -> None:
        seen.append((problem, attempt, retries))

    list(client.iter_pages({}, on_retry=hook))
    assert seen == [("HTTP 503", 1, 5), ("HTTP 503", 2, 5)]
    list(client.iter_pages({}))  # a call without a hook reports to nobody


def test_get_study_retries_and_reports_to_its_hook() -> None:
    client = make_client(failing(429, then=lambda r: httpx.Response(200, json=study(1))))
    seen: list[str] = []
    client.get_study("NCT00000001", on_retry=lambda problem, *_: seen.append(problem))
    assert seen == ["HTTP 429"]


# -- pacing -------------------------------------------------------------------------------


def test_client_pace_applies_to_every_request() -> None:
    clock = FakeClock()
    client = make_client(failing(), clock, requests_per_minute=30.0)
    for _ in range(3):
        list(client.iter_pages({}))
    assert clock.sleeps == [pytest.approx(2.0), pytest.approx(2.0)]


def test_a_retry_waits_for_the_pace_too() -> None:
    clock = FakeClock()
    # The server asks for no wait at all; the pace (60/30 = 2 s) still spaces the retry.
    client = make_client(
        lambda r: httpx.Response(429, headers={"Retry-After": "0"}), clock, requests_per_minute=30.0
    )
    with pytest.raises(ApiResponseError):
        list(client.iter_pages({}))
    assert client.requests_made == 6
    assert sum(clock.sleeps) == pytest.approx(5 * 2.0)
