"""Tests for trialfinder.geo: radii, distances, which sites are near a place (radius and country
rules), and how the search pipeline uses them."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from trialfinder.errors import InvalidOption
from trialfinder.geo.distance import (
    DEFAULT_RADIUS,
    EARTH_RADIUS_KM,
    SITE_COLUMNS,
    Distance,
    Place,
    geo_filter,
    haversine_km,
    nearest_by_study,
    parse_radius,
    place_from_coordinates,
    resolve_place,
    sites_within,
    whole_country,
)
from trialfinder.ctgov.query import Query
from trialfinder.search import SearchOptions, run_search, server_query
from trialfinder.ctgov.sources import FileSource

MANY_SITES_RECORD = Path("/work/shared/ctgov/records/gowthamrao_NCT04267848_nsclc_many_sites.json")
# The spec's pattern for filter.geo (spec/ctg-oas-v2.yaml, /studies parameters).
FILTER_GEO_PATTERN = re.compile(r"^distance\(-?\d+(\.\d+)?,-?\d+(\.\d+)?,\d+(\.\d+)?(km|mi)?\)$")
HOUSTON = Place(
    "Houston, TX, United States", 29.7633, -95.3633, "city", "Houston", "Texas", "United States"
)


def reference_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine written independently of geo.py, with math only."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def site(**values: Any) -> dict[str, Any]:
    """One site row with the normalize.py columns; unspecified text is "" and coords NaN."""
    row: dict[str, Any] = {c: "" for c in SITE_COLUMNS}
    row.update(site_status="RECRUITING", lat=math.nan, lon=math.nan)
    row.update(values)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(SITE_COLUMNS))


# --------------------------------------------------------------------------- radius


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("50mi", 50, "mi"),
        ("100km", 100, "km"),
        ("100 miles", 100, "mi"),
        ("1 mile", 1, "mi"),
        ("25", 25, "mi"),
        (" 2.5 KM ", 2.5, "km"),
        ("80 kilometres", 80, "km"),
        (".5mi", 0.5, "mi"),
    ],
)
def test_parse_radius(text: str, value: float, unit: str) -> None:
    assert parse_radius(text) == Distance(value, unit)


@pytest.mark.parametrize(
    "text", ["0", "0km", "-5mi", "abc", "", "mi", "5 parsecs", "nan", "inf", "1e3", "5 mi km"]
)
def test_parse_radius_rejects(text: str) -> None:
    with pytest.raises(InvalidOption) as raised:
        parse_radius(text)
    assert raised.value.option == "--radius"
    assert "50mi or 100km" in str(raised.value)


def test_distance_units_and_api_form() -> None:
    assert Distance(100, "mi") == DEFAULT_RADIUS
    assert DEFAULT_RADIUS.api() == "100mi"
    assert DEFAULT_RADIUS.km == pytest.approx(160.9344)
    assert Distance(160.9344, "km").miles == pytest.approx(100)
    assert Distance(160.9, "km").api() == "160.9km"
    assert Distance(2.5, "km").miles == pytest.approx(2.5 / 1.609344)
    assert str(Distance(50, "mi")) == "50 mi"
    with pytest.raises(InvalidOption):
        Distance(10, "furlongs")
    with pytest.raises(InvalidOption):
        Distance(0, "km")


def test_geo_filter_matches_the_spec_pattern() -> None:
    assert geo_filter(HOUSTON, DEFAULT_RADIUS) == "distance(29.7633,-95.3633,100mi)"
    tiny = place_from_coordinates(1e-7, -0.0)
    assert geo_filter(tiny, Distance(1e-5, "km")) == "distance(0,0,0.00001km)"


@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    value=st.floats(1e-6, 20000),
    unit=st.sampled_from(["mi", "km"]),
)
def test_geo_filter_always_matches_the_spec_pattern(
    lat: float, lon: float, value: float, unit: str
) -> None:
    text = geo_filter(place_from_coordinates(lat, lon), Distance(value, unit))
    assert FILTER_GEO_PATTERN.match(text), text


# --------------------------------------------------------------------------- distances


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((29.7604, -95.3698), (32.7767, -96.7970)),  # Houston - Dallas
        ((40.7128, -74.0060), (34.0522, -118.2437)),  # New York - Los Angeles
        ((51.5074, -0.1278), (48.8566, 2.3522)),  # London - Paris
        ((-33.8688, 151.2093), (35.6762, 139.6503)),  # Sydney - Tokyo
        ((0.0, 0.0), (0.0, 180.0)),  # antipodes
    ],
)
def test_distances_agree_with_an_independent_haversine(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    got = float(haversine_km(a[0], a[1], [b[0]], [b[1]])[0])
    assert got == pytest.approx(reference_km(*a, *b), rel=0.005)


def test_known_city_pair_distances() -> None:
    # Published great-circle distances: New York - Los Angeles 3,936 km, London - Paris 344 km.
    assert float(haversine_km(40.7128, -74.0060, 34.0522, -118.2437)) == pytest.approx(
        3936, rel=0.005
    )
    assert float(haversine_km(51.5074, -0.1278, 48.8566, 2.3522)) == pytest.approx(344, rel=0.005)


def test_haversine_is_vectorised_and_passes_nan_through() -> None:
    got = haversine_km(0.0, 0.0, np.array([0.0, 1.0, np.nan]), np.array([0.0, 0.0, 5.0]))
    assert got.shape == (3,)
    assert got[0] == 0.0
    assert got[1] == pytest.approx(EARTH_RADIUS_KM * math.pi / 180)
    assert math.isnan(got[2])


coordinates = st.tuples(st.floats(-90, 90), st.floats(-180, 180))


@given(a=coordinates, b=coordinates)
def test_distance_is_symmetric_non_negative_and_at_most_half_the_circumference(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    ab = float(haversine_km(a[0], a[1], b[0], b[1]))
    ba = float(haversine_km(b[0], b[1], a[0], a[1]))
    assert ab == pytest.approx(ba, abs=1e-6)
    assert 0.0 <= ab <= math.pi * EARTH_RADIUS_KM + 1e-9
    assert ab == pytest.approx(reference_km(*a, *b), rel=1e-9, abs=1e-6)


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
        "distance_mi",
        "distance_km",
        "nearest_site_contact",
        "nearest_site_located_by",
    ]
    assert list(nearest["nct_id"]) == ["NCT00000001", "NCT00000002"]
    first, second = nearest.iloc[0], nearest.iloc[1]
    assert first["nearest_site"] == "Near, Houston, TX"
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


# --------------------------------------------------------------------------- whole countries

# Real places; distances from the country's centre as resolved (Berlin, Washington, Seoul).
# Lörrach, Germany: 682 km from Berlin, at the far corner of the country.
LORRACH: dict[str, Any] = {"city": "Lörrach", "country": "Germany", "lat": 47.6156, "lon": 7.6614}
# Gorzów Wielkopolski, Poland: 43 km over the border at Kostrzyn, 125 km from Berlin, so inside
# the 100 mi circle that "--near Germany" used to mean.
GORZOW: dict[str, Any] = {
    "city": "Gorzów Wielkopolski",
    "country": "Poland",
    "lat": 52.7368,
    "lon": 15.2288,
}


def test_whole_country_applies_to_a_country_without_a_radius_only() -> None:
    germany = resolve_place("Germany")
    assert whole_country(germany, None) == "Germany"
    assert whole_country(germany, DEFAULT_RADIUS) is None
    assert whole_country(HOUSTON, None) is None
    assert whole_country(resolve_place("USA"), None) == "United States"


def test_a_country_without_a_radius_keeps_every_site_in_it_and_none_outside() -> None:
    germany = resolve_place("Germany")
    sites = frame(
        site(nct_id="NCT00000001", facility="far", **LORRACH),
        site(nct_id="NCT00000001", facility="no coordinates", city="Hamburg", country="Germany"),
        site(nct_id="NCT00000001", facility="closed", site_status="COMPLETED", **LORRACH),
        site(nct_id="NCT00000002", facility="over the border", **GORZOW),
        site(nct_id="NCT00000002", facility="no country", lat=52.52, lon=13.40),
    )
    kept = sites_within(sites, germany, None)
    assert list(kept["facility"]) == ["far", "no coordinates"]
    assert set(kept["located_by"]) == {"country match"}
    far, unplaced = kept.iloc[0], kept.iloc[1]
    assert far["distance_km"] == pytest.approx(
        reference_km(germany.lat, germany.lon, LORRACH["lat"], LORRACH["lon"]), rel=0.005
    )
    assert far["distance_km"] > 600  # far beyond any default radius, and still kept
    assert math.isnan(unplaced["distance_km"]) and math.isnan(unplaced["distance_mi"])
    with_closed = sites_within(sites, germany, None, any_status=True)
    assert sorted(with_closed["facility"]) == ["closed", "far", "no coordinates"]

    nearest = nearest_by_study(kept)
    assert list(nearest["nearest_site"]) == ["far, Lörrach, Germany"]
    assert list(nearest["nearest_site_located_by"]) == ["country match"]


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (  # Houston is 1,960 km from Washington; Tijuana is a few km over the border
            "USA",
            {"city": "Houston", "state": "Texas", "country": "United States",
             "lat": 29.7604, "lon": -95.3698},
            {"city": "Tijuana", "state": "Baja California", "country": "Mexico",
             "lat": 32.5149, "lon": -117.0382},
        ),
        (  # the older ClinicalTrials.gov spelling of the country still matches
            "South Korea",
            {"city": "Busan", "country": "Korea, Republic of", "lat": 35.1796, "lon": 129.0756},
            {"city": "Fukuoka", "country": "Japan", "lat": 33.5904, "lon": 130.4017},
        ),
    ],
)  # fmt: skip
def test_a_country_matches_its_sites_in_any_spelling(
    text: str, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    sites = frame(
        site(nct_id="NCT00000001", facility="inside", **inside),
        site(nct_id="NCT00000001", facility="outside", **outside),
    )
    kept = sites_within(sites, resolve_place(text), None)
    assert list(kept["facility"]) == ["inside"]
    assert list(kept["located_by"]) == ["country match"]


def test_a_country_with_an_explicit_radius_keeps_the_radius_rule() -> None:
    germany = resolve_place("Germany")
    sites = frame(
        site(nct_id="NCT00000001", facility="far", **LORRACH),
        site(nct_id="NCT00000001", facility="no coordinates", city="Hamburg", country="Germany"),
        site(nct_id="NCT00000002", facility="over the border", **GORZOW),
    )
    kept = sites_within(sites, germany, DEFAULT_RADIUS)
    assert list(kept["facility"]) == ["no coordinates", "over the border"]
    assert list(kept["located_by"]) == ["place match", "coordinates"]
    assert sites_within(sites, germany, Distance(700, "km"))["facility"].tolist() == [
        "far",
        "no coordinates",
        "over the border",
    ]


def test_no_radius_means_the_default_radius_for_any_other_place() -> None:
    sites = frame(
        site(nct_id="NCT00000001", facility="Dallas", lat=32.7767, lon=-96.7970),  # 362 km
        site(nct_id="NCT00000001", facility="TMC", lat=29.7076, lon=-95.4018),
    )
    assert_frame_equal(
        sites_within(sites, HOUSTON, None), sites_within(sites, HOUSTON, DEFAULT_RADIUS)
    )
    assert list(sites_within(sites, HOUSTON, None)["facility"]) == ["TMC"]


# --------------------------------------------------------------------------- search pipeline


def test_server_query_for_a_country_asks_for_the_country_not_a_circle() -> None:
    sent = server_query(Query(), SearchOptions(near=resolve_place("Germany")))
    assert sent.geo is None
    assert sent.advanced == ('AREA[LocationCountry]"Germany"',)
    params = sent.to_params()
    assert "filter.geo" not in params
    assert 'AREA[LocationCountry]"Germany"' in params["filter.advanced"]

    usa = server_query(Query(), SearchOptions(near=resolve_place("U.S.A.")))
    assert usa.advanced == ('AREA[LocationCountry]"United States"',) and usa.geo is None


def test_server_query_keeps_filter_geo_for_a_radius_or_a_city() -> None:
    germany = resolve_place("Germany")
    sent = server_query(Query(), SearchOptions(near=germany, radius=Distance(300, "km")))
    assert sent.geo == geo_filter(germany, Distance(300, "km"))
    assert not any("LocationCountry" in term for term in sent.advanced)
    city = server_query(Query(), SearchOptions(near=HOUSTON))
    assert city.geo == "distance(29.7633,-95.3633,100mi)" and city.advanced == ()


def study(nct_id: str, location: dict[str, Any]) -> dict[str, Any]:
    """A minimal API study with one recruiting site."""
    where = {k: v for k, v in location.items() if k not in ("lat", "lon")}
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Study {nct_id}"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "contactsLocationsModule": {
                "locations": [
                    {
                        "facility": f"Hospital of {nct_id}",
                        "status": "RECRUITING",
                        **where,
                        "geoPoint": {"lat": location["lat"], "lon": location["lon"]},
                    }
                ]
            },
        }
    }


@pytest.mark.parametrize(
    ("radius", "kept", "note"),
    [
        (
            None,
            "NCT00000001",
            "1 trial(s) dropped: no recruiting or not-yet-recruiting site in Germany",
        ),
        (
            DEFAULT_RADIUS,
            "NCT00000002",
            "1 trial(s) dropped: no recruiting or not-yet-recruiting site within 100 mi of "
            "Germany (around Berlin)",
        ),
    ],
)
def test_search_near_a_country(
    tmp_path: Path, radius: Distance | None, kept: str, note: str
) -> None:
    saved = tmp_path / "studies.json"
    saved.write_text(
        json.dumps([study("NCT00000001", LORRACH), study("NCT00000002", GORZOW)]),
        encoding="utf-8",
    )
    options = SearchOptions(near=resolve_place("Germany"), radius=radius, cart_columns=False)
    result = run_search(Query(), FileSource(saved), options)
    assert list(result.studies["nct_id"]) == [kept]
    assert f"{note} (use --any-site-status to keep them)" in result.notes
