"""One study in full, for `show`: the study's row, eligibility text, contacts, sites, stance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialfinder.frames import plain_deep, sites_frame, study_row
from trialfinder.records import Study
from trialfinder.text import clean_block

if TYPE_CHECKING:
    from trialfinder.geo.distance import Distance, Place


def study_detail(
    study: Study,
    *,
    near: Place | None = None,
    radius: Distance | None = None,
) -> dict[str, Any]:
    """The record of one study with everything `show` prints, JSON-ready.

    With `near`, sites carry distances and are listed nearest first; with `radius` too, only
    the sites within it are listed (by the same rule as `search`: coordinates within the
    radius, or, for a site without coordinates, a match of the place by name), and the rest
    are counted.
    """
    from trialfinder.cart.explain import describe_stance, evidence_span
    from trialfinder.cart.profile import profile_study, row_of

    record = study_row(study)
    profile = profile_study(study)
    record.update(row_of(profile))
    stance = profile.prior_car_t
    evidence = stance.evidence.strip()
    record["prior_car_t_evidence"] = evidence
    record["prior_car_t_summary"] = describe_stance(stance)
    record["official_title"] = study.official_title
    record["brief_summary"] = study.brief_summary
    record["eligibility_criteria"] = clean_block(study.eligibility_criteria)
    record["evidence_span"] = (
        evidence_span(record["eligibility_criteria"], evidence) if evidence else None
    )
    record["central_contacts"] = [c.line() for c in study.central_contacts]
    record["overall_officials"] = [o.line() for o in study.officials]
    sites = sites_frame([study])
    if near is not None:
        from trialfinder.geo.distance import measure, sites_within

        record["near"] = {
            "place": near.label,
            "lat": near.lat,
            "lon": near.lon,
            "country": near.country,
        }
        if radius is None:
            sites = measure(sites, near).sort_values(
                "distance_km", na_position="last", kind="stable"
            )
        else:
            within = sites_within(sites, near, radius, any_status=True)
            record["near"]["radius"] = f"{radius.value:g}{radius.unit}"
            record["near"]["sites_beyond_radius"] = len(sites) - len(within)
            sites = within
    record["sites"] = sites.drop(columns=["nct_id"]).to_dict(orient="records")
    return dict(plain_deep(record))
