"""Raw API v2 study JSON -> frozen `Study` and `Site` records, parsed once, in this one place.

Every other module reads these records, never the raw JSON. Any module of a record may be
missing (a `fields=` request, or an old record): missing text becomes "" (or None where the
difference matters), missing lists become (). Text is made safe here, once: short values are
folded to one line without control characters or terminal escapes, long ones (descriptions,
eligibility criteria) keep their line breaks. Enum values (status, phase, type, sex) are kept
as the API sent them, even unknown ones (pitfall 7 in docs/ctgov-api.md covers dates and ages).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from sys import intern
from typing import Any, TypeGuard, TypeVar

from trialfinder.errors import RecordError
from trialfinder.text import (
    all_strings,
    clean_block,
    clean_line,
    strip_controls,
    unescape_markdown,
)
from trialfinder.unread import READ_ALL, UNREAD_TERMS, UNREAD_TEXT, Reading, UnreadSites
from trialfinder.values import clean_date, parse_age_years

__all__ = [
    "READ_ALL",
    "STUDY_URL",
    "UNREAD_TERMS",
    "UNREAD_TEXT",
    "Contact",
    "Intervention",
    "Official",
    "Reading",
    "RecordError",
    "Site",
    "Study",
    "UnreadSites",
    "nct_id_of",
    "parse_study",
]

STUDY_URL = "https://clinicaltrials.gov/study/{}"

_Record = TypeVar("_Record")


def _pickled_by_fields(cls: type[_Record]) -> type[_Record]:
    """Pickle a record as its class and field values, in order: a third quicker to load
    than the default for slotted classes, which matters when worker processes send back
    thousands of studies (`ctgov.cores`)."""
    values = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def reduce(self: _Record) -> tuple[type[_Record], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Contact:
    """A person or team to call: any part may be empty."""

    name: str = ""
    phone: str = ""
    phone_ext: str = ""
    email: str = ""

    def line(self) -> str:
        """'name; phone ext N; email' with the empty parts left out."""
        phone = (
            f"{self.phone} ext {self.phone_ext}" if self.phone and self.phone_ext else self.phone
        )
        return "; ".join(p for p in (self.name, phone, self.email) if p)


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Official:
    """An overall official of the study (principal investigator, chair, ...)."""

    name: str = ""
    role: str = ""
    affiliation: str = ""

    def line(self) -> str:
        """'name; role; affiliation' with the empty parts left out."""
        return "; ".join(p for p in (self.name, self.role, self.affiliation) if p)


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Site:
    """One location of a study, with its own recruitment status (which may be missing)."""

    facility: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    status: str | None = None
    lat: float | None = None
    lon: float | None = None
    contacts: tuple[Contact, ...] = ()

    @property
    def contact(self) -> str:
        """The site's first contact as one line ("" when none)."""
        return self.contacts[0].line() if self.contacts else ""


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Intervention:
    """One intervention: its type (API enum), name, other names and description."""

    type: str | None = None
    name: str = ""
    other_names: tuple[str, ...] = ()
    description: str = ""


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Study:
    """One study as trialfinder reads it: only what the output, filters and classifiers use."""

    nct_id: str
    brief_title: str = ""
    official_title: str = ""
    acronym: str = ""
    status: str | None = None
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    arm_intervention_names: tuple[str, ...] = ()
    sponsor: str | None = None
    collaborators: tuple[str, ...] = ()
    start_date: str | None = None
    last_update: str | None = None
    min_age: str | None = None
    max_age: str | None = None
    sex: str | None = None
    enrollment: int | None = None
    central_contacts: tuple[Contact, ...] = ()
    officials: tuple[Official, ...] = ()
    sites: tuple[Site, ...] = ()
    brief_summary: str = ""
    # Verbatim but for control characters and terminal escapes, so that the classifier's
    # evidence is a part of the text as it is shown; None when the record has no criteria.
    eligibility_criteria: str | None = None
    condition_mesh: tuple[str, ...] = ()
    intervention_mesh: tuple[str, ...] = ()
    # Every string value of the raw record, joined: only kept when asked for (saved data
    # matched locally against query.term); "" otherwise.
    text: str = ""

    @property
    def title(self) -> str:
        """The brief title, else the official title."""
        return self.brief_title or self.official_title

    @property
    def url(self) -> str:
        """The study's page on ClinicalTrials.gov."""
        return STUDY_URL.format(self.nct_id)

    @property
    def min_age_years(self) -> float:
        """The minimum age in years (0 when there is none)."""
        return parse_age_years(self.min_age) or 0.0

    @property
    def max_age_years(self) -> float | None:
        """The maximum age in years (None when there is none)."""
        return parse_age_years(self.max_age)

    @property
    def central_contact(self) -> str:
        """The first central contact as one line ("" when none)."""
        return self.central_contacts[0].line() if self.central_contacts else ""

    def without_long_texts(self) -> Study:
        """This record without its long texts (criteria, summary, intervention descriptions;
        half its memory), for a search that has classified it and shows none of them: each is
        `UNREAD_TEXT`, and what reads them (`need_long_texts`) refuses the record."""
        # Made from its values in order: half the time of `dataclasses.replace` (a search of
        # 20,000 studies makes as many).
        values = list(_study_values(self))
        values[_SUMMARY] = values[_CRITERIA] = UNREAD_TEXT
        values[_INTERVENTIONS] = tuple(
            Intervention(i.type, i.name, i.other_names, UNREAD_TEXT) for i in self.interventions
        )
        return Study(*values)

    def need_long_texts(self) -> None:
        """Raise unless this record still has its long texts (`without_long_texts`)."""
        if self.brief_summary is UNREAD_TEXT:
            raise RuntimeError(f"the long texts of {self.nct_id} were let go once classified")


_STUDY_FIELDS = [f.name for f in fields(Study)]
_study_values = attrgetter(*_STUDY_FIELDS)
_SUMMARY, _CRITERIA, _INTERVENTIONS = (
    _STUDY_FIELDS.index(name) for name in ("brief_summary", "eligibility_criteria", "interventions")
)


# -- small parsers ---------------------------------------------------------------------------


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), without the ABC check for the dicts JSON decodes to."""
    return type(value) is dict or isinstance(value, Mapping)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not _is_map(obj):
            return None
        obj = obj.get(key)
    return obj


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _list(value) if _is_map(v)]


def _strings(value: Any) -> tuple[str, ...]:
    """The strings of a value that may be a string or a list, each folded to one clean line."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(clean_line(v) for v in items if isinstance(v, str))


def _enum(value: Any) -> str | None:
    # A value of a small vocabulary (statuses, ages, dates, MeSH terms) is one shared object:
    # thousands of records then hold one copy, and a batch of them pickles it once.
    return intern(value) if isinstance(value, str) and value else None


def _float(value: Any) -> float | None:
    try:
        number = value if type(value) is float else float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _contact(raw: Mapping[str, Any]) -> Contact:
    return Contact(
        name=clean_line(raw.get("name")),
        phone=clean_line(raw.get("phone")),
        phone_ext=clean_line(raw.get("phoneExt")),
        email=clean_line(raw.get("email")),
    )


def _site(raw: Mapping[str, Any]) -> Site:
    point = raw.get("geoPoint")
    geo: Mapping[str, Any] = point if _is_map(point) else {}
    return Site(
        facility=clean_line(raw.get("facility")),
        city=clean_line(raw.get("city")),
        state=clean_line(raw.get("state")),
        zip=clean_line(raw.get("zip")),
        country=clean_line(raw.get("country")),
        status=_enum(raw.get("status")),
        lat=_float(geo.get("lat")),
        lon=_float(geo.get("lon")),
        contacts=tuple(_contact(c) for c in _dicts(raw.get("contacts"))),
    )


def _intervention(raw: Mapping[str, Any]) -> Intervention:
    description = raw.get("description")
    return Intervention(
        type=_enum(raw.get("type")),
        name=clean_line(raw.get("name")) if isinstance(raw.get("name"), str) else "",
        other_names=_strings(raw.get("otherNames")),
        description=unescape_markdown(strip_controls(description))
        if isinstance(description, str)
        else "",
    )


def _mesh(derived: Mapping[str, Any], module: str) -> tuple[str, ...]:
    # Only the study's own MeSH terms and their ancestors: browse leaves include terms the
    # registry marks as of low relevance, which would make saved-data searches too wide.
    terms: list[str] = []
    for key in ("meshes", "ancestors"):
        for item in _dicts(_get(derived, module, key)):
            for value in (item.get("term"), item.get("name")):  # _strings of each, inline
                if type(value) is str:
                    terms.append(intern(clean_line(value)))
                elif value is not None:
                    terms += map(intern, _strings(value))
    return tuple(terms)


def nct_id_of(raw: Any) -> str | None:
    """The NCT id of a raw study object, or None when it has none."""
    value = _get(raw, "protocolSection", "identificationModule", "nctId")
    return str(value) if value else None


def _check_shape(raw: Mapping[str, Any], nct: str) -> None:
    for section in ("protocolSection", "derivedSection"):
        modules = raw.get(section, {})
        if not _is_map(modules):
            raise RecordError(f"study {nct} is malformed ({section} is not an object)")
        for key, value in modules.items():
            if not _is_map(value):
                raise RecordError(f"study {nct} is malformed ({section}.{key} is not an object)")


def parse_study(
    raw: Any, *, keep_text: bool = False, sites: bool = True, mesh: bool = True
) -> Study:
    """One raw API v2 study object -> a `Study` (raises RecordError for a non-study).

    `keep_text` keeps every string of the record in `Study.text`, for matching saved data
    against free text locally. Without `sites`, the sites are counted, not read (a study's
    largest part; `UnreadSites`); without `mesh`, the MeSH terms are not (`UNREAD_TERMS`:
    only condition and intervention queries read them).
    """
    if not isinstance(raw, Mapping):
        raise RecordError(f"not a study object but {type(raw).__name__}")
    nct = nct_id_of(raw)
    if not nct:
        raise RecordError("not a study (it has no nctId)")
    _check_shape(raw, nct)
    ps: Mapping[str, Any] = raw.get("protocolSection") or {}
    ident = ps.get("identificationModule") or {}
    status = ps.get("statusModule") or {}
    design = ps.get("designModule") or {}
    elig = ps.get("eligibilityModule") or {}
    arms = ps.get("armsInterventionsModule") or {}
    contacts = ps.get("contactsLocationsModule") or {}
    sponsors = ps.get("sponsorCollaboratorsModule") or {}
    conditions = ps.get("conditionsModule") or {}
    enrollment = _get(design, "enrollmentInfo", "count")
    criteria = elig.get("eligibilityCriteria")
    locations = _dicts(contacts.get("locations"))
    derived: Mapping[str, Any] = raw.get("derivedSection") or {}
    return Study(
        nct_id=nct,
        brief_title=clean_line(ident.get("briefTitle")),
        official_title=clean_line(ident.get("officialTitle")),
        acronym=clean_line(ident.get("acronym")),
        status=_enum(status.get("overallStatus")),
        phases=tuple(intern(str(p)) for p in _list(design.get("phases"))),
        study_type=_enum(design.get("studyType")),
        conditions=tuple(clean_line(c) for c in _list(conditions.get("conditions"))),
        keywords=_strings(conditions.get("keywords")),
        interventions=tuple(_intervention(i) for i in _dicts(arms.get("interventions"))),
        arm_intervention_names=tuple(
            n for g in _dicts(arms.get("armGroups")) for n in _strings(g.get("interventionNames"))
        ),
        sponsor=clean_line(_get(sponsors, "leadSponsor", "name")) or None,
        collaborators=tuple(
            n for c in _dicts(sponsors.get("collaborators")) for n in _strings(c.get("name"))
        ),
        start_date=_enum(clean_date(_get(status, "startDateStruct", "date"))),
        last_update=_enum(clean_date(_get(status, "lastUpdatePostDateStruct", "date"))),
        min_age=_enum(clean_line(elig.get("minimumAge"))),
        max_age=_enum(clean_line(elig.get("maximumAge"))),
        sex=_enum(elig.get("sex")),
        enrollment=int(enrollment)
        if isinstance(enrollment, (int, float))
        and not isinstance(enrollment, bool)
        and math.isfinite(enrollment)
        else None,
        central_contacts=tuple(_contact(c) for c in _dicts(contacts.get("centralContacts"))),
        officials=tuple(
            Official(
                clean_line(o.get("name")),
                clean_line(o.get("role")),
                clean_line(o.get("affiliation")),
            )
            for o in _dicts(contacts.get("overallOfficials"))
        ),
        sites=tuple(map(_site, locations)) if sites else UnreadSites(len(locations)),
        brief_summary=unescape_markdown(clean_block(_get(ps, "descriptionModule", "briefSummary"))),
        eligibility_criteria=unescape_markdown(strip_controls(criteria))
        if isinstance(criteria, str)
        else None,
        condition_mesh=_mesh(derived, "conditionBrowseModule") if mesh else UNREAD_TERMS,
        intervention_mesh=_mesh(derived, "interventionBrowseModule") if mesh else UNREAD_TERMS,
        text=" | ".join(all_strings(raw)) if keep_text else "",
    )
