"""Saved pages (and the website's JSON downloads) decoded lean: only the record pieces a
`Study` is made from.

Most of a full record is what no study reads: the results, outcomes and references, the
detailed description, the derived section's other modules, the fields of the read modules
that no study holds (organisation, other dates, arm descriptions, ...), and (unless the
search reads them) the sites, which are then only counted. msgspec decodes each study into
typed dicts (`TypedDict`) naming the objects and fields `records.parse_study` reads, and
skips the rest in C without making a Python object of it: a saved page of 1,000 full records
decodes in a quarter of the time. What comes back is plain dicts holding only those pieces,
so the one parser reads them as it reads anything else. The page is first split into its
studies' JSON (`msgspec.Raw`, views of the file's bytes), and each is decoded when its turn
comes, so that one study's objects are alive at a time, not a page's (some 17 MB).

A file that is not a page of this shape, or holds a read piece of another type (a module or
an inner object that is not an object, a list of objects that is not a list of them) or bytes
that are not UTF-8 in one, is not read here (`NotLean`, raised when the study that shows it
comes): the caller decodes it whole, which reads it as leniently, and names what is wrong
with it exactly, as before. What is skipped is not checked: an odd value (or a stray byte)
inside the results section does not stop a search that never reads it, as it would not
when the API is asked for some fields only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypedDict

import msgspec

__all__ = ["NotLean", "lean_studies"]

# The pieces `records.parse_study` reads, as typed dicts msgspec decodes straight into plain
# dicts: a field not named here is skipped in C; a named one typed `Any` is taken as it is
# (the parser checks its type). Each must name every key the parser reads from that object.


class _Date(TypedDict, total=False):
    date: Any


class _Identification(TypedDict, total=False):
    nctId: Any
    briefTitle: Any
    officialTitle: Any
    acronym: Any


class _Status(TypedDict, total=False):
    overallStatus: Any
    startDateStruct: _Date
    lastUpdatePostDateStruct: _Date


class _Enrollment(TypedDict, total=False):
    count: Any


class _Design(TypedDict, total=False):
    phases: Any
    studyType: Any
    enrollmentInfo: _Enrollment


class _Eligibility(TypedDict, total=False):
    eligibilityCriteria: Any
    minimumAge: Any
    maximumAge: Any
    sex: Any


class _Arm(TypedDict, total=False):
    interventionNames: Any


class _Intervention(TypedDict, total=False):
    type: Any
    name: Any
    otherNames: Any
    description: Any


class _Arms(TypedDict, total=False):
    armGroups: list[_Arm]
    interventions: list[_Intervention]


class _Named(TypedDict, total=False):
    name: Any


class _Sponsors(TypedDict, total=False):
    leadSponsor: _Named
    collaborators: list[_Named]


class _Conditions(TypedDict, total=False):
    conditions: Any
    keywords: Any


class _Contact(TypedDict, total=False):
    name: Any
    phone: Any
    phoneExt: Any
    email: Any


class _Official(TypedDict, total=False):
    name: Any
    role: Any
    affiliation: Any


class _Point(TypedDict, total=False):
    lat: Any
    lon: Any


class _Site(TypedDict, total=False):
    facility: Any
    city: Any
    state: Any
    zip: Any
    country: Any
    status: Any
    geoPoint: _Point
    contacts: list[_Contact]


class _Unread(TypedDict, total=False):
    """A site not read (no fields: all of it is skipped); it must still be an object."""


class _Contacts(TypedDict, total=False):
    centralContacts: list[_Contact]
    overallOfficials: list[_Official]
    locations: list[_Site]


class _CountedContacts(TypedDict, total=False):
    centralContacts: list[_Contact]
    overallOfficials: list[_Official]
    locations: list[_Unread]  # counted, not read: records.UnreadSites


class _Description(TypedDict, total=False):
    briefSummary: Any  # not detailedDescription, often the longest text of all


class _Term(TypedDict, total=False):
    term: Any
    name: Any


class _Browse(TypedDict, total=False):
    meshes: list[_Term]  # not browseLeaves and browseBranches (records._mesh)
    ancestors: list[_Term]


class _Derived(TypedDict, total=False):
    conditionBrowseModule: _Browse
    interventionBrowseModule: _Browse


class _Protocol(TypedDict, total=False):
    identificationModule: _Identification
    statusModule: _Status
    designModule: _Design
    eligibilityModule: _Eligibility
    armsInterventionsModule: _Arms
    sponsorCollaboratorsModule: _Sponsors
    conditionsModule: _Conditions
    descriptionModule: _Description


class _ProtocolWithSites(_Protocol, total=False):
    contactsLocationsModule: _Contacts


class _ProtocolCounted(_Protocol, total=False):
    contactsLocationsModule: _CountedContacts


class _StudyWithSites(TypedDict, total=False):
    protocolSection: _ProtocolWithSites
    derivedSection: _Derived


class _StudyCounted(TypedDict, total=False):
    protocolSection: _ProtocolCounted
    derivedSection: _Derived


class _StudyWithSitesNoTerms(TypedDict, total=False):
    protocolSection: _ProtocolWithSites


class _StudyCountedNoTerms(TypedDict, total=False):
    protocolSection: _ProtocolCounted


class _Page(msgspec.Struct):
    studies: list[msgspec.Raw]


_PAGE = msgspec.json.Decoder(_Page)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])  # the website's JSON download
# By (sites, MeSH terms) read.
_STUDY: dict[tuple[bool, bool], msgspec.json.Decoder[Any]] = {
    (True, True): msgspec.json.Decoder(_StudyWithSites),
    (False, True): msgspec.json.Decoder(_StudyCounted),
    (True, False): msgspec.json.Decoder(_StudyWithSitesNoTerms),
    (False, False): msgspec.json.Decoder(_StudyCountedNoTerms),
}
_BOM = b"\xef\xbb\xbf"


class NotLean(Exception):
    """The file does not decode lean: decode it whole."""


def lean_studies(data: bytes, *, sites: bool, mesh: bool = True) -> Iterator[dict[str, Any]]:
    """The study objects of a saved /studies page (or JSON array of studies), one at a time,
    with only the pieces a Study is made from (with `sites`, their sites too, else an empty
    object per site; with `mesh`, the derived section's MeSH terms). Raises NotLean, at once
    or when the study that shows it comes, for a file to decode whole."""
    body = data[3:] if data.startswith(_BOM) else data
    try:
        studies = _PAGE.decode(body).studies
    except msgspec.DecodeError:
        try:
            studies = _ARRAY.decode(body)
        except msgspec.DecodeError:
            raise NotLean from None
    return _each(studies, _STUDY[sites, mesh])


def _each(studies: list[msgspec.Raw], decoder: msgspec.json.Decoder[Any]) -> Iterator[Any]:
    for number, raw in enumerate(studies):
        studies[number] = _DONE  # this study's bytes are not needed again
        try:
            yield decoder.decode(raw)
        except msgspec.DecodeError:
            raise NotLean from None


_DONE = msgspec.Raw()
