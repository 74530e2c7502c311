"""One study in full, for `show`: the normalised row, eligibility text, contacts, sites, stance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trialfinder.normalize import dig, format_contact, sites_frame, study_row
from trialfinder.render.formats import plain_deep
from trialfinder.text import clean_block, clean_line, strip_controls

if TYPE_CHECKING:
    from trialfinder.geo.distance import Distance, Place


def study_detail(
    study: Mapping[str, Any],
    *,
    near: Place | None = None,
    radius: Distance | None = None,
) -> dict[str, Any]:
    """The normalised record of one study, with everything `show` prints.

    With `near`, sites carry distances and are listed nearest first; with `radius` too, only
    the sites within it (and those without coordinates) are listed, and the rest counted.
    """
    from trialfinder.cart.stance import describe_stance, evidence_span, profile_study, row_of

    ps = study.get("protocolSection") or {}
    record = study_row(study)
    profile = profile_study(study)
    record.update(row_of(profile))
    stance = profile.prior_car_t
    evidence = strip_controls(stance.evidence).strip()
    record["prior_car_t_evidence"] = evidence
    record["prior_car_t_summary"] = describe_stance(stance)
    record["official_title"] = clean_line(dig(ps, "identificationModule", "officialTitle"))
    record["brief_summary"] = clean_block(dig(ps, "descriptionModule", "briefSummary"))
    record["eligibility_criteria"] = clean_block(
        dig(ps, "eligibilityModule", "eligibilityCriteria")
    )
    record["evidence_span"] = (
        evidence_span(record["eligibility_criteria"], evidence) if evidence else None
    )
    record["central_contacts"] = [
        format_contact(c) for c in dig(ps, "contactsLocationsModule", "centralContacts") or []
    ]
    record["overall_officials"] = [
        "; ".join(clean_line(o.get(k)) for k in ("name", "role", "affiliation") if o.get(k))
        for o in dig(ps, "contactsLocationsModule", "overallOfficials") or []
        if isinstance(o, Mapping)
    ]
    sites = sites_frame([study])
    if near is not None:
        from trialfinder.geo.distance import haversine_km

        km = haversine_km(near.lat, near.lon, sites["lat"].to_numpy(), sites["lon"].to_numpy())
        sites["distance_km"] = km
        sites["distance_mi"] = km / 1.609344
        sites = sites.sort_values("distance_km", na_position="last", kind="stable")
        record["near"] = {
            "place": near.label,
            "lat": near.lat,
            "lon": near.lon,
            "country": near.country,
        }
        if radius is not None:
            # Sites without coordinates stay: their distance is unknown, not too far.
            far = sites["distance_km"] > radius.km * (1 + 1e-12)
            record["near"]["radius"] = f"{radius.value:g}{radius.unit}"
            record["near"]["sites_beyond_radius"] = int(far.sum())
            sites = sites.loc[~far]
    record["sites"] = sites.drop(columns=["nct_id"]).to_dict(orient="records")
    return dict(plain_deep(record))
