"""The ClinicalTrials.gov API v2 client: paging, retries with backoff, polite pacing, errors.

The only module that imports httpx. Pass an `httpx.Client` to inject a transport in tests.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from trialfinder import __version__
from trialfinder.errors import ApiError, ApiResponseError, ApiUnavailable, StudyNotFound, UsageError
from trialfinder.ctgov.query import MAX_PAGE_SIZE, check_nct_id
from trialfinder.text import clean_line

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
BASE_URL_ENV = "TRIALFINDER_API_URL"
RATE_ENV = "TRIALFINDER_REQUESTS_PER_MINUTE"
TIMEOUT_ENV = "TRIALFINDER_TIMEOUT"  # seconds per request
RETRIES_ENV = "TRIALFINDER_RETRIES"  # retries after the first attempt
BACKOFF_ENV = "TRIALFINDER_BACKOFF"  # first backoff step in seconds; doubles each retry
DEFAULT_REQUESTS_PER_MINUTE = 50.0
USER_AGENT = f"trialfinder/{__version__} (clinical trial search command-line tool)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_TIMEOUT_RETRIES = 2  # read timeouts retried before giving up (each costs a full timeout)
# A server asking us to wait longer than this is treated as a failure, not slept through.
MAX_RETRY_AFTER = 300.0


def base_url_from_env(explicit: str | None = None) -> str:
    """The API base URL: an explicit value, else $TRIALFINDER_API_URL, else the live API."""
    url = explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    problem = f"invalid API URL {url!r} (expected http(s):// and a host, e.g. {DEFAULT_BASE_URL})"
    if not url.startswith(("http://", "https://")):
        raise UsageError(problem)
    try:
        if not httpx.URL(url).host:
            raise UsageError(problem)
    except httpx.InvalidURL:
        raise UsageError(problem) from None
    return url.rstrip("/")


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"invalid {name}={raw!r} (expected a number)") from None
    if value < 0:
        raise UsageError(f"invalid {name}={raw!r} (expected 0 or more)")
    return value


def rate_from_env(explicit: float | None = None) -> float:
    """Requests per minute: explicit, else $TRIALFINDER_REQUESTS_PER_MINUTE, else 50."""
    if explicit is not None:
        value: float = explicit
    else:
        raw = os.environ.get(RATE_ENV)
        try:
            value = float(raw) if raw else DEFAULT_REQUESTS_PER_MINUTE
        except ValueError:
            raise UsageError(
                f"invalid {RATE_ENV}={raw!r} (expected a number of requests per minute)"
            ) from None
    if value <= 0:
        raise UsageError(f"invalid request rate {value:g} (expected more than 0 per minute)")
    return value


@dataclass(frozen=True)
class Page:
    """One /studies page as the API sent it."""

    studies: list[dict[str, Any]]
    next_token: str | None
    total: int | None
    number: int


class Pacer:
    """At most `per_minute` request starts in any 60 s window, spaced at least 60/rate apart.

    The spacing honours robots.txt's 1-second crawl delay at the default rate (API-NOTES 9);
    the window makes the limit hold even when a caller sleeps less than asked.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until another request may start, then record its start."""
        with self._lock:
            now = self._clock()
            delay = 0.0
            if self._starts:
                delay = max(delay, self._starts[-1] + self.interval - now)
            window = int(self.per_minute)
            while self._starts and self._starts[0] <= now - 60.0:
                self._starts.popleft()
            if window >= 1 and len(self._starts) >= window:
                delay = max(delay, self._starts[-window] + 60.0 - now)
            if delay > 0:
                self._sleep(delay)
            self._starts.append(self._clock())


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class CtGovClient:
    """A polite, retrying client for the ClinicalTrials.gov API v2.

    Example:
        with CtGovClient() as client:
            for study in client.iter_studies({"query.cond": "lymphoma"}):
                ...
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float | None = None,
        max_backoff: float = 60.0,
        requests_per_minute: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url_from_env(base_url)
        if timeout is None:
            timeout = _env_number(TIMEOUT_ENV, 30.0) or 30.0
        if max_retries is None:
            max_retries = int(_env_number(RETRIES_ENV, 5))
        if backoff is None:
            backoff = _env_number(BACKOFF_ENV, 1.0)
        self._own_http = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,  # /studies/{id} answers 301 for an alias id
        )
        self.timeout = timeout
        self._http.headers["User-Agent"] = USER_AGENT
        self._http.headers["Accept"] = "application/json"
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.pacer = Pacer(rate_from_env(requests_per_minute), clock=clock, sleep=sleep)
        # Called before each retry with (problem, seconds to wait, retry number, retries allowed),
        # so a terminal can show why nothing is happening; the client itself never prints.
        self.on_retry: Callable[[str, float, int, int], None] | None = None
        self.requests_made = 0
        self.bytes_received = 0

    def close(self) -> None:
        """Close the HTTP connection pool if this client created it."""
        if self._own_http:
            self._http.close()

    def __enter__(self) -> CtGovClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request, with retries -------------------------------------------------------

    def _backoff_delay(self, attempt: int) -> float:
        # Exponential backoff with "equal jitter": half fixed, half random, so retries from
        # many clients spread out but never retry immediately.
        ceiling = float(min(self.max_backoff, self.backoff * (2**attempt)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _get(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        url = f"{self.base_url}{path}"
        last_problem = ""
        timeouts = 0
        for attempt in range(self.max_retries + 1):
            self.pacer.wait()
            try:
                response = self._http.get(url, params=dict(params))
                self.requests_made += 1
                self.bytes_received += len(response.content)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise UsageError(f"the API URL cannot be used: {exc}") from None
            except httpx.TooManyRedirects:
                raise ApiError(f"the API at {self.base_url} redirected in a loop") from None
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff_delay(attempt)
                if isinstance(exc, httpx.ReadTimeout):
                    timeouts += 1
                    if timeouts > MAX_TIMEOUT_RETRIES:
                        # A server that answers nothing for the whole timeout, again and again,
                        # is not helped by more of the same: say so instead of waiting minutes.
                        raise ApiUnavailable(
                            f"the ClinicalTrials.gov API at {self.base_url} did not answer within "
                            f"{self.timeout:g} s, {timeouts} times in a row",
                            hint=f"try again later, or raise {TIMEOUT_ENV}",
                        ) from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    return response
                last_problem = f"HTTP {response.status_code}"
                delay = self._backoff_delay(attempt)
                asked = _retry_after_seconds(response.headers.get("Retry-After"), time.time())
                if asked is not None:
                    if asked > MAX_RETRY_AFTER:
                        raise ApiError(
                            f"the API is rate-limiting trialfinder and asked it to wait "
                            f"{asked:.0f} s ({last_problem}); try again later",
                        )
                    delay = asked
                if attempt == self.max_retries:
                    raise ApiResponseError(response.status_code, clean_line(response.text), url)
            if attempt < self.max_retries:
                if self.on_retry is not None:
                    self.on_retry(last_problem, delay, attempt + 1, self.max_retries)
                self._sleep(delay)
        raise ApiUnavailable(
            f"could not reach the ClinicalTrials.gov API at {self.base_url} after "
            f"{self.max_retries + 1} attempts ({last_problem})",
            hint=f"check your connection, or set {BASE_URL_ENV}; use --source to read saved data",
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"the API sent something that is not JSON from {response.request.url} "
                f"(content-type {response.headers.get('content-type', '?')})"
            ) from None

    # -- endpoints -----------------------------------------------------------------------

    def iter_pages(
        self,
        params: Mapping[str, str],
        *,
        page_size: int = MAX_PAGE_SIZE,
        count_total: bool = True,
    ) -> Iterator[Page]:
        """Yield /studies pages until the API sends no nextPageToken (pitfall 1).

        Every page repeats `params` unchanged; only pageToken, pageSize and countTotal vary
        (pitfall 4). A failure on any page raises: a search is never silently short.
        """
        base = dict(params)
        base.pop("pageToken", None)
        token: str | None = None
        number = 0
        seen_tokens: set[str] = set()
        while True:
            number += 1
            request = dict(base)
            request["pageSize"] = str(max(1, min(page_size, MAX_PAGE_SIZE)))
            if count_total and number == 1:
                request["countTotal"] = "true"
            if token:
                request["pageToken"] = token
            try:
                response = self._get("/studies", request)
            except ApiError as exc:
                if number > 1:
                    exc.message = f"failed while fetching page {number}: {exc.message}"
                    exc.args = (exc.message,)
                raise
            if response.status_code >= 400:
                raise self._status_error(response, during=f"page {number}")
            body = self._json(response)
            if not isinstance(body, dict) or not isinstance(body.get("studies"), list):
                raise ApiError(f"page {number} of the search is not a /studies page")
            next_token = body.get("nextPageToken") or None
            total = body.get("totalCount")
            yield Page(
                studies=body.get("studies", []),
                next_token=next_token,
                total=int(total) if isinstance(total, int) else None,
                number=number,
            )
            if not next_token:
                return
            if next_token in seen_tokens:
                raise ApiError(f"the API repeated a page token on page {number}; stopping")
            seen_tokens.add(next_token)
            token = next_token

    def get_study(self, nct_id: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """One study by NCT id (raises InvalidNctId, StudyNotFound)."""
        nct_id = check_nct_id(nct_id)
        params = {"format": "json"}
        if fields:
            params["fields"] = ",".join(fields)
        response = self._get(f"/studies/{nct_id}", params)
        if response.status_code == 404:
            raise StudyNotFound(f"no study {nct_id} on ClinicalTrials.gov")
        if response.status_code >= 400:
            raise self._status_error(response, during=nct_id)
        body = self._json(response)
        if not isinstance(body, dict):
            raise ApiError(f"the API's answer for {nct_id} is not a study object")
        return body

    def _status_error(self, response: httpx.Response, *, during: str) -> ApiError:
        error = ApiResponseError(
            response.status_code, clean_line(response.text), str(response.request.url)
        )
        if response.status_code == 400:
            # The API rejects what it cannot parse with a text/plain 400; most often an Essie
            # syntax problem in a user's --term or --condition.
            error.exit_code = 2
            error.hint = "the API rejected the query; check the search terms' syntax"
        error.message = f"{during}: {error.message}"
        error.args = (error.message,)
        return error
