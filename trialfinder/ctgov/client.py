"""The ClinicalTrials.gov API v2 client: the pager, one study by id, and the API's errors.

It sends each request through the `Pacer` (pacing.py), asks the `RetryPolicy` (retries.py)
what to do after each failure, and takes everything configurable from `Settings`
(settings.py). Pass an `httpx.Client` to inject a transport (tests use `httpx.MockTransport`),
or an `HttpCache` (cache.py) to reuse recent answers; without one nothing is cached.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from trialfinder.ctgov.pacing import Pacer
from trialfinder.ctgov.pages import Page, read_page
from trialfinder.ctgov.query import MAX_PAGE_SIZE, check_nct_id
from trialfinder.ctgov.retries import (
    Done,
    FailureKind,
    GiveUp,
    HttpStatus,
    Outcome,
    RetryHook,
    RetryPolicy,
    TransportFailure,
)
from trialfinder.ctgov.settings import (
    BASE_URL_ENV,
    DEADLINE_ENV,
    RUN_DEADLINE_ENV,
    TIMEOUT_ENV,
    USER_AGENT,
    Settings,
)
from trialfinder.ctgov.transport import cached_json, deadline_until, transport
from trialfinder.describe import describe_raw
from trialfinder.errors import ApiError, ApiResponseError, ApiUnavailable, StudyNotFound, UsageError
from trialfinder.records import nct_id_of
from trialfinder.text import clean_line

if TYPE_CHECKING:
    from trialfinder.ctgov.cache import HttpCache

__all__ = ["MAX_PAGE_SIZE", "CtGovClient", "Page", "RetryHook"]


class CtGovClient:
    """A polite, retrying client for the ClinicalTrials.gov API v2.

    `settings=None` reads them from the environment (`Settings.from_env()`). `sleep` and
    `clock` (monotonic, for pacing) and `wall_clock` (Unix time, for a Retry-After date) are
    injectable, and so is `rng`, the source of the backoff jitter. `cache` puts an `HttpCache`
    in front of the network (not with `http`, which brings its own transport); its answers
    cost no request and no pacing wait.

    Example:
        with CtGovClient(Settings.from_env()) as client:
            for page in client.iter_pages({"query.cond": "lymphoma"}):
                ...
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        cache: HttpCache | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self.base_url = self.settings.base_url
        timeout = self.settings.timeout
        self._own_http = http is None
        self.cache = cache if http is None else None
        self._pacer = Pacer(self.settings.requests_per_minute, clock=clock, sleep=sleep)
        wire: httpx.BaseTransport = transport(clock)  # every read bounded by the deadline
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,  # /studies/{id} answers 301 for an alias id
            # With a cache, the pacer waits only before what goes to the network.
            transport=self.cache.transport(wire, self._pacer.wait) if self.cache else wire,
        )
        self._http.headers["User-Agent"] = USER_AGENT  # pitfall 9
        self._http.headers["Accept"] = "application/json"
        self._policy = RetryPolicy(
            retries=self.settings.retries,
            backoff=self.settings.backoff,
            max_backoff=self.settings.max_backoff,
            uniform=rng.uniform if rng is not None else random.uniform,
        )
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        # The run's time limit counts from here: one client is one run (a command, a report).
        self._run_ends = clock() + self.settings.run_deadline
        self._count_lock = threading.Lock()  # a concurrent pager may share one client
        self.requests_made = 0
        self.bytes_received = 0

    @property
    def pace(self) -> float:
        """Seconds between request starts: 60 / requests per minute (pitfall 9)."""
        return self._pacer.interval

    def close(self) -> None:
        """Close the HTTP connection pool if this client created it."""
        if self._own_http:
            self._http.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> CtGovClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request, with retries -------------------------------------------------------

    def _get(
        self, path: str, params: Mapping[str, str], on_retry: RetryHook | None = None
    ) -> httpx.Response:
        """GET `path`, paced and retried; returns any answer the policy does not retry."""
        url = f"{self.base_url}{path}"
        timeouts = 0
        attempt = 0
        while True:
            self._check_run_deadline()
            if self.cache is None:
                self._pacer.wait()
            response: httpx.Response | None = None
            outcome: Outcome
            try:
                response = self._fetch(url, params)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise UsageError(f"the API URL cannot be used: {exc}") from None
            except httpx.TooManyRedirects:
                raise ApiError(f"the API at {self.base_url} redirected in a loop") from None
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                outcome = TransportFailure(_failure_kind(exc), problem)
            else:
                with self._count_lock:
                    if cached_json(response)[0]:  # an answer from the cache is free, but
                        self.requests_made += len(response.history)  # not a redirect to it
                    else:
                        self.requests_made += 1
                        self.bytes_received += len(response.content)
                outcome = HttpStatus(response.status_code, response.headers.get("Retry-After"))
            decision = self._policy.decide(
                attempt, outcome, now=self._wall_clock(), timeouts=timeouts
            )
            if isinstance(decision, Done):
                assert response is not None  # only an HTTP status can be Done
                return response
            if isinstance(decision, GiveUp):
                raise self._give_up(decision, url, response)
            if isinstance(outcome, TransportFailure) and outcome.kind == "timeout":
                timeouts += 1
            if self._clock() + decision.delay > self._run_ends:
                raise self._run_over(f"the last try failed with {decision.problem}")
            if on_retry is not None:
                on_retry(decision.problem, decision.delay, decision.number, decision.allowed)
            self._sleep(decision.delay)
            attempt += 1

    def _fetch(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        """One GET, its body read within the request's deadline and the run's.

        httpx's read timeout restarts with every byte, so the body is streamed and the clock
        checked after each chunk: a server that trickles fails here instead of hanging.
        """
        started = self._clock()
        ends = min(started + self.settings.deadline, self._run_ends)
        request = self._http.build_request("GET", url, params=dict(params))
        received = 0

        def too_slow() -> ApiUnavailable:
            if ends == self._run_ends:
                return self._run_over(f"{received} bytes of an answer had come")
            return ApiUnavailable(
                f"the API at {self.base_url} sent its answer too slowly: {received} bytes in "
                f"{self._clock() - started:.0f} s, past the {self.settings.deadline:g} s limit "
                "for one request",
                hint=f"try again later, or raise {DEADLINE_ENV}",
            )

        def check(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)
            if self._clock() > ends:
                raise too_slow()

        with deadline_until(ends):
            try:
                response = self._http.send(request, stream=True)
            except httpx.TimeoutException:
                if self._clock() >= ends:  # the headers came too slowly, not a stalled read
                    raise too_slow() from None
                raise
            assert isinstance(response.stream, httpx.SyncByteStream)  # a sync client's body
            response.stream = _Watched(response.stream, check)
            try:
                response.read()
            except httpx.TimeoutException:
                if self._clock() >= ends:
                    raise too_slow() from None
                raise
            finally:
                response.close()
        # A response and httpx's stream around its body point at each other: a cycle that
        # only the collector frees, and it runs rarely here (cli.app.GC_THRESHOLDS), so every
        # page's body stayed alive (76 MB after 21 pages of a table search, more with full
        # records). The body is read: a plain stream of it breaks the cycle.
        response.stream = httpx.ByteStream(response.content)
        return response

    def _check_run_deadline(self) -> None:
        if self._clock() > self._run_ends:
            raise self._run_over("before the next request")

    def _run_over(self, where: str) -> ApiUnavailable:
        return ApiUnavailable(
            f"trialfinder stopped: the run passed its {self.settings.run_deadline:g} s time "
            f"limit for the API ({where})",
            hint=f"try again later, or raise {RUN_DEADLINE_ENV}",
        )

    def _give_up(self, decision: GiveUp, url: str, response: httpx.Response | None) -> ApiError:
        if decision.reason == "retry_after":
            return ApiError(
                f"the API is rate-limiting trialfinder and asked it to wait "
                f"{decision.asked:.0f} s ({decision.problem}); try again later",
            )
        if decision.reason == "timeouts":
            return ApiUnavailable(
                f"the ClinicalTrials.gov API at {self.base_url} did not answer within "
                f"{self.settings.timeout:g} s, {decision.timeouts} times in a row",
                hint=f"try again later, or raise {TIMEOUT_ENV}",
            )
        if response is not None:
            return ApiResponseError(response.status_code, clean_line(response.text), url)
        return ApiUnavailable(
            f"could not reach the ClinicalTrials.gov API at {self.base_url} after "
            f"{decision.attempts} attempts ({decision.problem})",
            hint=f"check your connection, or set {BASE_URL_ENV}; use --source to read saved data",
        )

    def _json(self, response: httpx.Response) -> Any:
        cached, body = cached_json(response)
        if cached:
            return body  # parsed when it was read back (cache.py)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"the API sent something that is not JSON from {response.request.url} "
                f"(content-type {response.headers.get('content-type', '?')})"
            ) from None

    def _whole_page(self, response: httpx.Response, number: int) -> Page:
        """A page body decoded whole, with what is wrong with it when it is not a page."""
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("studies"), list):
            raise ApiError(
                f"page {number} of the search is not a /studies page: the API sent "
                f"{describe_raw(body)}"
            )
        total = body.get("totalCount")
        return Page(
            studies=body.get("studies", []),
            next_token=body.get("nextPageToken") or None,
            total=int(total) if isinstance(total, int) else None,
            number=number,
        )

    # -- endpoints -----------------------------------------------------------------------

    def iter_pages(
        self,
        params: Mapping[str, str],
        *,
        page_size: int = MAX_PAGE_SIZE,
        count_total: bool = True,
        on_retry: RetryHook | None = None,
    ) -> Generator[Page, None, None]:
        """Yield /studies pages until the API sends no nextPageToken (pitfall 1).

        Every page repeats `params` unchanged; only pageToken, pageSize and countTotal vary
        (pitfall 4). A failure on any page raises: a search is never silently short.
        `on_retry` is called before each retry sleep (see `RetryHook`).
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
                request["countTotal"] = "true"  # the API sends totalCount on page 1 only
            if token:
                request["pageToken"] = token
            try:
                response = self._get("/studies", request, on_retry)
            except ApiError as exc:
                if number > 1:
                    exc.message = f"failed while fetching page {number}: {exc.message}"
                    exc.args = (exc.message,)
                raise
            if response.status_code >= 400:
                raise self._status_error(response, during=f"page {number}")
            cached, _ = cached_json(response)
            # The usual page keeps its studies as JSON until they are read (pages.py).
            page = None if cached else read_page(response.content, number)
            if page is None:
                page = self._whole_page(response, number)
            next_token = page.next_token
            del response  # the caller frees the page once it has read it
            yield page
            del page
            if not next_token:
                return
            if next_token in seen_tokens:
                raise ApiError(f"the API repeated a page token on page {number}; stopping")
            seen_tokens.add(next_token)
            token = next_token

    def get_study(
        self, nct_id: str, fields: Sequence[str] = (), *, on_retry: RetryHook | None = None
    ) -> dict[str, Any]:
        """One study by NCT id (raises InvalidNctId, StudyNotFound, ApiError).

        The answer must be a study record with that NCT id, or, after the API's 301 redirect
        for an alias id, with the id it redirected to; anything else is an ApiError naming
        what came back.
        """
        nct_id = check_nct_id(nct_id)
        params = {"format": "json"}
        if fields:
            params["fields"] = ",".join(fields)
        response = self._get(f"/studies/{nct_id}", params, on_retry)
        if response.status_code == 404:
            raise StudyNotFound(f"no study {nct_id} on ClinicalTrials.gov")
        if response.status_code >= 400:
            raise self._status_error(response, during=nct_id)
        body = self._json(response)
        got = nct_id_of(body)
        if not isinstance(body, dict) or not got:
            raise ApiError(
                f"the API's answer for {nct_id} is not a study record: it sent {describe_raw(body)}"
            )
        if got.strip().upper() != nct_id and not response.history:
            # Only a 301 may turn one id into another: the API redirects an alias (an id
            # merged into another record) to the current one (docs/ctgov-api.md, pitfall 11).
            raise ApiError(f"asked the API for {nct_id} but it sent study {clean_line(got)[:20]}")
        return body

    def version(self, *, on_retry: RetryHook | None = None) -> dict[str, Any]:
        """/version: the API version and `dataTimestamp`, when the data was last loaded."""
        response = self._get("/version", {}, on_retry)
        if response.status_code >= 400:
            raise self._status_error(response, during="/version")
        body = self._json(response)
        if not isinstance(body, dict):
            raise ApiError("the API's /version answer is not an object")
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


class _Watched(httpx.SyncByteStream):
    """A response body that calls `check` with every chunk as it arrives (the deadline)."""

    def __init__(self, stream: httpx.SyncByteStream, check: Callable[[bytes], None]) -> None:
        self._stream = stream
        self._check = check

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._check(chunk)
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _failure_kind(exc: httpx.TransportError) -> FailureKind:
    # Only a read timeout counts against RetryPolicy.max_timeouts, as before: a connect timeout
    # fails fast (connect is capped at 10 s) and is a connection problem.
    if isinstance(exc, httpx.ReadTimeout):
        return "timeout"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "connect"
    return "other"
