"""The on-disk cache of the API's answers for interactive commands (hishel's SQLite storage).

hishel's `CacheTransport`, without RFC 9111, stores a successful GET under its URL and serves
it until a time-to-live passes, whatever the API's own cache headers say; 429s, 5xx and
transport errors never reach the storage. Its `SqliteStorage` bounds the file's size by
evicting the least recently used answers. What hishel leaves to its caller is done here: a
cached answer must read back whole and parse as JSON, else it is a miss and is fetched again;
a file that is not a database (or a damaged one) is deleted and started anew; `--refresh`
drops what is stored for each request before fetching. Nothing here prints: problems are
counted and described for the command line to say.

Only a client given an `HttpCache` uses it: the watch reports never are (they must see what
changed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hishel
import httpx
from hishel.httpx import CacheTransport

from trialfinder.ctgov.settings import Settings
from trialfinder.ctgov.transport import JSON_EXTENSION, cached_json

__all__ = ["CacheUnavailable", "HttpCache", "cached_json", "default_cache_dir", "open_cache"]

DATABASE = "answers.sqlite3"
_LOGGER = "hishel"
SOFT_DELETE_SECONDS = 120.0  # hishel keeps a row this long after its last use


def default_cache_dir() -> Path:
    """`<the user's cache folder>/trialfinder/http` (platformdirs: ~/.cache on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("trialfinder", appauthor=False)) / "http"


class CacheUnavailable(Exception):
    """The cache folder or file cannot be used; the run goes on without a cache."""


class _Failures(logging.Handler):
    """Counts what hishel logs when the storage fails (it logs and carries on, uncached)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.damaged = False
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("hishel: dropping"):
            return  # an entry that does not decode: a miss, stored again
        self.count += 1
        error = record.exc_info[1] if record.exc_info else None
        if self.first is None:
            self.first = str(error) if error is not None else record.getMessage()
        if type(error) is sqlite3.DatabaseError:
            # "file is not a database", "disk image is malformed": sqlite3 raises the base
            # class itself only for a damaged file. Its subclasses are not damage: locked or
            # read-only (OperationalError), a write that raced another thread's eviction
            # (IntegrityError), misuse (ProgrammingError): that answer is just not kept.
            self.damaged = True


class _Storage(hishel.BaseStorage):
    """hishel's SqliteStorage, replaced by a new file when the old one proves damaged, and
    skipping (and dropping) what is stored when refreshing."""

    def __init__(self, cache: HttpCache) -> None:
        super().__init__()
        self._cache = cache
        self.inner = cache.new_storage()

    def create_entry(
        self,
        request: hishel.Request,
        response: hishel.Response,
        key: str,
        *,
        ttl: float | None = None,
        tti: float | None = None,
    ) -> hishel.Entry:
        return self.inner.create_entry(request, response, key, ttl=ttl, tti=tti)

    def get_entries(self, key: str) -> list[hishel.Entry]:
        failures = self._cache.failures
        try:
            entries = self.inner.get_entries(key)
        except (RuntimeError, sqlite3.Error) as exc:  # a closed or failing storage: a miss
            failures.count += 1
            failures.first = failures.first or str(exc)
            return []
        if failures.damaged:
            failures.damaged = False
            failures.count = 0  # the damage, not a failure to report: the file starts anew
            self._cache.replaced += 1
            self.inner.close()
            self.inner = self._cache.new_storage(start_anew=True)
            return []
        if self._cache.refresh:
            for entry in entries:
                self.inner.remove_entry(entry.id)
            return []
        return entries

    def update_headers(self, id: uuid.UUID, headers: hishel.Headers) -> None:
        self.inner.update_headers(id, headers)

    def remove_entry(self, id: uuid.UUID) -> None:
        self.inner.remove_entry(id)

    def close(self) -> None:
        self.inner.close()


class _Paced(httpx.BaseTransport):
    """A transport that waits for the client's pacer before each request it sends."""

    def __init__(self, inner: httpx.BaseTransport, pace: Callable[[], None]) -> None:
        self._inner = inner
        self._pace = pace

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._pace()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _Transport(httpx.BaseTransport):
    """hishel's transport, with every answer from the storage read back and checked first."""

    def __init__(
        self, cache: HttpCache, inner: httpx.BaseTransport, pace: Callable[[], None]
    ) -> None:
        self._cache = cache
        self._storage = _Storage(cache)
        self._hishel = CacheTransport(_Paced(inner, pace), self._storage)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = hashlib.sha256(f"GET {request.url}".encode()).hexdigest()
        request.extensions = {**request.extensions, "caching": {"key": key}}
        response = self._hishel.handle_request(request)
        status = response.extensions.get("caching") or {}
        if not status.get("from_cache"):
            return response
        checked = self._checked(request, response)
        if checked is not None:
            self._cache.hits += 1
            return checked
        # A damaged or partial answer is a miss: dropped, fetched and stored again.
        self._cache.damaged += 1
        for entry in self._storage.inner.get_entries(key):
            self._storage.inner.remove_entry(entry.id)
        return self._hishel.handle_request(request)

    def _checked(self, request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        """The cached answer, read whole and parsed, or None when it cannot be."""
        try:
            raw = b"".join(response.stream)  # type: ignore[arg-type]
            answer = httpx.Response(
                response.status_code,
                headers=response.headers,
                content=raw,  # decoded (gzip) on construction, as the wire's would be
                request=request,
                extensions=dict(response.extensions),
            )
            answer.extensions[JSON_EXTENSION] = json.loads(answer.content)
        except Exception:  # a missing chunk, a storage error, bad bytes: all a miss
            return None
        finally:
            response.close()
        return answer

    def close(self) -> None:
        self._hishel.close()


@dataclass
class HttpCache:
    """Where the answers are kept, for how long, in how much space; and what happened.

    `open` creates the folder and the database (raising `CacheUnavailable` when it cannot);
    `transport` wraps the client's own transport. `hits` counts answers served from the
    file, `damaged` answers that could not be read back (and were fetched again), `replaced`
    files found damaged and started anew.
    """

    directory: Path
    fresh_for: float  # seconds an answer is served from the file
    max_bytes: int  # the file's bound; the least recently used answers go first
    refresh: bool = False  # drop what is stored for each request, fetch, store
    hits: int = 0
    damaged: int = 0
    replaced: int = 0

    def __post_init__(self) -> None:
        self.failures = _Failures()

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.directory / DATABASE

    @classmethod
    def open(
        cls, directory: Path, *, fresh_for: float, max_bytes: int, refresh: bool = False
    ) -> HttpCache:
        """A cache in `directory`, checked to be usable now (else `CacheUnavailable`)."""
        cache = cls(directory, fresh_for, max_bytes, refresh)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            cache.new_storage().close()
        except (OSError, sqlite3.Error, RuntimeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CacheUnavailable(
                f"the cache in {directory} cannot be used ({reason}); running without it"
            ) from None
        logging.getLogger(_LOGGER).addHandler(cache.failures)
        return cache

    def new_storage(self, *, start_anew: bool = False) -> hishel.SqliteStorage:
        """hishel's storage on the file, connected; a file that is no database is replaced."""
        if start_anew:
            self._delete()
        for attempt in (1, 2):
            storage = hishel.SqliteStorage(
                database_path=self.database,
                default_ttl=self.fresh_for,
                max_size=self.max_bytes,
                # A row goes once it has expired (or must make room) and has gone unused this
                # long. Not 0: concurrent date slices write several answers at once, and
                # another thread's clean-up would delete an answer still being written.
                soft_delete_ttl=SOFT_DELETE_SECONDS,
            )
            try:
                storage._ensure_connection()  # creates the tables; fails on a foreign file
                return storage
            except (sqlite3.DatabaseError, RuntimeError) as exc:
                storage.close()
                if attempt == 2 or isinstance(exc, sqlite3.OperationalError):
                    raise
                self._delete()
        raise AssertionError("unreachable")

    def _delete(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)

    def transport(
        self, inner: httpx.BaseTransport, pace: Callable[[], None] = lambda: None
    ) -> httpx.BaseTransport:
        """`inner` with this cache in front of it; `pace` is called before each request that
        goes to the network (the client's pacer), never for an answer from the file."""
        return _Transport(self, inner, pace)

    def close(self) -> None:
        """Stop listening to hishel's log (the transport closes the storage)."""
        logging.getLogger(_LOGGER).removeHandler(self.failures)

    def notes(self, requests_made: int) -> list[str]:
        """What the cache did this run, for the user: answers reused, damage, failures."""
        notes = []
        if self.hits:
            notes.append(
                f"{self.hits} of {self.hits + requests_made} API answer(s) came from "
                f"trialfinder's cache, fetched within the last {self.fresh_for / 60:g} "
                "minute(s); --refresh fetches them anew"
            )
        if self.damaged or self.replaced:
            notes.append(f"the cache in {self.directory} held damaged data; it was fetched again")
        if self.failures.count:
            notes.append(
                f"the cache in {self.directory} failed {self.failures.count} time(s) "
                f"({self.failures.first}); those answers were fetched and not kept"
            )
        return notes


def open_cache(settings: Settings, *, refresh: bool = False) -> HttpCache:
    """The cache the settings describe: $TRIALFINDER_CACHE_DIR or the user's cache folder,
    answers kept `cache_minutes`, the file bounded by `cache_mb` (raises CacheUnavailable)."""
    directory = Path(settings.cache_dir) if settings.cache_dir else default_cache_dir()
    return HttpCache.open(
        directory.expanduser(),
        fresh_for=settings.cache_minutes * 60,
        max_bytes=int(settings.cache_mb * 1_000_000),
        refresh=refresh,
    )
