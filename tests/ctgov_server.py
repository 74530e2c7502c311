"""A fake ClinicalTrials.gov API v2 on 127.0.0.1 for offline tests (standard library only).

`FakeCtGov` serves studies held in memory under `/api/v2`, following the contract in
`shared/ctgov/spec/ctg-oas-v2.yaml` (API 2.0.5) and the pitfalls in `shared/ctgov/API-NOTES.md`:

    GET /api/v2/studies             search, paged (below)
    GET /api/v2/studies/{nctId}     one study: 200, 301 for an alias, 400 malformed id, 404 unknown
    GET /api/v2/studies/metadata    the field tree the server validates `fields` and `sort` with
    GET /api/v2/version             {"apiVersion": "2.0.5", "dataTimestamp": ...}

Errors are text/plain, JSON is application/json, any other path is a text/plain 404, and the
endpoints the fake leaves out (`/stats/*`, `/studies/enums`, `/studies/search-areas`, csv and
other non-JSON formats) answer 501 so a test never mistakes them for the real thing.

`/studies` accepts only the parameters the spec defines; any other is a 400 worded like the real
API ("`filter.phase` is unknown parameter"), and so is a repeated parameter or a bad value.
Paging follows the spec: `pageSize` 0 means 10 and above 1000 means 1000; `countTotal=true` adds
`totalCount` to the first page only; `nextPageToken` is an opaque, HMAC-signed token bound to the
query, and every later request must repeat every parameter except `pageToken`, `pageSize` and
`countTotal`. A page that is exactly full carries a token even when nothing follows, so the next
page is `{"studies": []}` (pitfall 1 of API-NOTES.md). Without `sort`, studies come in the order
they were added.

Essie subset, used by `query.*`, `filter.advanced` and `postFilter.advanced`:

* terms and "quoted phrases", case-insensitive, matched on whole words (no stemming, synonyms
  or wildcards); adjacent terms are ANDed; `AND`, `OR`, `NOT` and parentheses, with Essie's
  precedence (NOT binds tightest, then AND, then OR);
* `AREA[Piece]term` for any piece in the field tree (enum pieces such as `Phase` or
  `OverallStatus` match whole values: `AREA[Phase]PHASE2`), `AREA[Piece]MISSING`,
  `AREA[Piece]RANGE[lo,hi]` for date, numeric and age pieces (`MIN`/`MAX` allowed; a
  missing MinimumAge counts as 0 and a missing MaximumAge as no limit, other missing values
  never match),
  `AREA[LocationGeoPoint]DISTANCE[lat,lon,25mi]` and `SEARCH[Location](...)` (all terms at the
  same site);
* each `query.*` parameter searches its own area: cond = conditions, keywords and titles;
  titles = titles and acronym; intr = intervention names and other names; spons = lead sponsor
  and collaborators; lead = lead sponsor; locn = site facility, city, state and country;
  outc = outcome measures; id = NCT id, aliases, org and secondary ids; term and patient = the
  whole study. A `query.*` value made only of NCT ids selects those studies and, as the spec
  says, makes the server ignore every filter.

An expression outside this subset (another operator such as `EXPANSION[...]` or `COVERAGE[...]`,
a search area such as `AREA[ConditionSearch]`, wildcards) does not filter at all: the request
is answered as if the parameter were absent and the parameter is listed, with the reason, in
`RecordedRequest.unapplied`. The client is expected to apply its own filters locally, so a
superset is the safe answer. Broken syntax (unbalanced parentheses, brackets or quotes, a
dangling operator) is a 400. `filter.synonyms`, `aggFilters`, `geoDecay` and
`markupFormat=legacy` are likewise validated where the spec gives a pattern, recorded in
`unapplied`, and not applied. `filter.geo` is applied: a study is kept when any site with a
`geoPoint` lies within the distance, whatever that site's status (pitfall 6); a distance without
a unit is taken as miles. `postFilter.*` behave as `filter.*`.

`fields` takes piece names (`NCTId`, `LocationCity`), module or section pieces
(`IdentificationModule`, `ProtocolSection`), dotted JSON paths
(`protocolSection.identificationModule.nctId`) or `@query` (here: the whole study). Names are
case-sensitive. Each study is pruned to the chosen fields with its nesting kept; a leaf inside a
list of objects keeps the list, each element holding only that key, and elements or objects left
empty are dropped.

Faults for client tests: `fail_next` (any status, optional Retry-After and body),
`drop_next` (the connection closes without an answer), `fail_on_page` (the Nth page of a paging
run) and `delay` (seconds before each answer; `stop()` interrupts it).

The field tree comes from `shared/ctgov/spec/studies-metadata.json` when it exists, else from a
copy of its protocol-section part embedded below (`FakeCtGov.metadata_source` says which).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import hmac
import json
import math
import re
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeAlias

__all__ = [
    "API_PREFIX",
    "API_VERSION",
    "DEFAULT_METADATA_PATH",
    "STATUSES",
    "STUDIES_PARAMS",
    "STUDY_PARAMS",
    "FakeCtGov",
    "RecordedRequest",
    "load_record_studies",
    "make_studies",
    "make_study",
    "normalize_nct_id",
]

API_PREFIX: Final = "/api/v2"
API_VERSION: Final = "2.0.5"
DEFAULT_METADATA_PATH: Final = (
    Path(__file__).resolve().parents[2] / "shared" / "ctgov" / "spec" / "studies-metadata.json"
)
DEFAULT_PAGE_SIZE: Final = 10
MAX_PAGE_SIZE: Final = 1000

# components.schemas.Status in the spec.
STATUSES: Final = frozenset(
    {
        "ACTIVE_NOT_RECRUITING",
        "COMPLETED",
        "ENROLLING_BY_INVITATION",
        "NOT_YET_RECRUITING",
        "RECRUITING",
        "SUSPENDED",
        "TERMINATED",
        "WITHDRAWN",
        "AVAILABLE",
        "NO_LONGER_AVAILABLE",
        "TEMPORARILY_NOT_AVAILABLE",
        "APPROVED_FOR_MARKETING",
        "WITHHELD",
        "UNKNOWN",
    }
)

# The parameters of GET /studies (operationId listStudies) and GET /studies/{nctId} (fetchStudy).
STUDIES_PARAMS: Final = frozenset(
    {
        "format",
        "markupFormat",
        "query.cond",
        "query.term",
        "query.locn",
        "query.titles",
        "query.intr",
        "query.outc",
        "query.spons",
        "query.lead",
        "query.id",
        "query.patient",
        "filter.overallStatus",
        "filter.geo",
        "filter.ids",
        "filter.advanced",
        "filter.synonyms",
        "postFilter.overallStatus",
        "postFilter.geo",
        "postFilter.ids",
        "postFilter.advanced",
        "postFilter.synonyms",
        "aggFilters",
        "geoDecay",
        "fields",
        "sort",
        "countTotal",
        "pageSize",
        "pageToken",
    }
)
STUDY_PARAMS: Final = frozenset({"format", "markupFormat", "fields"})
_METADATA_PARAMS: Final = frozenset({"includeIndexedOnly", "includeHistoricOnly"})

# The spec: "Request for each subsequent page must have the same parameters as for the first
# page, except countTotal, pageSize, and pageToken parameters."
_UNBOUND_PARAMS: Final = frozenset({"pageToken", "pageSize", "countTotal"})

# Default search area of each query parameter, as piece names; None is the whole study.
_QUERY_AREAS: Final[Mapping[str, tuple[str, ...] | None]] = {
    "query.cond": ("Condition", "Keyword", "BriefTitle", "OfficialTitle", "Acronym"),
    "query.term": None,
    "query.locn": ("LocationFacility", "LocationCity", "LocationState", "LocationCountry"),
    "query.titles": ("BriefTitle", "OfficialTitle", "Acronym"),
    "query.intr": ("InterventionName", "InterventionOtherName"),
    "query.outc": ("PrimaryOutcomeMeasure", "SecondaryOutcomeMeasure", "OtherOutcomeMeasure"),
    "query.spons": ("LeadSponsorName", "CollaboratorName"),
    "query.lead": ("LeadSponsorName",),
    "query.id": ("NCTId", "NCTIdAlias", "OrgStudyId", "SecondaryId"),
    "query.patient": None,
}

# Patterns copied from the spec's parameter schemas.
_NCT_RE: Final = re.compile(r"^[Nn][Cc][Tt]0*([1-9]\d{0,7})$")
_GEO_RE: Final = re.compile(
    r"^distance\((-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(km|mi)?\)$"
)
_GEO_DECAY_RE: Final = re.compile(
    r"^func:(gauss|exp|linear),scale:(\d+(\.\d+)?(km|mi)),offset:(\d+(\.\d+)?(km|mi)),"
    r"decay:(\d+(\.\d+)?)$"
)
_FIELD_RE: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-. ]*$")
_SORT_RE: Final = re.compile(r"^(@relevance|[a-zA-Z][a-zA-Z0-9\-. ]*)(?::(asc|desc))?$")
_ID_LIST_RE: Final = re.compile(r"^[\s,]*(?:[Nn][Cc][Tt]\d{8}[\s,]*)+$")
_LIST_SPLIT_RE: Final = re.compile(r"[,|]")
_IDS_SPLIT_RE: Final = re.compile(r"[,|\s]+")

_JSON: Final = "application/json"
_TEXT: Final = "text/plain"

# The protocol-section part of studies-metadata.json, used when that file is absent:
# "jsonName PieceName KIND", nesting by two-space indent; KIND is the sourceType, ENUM for
# enums, GEO for the geo point; a trailing [] marks a list.
_EMBEDDED_FIELDS: Final = """\
protocolSection ProtocolSection STRUCT
  identificationModule IdentificationModule STRUCT
    nctId NCTId TEXT
    nctIdAliases NCTIdAlias TEXT[]
    orgStudyIdInfo OrgStudyIdInfo STRUCT
      id OrgStudyId TEXT
      type OrgStudyIdType ENUM
      link OrgStudyIdLink TEXT
    secondaryIdInfos SecondaryIdInfo STRUCT[]
      id SecondaryId TEXT
      type SecondaryIdType ENUM
      domain SecondaryIdDomain TEXT
      link SecondaryIdLink TEXT
    briefTitle BriefTitle TEXT
    officialTitle OfficialTitle TEXT
    acronym Acronym TEXT
    organization Organization STRUCT
      fullName OrgFullName TEXT
      class OrgClass ENUM
  statusModule StatusModule STRUCT
    statusVerifiedDate StatusVerifiedDate DATE
    overallStatus OverallStatus ENUM
    lastKnownStatus LastKnownStatus ENUM
    delayedPosting DelayedPosting BOOLEAN
    whyStopped WhyStopped MARKUP
    expandedAccessInfo ExpandedAccessInfo STRUCT
      hasExpandedAccess HasExpandedAccess TEXT
      nctId ExpandedAccessNCTId TEXT
      statusForNctId ExpandedAccessStatusForNCTId ENUM
    startDateStruct StartDateStruct STRUCT
      date StartDate DATE
      type StartDateType ENUM
    primaryCompletionDateStruct PrimaryCompletionDateStruct STRUCT
      date PrimaryCompletionDate DATE
      type PrimaryCompletionDateType ENUM
    completionDateStruct CompletionDateStruct STRUCT
      date CompletionDate DATE
      type CompletionDateType ENUM
    studyFirstSubmitDate StudyFirstSubmitDate DATE
    studyFirstSubmitQcDate StudyFirstSubmitQCDate DATE
    studyFirstPostDateStruct StudyFirstPostDateStruct STRUCT
      date StudyFirstPostDate DATE
      type StudyFirstPostDateType ENUM
    resultsWaived ResultsWaived BOOLEAN
    resultsFirstSubmitDate ResultsFirstSubmitDate DATE
    resultsFirstSubmitQcDate ResultsFirstSubmitQCDate DATE
    resultsFirstPostDateStruct ResultsFirstPostDateStruct STRUCT
      date ResultsFirstPostDate DATE
      type ResultsFirstPostDateType ENUM
    dispFirstSubmitDate DispFirstSubmitDate DATE
    dispFirstSubmitQcDate DispFirstSubmitQCDate DATE
    dispFirstPostDateStruct DispFirstPostDateStruct STRUCT
      date DispFirstPostDate DATE
      type DispFirstPostDateType ENUM
    lastUpdateSubmitDate LastUpdateSubmitDate DATE
    lastUpdatePostDateStruct LastUpdatePostDateStruct STRUCT
      date LastUpdatePostDate DATE
      type LastUpdatePostDateType ENUM
  sponsorCollaboratorsModule SponsorCollaboratorsModule STRUCT
    responsibleParty ResponsibleParty STRUCT
      type ResponsiblePartyType ENUM
      investigatorFullName ResponsiblePartyInvestigatorFullName TEXT
      investigatorTitle ResponsiblePartyInvestigatorTitle TEXT
      investigatorAffiliation ResponsiblePartyInvestigatorAffiliation TEXT
      oldNameTitle ResponsiblePartyOldNameTitle TEXT
      oldOrganization ResponsiblePartyOldOrganization TEXT
    leadSponsor LeadSponsor STRUCT
      name LeadSponsorName TEXT
      class LeadSponsorClass ENUM
    collaborators Collaborator STRUCT[]
      name CollaboratorName TEXT
      class CollaboratorClass ENUM
  descriptionModule DescriptionModule STRUCT
    briefSummary BriefSummary MARKUP
    detailedDescription DetailedDescription MARKUP
  conditionsModule ConditionsModule STRUCT
    conditions Condition TEXT[]
    keywords Keyword TEXT[]
  designModule DesignModule STRUCT
    studyType StudyType ENUM
    nPtrsToThisExpAccNctId NPtrsToThisExpAccNCTId NUMERIC
    expandedAccessTypes ExpandedAccessTypes STRUCT
      individual ExpAccTypeIndividual BOOLEAN
      intermediate ExpAccTypeIntermediate BOOLEAN
      treatment ExpAccTypeTreatment BOOLEAN
    patientRegistry PatientRegistry BOOLEAN
    targetDuration TargetDuration TIME
    phases Phase ENUM[]
    designInfo DesignInfo STRUCT
      allocation DesignAllocation ENUM
      interventionModel DesignInterventionModel ENUM
      interventionModelDescription DesignInterventionModelDescription MARKUP
      primaryPurpose DesignPrimaryPurpose ENUM
      observationalModel DesignObservationalModel ENUM
      timePerspective DesignTimePerspective ENUM
      maskingInfo DesignMaskingInfo STRUCT
        masking DesignMasking ENUM
        maskingDescription DesignMaskingDescription MARKUP
        whoMasked DesignWhoMasked ENUM[]
    bioSpec BioSpec STRUCT
      retention BioSpecRetention ENUM
      description BioSpecDescription MARKUP
    enrollmentInfo EnrollmentInfo STRUCT
      count EnrollmentCount NUMERIC
      type EnrollmentType ENUM
  armsInterventionsModule ArmsInterventionsModule STRUCT
    armGroups ArmGroup STRUCT[]
      label ArmGroupLabel TEXT
      type ArmGroupType ENUM
      description ArmGroupDescription MARKUP
      interventionNames ArmGroupInterventionName TEXT[]
    interventions Intervention STRUCT[]
      type InterventionType ENUM
      name InterventionName TEXT
      description InterventionDescription MARKUP
      armGroupLabels InterventionArmGroupLabel TEXT[]
      otherNames InterventionOtherName TEXT[]
  outcomesModule OutcomesModule STRUCT
    primaryOutcomes PrimaryOutcome STRUCT[]
      measure PrimaryOutcomeMeasure TEXT
      description PrimaryOutcomeDescription MARKUP
      timeFrame PrimaryOutcomeTimeFrame TEXT
    secondaryOutcomes SecondaryOutcome STRUCT[]
      measure SecondaryOutcomeMeasure TEXT
      description SecondaryOutcomeDescription MARKUP
      timeFrame SecondaryOutcomeTimeFrame TEXT
    otherOutcomes OtherOutcome STRUCT[]
      measure OtherOutcomeMeasure TEXT
      description OtherOutcomeDescription MARKUP
      timeFrame OtherOutcomeTimeFrame TEXT
  eligibilityModule EligibilityModule STRUCT
    eligibilityCriteria EligibilityCriteria MARKUP
    healthyVolunteers HealthyVolunteers BOOLEAN
    sex Sex ENUM
    genderBased GenderBased BOOLEAN
    genderDescription GenderDescription MARKUP
    minimumAge MinimumAge TIME
    maximumAge MaximumAge TIME
    stdAges StdAge ENUM[]
    studyPopulation StudyPopulation MARKUP
    samplingMethod SamplingMethod ENUM
  contactsLocationsModule ContactsLocationsModule STRUCT
    centralContacts CentralContact STRUCT[]
      name CentralContactName TEXT
      role CentralContactRole ENUM
      phone CentralContactPhone TEXT
      phoneExt CentralContactPhoneExt TEXT
      email CentralContactEMail TEXT
    overallOfficials OverallOfficial STRUCT[]
      name OverallOfficialName TEXT
      affiliation OverallOfficialAffiliation TEXT
      role OverallOfficialRole ENUM
    locations Location STRUCT[]
      facility LocationFacility TEXT
      status LocationStatus ENUM
      city LocationCity TEXT
      state LocationState TEXT
      zip LocationZip TEXT
      country LocationCountry TEXT
      contacts LocationContact STRUCT[]
        name LocationContactName TEXT
        role LocationContactRole ENUM
        phone LocationContactPhone TEXT
        phoneExt LocationContactPhoneExt TEXT
        email LocationContactEMail TEXT
      geoPoint LocationGeoPoint GEO
resultsSection ResultsSection STRUCT
annotationSection AnnotationSection STRUCT
documentSection DocumentSection STRUCT
derivedSection DerivedSection STRUCT
hasResults HasResults BOOLEAN"""


# --------------------------------------------------------------------------------------------
# The field tree


@dataclass(frozen=True)
class _Field:
    """One node of the study field tree."""

    path: tuple[str, ...]
    piece: str
    kind: str  # STRUCT, TEXT, MARKUP, ENUM, DATE, NUMERIC, TIME, BOOLEAN, GEO or FUNC
    is_list: bool

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _fields_from_metadata(
    tree: Sequence[Mapping[str, Any]], prefix: tuple[str, ...] = ()
) -> Iterator[_Field]:
    for node in tree:
        path = (*prefix, str(node["name"]))
        source = str(node.get("sourceType", ""))
        type_name = str(node.get("type", ""))
        if source.startswith("FUNC"):
            kind = {"GeoPoint": "GEO", "boolean": "BOOLEAN"}.get(type_name, "FUNC")
        elif node.get("isEnum"):
            kind = "ENUM"
        else:
            kind = source or "TEXT"
        yield _Field(path, str(node["piece"]), kind, type_name.endswith("[]"))
        yield from _fields_from_metadata(node.get("children", ()), path)


def _fields_from_table(table: str) -> Iterator[_Field]:
    stack: list[str] = []
    for line in table.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name, piece, kind = line.split()
        del stack[depth:]
        stack.append(name)
        yield _Field(tuple(stack), piece, kind.removesuffix("[]"), kind.endswith("[]"))


def _tree_from_fields(fields: Iterable[_Field]) -> list[dict[str, Any]]:
    """A minimal /studies/metadata answer built from the embedded table."""
    roots: list[dict[str, Any]] = []
    by_path: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in fields:
        node: dict[str, Any] = {"name": f.path[-1], "piece": f.piece, "sourceType": f.kind}
        if f.is_list:
            node["isList"] = True
        by_path[f.path] = node
        parent = by_path.get(f.path[:-1])
        (parent.setdefault("children", []) if parent else roots).append(node)
    return roots


class _FieldIndex:
    """Piece names and dotted paths of the study field tree."""

    def __init__(self, fields: Iterable[_Field], tree: list[Any]) -> None:
        self.fields = list(fields)
        self.tree = tree
        self.by_piece = {f.piece: f for f in self.fields}
        self.by_path = {f.dotted: f for f in self.fields}

    @classmethod
    def load(cls, path: Path | None) -> tuple[_FieldIndex, Path | None]:
        """The tree from `path`, else from the default file, else the embedded table."""
        candidate = path if path is not None else DEFAULT_METADATA_PATH
        if path is not None or candidate.is_file():
            tree = json.loads(candidate.read_text(encoding="utf-8"))
            return cls(_fields_from_metadata(tree), tree), candidate
        fields = list(_fields_from_table(_EMBEDDED_FIELDS))
        return cls(fields, _tree_from_fields(fields)), None

    def resolve(self, name: str) -> _Field | None:
        """A piece name or a dotted JSON path."""
        return self.by_piece.get(name) or self.by_path.get(name)

    def piece(self, name: str) -> _Field:
        found = self.by_piece.get(name)
        if found is None:
            raise KeyError(f"piece {name!r} is not in the field tree")
        return found


def _collect(value: Any, path: Sequence[str]) -> list[Any]:
    """The values at `path` under `value`, walking through lists; a final list is flattened."""
    if isinstance(value, list):
        return [v for item in value for v in _collect(item, path)]
    if not path:
        return [value]
    if isinstance(value, dict) and path[0] in value:
        return _collect(value[path[0]], path[1:])
    return []


def _leaf_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaf_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaf_strings(v)
    elif value is not None:
        yield str(value)


# --------------------------------------------------------------------------------------------
# Field selection (`fields`)

_Selection: TypeAlias = "dict[str, _Selection | None]"  # None: keep the whole subtree


def _select_paths(paths: Iterable[tuple[str, ...]]) -> _Selection:
    root: _Selection = {}
    for path in paths:
        node: _Selection | None = root
        for i, name in enumerate(path):
            assert node is not None
            if i == len(path) - 1:
                node[name] = None
            elif name in node and node[name] is None:
                break  # an ancestor is already selected whole
            else:
                node = node.setdefault(name, {})
    return root


def _prune(value: Any, selection: _Selection) -> Any:
    """`value` reduced to `selection`; None when nothing is left."""
    if isinstance(value, list):
        items = [_prune(item, selection) for item in value]
        kept = [item for item in items if item is not None]
        return kept or None
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for key, sub in selection.items():
        if key not in value:
            continue
        pruned = value[key] if sub is None else _prune(value[key], sub)
        if pruned is not None:
            out[key] = pruned
    return out or None


def _prune_study(study: Mapping[str, Any], selection: _Selection | None) -> Any:
    if selection is None:
        return study
    return _prune(study, selection) or {}


# --------------------------------------------------------------------------------------------
# Essie


class _EssieSyntaxError(ValueError):
    """An expression the real API would reject."""


class _Unsupported(Exception):
    """Valid Essie, perhaps, but outside the subset this fake implements."""


@dataclass(frozen=True)
class _Term:
    raw: str
    words: str  # normalized: " w1 w2 "


@dataclass(frozen=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    item: _Node


@dataclass(frozen=True)
class _Area:
    field: _Field
    item: _Node


@dataclass(frozen=True)
class _Search:
    field: _Field
    item: _Node


@dataclass(frozen=True)
class _Range:
    low: Any  # None for MIN
    high: Any  # None for MAX


@dataclass(frozen=True)
class _Distance:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class _Missing:
    pass


_Node: TypeAlias = "_Term | _And | _Or | _Not | _Area | _Search | _Range | _Distance | _Missing"


def _words(text: str) -> str:
    """Lower-case words joined by single spaces and framed by spaces, for whole-word matching."""
    return " " + " ".join(re.findall(r"[^\W_]+", text.lower())) + " "


def _enum_key(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def _pad_date(text: str) -> str | None:
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", text.strip())
    if not match:
        return None
    return f"{match.group(1)}-{match.group(2) or '01'}-{match.group(3) or '01'}"


_AGE_UNITS: Final = {
    "minute": 1 / 1440,
    "hour": 1 / 24,
    "day": 1.0,
    "week": 7.0,
    "month": 365.25 / 12,
    "year": 365.25,
}


def _age_days(text: str) -> float | None:
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$", text)
    if not match or match.group(2).lower() not in _AGE_UNITS:
        return None
    return float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]


# A missing age is no limit (API-NOTES pitfall 7); the spec's example
# `AREA[MinimumAge]RANGE[MIN, 16 years] AND AREA[MaximumAge]RANGE[16 years, MAX]` ("a
# 16-year-old is eligible") only reads right when RANGE sees it that way.
_MISSING_AGE: Final[Mapping[str, list[Any]]] = {
    "MinimumAge": ["0 Days"],
    "MaximumAge": ["1000000 Years"],
}


def _scalar(kind: str, value: Any) -> Any:
    """A comparable form of a date, number or age; None when it has none."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    if kind == "DATE":
        return _pad_date(str(value))
    if kind == "NUMERIC":
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "TIME":
        return _age_days(str(value))
    return None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _to_km(amount: str, unit: str | None) -> float:
    return float(amount) * (1.0 if unit == "km" else 1.609344)


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", AND, OR, NOT, OP (value=name, arg), TERM
    value: str = ""
    arg: str = ""


_OPERATOR_RE: Final = re.compile(r"([A-Z]+)\[")
_AREA_OPERANDS: Final = ("RANGE", "DISTANCE", "MISSING")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char))
            i += 1
        elif char == '"':
            out: list[str] = []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise _EssieSyntaxError("unterminated quoted phrase")
            tokens.append(_Token("TERM", "".join(out)))
            i += 1
        elif match := _OPERATOR_RE.match(text, i):
            end = text.find("]", match.end())
            if end < 0:
                raise _EssieSyntaxError(f"missing ] after {match.group(1)}[")
            tokens.append(_Token("OP", match.group(1), text[match.end() : end]))
            i = end + 1
        else:
            out = []
            while i < n and not text[i].isspace() and text[i] not in '()"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            word = "".join(out)
            if word in ("AND", "OR", "NOT"):
                tokens.append(_Token(word))
            elif word == "MISSING":
                tokens.append(_Token("OP", "MISSING"))
            else:
                tokens.append(_Token("TERM", word))
    return tokens


class _EssieParser:
    """Recursive descent over Essie: OR < AND (explicit or implied) < NOT, AREA, SEARCH."""

    def __init__(self, text: str, index: _FieldIndex) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.index = index

    def parse(self) -> _Node:
        if not self.tokens:
            raise _EssieSyntaxError("empty expression")
        node = self._or()
        if self.pos < len(self.tokens):
            raise _EssieSyntaxError(f"unexpected {self.tokens[self.pos].kind}")
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _EssieSyntaxError("unexpected end of expression")
        self.pos += 1
        return token

    def _or(self) -> _Node:
        items = [self._and()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self.pos += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else _Or(tuple(items))

    def _and(self) -> _Node:
        items = [self._unary()]
        while (token := self._peek()) is not None:
            if token.kind == "AND":
                self.pos += 1
            elif token.kind not in ("TERM", "(", "NOT", "OP"):
                break
            items.append(self._unary())
        return items[0] if len(items) == 1 else _And(tuple(items))

    def _unary(self) -> _Node:
        token = self._next()
        if token.kind == "NOT":
            return _Not(self._unary())
        if token.kind == "(":
            node = self._or()
            if self._next().kind != ")":
                raise _EssieSyntaxError("missing )")
            return node
        if token.kind == "TERM":
            return self._term(token.value)
        if token.kind == "OP" and token.value == "AREA":
            return self._area(token.arg.strip())
        if token.kind == "OP" and token.value == "SEARCH":
            target = self.index.resolve(token.arg.strip())
            if target is None or target.kind != "STRUCT" or not target.is_list:
                raise _Unsupported(f"SEARCH[{token.arg}] (only lists of objects, e.g. Location)")
            return _Search(target, self._unary())
        if token.kind == "OP":
            raise _Unsupported(f"the {token.value}[...] operator")
        raise _EssieSyntaxError(f"unexpected {token.kind}")

    def _term(self, raw: str) -> _Term:
        if any(c in raw for c in "*?"):
            raise _Unsupported(f"wildcards ({raw!r})")
        words = _words(raw)
        if not words.strip():
            raise _Unsupported(f"a term without letters or digits ({raw!r})")
        return _Term(raw, words)

    def _area(self, name: str) -> _Node:
        target = self.index.resolve(name)
        if target is None:
            raise _Unsupported(f"AREA[{name}] (search areas and unknown pieces)")
        token = self._peek()
        if token is not None and token.kind == "OP" and token.value in _AREA_OPERANDS:
            self.pos += 1
            if token.value == "MISSING":
                return _Area(target, _Missing())
            if token.value == "RANGE":
                return _Area(target, self._range(target, token.arg))
            return _Area(target, self._distance(target, token.arg))
        return _Area(target, self._unary())

    def _range(self, target: _Field, arg: str) -> _Range:
        if target.kind not in ("DATE", "NUMERIC", "TIME"):
            raise _Unsupported(f"RANGE on {target.piece} ({target.kind})")
        parts = [p.strip() for p in arg.split(",")]
        if len(parts) != 2:
            raise _EssieSyntaxError(f"RANGE[{arg}] needs two bounds")
        bounds: list[Any] = []
        for part, open_end in zip(parts, ("MIN", "MAX"), strict=True):
            if part.upper() == open_end:
                bounds.append(None)
                continue
            value = _scalar(target.kind, part)
            if value is None:
                raise _Unsupported(f"RANGE bound {part!r} for {target.piece}")
            bounds.append(value)
        return _Range(bounds[0], bounds[1])

    def _distance(self, target: _Field, arg: str) -> _Distance:
        if target.kind != "GEO":
            raise _Unsupported(f"DISTANCE on {target.piece}")
        match = re.match(
            r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*(mi|km)?\s*$",
            arg,
        )
        if not match:
            raise _EssieSyntaxError(f"DISTANCE[{arg}] is not lat,lon,distance")
        lat, lon, amount, unit = match.groups()
        return _Distance(float(lat), float(lon), _to_km(amount, unit))


class _StudyView:
    """A study as Essie sees it; under SEARCH[...], one element of a list inside it."""

    def __init__(
        self,
        study: Mapping[str, Any],
        scope: tuple[str, ...] = (),
        element: Mapping[str, Any] | None = None,
    ) -> None:
        self.study = study
        self.scope = scope
        self.element = element
        self._texts: dict[tuple[str, ...] | None, str] = {}

    def values(self, target: _Field) -> list[Any]:
        if self.element is not None and target.path[: len(self.scope)] == self.scope:
            return _collect(self.element, target.path[len(self.scope) :])
        return _collect(self.study, target.path)

    def text(self, area: tuple[_Field, ...] | None) -> str:
        key = None if area is None else tuple(f.piece for f in area)
        if key not in self._texts:
            if area is None:
                root: Any = self.study if self.element is None else self.element
                strings = list(_leaf_strings(root))
            else:
                strings = [s for f in area for s in _leaf_strings(self.values(f))]
            # A NUL between values keeps a phrase from matching across two of them.
            self._texts[key] = " " + " \0 ".join(_words(s).strip() for s in strings) + " "
        return self._texts[key]

    def scoped(self, target: _Field, element: Mapping[str, Any]) -> _StudyView:
        return _StudyView(self.study, target.path, element)


def _matches(node: _Node, view: _StudyView, area: tuple[_Field, ...] | None) -> bool:
    if isinstance(node, _Term):
        if area is not None and len(area) == 1 and area[0].kind == "ENUM":
            wanted = _enum_key(node.raw)
            return any(_enum_key(str(v)) == wanted for v in view.values(area[0]))
        return node.words in view.text(area)
    if isinstance(node, _And):
        return all(_matches(item, view, area) for item in node.items)
    if isinstance(node, _Or):
        return any(_matches(item, view, area) for item in node.items)
    if isinstance(node, _Not):
        return not _matches(node.item, view, area)
    if isinstance(node, _Area):
        return _matches(node.item, view, (node.field,))
    if isinstance(node, _Search):
        return any(
            _matches(node.item, view.scoped(node.field, element), None)
            for element in view.values(node.field)
            if isinstance(element, dict)
        )
    assert area is not None and len(area) == 1, "RANGE, DISTANCE and MISSING follow AREA[...]"
    target = area[0]
    if isinstance(node, _Missing):
        return not view.values(target)
    if isinstance(node, _Range):
        raws = view.values(target) or _MISSING_AGE.get(target.piece, [])
        for raw in raws:
            value = _scalar(target.kind, raw)
            if value is None:
                continue
            above = node.low is None or value >= node.low
            if above and (node.high is None or value <= node.high):
                return True
        return False
    return any(_geo_within(point, node.lat, node.lon, node.km) for point in view.values(target))


def _geo_within(point: Any, lat: float, lon: float, km: float) -> bool:
    if not isinstance(point, dict):
        return False
    try:
        return _distance_km(lat, lon, float(point["lat"]), float(point["lon"])) <= km
    except (KeyError, TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Studies


def normalize_nct_id(value: str) -> str | None:
    """`value` as NCT + 8 digits when it matches the spec's pattern (`nct1234` too), else None."""
    match = _NCT_RE.match(value)
    return f"NCT{int(match.group(1)):08d}" if match else None


def _nct_of(study: Mapping[str, Any]) -> str:
    try:
        raw = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        raise ValueError("a study needs protocolSection.identificationModule.nctId") from None
    nct = normalize_nct_id(str(raw))
    if nct is None:
        raise ValueError(f"malformed nctId {raw!r}")
    return nct


def load_record_studies(path: Path) -> list[dict[str, Any]]:
    """The studies in saved API output: a /studies page, one study, or a JSON array of studies."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, list):
        studies = data
    elif isinstance(data, dict) and isinstance(data.get("studies"), list):
        studies = data["studies"]
    elif isinstance(data, dict) and "protocolSection" in data:
        studies = [data]
    else:
        raise ValueError(f"{path}: not a /studies page, a study or a list of studies")
    for study in studies:
        if not isinstance(study, dict) or "protocolSection" not in study:
            raise ValueError(f"{path}: an item is not a study object")
    return studies


_OVERRIDE_PATHS: Final = {
    "brief_title": "protocolSection.identificationModule.briefTitle",
    "official_title": "protocolSection.identificationModule.officialTitle",
    "acronym": "protocolSection.identificationModule.acronym",
    "nct_id_aliases": "protocolSection.identificationModule.nctIdAliases",
    "overall_status": "protocolSection.statusModule.overallStatus",
    "start_date": "protocolSection.statusModule.startDateStruct.date",
    "primary_completion_date": "protocolSection.statusModule.primaryCompletionDateStruct.date",
    "completion_date": "protocolSection.statusModule.completionDateStruct.date",
    "last_update_post_date": "protocolSection.statusModule.lastUpdatePostDateStruct.date",
    "lead_sponsor": "protocolSection.sponsorCollaboratorsModule.leadSponsor.name",
    "brief_summary": "protocolSection.descriptionModule.briefSummary",
    "conditions": "protocolSection.conditionsModule.conditions",
    "keywords": "protocolSection.conditionsModule.keywords",
    "study_type": "protocolSection.designModule.studyType",
    "phases": "protocolSection.designModule.phases",
    "enrollment_count": "protocolSection.designModule.enrollmentInfo.count",
    "eligibility_criteria": "protocolSection.eligibilityModule.eligibilityCriteria",
    "healthy_volunteers": "protocolSection.eligibilityModule.healthyVolunteers",
    "sex": "protocolSection.eligibilityModule.sex",
    "minimum_age": "protocolSection.eligibilityModule.minimumAge",
    "maximum_age": "protocolSection.eligibilityModule.maximumAge",
    "std_ages": "protocolSection.eligibilityModule.stdAges",
    "locations": "protocolSection.contactsLocationsModule.locations",
    "has_results": "hasResults",
}


_TOP_LEVEL_KEYS: Final = frozenset(
    {
        "protocolSection",
        "resultsSection",
        "annotationSection",
        "documentSection",
        "derivedSection",
        "hasResults",
    }
)


def _set_path(study: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = study
    for name in parents:
        node = node.setdefault(name, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _label(intervention_type: str) -> str:
    return intervention_type.replace("_", " ").title()


def make_study(nct_id: str, **overrides: Any) -> dict[str, Any]:
    """A small but realistic study object, in the exact shape the API returns.

    Defaults: a recruiting phase 2 interventional study of "Study Drug" in lymphoma with one
    recruiting site in Houston (with geoPoint). The last update date and enrollment vary with the
    id, so sorting has something to do. Overrides, by keyword:

    * the names in `_OVERRIDE_PATHS` (`overall_status="COMPLETED"`, `phases=["PHASE1",
      "PHASE2"]`, `last_update_post_date="2026-01-05"`, `locations=[{...}]`, ...);
    * `interventions`: names (taken as DRUG) or intervention objects; the arm is rebuilt;
    * `collaborators`: names;
    * any dotted JSON path, passed as `**{"protocolSection.statusModule.whyStopped": "..."}`,
      or a top-level key such as `hasResults`.

    A value of None removes the field.
    """
    nct = normalize_nct_id(nct_id)
    if nct is None:
        raise ValueError(f"malformed NCT id {nct_id!r}")
    n = int(nct[3:])
    updated = (date(2025, 1, 1) + timedelta(days=n % 365)).isoformat()
    study: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct,
                "orgStudyIdInfo": {"id": f"ORG-{n}"},
                "organization": {"fullName": "Example Cancer Center", "class": "OTHER"},
                "briefTitle": f"Study Drug in Relapsed Lymphoma ({nct})",
                "officialTitle": (
                    "A Phase 2 Study of Study Drug in Adults With Relapsed or Refractory "
                    f"Lymphoma ({nct})"
                ),
            },
            "statusModule": {
                "statusVerifiedDate": updated[:7],
                "overallStatus": "RECRUITING",
                "startDateStruct": {"date": f"2024-{n % 12 + 1:02d}", "type": "ACTUAL"},
                "primaryCompletionDateStruct": {"date": "2027-06", "type": "ESTIMATED"},
                "completionDateStruct": {"date": "2028-06", "type": "ESTIMATED"},
                "studyFirstSubmitDate": "2024-01-10",
                "studyFirstSubmitQcDate": "2024-01-10",
                "studyFirstPostDateStruct": {"date": "2024-01-15", "type": "ACTUAL"},
                "lastUpdateSubmitDate": updated,
                "lastUpdatePostDateStruct": {"date": updated, "type": "ACTUAL"},
            },
            "sponsorCollaboratorsModule": {
                "responsibleParty": {"type": "SPONSOR"},
                "leadSponsor": {"name": "Example Cancer Center", "class": "OTHER"},
            },
            "descriptionModule": {
                "briefSummary": "This study tests Study Drug in relapsed or refractory lymphoma.",
            },
            "conditionsModule": {
                "conditions": ["Lymphoma"],
                "keywords": ["relapsed", "refractory"],
            },
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": ["PHASE2"],
                "designInfo": {
                    "allocation": "NA",
                    "interventionModel": "SINGLE_GROUP",
                    "primaryPurpose": "TREATMENT",
                    "maskingInfo": {"masking": "NONE"},
                },
                "enrollmentInfo": {"count": 10 + n % 491, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {},
            "outcomesModule": {
                "primaryOutcomes": [
                    {"measure": "Overall response rate", "timeFrame": "Up to 12 months"}
                ],
            },
            "eligibilityModule": {
                "eligibilityCriteria": (
                    "Inclusion Criteria:\n\n* Age 18 years or older\n"
                    "* Relapsed or refractory lymphoma\n\n"
                    "Exclusion Criteria:\n\n* Active uncontrolled infection"
                ),
                "healthyVolunteers": False,
                "sex": "ALL",
                "minimumAge": "18 Years",
                "stdAges": ["ADULT", "OLDER_ADULT"],
            },
            "contactsLocationsModule": {
                "locations": [
                    {
                        "facility": "Example Cancer Center",
                        "status": "RECRUITING",
                        "city": "Houston",
                        "state": "Texas",
                        "zip": "77030",
                        "country": "United States",
                        "geoPoint": {"lat": 29.76328, "lon": -95.36327},
                    }
                ],
            },
        },
        "derivedSection": {"miscInfoModule": {"versionHolder": updated}},
        "hasResults": False,
    }
    interventions: Any = overrides.pop("interventions", ["Study Drug"])
    _set_interventions(study, interventions)
    collaborators = overrides.pop("collaborators", None)
    if collaborators is not None:
        _set_path(
            study,
            "protocolSection.sponsorCollaboratorsModule.collaborators",
            [{"name": name, "class": "OTHER"} for name in collaborators],
        )
    for key, value in overrides.items():
        if key in _OVERRIDE_PATHS:
            _set_path(study, _OVERRIDE_PATHS[key], copy.deepcopy(value))
        elif "." in key or key in _TOP_LEVEL_KEYS:
            _set_path(study, key, copy.deepcopy(value))
        else:
            raise TypeError(f"make_study() got an unknown override {key!r}")
    return study


def _set_interventions(study: dict[str, Any], interventions: Sequence[Any] | None) -> None:
    module = study["protocolSection"]["armsInterventionsModule"]
    if not interventions:
        module.clear()
        return
    items: list[dict[str, Any]] = [
        {"type": "DRUG", "name": item} if isinstance(item, str) else copy.deepcopy(dict(item))
        for item in interventions
    ]
    arm = "Experimental: " + " + ".join(str(i.get("name", "")) for i in items)
    for item in items:
        item.setdefault("type", "DRUG")
        item.setdefault("armGroupLabels", [arm])
    module["armGroups"] = [
        {
            "label": arm,
            "type": "EXPERIMENTAL",
            "interventionNames": [f"{_label(i['type'])}: {i.get('name', '')}" for i in items],
        }
    ]
    module["interventions"] = items


def make_studies(count: int, *, first: int = 90000001, **overrides: Any) -> list[dict[str, Any]]:
    """`count` studies from `make_study`, with ids NCT90000001, NCT90000002, ..."""
    return [make_study(f"NCT{first + i:08d}", **overrides) for i in range(count)]


# --------------------------------------------------------------------------------------------
# The server


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
    def json(cls, payload: Any) -> _Response:
        return cls(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), _JSON)


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


@dataclass
class _Plan:
    """A validated /studies request."""

    page_size: int
    count_total: bool
    offset: int
    page_index: int
    signature: bytes
    selection: _Selection | None
    sort: list[tuple[_Field | None, bool]]
    queries: list[tuple[tuple[_Field, ...] | None, _Node]]
    query_ids: list[frozenset[str]]
    statuses: list[frozenset[str]]
    ids: list[frozenset[str]]
    advanced: list[_Node]
    geo: list[tuple[float, float, float]]


class _Server(ThreadingHTTPServer):
    # Join handler threads on close (ThreadingHTTPServer makes them daemons and forgets them),
    # so nothing outlives stop(); stop() unblocks idle keep-alive connections first.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeCtGov) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn, a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.open_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self.open_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (timeouts, dropped connections)
        self.fake.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeCtGov/1.0"
    sys_version = ""
    timeout = 30  # a backstop; stop() closes idle connections itself
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for the
    # delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeCtGov:
    """A fake ClinicalTrials.gov API v2 on 127.0.0.1 (see the module docstring).

    Use it as a context manager, or `start()` and `stop()`; `base_url` ends in `/api/v2`.
    Every request lands in `requests`; an exception inside the fake lands in `errors` (and the
    request gets a 500), so tests can tell a fake's bug from a client's. Other attributes:
    `delay` (seconds to wait before each answer), `data_timestamp` (what /version reports),
    `metadata_source` (the metadata file used, None for the embedded copy) and `studies`.
    """

    def __init__(
        self, studies: Sequence[Mapping[str, Any]] = (), *, metadata_path: Path | None = None
    ) -> None:
        self._index, self.metadata_source = _FieldIndex.load(metadata_path)
        self._lock = threading.Lock()
        self._studies: dict[str, dict[str, Any]] = {}
        self._aliases: dict[str, str] = {}
        self._faults: deque[_Fault] = deque()
        self._page_faults: list[_PageFault] = []
        self._secret = secrets.token_bytes(32)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.delay: float = 0.0
        self.data_timestamp = "2026-01-02T03:04:05"
        self.add_studies(studies)

    # -- data ---------------------------------------------------------------------------------

    def add_studies(self, studies: Iterable[Mapping[str, Any]]) -> None:
        """Add studies (deep copies); a study whose NCT id is already here replaces it in place."""
        added = [(_nct_of(s), json.loads(json.dumps(s))) for s in studies]
        with self._lock:
            for nct, study in added:
                self._studies[nct] = study
                aliases = study["protocolSection"]["identificationModule"].get("nctIdAliases", [])
                for alias in aliases:
                    normalized = normalize_nct_id(str(alias))
                    if normalized is not None:
                        self._aliases[normalized] = nct

    @property
    def studies(self) -> list[dict[str, Any]]:
        """The studies served, in the order added."""
        with self._lock:
            return list(self._studies.values())

    # -- faults -------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next `times` requests, whatever they are, with `status` (text/plain).

        `retry_after` becomes the Retry-After header; `body` defaults to the reason phrase.
        Faults queue in the order they are set, with `drop_next`.
        """
        with self._lock:
            self._faults.extend(_Fault(status, retry_after, body) for _ in range(times))

    def drop_next(self, times: int = 1) -> None:
        """Close the connection of the next `times` requests without answering."""
        with self._lock:
            self._faults.extend(_Fault(None) for _ in range(times))

    def fail_on_page(
        self,
        page_number: int,
        status: int,
        times: int = 1,
        *,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> None:
        """Fail the next `times` valid /studies requests for page `page_number` (1 = first).

        The page number is carried in the page token, so retries of that page fail until
        `times` is used up, in whichever paging run reaches it first.
        """
        if page_number < 1 or times < 1:
            raise ValueError("page_number and times start at 1")
        with self._lock:
            self._page_faults.append(
                _PageFault(page_number, times, _Fault(status, retry_after, body))
            )

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/api/v2`, once started."""
        if self._server is None:
            raise RuntimeError("FakeCtGov is not started")
        return f"http://127.0.0.1:{self._server.server_port}{API_PREFIX}"

    def start(self) -> FakeCtGov:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeCtGov is already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="FakeCtGov",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in `delay`
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeCtGov:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        arrival = time.monotonic()
        split = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(split.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        record = RecordedRequest(
            method=handler.command,
            path=path,
            params=dict(pairs),
            headers={name.lower(): value for name, value in handler.headers.items()},
            time=arrival,
            query=split.query,
        )
        with self._lock:
            self.requests.append(record)
            fault = self._faults.popleft() if self._faults else None
        if self.delay > 0 and self._stopping.wait(self.delay):
            fault = _Fault(None)  # stopping: do not answer late
        if fault is not None and fault.status is None:
            handler.close_connection = True
            return
        if fault is not None:
            response = fault.response()
        else:
            try:
                response = self._route(handler.command, path, pairs, record)
            except _HttpError as error:
                response = error.response
            except Exception:
                trace = traceback.format_exc()
                self.errors.append(trace)
                response = _Response.text(500, "FakeCtGov internal error\n" + trace)
        if handler.command != "GET":
            handler.close_connection = True  # the body, if any, was not read
        record.status = response.status
        self._send(handler, response)

    @staticmethod
    def _send(handler: _Handler, response: _Response) -> None:
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.content_type)
            handler.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(response.body)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True

    def _route(
        self, method: str, path: str, pairs: list[tuple[str, str]], record: RecordedRequest
    ) -> _Response:
        if not path.startswith(API_PREFIX + "/"):
            raise _HttpError(404, f"Not Found: {path}")
        rest = path[len(API_PREFIX) :]
        if method != "GET":
            return _Response.text(405, "Method Not Allowed", [("Allow", "GET")])
        params = _unique_params(pairs)
        if rest == "/version":
            _check_known(params, frozenset())
            return _Response.json({"apiVersion": API_VERSION, "dataTimestamp": self.data_timestamp})
        if rest == "/studies":
            return self._list_studies(params, record)
        if rest == "/studies/metadata":
            _check_known(params, _METADATA_PARAMS)
            return _Response.json(self._index.tree)
        if rest in ("/studies/search-areas", "/studies/enums") or rest.startswith("/stats/"):
            raise _HttpError(501, f"{path} is not implemented by FakeCtGov")
        match = re.fullmatch(r"/studies/([^/]+)", rest)
        if match:
            return self._fetch_study(match.group(1), params, record)
        raise _HttpError(404, f"Not Found: {path}")

    def _fetch_study(
        self, raw_id: str, params: dict[str, str], record: RecordedRequest
    ) -> _Response:
        _check_known(params, STUDY_PARAMS)
        fmt = params.get("format", "json")
        if fmt not in ("csv", "json", "json.zip", "fhir.json", "ris"):
            raise _bad(f"`format` must be one of csv, json, json.zip, fhir.json, ris: {fmt!r}")
        if fmt != "json":
            raise _HttpError(501, f"format {fmt} is not implemented by FakeCtGov")
        self._check_markup(params, record)
        selection = self._parse_fields(params)
        nct = normalize_nct_id(raw_id)
        if nct is None:
            raise _bad(f"Invalid NCT number `{raw_id}`: expected NCT followed by 8 digits")
        with self._lock:
            study = self._studies.get(nct)
            target = self._aliases.get(nct)
        if study is None and target is not None and target != nct:
            query = urllib.parse.urlencode(params)
            location = f"{API_PREFIX}/studies/{target}" + (f"?{query}" if query else "")
            return _Response.text(301, f"Moved Permanently: {target}", [("Location", location)])
        if study is None:
            raise _HttpError(404, f"Study {nct} not found")
        return _Response.json(_prune_study(study, selection))

    def _list_studies(self, params: dict[str, str], record: RecordedRequest) -> _Response:
        plan = self._plan(params, record)
        page_fault = self._take_page_fault(plan.page_index + 1)
        if page_fault is not None:
            return page_fault.response()
        with self._lock:
            studies = list(self._studies.values())
        matches = self._sorted(self._filtered(studies, plan), plan.sort)
        page = matches[plan.offset : plan.offset + plan.page_size]
        body: dict[str, Any] = {"studies": [_prune_study(s, plan.selection) for s in page]}
        if plan.count_total and plan.page_index == 0:
            body["totalCount"] = len(matches)
        # Pitfall 1: a full page carries a token even when no study follows it.
        if len(page) == plan.page_size:
            body["nextPageToken"] = self._make_token(
                plan.signature, plan.offset + len(page), plan.page_index + 1
            )
        return _Response.json(body)

    def _take_page_fault(self, page_number: int) -> _Fault | None:
        with self._lock:
            for page_fault in self._page_faults:
                if page_fault.page_number == page_number and page_fault.remaining > 0:
                    page_fault.remaining -= 1
                    return page_fault.fault
        return None

    # -- validation ---------------------------------------------------------------------------

    def _plan(self, params: dict[str, str], record: RecordedRequest) -> _Plan:
        _check_known(params, STUDIES_PARAMS)
        fmt = params.get("format", "json")
        if fmt not in ("csv", "json"):
            raise _bad(f"`format` must be one of csv, json: {fmt!r}")
        if fmt == "csv":
            raise _HttpError(501, "format csv is not implemented by FakeCtGov")
        self._check_markup(params, record)
        page_size = _parse_page_size(params.get("pageSize"))
        count_total = _parse_bool("countTotal", params.get("countTotal"))
        selection = self._parse_fields(params)
        sort = self._parse_sort(params.get("sort"))
        signature = _signature(params)
        offset, page_index = 0, 0
        if "pageToken" in params:
            offset, page_index = self._read_token(params["pageToken"], signature)

        plan = _Plan(
            page_size=page_size,
            count_total=count_total,
            offset=offset,
            page_index=page_index,
            signature=signature,
            selection=selection,
            sort=sort,
            queries=[],
            query_ids=[],
            statuses=[],
            ids=[],
            advanced=[],
            geo=[],
        )
        for name, area_pieces in _QUERY_AREAS.items():
            value = params.get(name, "").strip()
            if not value:
                continue
            if _ID_LIST_RE.match(value):
                ids = {normalize_nct_id(i) for i in _IDS_SPLIT_RE.split(value) if i}
                plan.query_ids.append(frozenset(i for i in ids if i is not None))
                continue
            area = None if area_pieces is None else tuple(map(self._index.piece, area_pieces))
            node = self._parse_essie(name, value, record)
            if node is not None:
                plan.queries.append((area, node))
        for prefix in ("filter", "postFilter"):
            self._plan_filters(prefix, params, plan, record)
        if "aggFilters" in params:
            record.unapplied["aggFilters"] = "aggregation filters are not implemented"
        if "geoDecay" in params:
            if not _GEO_DECAY_RE.match(params["geoDecay"]):
                raise _bad(f"`geoDecay` does not match {_GEO_DECAY_RE.pattern}")
            record.unapplied["geoDecay"] = "ranking only"
        return plan

    def _plan_filters(
        self, prefix: str, params: dict[str, str], plan: _Plan, record: RecordedRequest
    ) -> None:
        name = f"{prefix}.overallStatus"
        if params.get(name, "").strip():
            statuses = {s.strip() for s in _LIST_SPLIT_RE.split(params[name]) if s.strip()}
            unknown = sorted(statuses - STATUSES)
            if unknown:
                raise _bad(
                    f"`{name}` has unknown status `{unknown[0]}`; "
                    f"allowed: {', '.join(sorted(STATUSES))}"
                )
            plan.statuses.append(frozenset(statuses))
        name = f"{prefix}.ids"
        if params.get(name, "").strip():
            ids: set[str] = set()
            for item in _IDS_SPLIT_RE.split(params[name].strip()):
                nct = normalize_nct_id(item)
                if nct is None:
                    raise _bad(f"`{name}` has an invalid NCT number `{item}`")
                ids.add(nct)
            plan.ids.append(frozenset(ids))
        name = f"{prefix}.geo"
        if name in params:
            match = _GEO_RE.match(params[name])
            if not match:
                raise _bad(
                    f"`{name}` must be distance(latitude,longitude,distance), "
                    f"e.g. distance(39.0035707,-77.1013313,50mi): {params[name]!r}"
                )
            lat, lon, amount, unit = match.groups()
            plan.geo.append((float(lat), float(lon), _to_km(amount, unit)))
        name = f"{prefix}.advanced"
        if params.get(name, "").strip():
            node = self._parse_essie(name, params[name], record)
            if node is not None:
                plan.advanced.append(node)
        name = f"{prefix}.synonyms"
        if name in params:
            record.unapplied[name] = "synonym filters are not implemented"

    def _parse_essie(self, name: str, value: str, record: RecordedRequest) -> _Node | None:
        try:
            return _EssieParser(value, self._index).parse()
        except _EssieSyntaxError as error:
            raise _bad(f"`{name}` is not a valid Essie expression: {error}") from None
        except _Unsupported as error:
            record.unapplied[name] = f"not implemented by FakeCtGov: {error}"
            return None

    def _check_markup(self, params: dict[str, str], record: RecordedRequest) -> None:
        markup = params.get("markupFormat", "markdown")
        if markup not in ("markdown", "legacy"):
            raise _bad(f"`markupFormat` must be one of markdown, legacy: {markup!r}")
        if markup == "legacy":
            record.unapplied["markupFormat"] = "texts stay as stored (markdown)"

    def _parse_fields(self, params: dict[str, str]) -> _Selection | None:
        if "fields" not in params:
            return None
        items = [i.strip() for i in _LIST_SPLIT_RE.split(params["fields"]) if i.strip()]
        if not items:
            raise _bad("`fields` must be a non-empty list of fields")
        paths: list[tuple[str, ...]] = []
        for item in items:
            if item == "@query":
                return None
            target = self._index.resolve(item) if _FIELD_RE.match(item) else None
            if target is None:
                raise _bad(f"`fields` has unknown field `{item}`")
            paths.append(target.path)
        return _select_paths(paths)

    def _parse_sort(self, value: str | None) -> list[tuple[_Field | None, bool]]:
        if value is None:
            return []
        items = [i.strip() for i in _LIST_SPLIT_RE.split(value) if i.strip()]
        if not items or len(items) > 2:
            raise _bad("`sort` takes one or two fields")
        keys: list[tuple[_Field | None, bool]] = []
        for item in items:
            match = _SORT_RE.match(item)
            if not match:
                raise _bad(f"`sort` item `{item}` is not field[:asc|desc]")
            name, direction = match.groups()
            if name == "@relevance":
                keys.append((None, direction != "asc"))
                continue
            target = self._index.resolve(name)
            if target is None:
                raise _bad(f"`sort` has unknown field `{name}`")
            if target.kind not in ("DATE", "NUMERIC"):
                raise _bad(f"`sort` field `{name}` is not a date or numeric field")
            default_desc = target.kind == "DATE"
            keys.append((target, default_desc if direction is None else direction == "desc"))
        return keys

    # -- tokens -------------------------------------------------------------------------------

    def _make_token(self, signature: bytes, offset: int, page_index: int) -> str:
        # Synthetic-IV style: the MAC of the payload keys the stream that hides it, so a token
        # looks random, cannot be forged or edited, and a foreign server's token fails the MAC.
        payload = struct.pack(">IH", offset, page_index) + signature[:10]
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        stream = hashlib.sha256(self._secret + mac).digest()
        hidden = bytes(a ^ b for a, b in zip(payload, stream, strict=False))
        return base64.urlsafe_b64encode(mac + hidden).decode("ascii").rstrip("=")

    def _read_token(self, token: str, signature: bytes) -> tuple[int, int]:
        invalid = _bad(f"`pageToken` is invalid: {token!r}")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        if len(raw) != 12 + 16 or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
            raise invalid  # the wrong size, or spare bits set in the last character
        mac, hidden = raw[:12], raw[12:]
        stream = hashlib.sha256(self._secret + mac).digest()
        payload = bytes(a ^ b for a, b in zip(hidden, stream, strict=False))
        expected = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        if not hmac.compare_digest(mac, expected):
            raise invalid
        offset, page_index = struct.unpack(">IH", payload[:6])
        if payload[6:] != signature[:10]:
            raise _bad(
                "`pageToken` was issued for other parameters: every parameter except "
                "pageToken, pageSize and countTotal must repeat unchanged"
            )
        return offset, page_index

    # -- search -------------------------------------------------------------------------------

    def _filtered(self, studies: list[dict[str, Any]], plan: _Plan) -> list[dict[str, Any]]:
        out = []
        for study in studies:
            view = _StudyView(study)
            if not all(_matches(node, view, area) for area, node in plan.queries):
                continue
            if plan.query_ids:
                # The spec: "If any query parameter contains only NCT IDs ... filters are ignored."
                aliases = _study_ids(study)
                if all(aliases & ids for ids in plan.query_ids):
                    out.append(study)
                continue
            if not self._passes_filters(study, view, plan):
                continue
            out.append(study)
        return out

    def _passes_filters(self, study: dict[str, Any], view: _StudyView, plan: _Plan) -> bool:
        status = study.get("protocolSection", {}).get("statusModule", {}).get("overallStatus")
        if any(status not in allowed for allowed in plan.statuses):
            return False
        if plan.ids and not all(_study_ids(study) & ids for ids in plan.ids):
            return False
        if not all(_matches(node, view, None) for node in plan.advanced):
            return False
        points = _collect(study, ("protocolSection", "contactsLocationsModule", "locations"))
        return all(
            any(
                _geo_within(site.get("geoPoint"), lat, lon, km)
                for site in points
                if isinstance(site, dict)
            )
            for lat, lon, km in plan.geo
        )

    @staticmethod
    def _sorted(
        studies: list[dict[str, Any]], keys: list[tuple[_Field | None, bool]]
    ) -> list[dict[str, Any]]:
        result = list(studies)
        for target, descending in reversed(keys):
            if target is None:
                continue  # @relevance: every study is equally relevant here; keep the order
            valued: list[tuple[Any, dict[str, Any]]] = []
            missing: list[dict[str, Any]] = []
            for study in result:
                values = [_scalar(target.kind, v) for v in _collect(study, target.path)]
                present = [v for v in values if v is not None]
                if present:
                    valued.append((present[0], study))
                else:
                    missing.append(study)
            valued.sort(key=lambda pair: pair[0], reverse=descending)
            # The spec: "Studies missing sort field are always last."
            result = [study for _, study in valued] + missing
        return result


def _study_ids(study: Mapping[str, Any]) -> set[str]:
    ident = study.get("protocolSection", {}).get("identificationModule", {})
    raw = [ident.get("nctId", ""), *ident.get("nctIdAliases", [])]
    return {n for n in (normalize_nct_id(str(r)) for r in raw) if n is not None}


def _unique_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise _bad(f"`{name}` is given more than once")
        seen[name] = value
    return seen


def _check_known(params: Mapping[str, str], known: frozenset[str]) -> None:
    for name in params:
        if name not in known:
            raise _bad(f"`{name}` is unknown parameter")


def _parse_page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"-?\d+", value.strip()):
        raise _bad(f"`pageSize` must be an integer: {value!r}")
    size = int(value)
    if size < 0:
        raise _bad(f"`pageSize` must not be negative: {value!r}")
    return min(size, MAX_PAGE_SIZE) if size else DEFAULT_PAGE_SIZE


def _parse_bool(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise _bad(f"`{name}` must be true or false: {value!r}")
    return value.lower() == "true"


def _signature(params: Mapping[str, str]) -> bytes:
    bound = sorted((k, v) for k, v in params.items() if k not in _UNBOUND_PARAMS)
    return hashlib.sha256(json.dumps(bound).encode("utf-8")).digest()
