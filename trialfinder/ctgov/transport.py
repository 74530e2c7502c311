"""The HTTP transport: httpx's own, with every socket read and write bounded by a deadline.

httpx's read timeout restarts with every byte, so a server that trickles its headers one byte
a second would hold a request for hours. Here each read and write gets at most the time left
before the current request's deadline, so a request ends at its deadline however the server
sends. The deadline is set per request and per thread (`deadline_until`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_local = threading.local()


class _Stream(httpcore.NetworkStream):
    """A network stream whose reads and writes stop at the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, clock: Callable[[], float]) -> None:
        self._stream = stream
        self._clock = clock

    def _bounded(self, timeout: float | None, what: type[Exception]) -> float | None:
        ends: float | None = getattr(_local, "ends", None)
        if ends is None:
            return timeout
        left = ends - self._clock()
        if left <= 0:
            raise what("the request's time limit passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, bounded), self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """The default network backend, handing out deadline-bounded streams."""

    def __init__(self, backend: httpcore.NetworkBackend, clock: Callable[[], float]) -> None:
        self._backend = backend
        self._clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream, self._clock)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._backend.connect_unix_socket(path, timeout, socket_options), self._clock
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def transport(clock: Callable[[], float] = time.monotonic) -> httpx.HTTPTransport:
    """httpx's transport with deadline-bounded sockets (its pool's network backend wrapped).

    httpx takes no network backend, so the pool's is replaced; a test fails if a new httpx
    moves it (tests/test_deadline.py, a server that trickles its headers).
    """
    http = httpx.HTTPTransport()
    pool = getattr(http, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _Backend(backend, clock)  # type: ignore[union-attr]
    return http


@contextmanager
def deadline_until(ends: float) -> Iterator[None]:
    """Bound every socket read and write in this thread by `ends` (on the transport's clock)."""
    previous = getattr(_local, "ends", None)
    _local.ends = ends if previous is None else min(previous, ends)
    try:
        yield
    finally:
        _local.ends = previous


# What the cache's transport (cache.py) says about an answer, read without importing it
# (hishel and sqlite3): a client without a cache never needs them.
JSON_EXTENSION = "trialfinder.json"  # a cached answer's body, already parsed


def cached_json(response: httpx.Response) -> tuple[bool, Any]:
    """(whether the answer came from the on-disk cache, its parsed body if so)."""
    status = response.extensions.get("caching") or {}
    return bool(status.get("from_cache")), response.extensions.get(JSON_EXTENSION)
