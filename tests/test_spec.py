"""SearchSpec: validated in the core, refused alike from every entry, a plain-dict round trip."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from clirun import run

from trialfinder.errors import InvalidOption, UsageError
from trialfinder.geo.places import Place, place_from_coordinates
from trialfinder.spec import SearchSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FULL = SearchSpec(
    condition="multiple myeloma",
    term="relapsed",
    intervention="cilta-cel",
    location="Texas",
    status=("recruiting", "not-yet-recruiting"),
    phase=("1", "2"),
    study_type="interventional",
    sponsor="Gulf Coast",
    age=61.5,
    sex="female",
    updated_since="2025-01-01",
    limit=25,
    sort="last-update",
    car_t=True,
    target=("BCMA", "GPRC5D"),
    after_car_t=True,
    prior_car_t=("required",),
    near="Houston, TX",
    radius="150mi",
    any_site_status=True,
    sites=True,
)


def houston(_: str) -> Place:
    return place_from_coordinates(29.7633, -95.3633)


def test_a_spec_round_trips_through_a_plain_dict() -> None:
    data = FULL.to_dict()
    assert SearchSpec.from_dict(data) == FULL
    assert SearchSpec.from_dict({}) == SearchSpec() and SearchSpec().to_dict() == {}
    # TOML-ready: option names as keys; strings, numbers, booleans and lists of strings only.
    assert "after-car-t" in data and "prior-car-t" in data and None not in data.values()
    for value in data.values():
        assert isinstance(value, (str, bool, int, float, list))
        assert not isinstance(value, list) or all(isinstance(v, str) for v in value)


def test_hand_written_tables_may_use_underscores_and_single_values() -> None:
    spec = SearchSpec.from_dict({"after_car_t": True, "status": "recruiting", "age": 40})
    assert spec == SearchSpec(after_car_t=True, status=("recruiting",), age=40)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"condtion": "lymphoma"}, ["watch 'x'", "unknown option 'condtion'", "condition"]),
        ({"after-car-t": "yes"}, ["watch 'x'", "after-car-t", "true or false"]),
        ({"limit": 2.5}, ["limit", "whole number"]),
        ({"target": [1, 2]}, ["target", "list of strings"]),
        ({"age": math.inf}, ["age", "a number"]),
    ],
)
def test_a_bad_table_names_where_the_key_and_what_is_expected(
    data: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(UsageError) as info:
        SearchSpec.from_dict(data, where="watch 'x'")
    for word in words:
        assert word in str(info.value)


def test_resolve_gives_the_query_and_the_options() -> None:
    search = FULL.resolve(place_of=houston)
    assert search.query.condition == "multiple myeloma" and search.query.limit == 25
    assert search.query.phases == ("PHASE1", "PHASE2") and search.query.sex == "FEMALE"
    assert search.options.targets == ("BCMA", "GPRC5D") and search.options.per_site
    assert search.options.radius is not None and search.options.radius.miles == 150
    assert search.options.near is not None and search.options.near.lat == 29.7633
    assert SearchSpec(near="Houston, TX").resolve(place_of=houston).query.sort == "distance"


# Each bad combination, as command-line arguments and as the same spec: one message.
BAD = [
    (["--radius", "50mi"], {"radius": "50mi"}),
    (["--sort", "distance"], {"sort": "distance"}),
    (["--any-site-status"], {"any-site-status": True}),
    (["--near", "77030", "--lat", "1", "--lon", "2"], {"near": "77030", "lat": 1.0, "lon": 2.0}),
    (["--lat", "29"], {"lat": 29.0}),
    (
        ["--after-car-t", "--prior-car-t", "excluded"],
        {"after-car-t": True, "prior-car-t": ["excluded"]},
    ),
    (["--prior-car-t", "maybe"], {"prior-car-t": ["maybe"]}),
    (["--target", "CD999"], {"target": ["CD999"]}),
    (["--status", "recruting"], {"status": ["recruting"]}),
    (["--near", "Houston, TX", "--radius", "far"], {"near": "Houston, TX", "radius": "far"}),
    (["--age", "130"], {"age": 130}),
    (["--near", "Xyzzyville, Nowhere"], {"near": "Xyzzyville, Nowhere"}),
]


@pytest.mark.parametrize(
    ("argv", "data"), BAD, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_a_bad_combination_is_refused_alike_from_the_cli_and_from_a_dict(
    argv: list[str], data: dict[str, Any]
) -> None:
    result = run(["search", "--source", str(FIXTURES), *argv])
    assert result.code == 2 and result.out == ""
    with pytest.raises(UsageError) as info:
        SearchSpec.from_dict(data).resolve()
    assert result.err_lines[-1] == f"Error: {info.value}"


def test_option_values_are_checked_in_the_core() -> None:
    with pytest.raises(InvalidOption, match="--sex"):
        SearchSpec(sex="x").resolve()
    with pytest.raises(InvalidOption, match="--target"):
        SearchSpec(target=("",)).resolve()
