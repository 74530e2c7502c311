"""One /studies page: its paging fields read at once, its studies kept as the JSON bytes they
came in until something reads them.

A full page is some 20 MB of JSON. Paging needs only the page's token and count, and slicing
only its studies' last-update dates, so those are read on their own (msgspec reads typed
fields and skips the rest in C, about 15 ms a page); the studies are decoded where they are
worked on: in a worker process (`ctgov.cores`), or here on first use of `Page.studies`. A body
that is not of the usual shape is left to the caller, which decodes it whole and says what is
wrong with it.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

__all__ = ["Page", "decode_json", "read_page"]


class _Head(msgspec.Struct):
    studies: msgspec.Raw = msgspec.Raw()
    nextPageToken: str | None = None  # the API's names
    totalCount: int | None = None


class _Date(msgspec.Struct):
    date: Any = None


class _Status(msgspec.Struct):
    lastUpdatePostDateStruct: _Date | None = None


class _Protocol(msgspec.Struct):
    statusModule: _Status | None = None


class _Dated(msgspec.Struct):
    protocolSection: _Protocol | None = None


_DATED = msgspec.json.Decoder(list[_Dated])
_HEAD = msgspec.json.Decoder(_Head)


def decode_json(data: bytes | str) -> Any:
    """JSON bytes -> Python values (msgspec, twice as fast as `json`; what only `json` reads,
    such as NaN, is read by it)."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


class Page:
    """One /studies page as the API sent it: `studies` (decoded on first use), the token of
    the next page, the total count (page 1 only) and the page's number in its search."""

    __slots__ = ("_json", "_studies", "next_token", "number", "total")

    def __init__(
        self,
        studies: list[Any] | None = None,
        next_token: str | None = None,
        total: int | None = None,
        number: int = 1,
        *,
        studies_json: bytes | None = None,
    ) -> None:
        if studies is None and studies_json is None:
            studies = []
        self._studies = studies
        self._json = studies_json if studies is None else None
        self.next_token = next_token
        self.total = total
        self.number = number

    @property
    def studies(self) -> list[Any]:
        """The page's raw study objects (decoded now if still JSON)."""
        if self._studies is None:
            assert self._json is not None
            decoded = decode_json(self._json)
            self._studies = decoded if isinstance(decoded, list) else [decoded]
            self._json = None
        return self._studies

    def studies_json(self) -> bytes | None:
        """The studies' JSON array as it came, or None once decoded."""
        return self._json if self._studies is None else None

    def update_dates(self) -> list[Any]:
        """Each study's last-update date value, in order (None where it has none)."""
        if self._studies is None and self._json is not None:
            try:
                return [_date_of(d) for d in _DATED.decode(self._json)]
            except msgspec.DecodeError:
                pass  # an odd shape somewhere: read it whole
        return [_raw_date(s) for s in self.studies]

    def __len__(self) -> int:
        """How many studies the page holds."""
        return len(self.studies) if self._studies is not None else len(self.update_dates())


def _date_of(dated: _Dated) -> Any:
    status = dated.protocolSection.statusModule if dated.protocolSection else None
    when = status.lastUpdatePostDateStruct if status else None
    return when.date if when else None


def _raw_date(raw: Any) -> Any:
    try:
        return raw["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    except (KeyError, TypeError, IndexError):
        return None


def read_page(content: bytes, number: int) -> Page | None:
    """A /studies page body -> its Page with the studies left as JSON; None when the body is
    not an object with a `studies` array and well-typed paging fields."""
    try:
        head = _HEAD.decode(content)
    except msgspec.DecodeError:
        return None
    studies = bytes(head.studies)
    if not studies.startswith(b"["):
        return None
    return Page(None, head.nextPageToken or None, head.totalCount, number, studies_json=studies)
