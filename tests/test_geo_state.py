"""`--near` a US state (issue 10): the whole state, as a country is the whole country."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run
from geo_sites import frame, site

from trialfinder.ctgov.query import Query
from trialfinder.geo.distance import parse_radius, resolve_place, sites_within, whole_area
from trialfinder.search import SearchOptions, server_query

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")


def test_every_site_in_the_state_counts_with_or_without_coordinates() -> None:
    texas = resolve_place("Texas")
    sites = frame(
        site(nct_id="NCT00000001", facility="El Paso", city="El Paso", state="Texas",
             country="United States", lat=31.76, lon=-106.49),
        site(nct_id="NCT00000001", facility="no coords", city="Lubbock", state="TX",
             country="United States"),
        site(nct_id="NCT00000002", facility="Tulsa", city="Tulsa", state="Oklahoma",
             country="United States", lat=36.15, lon=-95.99),
        site(nct_id="NCT00000003", facility="closed", city="Austin", state="Texas",
             country="United States", site_status="COMPLETED", lat=30.27, lon=-97.74),
    )  # fmt: skip
    kept = sites_within(sites, texas, None)
    assert kept["facility"].tolist() == ["El Paso", "no coords"]
    assert set(kept["located_by"]) == {"state match"}
    assert kept["distance_mi"].iloc[0] > 600  # El Paso is far from Houston, and still in Texas
    # With a radius, the radius rule applies around the state's biggest city.
    assert whole_area(texas, parse_radius("50mi")) is None
    assert sites_within(sites, texas, parse_radius("50mi")).empty


def test_the_server_is_asked_for_the_state() -> None:
    options = SearchOptions(near=resolve_place("Texas"))
    sent = server_query(Query(), options)
    assert sent.geo is None
    assert sent.advanced == ('AREA[LocationState]"Texas" AND AREA[LocationCountry]"United States"',)


def test_near_a_state_on_the_sample_data() -> None:
    result = run(["search", "--source", FIXTURES, "--near", "Texas", "-f", "json"])
    assert result.code == 0, result.err
    assert result.err_lines[0] == "Near: Texas, United States (around Houston) (29.7633, -95.3633)"
    rows = json.loads(result.out)
    assert rows and all(r["nearest_site_located_by"].startswith("state match") for r in rows)
    assert all(r["nearest_site_city"].endswith(", TX") for r in rows)
    assert any("in Texas" in line for line in result.err_lines)


def test_an_unknown_place_says_what_a_place_can_be() -> None:
    result = run(["search", "--source", FIXTURES, "--near", "Nowhereville"])
    assert result.code == 2
    assert result.err_lines[0].endswith(
        "(a place is a US ZIP code, 'City, ST', 'City, Country', a country, a US state, "
        "or 'lat,lon')"
    )
