"""CAR-T and near-me options through the real CLI, on the sample data and the loopback API."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from clirun import Result, run
from ctgov_server import FakeCtGov
from table_text import columns_of

from trialfinder.ctgov.sources import FileSource

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")
FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1000000", "TRIALFINDER_BACKOFF": "0.01"}
HOUSTON = (29.76328, -95.36327)


def fixture_json(*argv: str) -> list[dict[str, Any]]:
    result = run(["search", "--source", FIXTURES, *argv, "-f", "json"])
    assert result.code == 0, result.err
    return list(json.loads(result.out or "[]"))


def raw_studies() -> dict[str, dict[str, Any]]:
    return {
        s["protocolSection"]["identificationModule"]["nctId"]: s
        for s in FileSource(FIXTURES).load_raw()
    }


def haversine_mi(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """An independent great-circle distance (plain math, not the code under test)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.609344


def open_sites(study: dict[str, Any]) -> list[dict[str, Any]]:
    locations = study["protocolSection"].get("contactsLocationsModule", {}).get("locations", [])
    return [
        loc
        for loc in locations
        if loc.get("status") in ("RECRUITING", "NOT_YET_RECRUITING") and loc.get("geoPoint")
    ]


# -- near me -----------------------------------------------------------------------------


def test_houston_car_t_lymphoma_prints_nearest_recruiting_site_distance_and_contact() -> None:
    result = run(
        [
            "search",
            "--source",
            FIXTURES,
            "--condition",
            "lymphoma",
            "--car-t",
            "--near",
            "Houston, TX",
            "--radius",
            "200mi",
        ]
    )
    assert result.code == 0, result.err
    assert result.err_lines[0].startswith("Near: Houston, TX")
    header = columns_of(result.out)
    for col in ("distance_mi", "nearest_site", "nearest_site_city", "nearest_site_contact"):
        assert col in header
    rows = fixture_json("-c", "lymphoma", "--car-t", "--near", "Houston, TX", "--radius", "200mi")
    assert rows
    raw = raw_studies()
    lat, lon = HOUSTON
    for row in rows:
        assert row["car_t"] is True
        assert row["nearest_site"] and row["nearest_site_contact"]
        candidates = [
            haversine_mi(lat, lon, s["geoPoint"]["lat"], s["geoPoint"]["lon"])
            for s in open_sites(raw[row["nct_id"]])
        ]
        in_range = [d for d in candidates if d <= 200]
        if row["nearest_site_located_by"] == "coordinates":
            assert row["distance_mi"] == pytest.approx(min(in_range), rel=0.005)
        else:  # a site without coordinates, matched by city and state
            assert row["distance_mi"] is None and not in_range
    distances = [r["distance_mi"] for r in rows if r["distance_mi"] is not None]
    assert distances == sorted(distances)


def test_a_trial_whose_only_nearby_site_is_not_recruiting_is_dropped_unless_asked() -> None:
    # NCT90000103's Houston site is ACTIVE_NOT_RECRUITING; its recruiting sites are far away.
    ids = {r["nct_id"] for r in fixture_json("-c", "lymphoma", "--near", "77030")}
    assert "NCT90000103" not in ids
    rows = fixture_json("-c", "lymphoma", "--near", "77030", "--any-site-status")
    assert "NCT90000103" in {r["nct_id"] for r in rows}


def test_sites_mode_lists_every_open_site_within_the_radius() -> None:
    rows = fixture_json("-c", "lymphoma", "--near", "Houston, TX", "--radius", "300km", "--sites")
    assert rows
    for row in rows:
        assert row["site_status"] in ("RECRUITING", "NOT_YET_RECRUITING")
        if row["distance_km"] is not None:
            assert row["distance_km"] <= 300
            assert row["distance_mi"] == pytest.approx(row["distance_km"] / 1.609344)
        else:
            assert row["located_by"] == "place match"
    # NCT90000111 has ~150 sites; several are in the Houston area.
    assert sum(1 for r in rows if r["nct_id"] == "NCT90000111") >= 1


@pytest.mark.parametrize("place", ["77030", "Houston, TX", "Houston, Texas", "Paris, France"])
def test_places_resolve_and_are_echoed(place: str) -> None:
    result = run(["search", "--source", FIXTURES, "--near", place, "--status", "any"])
    assert result.code == 0, result.err
    assert result.err_lines[0].startswith("Near: ")
    assert "(" in result.err_lines[0] and "," in result.err_lines[0]


def test_lat_lon_instead_of_a_place() -> None:
    rows = fixture_json("-c", "lymphoma", "--lat", "29.76", "--lon", "-95.36", "--radius", "10mi")
    assert rows and all(r["distance_mi"] is None or r["distance_mi"] <= 10 for r in rows)


@pytest.mark.parametrize(
    ("place", "words"),
    [
        ("Springfield", ["several places", "Springfield, MO"]),
        ("Houstn, TX", ["did you mean", "Houston"]),
        ("Xyzzyville", ["Xyzzyville"]),
    ],
)
def test_ambiguous_or_unknown_place_is_one_line_exit_2(place: str, words: list[str]) -> None:
    result = run(["search", "--source", FIXTURES, "--near", place])
    assert result.code == 2 and result.out == ""
    assert len(result.err_lines) == 1 and result.err_lines[0].startswith("Error: ")
    for word in words:
        assert word in result.err_lines[0]


def test_show_lists_sites_nearest_first() -> None:
    result = run(
        ["show", "NCT90000111", "--source", FIXTURES, "--near", "Houston, TX", "-f", "json"]
    )
    assert result.code == 0, result.err
    sites = json.loads(result.out)["sites"]
    distances = [s["distance_mi"] for s in sites if s["distance_mi"] is not None]
    assert len(distances) > 100 and distances == sorted(distances)


# -- CAR-T -------------------------------------------------------------------------------


def test_car_t_keeps_only_trials_whose_own_product_is_car() -> None:
    rows = fixture_json("-c", "lymphoma", "--car-t", "--status", "any")
    ids = {r["nct_id"] for r in rows}
    assert all(r["car_t"] for r in rows)
    assert {"NCT90000101", "NCT90000102", "NCT90000104"} <= ids
    assert not ids & {"NCT90000110", "NCT90000111", "NCT90000113", "NCT90000114"}


def test_target_filters_by_car_target() -> None:
    rows = fixture_json("-c", "myeloma", "--target", "bcma", "--status", "any")
    assert rows and all("BCMA" in r["car_targets"] for r in rows)
    assert "NCT90000202" not in {r["nct_id"] for r in rows}  # the GPRC5D product
    gprc5d = fixture_json("-c", "myeloma", "--target", "GPRC5D", "--status", "any")
    assert {r["nct_id"] for r in gprc5d} == {"NCT90000202"}


def test_prior_car_t_filter_and_evidence_columns() -> None:
    rows = fixture_json("--prior-car-t", "excluded", "--status", "any")
    assert rows
    for row in rows:
        assert row["prior_car_t"] == "excluded"
        assert row["prior_car_t_section"] in ("inclusion", "exclusion")
        assert row["prior_car_t_evidence"]
    both = fixture_json("--prior-car-t", "required", "--prior-car-t", "allowed")
    assert {r["prior_car_t"] for r in both} == {"required", "allowed"}


def test_show_marks_the_evidence_and_states_the_stance() -> None:
    result = run(["show", "NCT90000102", "--source", FIXTURES])
    assert result.code == 0, result.err
    assert "Prior CAR-T:" in result.out and "REQUIRED" in result.out
    marked = [line for line in result.out.splitlines() if ">>> " in line]
    assert marked
    detail = json.loads(run(["show", "NCT90000102", "--source", FIXTURES, "-f", "json"]).out)
    start, end = detail["evidence_span"]
    assert detail["eligibility_criteria"][start:end] == detail["prior_car_t_evidence"]


def test_after_car_t_against_the_api_matches_the_saved_data_result() -> None:
    studies = list(raw_studies().values())
    local = [r["nct_id"] for r in fixture_json("-c", "lymphoma", "--after-car-t")]
    with FakeCtGov(studies) as server:
        result: Result = run(
            ["search", "-c", "lymphoma", "--after-car-t", "-f", "json"],
            {"TRIALFINDER_API_URL": server.base_url, **FAST},
        )
        sent = next(r.params for r in server.requests if r.path.endswith("/studies"))
    assert result.code == 0, result.err
    remote = [r["nct_id"] for r in json.loads(result.out)]
    assert sorted(remote) == sorted(local)
    assert "EligibilityCriteria" in sent["filter.advanced"]
    assert "EligibilityCriteria" in sent["fields"].split(",")


@pytest.mark.parametrize(
    ("stances", "narrowed"),
    [
        (["excluded"], True),
        (["required", "allowed"], True),
        (["unmentioned"], False),
        (["excluded", "unmentioned"], False),
    ],
)
def test_prior_car_t_narrows_the_server_query_only_when_the_criteria_must_mention_car_t(
    stances: list[str], narrowed: bool
) -> None:
    from trialfinder.ctgov.query import Query
    from trialfinder.search import SearchOptions, server_query

    sent = server_query(Query(), SearchOptions(prior_car_t=tuple(stances))).to_params()
    assert ("EligibilityCriteria" in sent.get("filter.advanced", "")) is narrowed


def test_unmentioned_stance_against_the_api_matches_the_saved_data_result() -> None:
    studies = list(raw_studies().values())
    local = {r["nct_id"] for r in fixture_json("--prior-car-t", "unmentioned")}
    with FakeCtGov(studies) as server:
        result = run(
            ["search", "--prior-car-t", "unmentioned", "-f", "json"],
            {"TRIALFINDER_API_URL": server.base_url, **FAST},
        )
    assert result.code == 0, result.err
    assert local and {r["nct_id"] for r in json.loads(result.out)} == local


def test_escape_sequences_in_the_evidence_never_reach_the_terminal(tmp_path: Path) -> None:
    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT90000901", "briefTitle": "Trap"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "eligibilityModule": {
                "eligibilityCriteria": "Exclusion Criteria:\n\n* Prior CAR-T cell therapy "
                "\x1b[2J\x1b[31mis not allowed\x1b]0;owned\x07"
            },
        }
    }
    (tmp_path / "trap.json").write_text(json.dumps(study), encoding="utf-8")
    shown = run(["show", "NCT90000901", "--source", str(tmp_path)])
    assert shown.code == 0, shown.err
    assert "\x1b" not in shown.out and ">>> Prior CAR-T cell therapy is not allowed" in shown.out
    listed = run(["search", "--source", str(tmp_path), "-f", "jsonl"])
    assert "\x1b" not in listed.out and "\\u001b" not in listed.out


NEAR_COLUMNS = [
    *("nct_id", "distance_mi", "nearest_site_city", "prior_car_t", "title"),
    "nearest_site_contact",
]


@pytest.mark.parametrize(
    ("argv", "narrow_header"),
    [
        (["--after-car-t"], ["nct_id", "prior_car_t", "status", "title", "prior_car_t_evidence"]),
        (
            ["--near", "77030"],
            NEAR_COLUMNS,
        ),
    ],
)
def test_narrow_terminals_keep_the_columns_that_answer_the_question(
    argv: list[str], narrow_header: list[str]
) -> None:
    narrow = run(["search", "--source", FIXTURES, "-c", "lymphoma", *argv], {"COLUMNS": "80"})
    assert narrow.code == 0, narrow.err
    assert columns_of(narrow.out) == narrow_header
    assert max(len(line) for line in narrow.out.splitlines()) <= 80
    wide = run(["search", "--source", FIXTURES, "-c", "lymphoma", *argv], {"COLUMNS": "160"})
    assert "title" in columns_of(wide.out)
