"""Tests for trialfinder.geo.distance's whole-country rule, and how the search pipeline uses a
place: the server query it sends and the trials it keeps."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from geo_sites import HOUSTON, frame, reference_km, site
from pandas.testing import assert_frame_equal

from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import FileSource
from trialfinder.geo.distance import (
    DEFAULT_RADIUS,
    Distance,
    geo_filter,
    nearest_by_study,
    resolve_place,
    sites_within,
    whole_country,
)
from trialfinder.search import SearchOptions, run_search, server_query

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
