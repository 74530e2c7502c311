"""The near-me stage of a search: keep the trials with a site within the radius, each with
its nearest such site, and say why each other trial was dropped (its nearest open site)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from trialfinder.spec import SearchOptions

__all__ = ["near"]


def _near_reasons(
    lost: pd.DataFrame, sites: pd.DataFrame, options: SearchOptions, where: str
) -> list[tuple[str, str, str]]:
    """Why each trial `lost` has no site near: its nearest open site, wherever it is."""
    import pandas as pd

    from trialfinder.geo.distance import OPEN_SITE_STATUSES, measure

    assert options.near is not None
    candidates = sites[sites["nct_id"].isin(lost["nct_id"])]
    if not options.any_site_status:
        candidates = candidates[candidates["site_status"].isin(OPEN_SITE_STATUSES)]
    measured = measure(candidates, options.near).sort_values("distance_km", kind="stable")
    nearest = measured.drop_duplicates("nct_id").set_index("nct_id")
    which = "site" if options.any_site_status else "open site"
    out = []
    for nct, title in zip(lost["nct_id"], lost["title"], strict=True):
        if nct not in nearest.index:
            reason = f"no {which} listed"
        else:
            site = nearest.loc[nct]
            place = ", ".join(
                str(p) for p in (site["facility"], site["city"], site["country"]) if p
            )
            far = site["distance_mi"]
            far_text = (
                "no coordinates" if pd.isna(far) else f"{far:.0f} mi ({site['distance_km']:.0f} km)"
            )
            reason = f"no {which} {where}; nearest {which}: {place}, {far_text}"
        out.append((str(nct), str(title), reason))
    return out


def near(
    frame: pd.DataFrame,
    sites: pd.DataFrame,
    options: SearchOptions,
    notes: list[str],
    dropped: list[tuple[str, str, str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trials with a site within the radius, each with its nearest such site, and the
    sites in range; `notes` and `dropped` get what was dropped and why."""
    from trialfinder.geo.distance import (
        DEFAULT_RADIUS,
        STATUS_FROM_TRIAL,
        nearest_by_study,
        sites_within,
        whole_area,
    )

    assert options.near is not None
    in_range = sites_within(sites, options.near, options.radius, any_status=options.any_site_status)
    in_range = in_range[in_range["nct_id"].isin(frame["nct_id"])]
    contacts = dict(zip(frame["nct_id"], frame["central_contact"], strict=True))
    nearest = nearest_by_study(in_range, contacts)
    lost = frame[~frame["nct_id"].isin(nearest["nct_id"])]
    frame = frame.merge(nearest, on="nct_id", how="inner")
    borrowed = int(frame["nearest_site_located_by"].str.endswith(STATUS_FROM_TRIAL).sum())
    if borrowed:
        notes.append(
            f"{borrowed} trial(s) kept on the trial's own status: their nearest site lists no "
            "status of its own (nearest_site_located_by says 'site status from trial')"
        )
    if len(lost):
        which = (
            "site of any status"
            if options.any_site_status
            else "recruiting or not-yet-recruiting site"
        )
        country = whole_area(options.near, options.radius)
        radius = options.radius or DEFAULT_RADIUS
        where = (
            f"in {country}"
            if country is not None
            else f"within {radius.value:g} {radius.unit} of {options.near.label}"
        )
        notes.append(
            f"{len(lost)} trial(s) dropped: no {which} {where}"
            + ("" if options.any_site_status else " (use --any-site-status to keep them)")
        )
        dropped += _near_reasons(lost, sites, options, where)
    return frame, in_range
