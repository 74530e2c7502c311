"""A deadline, not only a read timeout (issue 10): each request and the whole run have a total
time limit, so a server that trickles (headers, then a byte a second) ends in one error line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from api_fakes import FakeClock, make_client, study
from clirun import run
from ctgov_server import FakeCtGov

from trialfinder.ctgov.settings import (
    DEADLINE_ENV,
    DEFAULT_DEADLINE,
    DEFAULT_RUN_DEADLINE,
    RUN_DEADLINE_ENV,
    Settings,
)
from trialfinder.errors import ApiUnavailable, UsageError

FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6", "TRIALFINDER_BACKOFF": "0.01"}


def trickling(clock: FakeClock, seconds_per_byte: float) -> httpx.MockTransport:
    body = json.dumps({"studies": [study(1)]}).encode()

    def chunks() -> Iterator[bytes]:
        for byte in body:
            clock.now += seconds_per_byte
            yield bytes([byte])

    return httpx.MockTransport(lambda request: httpx.Response(200, content=chunks()))


def test_settings_read_both_limits_from_the_environment() -> None:
    assert Settings.from_env({}).deadline == DEFAULT_DEADLINE == 300.0
    assert Settings.from_env({}).run_deadline == DEFAULT_RUN_DEADLINE == 3600.0
    got = Settings.from_env({DEADLINE_ENV: "12.5", RUN_DEADLINE_ENV: "60"})
    assert (got.deadline, got.run_deadline) == (12.5, 60.0)
    zero = Settings.from_env({DEADLINE_ENV: "0", RUN_DEADLINE_ENV: "0"})
    assert (zero.deadline, zero.run_deadline) == (DEFAULT_DEADLINE, DEFAULT_RUN_DEADLINE)
    for name in (DEADLINE_ENV, RUN_DEADLINE_ENV):
        with pytest.raises(UsageError, match=f"invalid {name}='soon' \\(expected a number\\)"):
            Settings.from_env({name: "soon"})


def test_a_trickling_body_passes_the_request_deadline() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(200), clock, deadline=5.0)
    client._http = httpx.Client(transport=trickling(clock, 1.0))
    with pytest.raises(ApiUnavailable) as info:
        list(client.iter_pages({}))
    assert info.value.message == (
        f"the API at {client.base_url} sent its answer too slowly: 6 bytes in 6 s, "
        "past the 5 s limit for one request"
    )
    assert info.value.hint == f"try again later, or raise {DEADLINE_ENV}"


def test_a_fast_enough_body_is_read_whole() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(200), clock, deadline=1000.0)
    client._http = httpx.Client(transport=trickling(clock, 1.0))
    pages = list(client.iter_pages({}))
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in pages[0].studies] == [
        "NCT00000001"
    ]


def test_the_run_deadline_bounds_every_request_of_the_run() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(200), clock, run_deadline=3.0)
    client._http = httpx.Client(transport=trickling(clock, 1.0))
    with pytest.raises(ApiUnavailable, match="the run passed its 3 s time limit for the API"):
        list(client.iter_pages({}))


def test_a_retry_that_would_cross_the_run_deadline_is_not_waited_for() -> None:
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(503), clock, run_deadline=0.4, backoff=1.0)
    with pytest.raises(ApiUnavailable) as info:
        list(client.iter_pages({}))
    assert "the run passed its 0.4 s time limit" in info.value.message
    assert "HTTP 503" in info.value.message
    assert clock.sleeps == [] or max(clock.sleeps) < 0.1  # only pacing, no backoff sleep


def test_a_later_request_after_the_run_deadline_is_not_sent() -> None:
    clock = FakeClock()
    client = make_client(
        lambda r: httpx.Response(200, json={"studies": []}), clock, run_deadline=10
    )
    list(client.iter_pages({}))
    clock.now += 11
    with pytest.raises(ApiUnavailable, match="before the next request"):
        client.get_study("NCT00000001")
    assert client.requests_made == 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({DEADLINE_ENV: "2"}, "sent its answer too slowly"),
        ({RUN_DEADLINE_ENV: "2"}, "the run passed its 2 s time limit for the API"),
    ],
)
def test_a_server_that_trickles_a_byte_a_second_ends_in_one_error_line(
    env: dict[str, str], expected: str
) -> None:
    with FakeCtGov([study(1)]) as server:
        server.trickle_next(1.0)
        started = time.monotonic()
        result = run(
            ["search", "-c", "lymphoma"], {"TRIALFINDER_API_URL": server.base_url, **FAST, **env}
        )
        elapsed = time.monotonic() - started
    assert result.code == 1, result.err
    assert result.out == ""
    errors = [line for line in result.err_lines if line.startswith("Error: ")]
    assert len(errors) == 1 and expected in errors[0], result.err
    assert "Traceback" not in result.err
    assert elapsed < 5


@pytest.mark.timeout(30)
def test_show_has_the_deadline_too() -> None:
    with FakeCtGov([study(1)]) as server:
        server.trickle_next(1.0)
        result = run(
            ["show", "NCT00000001"],
            {"TRIALFINDER_API_URL": server.base_url, **FAST, DEADLINE_ENV: "1.5"},
        )
    assert result.code == 1 and "sent its answer too slowly" in result.err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("env", [{DEADLINE_ENV: "2"}, {"TRIALFINDER_RUN_DEADLINE": "2"}])
def test_a_server_that_trickles_its_headers_ends_at_the_deadline_too(env: dict[str, str]) -> None:
    # httpx's read timeout restarts with every byte; the transport bounds each read instead.
    with FakeCtGov([study(1)]) as server:
        server.trickle_next(0.5, headers=True)
        started = time.monotonic()
        result = run(
            ["search", "-c", "lymphoma"], {"TRIALFINDER_API_URL": server.base_url, **FAST, **env}
        )
        elapsed = time.monotonic() - started
    assert result.code == 1, result.err
    errors = [line for line in result.err_lines if line.startswith("Error: ")]
    assert len(errors) == 1 and ("too slowly" in errors[0] or "time limit" in errors[0]), errors
    assert elapsed < 6
