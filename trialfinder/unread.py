"""Which optional pieces of a record are read (`Reading`), and markers for those that were
not, or were let go: each stands where the piece would be, and reading through it raises, so
that a record read for one search is never taken, by what reads it later, for one that has
none of that piece.

`records.parse_study` puts `UnreadSites` (the sites counted, not read) and `UNREAD_TERMS`
(the MeSH terms) where it was asked to skip them; `Study.without_long_texts` puts
`UNREAD_TEXT` for the long texts. Each survives pickling (the two singletons as themselves,
`UnreadSites` as an equal count): worker processes send records back (`ctgov.cores`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["READ_ALL", "UNREAD_TERMS", "UNREAD_TEXT", "Reading", "UnreadSites"]


@dataclass(frozen=True)
class Reading:
    """Which of a record's optional pieces `parse_study` reads (see its arguments): every
    string (`text`), the sites (else counted), the MeSH terms (else `UNREAD_TERMS`)."""

    text: bool = False
    sites: bool = True
    mesh: bool = True

    def covers(self, wanted: Reading) -> bool:
        """Whether records read so have every piece `wanted` reads."""
        return (
            (self.text or not wanted.text)
            and (self.sites or not wanted.sites)
            and (self.mesh or not wanted.mesh)
        )


READ_ALL = Reading()  # every piece but `Study.text`: what a record is read with by default


class UnreadSites(tuple[Any, ...]):
    """A record's sites counted, not read (`parse_study(sites=False)`); reading one raises."""

    number: int

    def __new__(cls, number: int) -> UnreadSites:
        unread = super().__new__(cls, ())
        unread.number = number
        return unread

    def __len__(self) -> int:
        return self.number

    def _unread(self, *_: object) -> Iterator[Any]:
        raise RuntimeError(f"the {self.number} site(s) of this record were not read")

    __iter__ = __getitem__ = __contains__ = _unread  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnreadSites) and other.number == self.number

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((UnreadSites, self.number))

    def __reduce__(self) -> tuple[type[UnreadSites], tuple[int]]:
        return UnreadSites, (self.number,)


class _UnreadText(str):
    """The text of a record made `without_long_texts`: empty, so that `Study.need_long_texts`
    can tell it by identity."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "UNREAD_TEXT"


UNREAD_TEXT = _UnreadText()


class _UnreadTerms(tuple[str, ...]):
    """A record's MeSH terms, not read (`parse_study(mesh=False)`): reading them raises; equal
    only to itself (a record with no terms has ())."""

    __slots__ = ()

    def _unread(self, *_: object) -> Iterator[str]:
        raise RuntimeError("the MeSH terms of this record were not read")

    __iter__ = __getitem__ = __contains__ = _unread  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return "UNREAD_TERMS"

    def __reduce__(self) -> str:
        return "UNREAD_TERMS"


UNREAD_TERMS = _UnreadTerms()
