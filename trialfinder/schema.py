"""The columns of trialfinder's frames, declared once and without pandas: the study frame, the
sites frame and the nearest-site columns. `trialfinder.frames` builds the frames; the field
economy (`trialfinder.fields`) and the CLI read the names before any frame exists, so a search
sends its first request before pandas is imported.
"""

from __future__ import annotations

__all__ = ["NEAREST_COLUMNS", "PRIOR_CAR_T_LABELS", "SITE_COLUMNS", "STUDY_COLUMNS"]

# The values of the prior_car_t column: what a trial's eligibility text says of prior CAR-T
# (trialfinder.cart.stance reads them; --prior-car-t and saved searches filter on them).
PRIOR_CAR_T_LABELS = ("required", "allowed", "excluded", "unmentioned")

# Declared study columns: name -> description (the README's column table comes from here).
STUDY_COLUMNS: dict[str, str] = {
    "nct_id": "ClinicalTrials.gov identifier (NCT + 8 digits)",
    "title": "brief title",
    "status": "overall recruitment status (API enum, e.g. RECRUITING)",
    "phases": "phases (EARLY_PHASE1, PHASE1 ... PHASE4, NA); a phase 1/2 study lists two",
    "conditions": "conditions studied",
    "interventions": "interventions, as 'TYPE: name'",
    "sponsor": "lead sponsor",
    "study_type": "INTERVENTIONAL, OBSERVATIONAL or EXPANDED_ACCESS",
    "start_date": "start date, YYYY-MM or YYYY-MM-DD as registered",
    "last_update": "date of the last update posted, YYYY-MM-DD",
    "min_age": "minimum age as registered, e.g. '18 Years' (empty: no minimum)",
    "max_age": "maximum age as registered (empty: no maximum)",
    "min_age_years": "minimum age in years (0 when none)",
    "max_age_years": "maximum age in years (empty when none)",
    "sex": "ALL, FEMALE or MALE",
    "enrollment": "planned or actual enrollment",
    "sites_count": "number of sites listed",
    "central_contact": "the study's central contact: name; phone; email",
    "url": "the study's page on ClinicalTrials.gov",
}

SITE_COLUMNS: dict[str, str] = {
    "nct_id": "the study's identifier",
    "facility": "site name",
    "city": "city",
    "state": "state or province",
    "zip": "postal code",
    "country": "country",
    "site_status": "the site's recruitment status (API enum); the trial's when the site has none",
    "site_status_from": "'site' (its own status) or 'trial' (the site has none: the trial's)",
    "lat": "latitude (empty when the record has no geoPoint)",
    "lon": "longitude (empty when the record has no geoPoint)",
    "contact": "the site's first contact: name; phone; email",
}

# The nearest open site of each trial (trialfinder.geo.distance fills them).
NEAREST_COLUMNS = (
    "nct_id",
    "nearest_site",
    "nearest_site_city",
    "distance_mi",
    "distance_km",
    "nearest_site_contact",
    "nearest_site_located_by",
)
