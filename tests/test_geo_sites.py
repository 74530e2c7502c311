"""Tests for trialfinder.geo.distance: which sites are near a place (by coordinates or by name),
and the nearest site of each study."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from geo_sites import HOUSTON, frame, reference_km, site

from trialfinder.geo.distance import (
    DEFAULT_RADIUS,
    EARTH_RADIUS_KM,
    SITE_COLUMNS,
    Distance,
    Place,
    nearest_by_study,
    place_from_coordinates,
    resolve_place,
    sites_within,
)

MANY_SITES_RECORD = Path("/work/shared/ctgov/records/gowthamrao_NCT04267848_nsclc_many_sites.json")


# --------------------------------------------------------------------------- sites_within


def north_of(lat: float, km: float) -> float:
    """The latitude `km` north along a meridian (a meridian arc is exactly R * angle)."""
    return lat + math.degrees(km / EARTH_RADIUS_KM)


@pytest.mark.parametrize("radius", [Distance(100, "mi"), Distance(100, "km"), Distance(0.5, "mi")])
@pytest.mark.parametrize("lat0", [-60.0, 0.0, 29.7633, 70.0])
def test_radius_boundary_is_inclusive_and_exact(radius: Distance, lat0: float) -> None:
    centre = place_from_coordinates(lat0, -95.3633)
    at = north_of(lat0, radius.km)
    beyond = north_of(lat0, radius.km + 0.001)  # one metre past the radius
    inside = north_of(lat0, radius.km - 0.001)
    sites = frame(
        site(nct_id="NCT00000001", facility="at", lat=at, lon=-95.3633),
        site(nct_id="NCT00000001", facility="beyond", lat=beyond, lon=-95.3633),
        site(nct_id="NCT00000001", facility="inside", lat=inside, lon=-95.3633),
    )
    kept = sites_within(sites, centre, radius)
    assert sorted(kept["facility"]) == ["at", "inside"]
    at_row = kept[kept["facility"] == "at"].iloc[0]
    assert at_row["distance_km"] == pytest.approx(radius.km, rel=1e-12, abs=1e-9)
    assert at_row["distance_mi"] == pytest.approx(radius.miles, rel=1e-12, abs=1e-9)


def test_sites_within_adds_distances_and_sorts_by_study_then_distance() -> None:
    sites = frame(
        site(nct_id="NCT00000002", facility="Dallas", lat=32.7767, lon=-96.7970),
        site(nct_id="NCT00000001", facility="Galveston", lat=29.3013, lon=-94.7977),
        site(nct_id="NCT00000001", facility="TMC", lat=29.7076, lon=-95.4018),
        site(nct_id="NCT00000001", facility="Austin", lat=30.2672, lon=-97.7431),
    )
    kept = sites_within(sites, HOUSTON, Distance(150, "mi"))
    assert list(kept["facility"]) == ["TMC", "Galveston", "Austin"]
    assert list(kept.columns) == [*SITE_COLUMNS, "distance_km", "distance_mi", "located_by"]
    assert set(kept["located_by"]) == {"coordinates"}
    for _, row in kept.iterrows():
        expected = reference_km(HOUSTON.lat, HOUSTON.lon, row["lat"], row["lon"])
        assert row["distance_km"] == pytest.approx(expected, rel=0.005)
        assert row["distance_mi"] == pytest.approx(row["distance_km"] / 1.609344)
    assert list(kept.index) == [0, 1, 2]


def test_only_open_sites_unless_any_status() -> None:
    statuses = ["RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED", None]
    sites = frame(
        *(
            site(nct_id="NCT00000001", facility=str(s), site_status=s, lat=29.71, lon=-95.40)
            for s in statuses
        )
    )
    open_sites = sites_within(sites, HOUSTON, DEFAULT_RADIUS)
    assert set(open_sites["site_status"]) == {"RECRUITING", "NOT_YET_RECRUITING"}
    assert len(sites_within(sites, HOUSTON, DEFAULT_RADIUS, any_status=True)) == 5


def test_sites_without_coordinates_match_by_city_and_state() -> None:
    sites = frame(
        site(nct_id="NCT00000001", facility="match", city="Houston", state="Texas"),
        site(nct_id="NCT00000001", facility="abbrev", city="HOUSTON", state="TX"),
        site(nct_id="NCT00000001", facility="other state", city="Houston", state="Missouri"),
        site(nct_id="NCT00000001", facility="other city", city="Dallas", state="Texas"),
        site(nct_id="NCT00000001", facility="no state", city="Houston", state=None),
        site(nct_id="NCT00000001", facility="closed", city="Houston", site_status="COMPLETED"),
        site(nct_id="NCT00000002", facility="far", lat=40.71, lon=-74.0, city="Houston"),
    )
    for row in range(len(sites) - 1):
        sites.loc[row, "country"] = "United States"
    sites.loc[5, "state"] = "Texas"
    kept = sites_within(sites, HOUSTON, DEFAULT_RADIUS)
    assert sorted(kept["facility"]) == ["abbrev", "match"]
    assert set(kept["located_by"]) == {"place match"}
    assert kept["distance_km"].isna().all() and kept["distance_mi"].isna().all()
    with_closed = sites_within(sites, HOUSTON, DEFAULT_RADIUS, any_status=True)
    assert sorted(with_closed["facility"]) == ["abbrev", "closed", "match"]


def test_sites_without_coordinates_match_by_city_and_country() -> None:
    zurich = resolve_place("Zurich, Switzerland")
    sites = frame(
        site(nct_id="NCT00000001", facility="plain", city="Zurich", country="Switzerland"),
        site(nct_id="NCT00000001", facility="accented", city="Zürich", country="Switzerland"),
        site(nct_id="NCT00000001", facility="other country", city="Zurich", country="Germany"),
        site(nct_id="NCT00000001", facility="other city", city="Basel", country="Switzerland"),
    )
    assert sorted(sites_within(sites, zurich, DEFAULT_RADIUS)["facility"]) == [
        "accented",
        "plain",
    ]


def test_sites_without_coordinates_match_a_country_in_any_spelling() -> None:
    korea = resolve_place("South Korea")
    sites = frame(
        site(nct_id="NCT00000001", facility="new", city="Busan", country="South Korea"),
        site(nct_id="NCT00000001", facility="old", city="Daegu", country="Korea, Republic of"),
        site(nct_id="NCT00000001", facility="japan", city="Tokyo", country="Japan"),
    )
    assert sorted(sites_within(sites, korea, DEFAULT_RADIUS)["facility"]) == ["new", "old"]
    turkey = resolve_place("Turkey")
    spelled = frame(
        site(nct_id="NCT00000001", facility="a", city="Izmir", country="Turkey (Türkiye)"),
        site(nct_id="NCT00000001", facility="b", city="Izmir", country="Turkey"),
    )
    assert len(sites_within(spelled, turkey, DEFAULT_RADIUS)) == 2


def test_coordinates_place_never_matches_sites_by_name() -> None:
    sites = frame(site(nct_id="NCT00000001", city="Houston", state="Texas", country="US"))
    point = place_from_coordinates(HOUSTON.lat, HOUSTON.lon)
    assert sites_within(sites, point, DEFAULT_RADIUS).empty


def test_sites_within_handles_an_empty_frame_and_refuses_a_wrong_one() -> None:
    kept = sites_within(frame(), HOUSTON, DEFAULT_RADIUS)
    assert kept.empty and "distance_km" in kept.columns
    with pytest.raises(ValueError, match="lacks columns"):
        sites_within(pd.DataFrame({"nct_id": ["NCT00000001"]}), HOUSTON, DEFAULT_RADIUS)


def test_a_study_with_hundreds_of_sites() -> None:
    rng = np.random.default_rng(7)
    n = 800
    lats, lons = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    lats[::50] = np.nan  # some sites lack a geoPoint
    statuses = rng.choice(["RECRUITING", "SUSPENDED", "NOT_YET_RECRUITING"], n)
    sites = frame(
        *(
            site(
                nct_id="NCT04267848",
                facility=f"Site {i}",
                city=f"Town {i}",
                state="Texas",
                country="United States",
                site_status=statuses[i],
                lat=lats[i],
                lon=lons[i],
                contact=f"Contact {i}" if i % 2 else "",
            )
            for i in range(n)
        )
    )
    radius = Distance(600, "mi")
    kept = sites_within(sites, HOUSTON, radius)
    expected = {
        f"Site {i}"
        for i in range(n)
        if not math.isnan(lats[i])
        and statuses[i] != "SUSPENDED"
        and reference_km(HOUSTON.lat, HOUSTON.lon, lats[i], lons[i]) <= radius.km
    }
    assert set(kept["facility"]) == expected
    assert kept["distance_km"].is_monotonic_increasing

    nearest = nearest_by_study(kept, {"NCT04267848": "Central Desk; 800-555-0100"})
    assert len(nearest) == 1
    row = nearest.iloc[0]
    assert row["distance_km"] == pytest.approx(kept["distance_km"].min())
    best = kept.iloc[0]
    assert row["nearest_site"] == f"{best['facility']}, {best['city']}, TX"
    assert row["nearest_site_contact"] == (best["contact"] or "Central Desk; 800-555-0100")


def record_sites(record: dict[str, Any]) -> pd.DataFrame:
    """The sites frame normalize.py builds, reduced to what these tests need."""
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    locations = record["protocolSection"]["contactsLocationsModule"]["locations"]
    return frame(
        *(
            site(
                nct_id=nct_id,
                facility=loc.get("facility"),
                city=loc.get("city"),
                state=loc.get("state"),
                zip=loc.get("zip"),
                country=loc.get("country"),
                site_status=loc.get("status"),
                lat=loc.get("geoPoint", {}).get("lat", math.nan),
                lon=loc.get("geoPoint", {}).get("lon", math.nan),
            )
            for loc in locations
        )
    )


@pytest.mark.skipif(not MANY_SITES_RECORD.exists(), reason="shared research record not present")
def test_a_real_study_with_a_thousand_sites() -> None:
    record = json.loads(MANY_SITES_RECORD.read_text(encoding="utf-8"))
    sites = record_sites(record)
    assert len(sites) > 1000 and sites["lat"].isna().sum() > 0

    kept = sites_within(sites, HOUSTON, DEFAULT_RADIUS)
    expected = {
        i
        for i, loc in enumerate(record["protocolSection"]["contactsLocationsModule"]["locations"])
        if loc.get("status") in ("RECRUITING", "NOT_YET_RECRUITING")
        and "geoPoint" in loc
        and reference_km(HOUSTON.lat, HOUSTON.lon, loc["geoPoint"]["lat"], loc["geoPoint"]["lon"])
        <= DEFAULT_RADIUS.km
    }
    assert len(kept) == len(expected) > 0
    assert set(kept["facility"]) == {sites.loc[i, "facility"] for i in expected}

    # Sites of this record without a geoPoint are found by their city and state.
    no_point = sites[sites["lat"].isna()].iloc[0]
    town = Place("town", 0.0, 0.0, "city", no_point["city"], no_point["state"], no_point["country"])
    found = sites_within(sites, town, DEFAULT_RADIUS, any_status=True)
    assert no_point["facility"] in set(found.loc[found["located_by"] == "place match", "facility"])


# --------------------------------------------------------------------------- nearest_by_study


def test_nearest_prefers_a_site_with_coordinates_over_a_place_match() -> None:
    sites = frame(
        site(nct_id="NCT00000001", facility="Named", city="Houston", state="Texas",
             country="United States"),
        site(nct_id="NCT00000001", facility="Far", city="Galveston", state="Texas",
             country="United States", lat=29.3013, lon=-94.7977, contact="Far desk"),
        site(nct_id="NCT00000001", facility="Near", city="Houston", state="Texas",
             country="United States", lat=29.7076, lon=-95.4018),
        site(nct_id="NCT00000002", facility="Only named", city="Houston", state="Texas",
             country="United States", contact="Named desk"),
        site(nct_id="NCT00000003", facility="Hôpital", city="Paris", country="France",
             lat=48.85, lon=2.35),
    )  # fmt: skip
    kept = sites_within(sites, HOUSTON, DEFAULT_RADIUS)
    nearest = nearest_by_study(kept, {"NCT00000001": "Central; 713-555-0100"})
    assert list(nearest.columns) == [
        "nct_id",
        "nearest_site",
        "nearest_site_city",
        "distance_mi",
        "distance_km",
        "nearest_site_contact",
        "nearest_site_located_by",
    ]
    assert list(nearest["nct_id"]) == ["NCT00000001", "NCT00000002"]
    first, second = nearest.iloc[0], nearest.iloc[1]
    assert first["nearest_site"] == "Near, Houston, TX"
    assert first["nearest_site_city"] == "Houston, TX"
    assert first["nearest_site_located_by"] == "coordinates"
    assert first["nearest_site_contact"] == "Central; 713-555-0100"  # the site has none
    assert first["distance_mi"] == pytest.approx(first["distance_km"] / 1.609344)
    assert second["nearest_site"] == "Only named, Houston, TX"
    assert second["nearest_site_located_by"] == "place match"
    assert math.isnan(second["distance_km"])
    assert second["nearest_site_contact"] == "Named desk"

    paris = nearest_by_study(sites_within(sites, resolve_place("Paris, France"), DEFAULT_RADIUS))
    assert list(paris["nearest_site"]) == ["Hôpital, Paris, France"]
    assert list(paris["nearest_site_contact"]) == [""]


def test_nearest_by_study_of_nothing() -> None:
    nearest = nearest_by_study(sites_within(frame(), HOUSTON, DEFAULT_RADIUS))
    assert nearest.empty
    assert "nearest_site" in nearest.columns
