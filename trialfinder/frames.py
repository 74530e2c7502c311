"""Study records -> pandas frames with declared columns: studies (one row each) and sites.

The columns are declared once, in `trialfinder.schema`; the README's column tables, the
renderer and CSV headers follow them. Missing values become None (or NaN for numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from trialfinder.records import Site, Study
from trialfinder.schema import SITE_COLUMNS, STUDY_COLUMNS


def intervention_labels(study: Study) -> list[str]:
    """The study's interventions as 'TYPE: name' (unnamed ones left out)."""
    return [f"{i.type or 'OTHER'}: {i.name}" for i in study.interventions if i.name]


def study_row(study: Study) -> dict[str, Any]:
    """One study -> a dict with exactly the STUDY_COLUMNS keys."""
    return {
        "nct_id": study.nct_id,
        "title": study.title,
        "status": study.status,
        "phases": list(study.phases),
        "conditions": list(study.conditions),
        "interventions": intervention_labels(study),
        "sponsor": study.sponsor,
        "study_type": study.study_type,
        "start_date": study.start_date,
        "last_update": study.last_update,
        "min_age": study.min_age,
        "max_age": study.max_age,
        "min_age_years": study.min_age_years,
        "max_age_years": study.max_age_years,
        "sex": study.sex,
        "enrollment": study.enrollment,
        "sites_count": len(study.sites),
        "central_contact": study.central_contact,
        "url": study.url,
    }


def site_row(nct_id: str, site: Site, study_status: str | None = None) -> dict[str, Any]:
    """One site -> a dict with exactly the SITE_COLUMNS keys.

    A site listed without a status of its own (common before a trial opens: most
    not-yet-recruiting trials list none) takes the trial's status, `study_status`, and
    `site_status_from` says so ("trial"), so a trial about to open near home is not dropped
    for a missing field and the user can see where the status came from.
    """
    nan = float("nan")
    status = site.status or study_status
    origin = "site" if site.status else ("trial" if status else None)
    return {
        "nct_id": nct_id,
        "facility": site.facility,
        "city": site.city,
        "state": site.state,
        "zip": site.zip,
        "country": site.country,
        "site_status": status,
        "site_status_from": origin,
        "lat": nan if site.lat is None else site.lat,
        "lon": nan if site.lon is None else site.lon,
        "contact": site.contact,
    }


def studies_frame(studies: Iterable[Study]) -> pd.DataFrame:
    """Studies -> a frame with the STUDY_COLUMNS, in that order, one row per study."""
    frame = pd.DataFrame([study_row(s) for s in studies], columns=list(STUDY_COLUMNS))
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    frame["sites_count"] = frame["sites_count"].astype("int64")
    frame["min_age_years"] = frame["min_age_years"].astype("float64")
    frame["max_age_years"] = frame["max_age_years"].astype("float64")
    return frame


def sites_frame(studies: Iterable[Study]) -> pd.DataFrame:
    """Studies -> a frame with the SITE_COLUMNS, one row per site, in record order."""
    rows = [site_row(s.nct_id, site, s.status) for s in studies for site in s.sites]
    frame = pd.DataFrame(rows, columns=list(SITE_COLUMNS))
    frame["lat"] = frame["lat"].astype("float64")
    frame["lon"] = frame["lon"].astype("float64")
    return frame


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def plain(value: Any) -> Any:
    """A cell -> a JSON-ready Python value (lists stay lists; NaN and NA become None)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    return value


def plain_deep(value: Any) -> Any:
    """plain() applied through nested dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): plain_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_deep(v) for v in value]
    return plain(value)
