"""Raw API v2 study JSON -> pandas frames with declared columns: studies (one row each) and sites.

Any module may be missing (a `fields=` request, or an old record); missing values become None
(or NaN for numbers). Unknown enum values are kept as they came.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from trialfinder.text import clean_line

STUDY_URL = "https://clinicaltrials.gov/study/{}"

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
    "site_status": "the site's own recruitment status (API enum)",
    "lat": "latitude (empty when the record has no geoPoint)",
    "lon": "longitude (empty when the record has no geoPoint)",
    "contact": "the site's first contact: name; phone; email",
}

_AGE_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.IGNORECASE
)
_UNIT_YEARS = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}
_DATE_RE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None as soon as a step is missing or not a dict."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_age_years(text: str | None) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None or unparseable -> None."""
    if not text:
        return None
    match = _AGE_RE.match(str(text))
    if not match:
        return None
    return float(match.group(1)) * _UNIT_YEARS[match.group(2).lower()]


def clean_date(text: Any) -> str | None:
    """Keep YYYY, YYYY-MM or YYYY-MM-DD as sent; anything else is dropped to None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text if _DATE_RE.match(text) else None


def format_contact(contact: Any) -> str:
    """A contact dict -> 'name; phone ext; email' with the empty parts left out."""
    if not isinstance(contact, Mapping):
        return ""
    phone = clean_line(contact.get("phone"))
    ext = clean_line(contact.get("phoneExt"))
    if phone and ext:
        phone = f"{phone} ext {ext}"
    parts = [clean_line(contact.get("name")), phone, clean_line(contact.get("email"))]
    return "; ".join(p for p in parts if p)


def nct_id_of(study: Mapping[str, Any]) -> str | None:
    """The study's NCT id, or None."""
    value = dig(study, "protocolSection", "identificationModule", "nctId")
    return str(value) if value else None


def study_row(study: Mapping[str, Any]) -> dict[str, Any]:
    """One study -> a dict with exactly the STUDY_COLUMNS keys."""
    ps = study.get("protocolSection") or {}
    ident = dig(ps, "identificationModule") or {}
    status = dig(ps, "statusModule") or {}
    design = dig(ps, "designModule") or {}
    elig = dig(ps, "eligibilityModule") or {}
    nct = str(ident.get("nctId") or "")
    interventions = [
        clean_line(f"{i.get('type') or 'OTHER'}: {i.get('name') or ''}")
        for i in _list(dig(ps, "armsInterventionsModule", "interventions"))
        if isinstance(i, Mapping) and i.get("name")
    ]
    enrollment = dig(design, "enrollmentInfo", "count")
    central = _list(dig(ps, "contactsLocationsModule", "centralContacts"))
    min_age = clean_line(elig.get("minimumAge")) or None
    max_age = clean_line(elig.get("maximumAge")) or None
    return {
        "nct_id": nct,
        "title": clean_line(ident.get("briefTitle") or ident.get("officialTitle")),
        "status": status.get("overallStatus"),
        "phases": [str(p) for p in _list(design.get("phases"))],
        "conditions": [clean_line(c) for c in _list(dig(ps, "conditionsModule", "conditions"))],
        "interventions": interventions,
        "sponsor": clean_line(dig(ps, "sponsorCollaboratorsModule", "leadSponsor", "name")) or None,
        "study_type": design.get("studyType"),
        "start_date": clean_date(dig(status, "startDateStruct", "date")),
        "last_update": clean_date(dig(status, "lastUpdatePostDateStruct", "date")),
        "min_age": min_age,
        "max_age": max_age,
        "min_age_years": parse_age_years(min_age) or 0.0,
        "max_age_years": parse_age_years(max_age),
        "sex": elig.get("sex"),
        "enrollment": int(enrollment)
        if isinstance(enrollment, (int, float)) and math.isfinite(enrollment)
        else None,
        "sites_count": len(_list(dig(ps, "contactsLocationsModule", "locations"))),
        "central_contact": format_contact(central[0]) if central else "",
        "url": STUDY_URL.format(nct) if nct else None,
    }


def site_rows(study: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One study -> its sites as dicts with exactly the SITE_COLUMNS keys."""
    nct = nct_id_of(study) or ""
    rows = []
    for loc in _list(dig(study, "protocolSection", "contactsLocationsModule", "locations")):
        if not isinstance(loc, Mapping):
            continue
        point = loc.get("geoPoint")
        geo: Mapping[str, Any] = point if isinstance(point, Mapping) else {}
        contacts = _list(loc.get("contacts"))
        rows.append(
            {
                "nct_id": nct,
                "facility": clean_line(loc.get("facility")),
                "city": clean_line(loc.get("city")),
                "state": clean_line(loc.get("state")),
                "zip": clean_line(loc.get("zip")),
                "country": clean_line(loc.get("country")),
                "site_status": loc.get("status"),
                "lat": _float(geo.get("lat")),
                "lon": _float(geo.get("lon")),
                "contact": format_contact(contacts[0]) if contacts else "",
            }
        )
    return rows


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def studies_frame(studies: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Studies -> a frame with the STUDY_COLUMNS, in that order, one row per study."""
    frame = pd.DataFrame([study_row(s) for s in studies], columns=list(STUDY_COLUMNS))
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    frame["sites_count"] = frame["sites_count"].astype("int64")
    frame["min_age_years"] = frame["min_age_years"].astype("float64")
    frame["max_age_years"] = frame["max_age_years"].astype("float64")
    return frame


def sites_frame(studies: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Studies -> a frame with the SITE_COLUMNS, one row per site, in record order."""
    rows = [row for s in studies for row in site_rows(s)]
    frame = pd.DataFrame(rows, columns=list(SITE_COLUMNS))
    frame["lat"] = frame["lat"].astype("float64")
    frame["lon"] = frame["lon"].astype("float64")
    return frame
