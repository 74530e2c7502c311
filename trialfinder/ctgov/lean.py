"""Saved pages (and the website's JSON downloads) decoded lean: only the record pieces a
`Study` is made from.

Most of a full record is what no study reads: the results, outcomes and references, the
detailed description, the derived section's other modules, and (unless the search reads
them) the sites, which are then only counted. msgspec decodes the modules and fields
`records.parse_study` reads, by type, and skips the rest in C without making a Python object
of it: a saved page of 1,000 full records decodes in a third of the time. The page is first
split into its studies' JSON (`msgspec.Raw`, views of the file's bytes), and each is decoded
when its turn comes, so that one study's objects are alive at a time, not a page's (some
20 MB). What comes back is the same raw study dicts, holding only those pieces, so the one
parser reads them as it reads anything else.

A file that is not a page of this shape, or holds a read piece of another type (a module
that is not an object) or bytes that are not UTF-8 in one, is not read here (`NotLean`,
raised when the study that shows it comes): the caller decodes it whole, which names what is
wrong with it exactly as before. What is skipped is not checked: an odd value (or a stray
byte) inside the results section does not stop a search that never reads it, as it would not
when the API is asked for some fields only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

__all__ = ["NotLean", "lean_studies"]

_Module = dict[str, Any] | UnsetType


class _Unread(Struct):
    """A site not read (no fields: all of it is skipped); it must still be an object."""


class _Contacts(Struct):
    centralContacts: Any = UNSET
    overallOfficials: Any = UNSET
    locations: Any = UNSET


class _CountedContacts(Struct):
    centralContacts: Any = UNSET
    overallOfficials: Any = UNSET
    locations: list[_Unread] | UnsetType = UNSET


class _Description(Struct):
    briefSummary: Any = UNSET  # not detailedDescription, often the longest text of all


class _Browse(Struct):
    meshes: Any = UNSET  # not browseLeaves and browseBranches (records._mesh)
    ancestors: Any = UNSET


class _Derived(Struct):
    conditionBrowseModule: _Browse | UnsetType = UNSET
    interventionBrowseModule: _Browse | UnsetType = UNSET


def _protocol(contacts: type[Struct]) -> type[Struct]:
    fields: list[tuple[str, Any, Any]] = [
        (name, _Module, UNSET)
        for name in (
            "identificationModule",
            "statusModule",
            "designModule",
            "eligibilityModule",
            "armsInterventionsModule",
            "sponsorCollaboratorsModule",
            "conditionsModule",
        )
    ]
    fields += [
        ("contactsLocationsModule", contacts | UnsetType, UNSET),
        ("descriptionModule", _Description | UnsetType, UNSET),
    ]
    return msgspec.defstruct(f"_Protocol{contacts.__name__}", fields)


def _study_decoder(contacts: type[Struct]) -> msgspec.json.Decoder[Any]:
    protocol = _protocol(contacts)
    study = msgspec.defstruct(
        f"_Study{contacts.__name__}",
        [
            ("protocolSection", protocol | UnsetType, UNSET),
            ("derivedSection", _Derived | UnsetType, UNSET),
        ],
    )
    return msgspec.json.Decoder(study)


class _Page(Struct):
    studies: list[msgspec.Raw]


_PAGE = msgspec.json.Decoder(_Page)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])  # the website's JSON download
_WITH_SITES = _study_decoder(_Contacts)
_COUNTED = _study_decoder(_CountedContacts)
_BOM = b"\xef\xbb\xbf"


class NotLean(Exception):
    """The file does not decode lean: decode it whole."""


def _as_dict(value: Any) -> Any:
    """A decoded struct -> the dict of its fields that were present (nested ones too)."""
    if not isinstance(value, Struct):
        return value
    out = {}
    for name in value.__struct_fields__:
        item = getattr(value, name)
        if item is UNSET:
            continue
        if name == "locations" and isinstance(value, _CountedContacts):
            item = [{}] * len(item)  # counted, not read: records.UnreadSites
        out[name] = _as_dict(item)
    return out


def lean_studies(data: bytes, *, sites: bool) -> Iterator[dict[str, Any]]:
    """The study objects of a saved /studies page (or JSON array of studies), one at a time,
    with only the pieces a Study is made from (with `sites`, their sites too; else a
    placeholder per site). Raises NotLean, at once or when the study that shows it comes,
    for a file to decode whole."""
    body = data[3:] if data.startswith(_BOM) else data
    try:
        studies = _PAGE.decode(body).studies
    except msgspec.DecodeError:
        try:
            studies = _ARRAY.decode(body)
        except msgspec.DecodeError:
            raise NotLean from None
    return _each(studies, _WITH_SITES if sites else _COUNTED)


def _each(studies: list[msgspec.Raw], decoder: msgspec.json.Decoder[Any]) -> Iterator[Any]:
    for number, raw in enumerate(studies):
        studies[number] = _DONE  # this study's bytes are not needed again
        try:
            yield _as_dict(decoder.decode(raw))
        except msgspec.DecodeError:
            raise NotLean from None


_DONE = msgspec.Raw()
