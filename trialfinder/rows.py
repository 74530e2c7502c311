"""Study records -> plain rows with the declared columns (`trialfinder.schema`), without
pandas: a search makes them while its pages travel, before pandas is imported."""

from __future__ import annotations

from typing import Any

from trialfinder.records import Site, Study

__all__ = ["intervention_labels", "site_row", "study_row"]


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
