"""Which API `fields` a search must ask for: what its columns, filters, sort and views read.

The API sends only the record pieces named in `fields` (piece names from /studies/metadata).
Locations are about half of a study's bytes and the criteria a third, so a table that shows
neither the one nor the other should not download them. Every output column names the pieces
it is built from here; a search asks for the union over the columns it will show, the filters
it applies again locally (pitfall 3), its sort, and the CAR-T and near-me work it does.

`tests/test_fields.py` proves each column's pieces are enough: a column built from a record
fetched with only its pieces equals the same column built from the whole record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from trialfinder.cart.profile import CART_COLUMNS
from trialfinder.schema import NEAREST_COLUMNS, SITE_COLUMNS

if TYPE_CHECKING:
    from trialfinder.ctgov.query import Query
    from trialfinder.spec import SearchOptions

__all__ = ["ALL_FIELDS", "BASE_FIELDS", "CART_FIELDS", "COLUMN_FIELDS", "fields_for"]

# Every piece a study row and its CAR-T columns read: what data formats (every column) need.
BASE_FIELDS: tuple[str, ...] = (
    "NCTId",
    "BriefTitle",
    "OfficialTitle",
    "OverallStatus",
    "Phase",
    "Condition",
    "InterventionType",
    "InterventionName",
    "LeadSponsorName",
    "StudyType",
    "StartDate",
    "LastUpdatePostDate",
    "MinimumAge",
    "MaximumAge",
    "Sex",
    "EnrollmentCount",
    "CentralContact",
    "Location",
)
CART_FIELDS: tuple[str, ...] = (
    "Acronym",
    "Keyword",
    "InterventionOtherName",
    "InterventionDescription",
    "ArmGroupInterventionName",
    "EligibilityCriteria",
)
ALL_FIELDS: tuple[str, ...] = BASE_FIELDS + CART_FIELDS

# What every search reads whatever it shows: the id, the title (notes and --explain name the
# trial), the status and the last update (the default order).
_ALWAYS: tuple[str, ...] = ("NCTId", "BriefTitle", "OfficialTitle", "OverallStatus")
# The CAR-T profile reads the titles, the interventions and the criteria (cart/profile.py).
_PROFILE: tuple[str, ...] = (
    "BriefTitle",
    "OfficialTitle",
    "InterventionType",
    "InterventionName",
    *CART_FIELDS,
)
_SITES: tuple[str, ...] = ("Location", "CentralContact")  # a site without a contact: the trial's

COLUMN_FIELDS: Mapping[str, tuple[str, ...]] = {
    # study columns (schema.STUDY_COLUMNS)
    "nct_id": ("NCTId",),
    "title": ("BriefTitle", "OfficialTitle"),
    "status": ("OverallStatus",),
    "phases": ("Phase",),
    "conditions": ("Condition",),
    "interventions": ("InterventionType", "InterventionName"),
    "sponsor": ("LeadSponsorName",),
    "study_type": ("StudyType",),
    "start_date": ("StartDate",),
    "last_update": ("LastUpdatePostDate",),
    "min_age": ("MinimumAge",),
    "max_age": ("MaximumAge",),
    "min_age_years": ("MinimumAge",),
    "max_age_years": ("MaximumAge",),
    "sex": ("Sex",),
    "enrollment": ("EnrollmentCount",),
    "sites_count": ("Location",),
    "central_contact": ("CentralContact",),
    "url": ("NCTId",),
    **dict.fromkeys(CART_COLUMNS, _PROFILE),
    "therapy_group": _PROFILE,  # --therapy-class: the group of the classes, title, interventions
    **{name: _SITES for name in NEAREST_COLUMNS if name != "nct_id"},
    # per-site rows (--sites): the site columns, and how each site was located
    **{name: _SITES for name in SITE_COLUMNS if name != "nct_id"},
    "located_by": _SITES,
}

_SORT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "last-update": ("LastUpdatePostDate",),
    "start-date": ("StartDate",),
    "enrollment": ("EnrollmentCount",),
    "distance": _SITES,
}


def _query_fields(query: Query) -> Iterable[str]:
    """The pieces the query's structured filters read when applied again locally."""
    if query.statuses:
        yield "OverallStatus"
    if query.phases:
        yield "Phase"
    if query.study_type:
        yield "StudyType"
    if query.sex:
        yield "Sex"
    if query.age is not None:
        yield from ("MinimumAge", "MaximumAge")
    if query.updated_since:
        yield "LastUpdatePostDate"


def fields_for(
    query: Query, options: SearchOptions, columns: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The API `fields` a search needs to show `columns` (None: every column), in a stable
    order. Unknown column names ask for every field: never a silently empty column."""
    if columns is None or any(c not in COLUMN_FIELDS for c in columns):
        wanted: set[str] = set(BASE_FIELDS if not options.has_cart_columns else ALL_FIELDS)
    else:
        wanted = {f for c in columns for f in COLUMN_FIELDS[c]}
    wanted.update(_ALWAYS)
    wanted.update(_query_fields(query))
    # Relevance without a text query falls back to the last update (search.run_search).
    wanted.update(_SORT_FIELDS.get(query.sort, ("LastUpdatePostDate",)))
    if options.filters_cart:
        wanted.update(_PROFILE)
    if options.near is not None or options.per_site:
        wanted.update(_SITES)
    return tuple(f for f in ALL_FIELDS if f in wanted)
