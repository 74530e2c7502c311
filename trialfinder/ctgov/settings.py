"""The API client's settings: the one place the TRIALFINDER_* API environment variables are read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from trialfinder import __version__
from trialfinder.errors import UsageError

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
BASE_URL_ENV = "TRIALFINDER_API_URL"
RATE_ENV = "TRIALFINDER_REQUESTS_PER_MINUTE"
TIMEOUT_ENV = "TRIALFINDER_TIMEOUT"  # seconds per request
RETRIES_ENV = "TRIALFINDER_RETRIES"  # retries after the first attempt
BACKOFF_ENV = "TRIALFINDER_BACKOFF"  # first backoff step in seconds; doubles each retry
DEADLINE_ENV = "TRIALFINDER_DEADLINE"  # seconds one request may take in all, body included
RUN_DEADLINE_ENV = "TRIALFINDER_RUN_DEADLINE"  # seconds a whole run may spend on the API
CACHE_DIR_ENV = "TRIALFINDER_CACHE_DIR"  # where interactive commands keep the API's answers
CACHE_MINUTES_ENV = "TRIALFINDER_CACHE_MINUTES"  # how long an answer is reused; 0: no cache
CACHE_MB_ENV = "TRIALFINDER_CACHE_MB"  # the cache file's size bound in megabytes
DEFAULT_REQUESTS_PER_MINUTE = 50.0  # what projects commonly keep to (pitfall 9)
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 1.0
# A read timeout restarts with every byte, so a server that trickles (headers, then a byte a
# second) would never time out: each request also has a total limit, and so does the run.
# 300 s fetches a full 1,000-study page on a slow line; an hour covers paging the whole registry.
DEFAULT_DEADLINE = 300.0
DEFAULT_RUN_DEADLINE = 3600.0
# Long enough to rerun a search with other columns, formats or filters, short enough that a
# later look sees recruitment changes; the registry itself reloads its data once a day.
DEFAULT_CACHE_MINUTES = 10.0
# A full 1,000-study page with every field is about 10 MB, so this keeps a few broad searches.
DEFAULT_CACHE_MB = 200.0
# The API publishes no rate limit, so the User-Agent names the tool (pitfall 9).
USER_AGENT = f"trialfinder/{__version__} (clinical trial search command-line tool)"


@dataclass(frozen=True)
class Settings:
    """How the client talks to the API: where, how fast, how patiently.

    Build it with `Settings.from_env()`; a direct construction is checked the same way for the
    two values every request depends on (the base URL, stripped of a trailing slash, and a
    request rate above 0).
    """

    base_url: str
    requests_per_minute: float
    timeout: float  # seconds per request (connect: at most 10 s of it)
    retries: int  # retries after the first attempt
    backoff: float  # first backoff step in seconds; doubles each retry
    max_backoff: float = 60.0
    deadline: float = DEFAULT_DEADLINE  # seconds one request may take in all, body included
    run_deadline: float = DEFAULT_RUN_DEADLINE  # seconds from the client's creation
    cache_dir: str | None = None  # None: the user's cache folder (ctgov/cache.py)
    cache_minutes: float = DEFAULT_CACHE_MINUTES  # 0: no cache
    cache_mb: float = DEFAULT_CACHE_MB

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _check_base_url(self.base_url))
        if self.requests_per_minute <= 0:
            raise UsageError(
                f"invalid request rate {self.requests_per_minute:g} "
                "(expected more than 0 per minute)"
            )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, base_url: str | None = None
    ) -> Settings:
        """Settings from `environ` (default: `os.environ`); an explicit `base_url` wins.

        Unset or empty variables take the defaults: the live API, 50 requests a minute, a 30 s
        timeout (0 also means 30 s), 5 retries, a 1 s first backoff step, 300 s in all for one
        request and 3600 s for the run (0 also means the default); interactive commands reuse
        an answer for 10 minutes (0: never) from a cache of at most 200 MB in the user's cache
        folder unless $TRIALFINDER_CACHE_DIR names another. A bad value raises
        `UsageError` naming the variable and what it expects.
        """
        env = os.environ if environ is None else environ
        # Checked in the order the client always checked them, so that with several bad
        # values the user sees the same first error as before.
        url = _check_base_url(base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        timeout = _env_number(env, TIMEOUT_ENV, DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT
        retries = int(_env_number(env, RETRIES_ENV, DEFAULT_RETRIES))
        backoff = _env_number(env, BACKOFF_ENV, DEFAULT_BACKOFF)
        deadline = _env_number(env, DEADLINE_ENV, DEFAULT_DEADLINE) or DEFAULT_DEADLINE
        run_deadline = (
            _env_number(env, RUN_DEADLINE_ENV, DEFAULT_RUN_DEADLINE) or DEFAULT_RUN_DEADLINE
        )
        cache_minutes = _env_number(env, CACHE_MINUTES_ENV, DEFAULT_CACHE_MINUTES)
        cache_mb = _env_number(env, CACHE_MB_ENV, DEFAULT_CACHE_MB) or DEFAULT_CACHE_MB
        raw_rate = env.get(RATE_ENV)
        try:
            rate = float(raw_rate) if raw_rate else DEFAULT_REQUESTS_PER_MINUTE
        except ValueError:
            raise UsageError(
                f"invalid {RATE_ENV}={raw_rate!r} (expected a number of requests per minute)"
            ) from None
        return cls(
            base_url=url,
            requests_per_minute=rate,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            deadline=deadline,
            run_deadline=run_deadline,
            cache_dir=env.get(CACHE_DIR_ENV) or None,
            cache_minutes=cache_minutes,
            cache_mb=cache_mb,
        )


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"invalid {name}={raw!r} (expected a number)") from None
    if value < 0:
        raise UsageError(f"invalid {name}={raw!r} (expected 0 or more)")
    return value


def _check_base_url(url: str) -> str:
    # Imported here, not at the top: `--help` must not pay for importing httpx, and a CLI
    # module may import Settings at its top.
    import httpx

    problem = f"invalid API URL {url!r} (expected http(s):// and a host, e.g. {DEFAULT_BASE_URL})"
    if not url.startswith(("http://", "https://")):
        raise UsageError(problem)
    try:
        if not httpx.URL(url).host:
            raise UsageError(problem)
    except httpx.InvalidURL:
        raise UsageError(problem) from None
    return url.rstrip("/")
