"""Distances and sites: search radii, great-circle distances, and which sites are near a place.

What a place written by a person means ("77030", "Houston, TX", "Germany") is places.py's job;
`Place`, `resolve_place` and `place_from_coordinates` are re-exported here so that callers
can keep importing them from `trialfinder.geo`. This module depends on places.py, never the
reverse.

A site is near a place when it is open (unless any status is asked for) and:
- for a country searched without a radius ("--near Germany"): it is in that country, matched by
  country name in any spelling; distances from the country's centre are still given for sorting;
- for a US state searched without a radius ("--near Texas"): it is in that state (state name or
  code), "state match"; distances from the state's biggest city;
- otherwise: its coordinates lie within the radius (default 100 mi), or, for a site without
  coordinates, its city and state (US) or city and country match the place.

Distances use the great-circle (haversine) formula on a sphere of mean radius 6371.0088 km.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialfinder.errors import InvalidOption
from trialfinder.geo.places import (
    Place,
    country_key,
    fold_name,
    place_from_coordinates,
    plain_number,
    resolve_place,
    us_state_code,
)
from trialfinder.geo.sphere import EARTH_RADIUS_KM, KM_PER_MILE, haversine_km
from trialfinder.schema import NEAREST_COLUMNS
from trialfinder.schema import SITE_COLUMNS as FRAME_SITE_COLUMNS

__all__ = [
    "DEFAULT_RADIUS",
    "EARTH_RADIUS_KM",
    "KM_PER_MILE",
    "NEAREST_COLUMNS",
    "OPEN_SITE_STATUSES",
    "SITE_COLUMNS",
    "STATUS_FROM_TRIAL",
    "Distance",
    "Place",
    "geo_filter",
    "haversine_km",
    "measure",
    "nearest_by_study",
    "parse_radius",
    "place_from_coordinates",
    "resolve_place",
    "sites_within",
    "whole_area",
    "whole_country",
    "whole_state",
]

OPEN_SITE_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING"})
SITE_COLUMNS = tuple(FRAME_SITE_COLUMNS)  # the sites frame trialfinder.frames builds
# Appended to `located_by` for a site kept on the trial's status (it lists none of its own).
STATUS_FROM_TRIAL = "; site status from trial"
# Float noise only: a site constructed at exactly the radius may compute a few ulps beyond it.
_BOUNDARY_TOLERANCE_KM = 1e-6
_RADIUS_CHOICES = "a number with mi or km, e.g. 50mi or 100km"


# --------------------------------------------------------------------------- radius


@dataclass(frozen=True)
class Distance:
    """A search radius in miles or kilometres."""

    value: float
    unit: str  # "mi" | "km"

    def __post_init__(self) -> None:
        if self.unit not in ("mi", "km"):
            raise InvalidOption("--radius", f"{self.value}{self.unit}", _RADIUS_CHOICES)
        if not math.isfinite(self.value) or self.value <= 0:
            raise InvalidOption("--radius", f"{self.value}{self.unit}", _RADIUS_CHOICES)

    @property
    def miles(self) -> float:
        """The radius in miles."""
        return float(self.value) if self.unit == "mi" else self.value / KM_PER_MILE

    @property
    def km(self) -> float:
        """The radius in kilometres."""
        return float(self.value) if self.unit == "km" else self.value * KM_PER_MILE

    def api(self) -> str:
        """The radius as `filter.geo` writes it, e.g. "100mi" or "160.9344km" (no exponent)."""
        return f"{plain_number(self.value)}{self.unit}"

    def __str__(self) -> str:
        return f"{plain_number(self.value)} {self.unit}"


DEFAULT_RADIUS = Distance(100, "mi")

_RADIUS_RE = re.compile(
    r"^(?P<num>\d+(?:\.\d*)?|\.\d+)\s*"
    r"(?P<unit>mi|miles?|km|kms|kilometers?|kilometres?)?$",
    re.IGNORECASE,
)


def parse_radius(text: str) -> Distance:
    """Parse "50mi", "100km", "100 miles" or "25" (a bare number is miles) into a Distance."""
    match = _RADIUS_RE.match(text.strip())
    if match is None:
        raise InvalidOption("--radius", text, _RADIUS_CHOICES)
    value = float(match["num"])
    unit = "km" if (match["unit"] or "mi").lower().startswith("k") else "mi"
    if value <= 0:
        raise InvalidOption("--radius", text, _RADIUS_CHOICES)
    return Distance(value, unit)


def geo_filter(place: Place, radius: Distance) -> str:
    """The API's `filter.geo` value, e.g. "distance(29.7604,-95.3698,100mi)"."""
    lat, lon = plain_number(place.lat, 6), plain_number(place.lon, 6)
    return f"distance({lat},{lon},{radius.api()})"


def whole_country(place: Place, radius: Distance | None) -> str | None:
    """The country whose every site counts as near, for a country searched without a radius.

    "--near Germany" means "in Germany", not "within 100 mi of Berlin". None when the radius
    rule applies (any other place, or a radius was given).
    """
    if radius is None and place.kind == "country" and place.country:
        return place.country
    return None


def whole_state(place: Place, radius: Distance | None) -> str | None:
    """The US state whose every site counts as near ("--near Texas" without a radius), or None."""
    if radius is None and place.kind == "state" and place.state:
        return place.state
    return None


def whole_area(place: Place, radius: Distance | None) -> str | None:
    """The country or US state searched as a whole ("in Texas"), or None for the radius rule."""
    return whole_country(place, radius) or whole_state(place, radius)


# --------------------------------------------------------------------------- distances


def _site_km(sites: pd.DataFrame, place: Place) -> NDArray[np.float64]:
    """Each site's distance in km from the place (NaN without usable coordinates)."""
    lat = pd.to_numeric(sites["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lon = pd.to_numeric(sites["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    valid = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
    return haversine_km(place.lat, place.lon, np.where(valid, lat, np.nan), lon)


def measure(sites: pd.DataFrame, place: Place) -> pd.DataFrame:
    """A copy of a sites frame with `distance_km` and `distance_mi` from the place, filtering
    nothing (NaN for sites without coordinates); `sites_within` decides what is near."""
    km = _site_km(sites, place)
    return sites.assign(distance_km=km, distance_mi=km / KM_PER_MILE)


def sites_within(
    sites: pd.DataFrame, place: Place, radius: Distance | None, *, any_status: bool = False
) -> pd.DataFrame:
    """The sites near `place`, sorted by nct_id then distance (sites without coordinates last).

    Adds `distance_km`, `distance_mi` (from the place; NaN for sites without coordinates) and
    `located_by`. `radius=None` means the whole country for a country place (see
    `whole_country`) and DEFAULT_RADIUS for any other place.

    - Country rule: every site whose country is the place's, in any spelling ("Korea, Republic
      of" is "South Korea"), with or without coordinates; `located_by` is "country match".
    - Radius rule: a site with coordinates is kept when its distance is at most the radius,
      compared in the radius's own unit ("coordinates"); a site without coordinates when its
      city and state (US) or city and country match the place, or for a country its country
      ("place match").

    Unless `any_status`, only RECRUITING and NOT_YET_RECRUITING sites are kept. A site without
    a status of its own carries the trial's (`trialfinder.frames.site_row`); `located_by`
    then ends in "; site status from trial" so the user sees it.
    """
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise ValueError(f"sites frame lacks columns: {', '.join(missing)}")
    km = _site_km(sites, place)
    status_ok = (
        np.ones(len(sites), dtype=bool)
        if any_status
        else sites["site_status"].isin(OPEN_SITE_STATUSES).to_numpy(dtype=bool)
    )
    no_coords = np.isnan(km)

    country = whole_country(place, radius)
    state = whole_state(place, radius)
    if country is not None:
        in_country = (_country_keys(sites["country"]) == country_key(country)).to_numpy(dtype=bool)
        keep = in_country & status_ok
        located_by: NDArray[np.str_] = np.full(int(keep.sum()), "country match")
    elif state is not None:
        in_us = (_country_keys(sites["country"]) == "US").to_numpy(dtype=bool)
        codes = _per_value(sites["state"], us_state_code)
        keep = in_us & (codes == us_state_code(state)).to_numpy(dtype=bool) & status_ok
        located_by = np.full(int(keep.sum()), "state match")
    else:
        radius = radius or DEFAULT_RADIUS
        if radius.unit == "mi":
            in_range = km / KM_PER_MILE <= radius.value + _BOUNDARY_TOLERANCE_KM / KM_PER_MILE
        else:
            in_range = km <= radius.value + _BOUNDARY_TOLERANCE_KM
        keep = in_range & status_ok
        candidates = no_coords & status_ok
        if candidates.any():
            keep[candidates] = _place_matches(sites.loc[candidates], place)
        located_by = np.where(no_coords[keep], "place match", "coordinates")

    out = sites.loc[keep].copy()
    out["distance_km"] = km[keep]
    out["distance_mi"] = km[keep] / KM_PER_MILE
    from_trial = (out["site_status_from"] == "trial").to_numpy(dtype=bool)
    out["located_by"] = [
        f"{how}{STATUS_FROM_TRIAL}" if borrowed else str(how)
        for how, borrowed in zip(located_by, from_trial, strict=True)
    ]
    out = out.sort_values(["nct_id", "distance_km"], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def nearest_by_study(
    in_range: pd.DataFrame, central_contacts: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per study: its nearest site in range, the distance, and whom to contact.

    `in_range` is the output of `sites_within`. A site without coordinates (a place or country
    match) is used only when the study has no site with coordinates in range. The contact is
    the site's, else the study's central contact from `central_contacts[nct_id]`, else "".
    """
    if in_range.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in NEAREST_COLUMNS})
        return empty.astype({"distance_mi": np.float64, "distance_km": np.float64})
    ordered = in_range.sort_values(["nct_id", "distance_km"], na_position="last", kind="stable")
    first = ordered.drop_duplicates("nct_id", keep="first").reset_index(drop=True)

    countries = _country_keys(first["country"])
    state_code = _per_value(first["state"], us_state_code)
    us_state = (countries == "US") & (state_code != "")
    where = _text(first["country"]).where(~us_state, state_code)
    site_label = _join_nonempty([_text(first["facility"]), _text(first["city"]), where])
    city_label = _join_nonempty([_text(first["city"]), where])

    contact = _text(first["contact"]).str.strip()
    central = first["nct_id"].map(dict(central_contacts or {}))
    contact = contact.where(contact != "", _text(central))

    return pd.DataFrame(
        {
            "nct_id": first["nct_id"],
            "nearest_site": site_label,
            "nearest_site_city": city_label,
            "distance_mi": first["distance_mi"].astype(np.float64),
            "distance_km": first["distance_km"].astype(np.float64),
            "nearest_site_contact": contact,
            "nearest_site_located_by": first["located_by"],
        }
    )


def _text(column: pd.Series[Any]) -> pd.Series[str]:
    """A column as plain str with missing values as ""."""
    return column.astype(object).where(column.notna(), "").astype(str)


def _join_nonempty(parts: Sequence[pd.Series[str]]) -> pd.Series[str]:
    """Row-wise ", ".join of the non-empty strings, vectorised."""
    joined = parts[0]
    for part in parts[1:]:
        sep = pd.Series(", ", index=joined.index, dtype=str).where(
            (joined != "") & (part != ""), ""
        )
        joined = joined + sep + part
    return joined


def _place_matches(frame: pd.DataFrame, place: Place) -> NDArray[np.bool_]:
    """Which coordinate-less sites lie in the searched place (by name, not by distance)."""
    none = np.zeros(len(frame), dtype=bool)
    if place.kind == "coordinates" or not place.country:
        return none
    place_country = country_key(place.country)
    matches = (_country_keys(frame["country"]) == place_country).to_numpy(dtype=bool)
    if place.kind == "country":
        return matches
    if not place.city:
        return none
    cities = _per_value(frame["city"], fold_name)
    matches = matches & (cities == fold_name(place.city)).to_numpy(dtype=bool)
    if place_country == "US" and place.state:
        states = _per_value(frame["state"], us_state_code)
        matches = matches & (states == us_state_code(place.state)).to_numpy(dtype=bool)
    return matches


def _per_value(column: pd.Series[Any], func: Callable[[str], str]) -> pd.Series[str]:
    """`func` over a text column, computed once per distinct value (sites repeat cities)."""
    text = _text(column)
    return text.map({value: func(value) for value in text.unique()})


def _country_keys(column: pd.Series[Any]) -> pd.Series[str]:
    """ISO code per country name (any spelling ClinicalTrials.gov has used); else the name."""
    return _per_value(column, country_key)
