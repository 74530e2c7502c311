"""A request as recorded, an answer, the HTTP errors validation raises, and injected faults."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

import msgspec

_JSON: Final = "application/json"
_TEXT: Final = "text/plain"


@dataclass
class RecordedRequest:
    """One request the fake received.

    `params` is the decoded query (the last value when a key repeats, which the fake answers
    with 400); `headers` have lower-case names; `time` is `time.monotonic()` on arrival;
    `status` is the status sent, None while pending or when the connection was dropped;
    `unapplied` maps each parameter accepted but not applied to the reason.
    """

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    time: float
    query: str = ""
    status: int | None = None
    unapplied: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str = _TEXT
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def text(cls, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> _Response:
        return cls(status, message.encode("utf-8"), _TEXT, tuple(headers))

    @classmethod
    def json(cls, payload: object) -> _Response:
        # msgspec writes the same JSON ten times faster than json.dumps: on the benchmark's two
        # cores the fake's own encoding (0.24 s a full page) would compete with the client.
        return cls(200, msgspec.json.encode(payload), _JSON)


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.response = _Response.text(status, message)


def _bad(message: str) -> _HttpError:
    return _HttpError(400, message)


@dataclass
class _Fault:
    status: int | None  # None: drop the connection
    retry_after: str | None = None
    body: str | None = None
    # Seconds between body bytes: the real answer, its headers at once, then one byte at a time.
    trickle: float | None = None
    trickle_headers: bool = False  # trickle the status line and headers too

    def response(self) -> _Response:
        assert self.status is not None
        headers = [("Retry-After", self.retry_after)] if self.retry_after is not None else []
        body = self.body if self.body is not None else _reason(self.status)
        return _Response.text(self.status, body, headers)


@dataclass
class _PageFault:
    page_number: int
    remaining: int
    fault: _Fault


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _send_slowly(
    handler: Any,
    response: _Response,
    interval: float,
    stopping: threading.Event,
    *,
    headers_too: bool = False,
) -> None:
    """Send the headers at once, then the body one byte every `interval` seconds (a trickle);
    with `headers_too`, the status line and headers come a byte at a time as well."""
    head = (
        f"HTTP/1.1 {response.status} {_reason(response.status)}\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        # The connection is closed after a trickle: said, so that no client sends another
        # request on it (one that did could meet the close before its answer).
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    try:
        if not headers_too:
            handler.wfile.write(head)
            handler.wfile.flush()
        for byte in (head if headers_too else b"") + response.body:
            if stopping.wait(interval):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
    except OSError:
        return
