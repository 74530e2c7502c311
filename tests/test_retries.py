"""The retry policy, pure: which outcomes retry, the jittered backoff, Retry-After, giving up."""

from __future__ import annotations

import ast
import dataclasses
import email.utils
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trialfinder.ctgov.retries as retries_module
from trialfinder.ctgov.retries import (
    RETRY_STATUSES,
    Done,
    GiveUp,
    HttpStatus,
    Retry,
    RetryPolicy,
    TransportFailure,
    retry_after_seconds,
)

NOW = 1_445_412_475.0  # five seconds before Wed, 21 Oct 2015 07:28:00 GMT (RFC 9110's example)
LOWEST = RetryPolicy(retries=5, backoff=1.0, uniform=lambda lo, hi: lo)
HIGHEST = RetryPolicy(retries=5, backoff=1.0, uniform=lambda lo, hi: hi)
CONNECT = TransportFailure("connect", "ConnectError: refused")
TIMEOUT = TransportFailure("timeout", "ReadTimeout: slow")


# -- Retry-After --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),  # negative: retry now
        ("Wed, 21 Oct 2015 07:28:00 GMT", 5.0),  # IMF-fixdate, RFC 9110 §10.2.3
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 5.0),  # obsolete RFC 850 form
        ("Wed Oct 21 07:28:00 2015", 5.0),  # obsolete asctime form: UTC, not local time
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ],
)
def test_retry_after_seconds(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "1 2 3", "nan", "inf", "-inf", "Mon, 32 Oct 2015 07:28:00"]
)
def test_unusable_retry_after_is_none(value: str | None) -> None:
    assert retry_after_seconds(value, NOW) is None


def test_an_http_date_is_relative_to_the_given_now() -> None:
    when = email.utils.formatdate(NOW + 90, usegmt=True)
    assert retry_after_seconds(when, NOW) == 90.0
    assert retry_after_seconds(when, NOW + 60) == 30.0
    assert retry_after_seconds(when, NOW + 600) == 0.0


# -- which outcomes are retried -----------------------------------------------------------


@pytest.mark.parametrize("status", [200, 204, 301, 400, 401, 403, 404, 418, 501, 505])
def test_answers_retrying_cannot_fix_are_done(status: int) -> None:
    assert HIGHEST.decide(0, HttpStatus(status), now=NOW) == Done()


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_busy_statuses_are_retried_with_backoff(status: int) -> None:
    assert {429, 500, 502, 503, 504} == RETRY_STATUSES
    assert HIGHEST.decide(2, HttpStatus(status), now=NOW) == Retry(4.0, f"HTTP {status}", 3, 5)


@pytest.mark.parametrize("kind", ["connect", "timeout", "other"])
def test_transport_failures_are_retried_with_backoff(kind: str) -> None:
    failure = TransportFailure(kind, "SomeError")  # type: ignore[arg-type]
    assert LOWEST.decide(3, failure, now=NOW) == Retry(4.0, "SomeError", 4, 5)


def test_retry_after_replaces_the_backoff_even_beyond_max_backoff() -> None:
    policy = RetryPolicy(retries=5, backoff=1.0, max_backoff=10.0)
    assert policy.decide(0, HttpStatus(429, "120"), now=NOW) == Retry(120.0, "HTTP 429", 1, 5)
    date = HttpStatus(503, "Wed, 21 Oct 2015 07:28:00 GMT")
    assert policy.decide(1, date, now=NOW) == Retry(5.0, "HTTP 503", 2, 5)


def test_garbage_retry_after_falls_back_to_the_backoff() -> None:
    assert HIGHEST.decide(1, HttpStatus(429, "soon"), now=NOW) == Retry(2.0, "HTTP 429", 2, 5)


def test_retry_after_above_the_cap_gives_up_at_once() -> None:
    policy = RetryPolicy(retries=5, backoff=1.0)
    assert policy.decide(0, HttpStatus(429, "300"), now=NOW) == Retry(300.0, "HTTP 429", 1, 5)
    assert policy.decide(0, HttpStatus(429, "301"), now=NOW) == GiveUp(
        "retry_after", "HTTP 429", attempts=1, asked=301.0
    )
    # Even on the last attempt, the reason given is the server's request, not exhaustion.
    decision = policy.decide(5, HttpStatus(503, "86400"), now=NOW)
    assert isinstance(decision, GiveUp) and decision.reason == "retry_after"
    assert decision.asked == 86400.0
    smaller = RetryPolicy(retries=5, backoff=1.0, max_retry_after=10.0)
    assert isinstance(smaller.decide(0, HttpStatus(429, "11"), now=NOW), GiveUp)


def test_the_last_attempt_gives_up_as_exhausted() -> None:
    assert HIGHEST.decide(5, HttpStatus(500), now=NOW) == GiveUp("exhausted", "HTTP 500", 6)
    assert HIGHEST.decide(5, CONNECT, now=NOW) == GiveUp("exhausted", CONNECT.problem, 6)
    none = RetryPolicy(retries=0, backoff=1.0)
    assert none.decide(0, HttpStatus(503), now=NOW) == GiveUp("exhausted", "HTTP 503", 1)


def test_more_read_timeouts_than_allowed_give_up_early() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_timeouts=2)
    assert isinstance(policy.decide(0, TIMEOUT, now=NOW, timeouts=0), Retry)
    assert isinstance(policy.decide(1, TIMEOUT, now=NOW, timeouts=1), Retry)
    assert policy.decide(2, TIMEOUT, now=NOW, timeouts=2) == GiveUp(
        "timeouts", TIMEOUT.problem, attempts=3, timeouts=3
    )
    # Only read timeouts count: other failures after two timeouts are still retried.
    assert isinstance(policy.decide(2, CONNECT, now=NOW, timeouts=2), Retry)
    assert isinstance(policy.decide(2, HttpStatus(503), now=NOW, timeouts=2), Retry)


def test_too_many_timeouts_wins_over_exhaustion_on_the_last_attempt() -> None:
    policy = RetryPolicy(retries=2, backoff=1.0)
    decision = policy.decide(2, TIMEOUT, now=NOW, timeouts=2)
    assert isinstance(decision, GiveUp) and decision.reason == "timeouts"


# -- the backoff --------------------------------------------------------------------------


def test_backoff_doubles_up_to_max_backoff() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_backoff=60.0)
    assert [policy.ceiling(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.ceiling(10_000) == 60.0  # no float overflow for a huge retry count
    assert RetryPolicy(retries=1, backoff=0.0).backoff_delay(3) == 0.0


def test_equal_jitter_bounds_are_reached_exactly() -> None:
    for attempt in range(8):
        ceiling = LOWEST.ceiling(attempt)
        assert LOWEST.backoff_delay(attempt) == ceiling / 2
        assert HIGHEST.backoff_delay(attempt) == ceiling


@given(
    attempt=st.integers(min_value=0, max_value=2000),
    backoff=st.floats(min_value=0, max_value=1e6),
    max_backoff=st.floats(min_value=0, max_value=1e6),
    seed=st.integers(),
)
def test_jittered_delay_lies_between_half_the_ceiling_and_the_ceiling(
    attempt: int, backoff: float, max_backoff: float, seed: int
) -> None:
    policy = RetryPolicy(
        retries=5, backoff=backoff, max_backoff=max_backoff, uniform=random.Random(seed).uniform
    )
    ceiling = policy.ceiling(attempt)
    assert ceiling <= max_backoff
    assert ceiling / 2 <= policy.backoff_delay(attempt) <= ceiling


def test_a_seeded_random_source_repeats_its_delays() -> None:
    def delays(seed: int) -> list[float]:
        policy = RetryPolicy(retries=5, backoff=1.0, uniform=random.Random(seed).uniform)
        return [policy.backoff_delay(n) for n in range(5)]

    assert delays(3) == delays(3) != delays(4)


# -- purity -------------------------------------------------------------------------------


def test_the_policy_is_frozen_and_does_no_io() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        HIGHEST.retries = 1  # type: ignore[misc]
    tree = ast.parse(Path(retries_module.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "random" in imported  # the default jitter source; everything else is arithmetic
    assert not imported & {"httpx", "time", "os", "socket", "threading"}
    assert RetryPolicy(1, 1.0) == RetryPolicy(1, 1.0, uniform=random.Random(1).uniform)
