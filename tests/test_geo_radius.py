"""Tests for trialfinder.geo.distance: radii, the filter.geo the API is sent, and distances."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from geo_sites import HOUSTON, reference_km
from hypothesis import given
from hypothesis import strategies as st

from trialfinder.errors import InvalidOption
from trialfinder.geo.distance import (
    DEFAULT_RADIUS,
    EARTH_RADIUS_KM,
    Distance,
    geo_filter,
    haversine_km,
    parse_radius,
    place_from_coordinates,
)

# The spec's pattern for filter.geo (spec/ctg-oas-v2.yaml, /studies parameters).
FILTER_GEO_PATTERN = re.compile(r"^distance\(-?\d+(\.\d+)?,-?\d+(\.\d+)?,\d+(\.\d+)?(km|mi)?\)$")


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
