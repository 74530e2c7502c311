"""The retry policy: which failures to retry, after how long, and when to give up (pure, no I/O).

The client describes each attempt's outcome (`HttpStatus` or `TransportFailure`) and asks
`RetryPolicy.decide`, which answers `Done` (hand the answer over), `Retry` (sleep, then try
again) or `GiveUp` (with the reason). Nothing here sleeps, reads a clock or touches the network:
the caller passes the wall-clock time in, and the random source is injectable.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone
from typing import Literal

# 429 and the 5xx statuses that mean "busy or briefly broken" are retried (pitfall 9).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Backoff exponents stop growing here: 2.0**1024 overflows a float, and a retry count from the
# environment may be large.
_MAX_EXPONENT = 1000

FailureKind = Literal["timeout", "connect", "other"]
GiveUpReason = Literal["exhausted", "timeouts", "retry_after"]
# Called before each retry sleep with (problem, seconds to wait, retry number, retries allowed),
# so a terminal can show why nothing is happening; the client itself never prints.
RetryHook = Callable[[str, float, int, int], None]
# Like `random.uniform`: a number between its two arguments.
Uniform = Callable[[float, float], float]


@dataclass(frozen=True)
class HttpStatus:
    """The server answered with `status`, and the Retry-After header's raw value if it sent one."""

    status: int
    retry_after: str | None = None

    @property
    def problem(self) -> str:
        """How messages and the retry hook name this outcome: "HTTP 503"."""
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class TransportFailure:
    """No answer: a read timeout, a failed connection, or another transport error.

    `problem` names it for messages and the retry hook, e.g. "ConnectError: refused".
    """

    kind: FailureKind
    problem: str


Outcome = HttpStatus | TransportFailure


@dataclass(frozen=True)
class Done:
    """Hand the answer to the caller: a success, or an error status that retrying cannot fix."""


@dataclass(frozen=True)
class Retry:
    """Wait `delay` seconds, then make retry number `number` of `allowed`."""

    delay: float
    problem: str
    number: int
    allowed: int


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying; `reason` says why.

    - "exhausted": the last allowed attempt failed too (`problem` is its outcome).
    - "timeouts": more read timeouts than `max_timeouts`; `timeouts` counts them.
    - "retry_after": the server asked to wait `asked` seconds, more than `max_retry_after`.
    """

    reason: GiveUpReason
    problem: str
    attempts: int  # requests made, the failing one included
    timeouts: int = 0
    asked: float | None = None


Decision = Done | Retry | GiveUp


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header as seconds to wait from `now` (a Unix time), or None if unusable.

    Accepts delta-seconds ("120") and an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT",
    RFC 9110 §10.2.3). A negative delay or a date in the past is 0; anything else is None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # float() also reads "nan" and "inf", which no server means as a delay.
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # "-0000" parses as naive; HTTP dates are always UTC (RFC 9110 §5.6.7).
        when = when.replace(tzinfo=timezone.utc)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry one request, how long to wait between, and when to stop early.

    Attempts count from 0 (the first request). Backoff is exponential with "equal jitter":
    before retry N+1 the wait lies in [ceiling/2, ceiling], ceiling = min(max_backoff,
    backoff * 2**N), so retries from many clients spread out but never come immediately.
    A Retry-After the server sends replaces the backoff, unless it exceeds `max_retry_after`.
    Pass `uniform=random.Random(seed).uniform` (or any such callable) for repeatable delays.
    """

    retries: int  # retries after the first attempt
    backoff: float  # first backoff step in seconds
    max_backoff: float = 60.0
    # Read timeouts retried before giving up: each one costs a full timeout of silence.
    max_timeouts: int = 2
    # A server asking us to wait longer than this is treated as a failure, not slept through.
    max_retry_after: float = 300.0
    uniform: Uniform = field(default=random.uniform, compare=False, repr=False)

    def ceiling(self, attempt: int) -> float:
        """The longest backoff after failed attempt `attempt` (0 for the first request)."""
        return float(min(self.max_backoff, self.backoff * 2.0 ** min(attempt, _MAX_EXPONENT)))

    def backoff_delay(self, attempt: int) -> float:
        """The jittered wait after failed attempt `attempt`: in [ceiling/2, ceiling]."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + self.uniform(0.0, ceiling / 2)

    def decide(self, attempt: int, outcome: Outcome, *, now: float, timeouts: int = 0) -> Decision:
        """What to do after attempt `attempt` ended in `outcome`.

        `now` is the wall-clock Unix time (for a Retry-After date); `timeouts` counts the read
        timeouts of this request's earlier attempts. Statuses below 400 and error statuses not
        in RETRY_STATUSES are `Done`: the caller turns them into results or errors.
        """
        problem = outcome.problem
        if isinstance(outcome, HttpStatus):
            if outcome.status not in RETRY_STATUSES:
                return Done()
            asked = retry_after_seconds(outcome.retry_after, now)
            # Checked before the attempt count: a server asking for an hour is worth saying so
            # even on the last attempt.
            if asked is not None and asked > self.max_retry_after:
                return GiveUp("retry_after", problem, attempt + 1, timeouts, asked)
            if attempt >= self.retries:
                return GiveUp("exhausted", problem, attempt + 1, timeouts)
            delay = asked if asked is not None else self.backoff_delay(attempt)
            return Retry(delay, problem, attempt + 1, self.retries)
        if outcome.kind == "timeout":
            timeouts += 1
            if timeouts > self.max_timeouts:
                # A server that answers nothing for the whole timeout, again and again, is not
                # helped by more of the same: say so instead of waiting minutes.
                return GiveUp("timeouts", problem, attempt + 1, timeouts)
        if attempt >= self.retries:
            return GiveUp("exhausted", problem, attempt + 1, timeouts)
        return Retry(self.backoff_delay(attempt), problem, attempt + 1, self.retries)
