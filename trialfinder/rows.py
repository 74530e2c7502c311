"""Study records -> plain rows with the declared columns (`trialfinder.schema`), without
pandas: a search makes them while its pages travel, before pandas is imported."""

from __future__ import annotations

from typing import Any

from trialfinder.records import Site, Study
from trialfinder.schema import STUDY_COLUMNS

__all__ = ["intervention_labels", "site_row", "study_row", "study_values"]


def intervention_labels(study: Study) -> list[str]:
    """The study's interventions as 'TYPE: name' (unnamed ones left out)."""
    return [f"{i.type or 'OTHER'}: {i.name}" for i in study.interventions if i.name]


def study_row(study: Study) -> dict[str, Any]:
    """One study -> a dict with exactly the STUDY_COLUMNS keys."""
    return dict(zip(STUDY_COLUMNS, study_values(study), strict=True))


def study_values(study: Study) -> tuple[Any, ...]:
    """One study's row as the values of the STUDY_COLUMNS, in their order: what a search
    keeps for each of thousands of studies while its pages come (a fifth of a dict's size)."""
    return (
        study.nct_id,
        study.title,
        study.status,
        list(study.phases),
        list(study.conditions),
        intervention_labels(study),
        study.sponsor,
        study.study_type,
        study.start_date,
        study.last_update,
        study.min_age,
        study.max_age,
        study.min_age_years,
        study.max_age_years,
        study.sex,
        study.enrollment,
        len(study.sites),
        study.central_contact,
        study.url,
    )


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
