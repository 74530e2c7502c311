"""What the API v2 contract fixes: paths, parameters, statuses and the spec's value patterns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

API_PREFIX: Final = "/api/v2"
API_VERSION: Final = "2.0.5"
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
