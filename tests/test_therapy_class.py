"""`search --therapy-class`: the options view's groups as a search filter, in specs and watches."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path

import pytest
from clirun import run
from ctgov_server import FakeCtGov
from records import real_studies

from trialfinder.cart.options import option_groups
from trialfinder.cli.after import grouped
from trialfinder.cli.options import THERAPY_CLASSES
from trialfinder.ctgov.sources import FileSource, RecordsSource
from trialfinder.records import parse_study
from trialfinder.search import SearchResult, run_search
from trialfinder.spec import SearchSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}
NAMES = [g.name for g in option_groups()]


def _fixtures(*classes: str, **spec: object) -> SearchResult:
    plan = SearchSpec(therapy_class=classes, **spec).resolve()  # type: ignore[arg-type]
    return run_search(plan.query, FileSource(FIXTURES), plan.options)


@cache
def _real(*classes: str) -> SearchResult:
    """The real records searched (cached: each test only reads the result)."""
    studies = {s.nct_id: s for s in map(parse_study, real_studies())}
    plan = SearchSpec(status=("any",), therapy_class=classes).resolve()
    return run_search(plan.query, RecordsSource(list(studies.values()), "real"), plan.options)


def _ids(result: SearchResult) -> set[str]:
    return set(result.studies["nct_id"])


def test_the_help_lists_every_group_of_the_vocabulary() -> None:
    assert THERAPY_CLASSES.split(", ") == NAMES
    for command in ("search", "options"):
        helped = run([command, "--help"])
        assert helped.code == 0 and "--therapy-class" in helped.out
        assert all(name in helped.out for name in NAMES), command


# The sample data's trials of each kind, read from their titles and interventions.
_SAMPLE = {
    "bispecific": {"NCT90000110", "NCT90000111", "NCT90000112"},  # glofitamab, epcoritamab...
    "adc": {"NCT90000113"},  # loncastuximab tesirine
    "checkpoint": {"NCT90000114"},  # pembrolizumab
    "transplant": {"NCT90000115"},  # reduced-intensity allogeneic transplant
    "allogeneic-car-t": {"NCT90000106"},
    "car-nk": {"NCT90000107"},
}


@pytest.mark.parametrize("name", list(_SAMPLE))
def test_each_class_keeps_its_trials_of_the_sample_data(name: str) -> None:
    result = _fixtures(name, condition="lymphoma")
    assert _ids(result) == _SAMPLE[name]
    assert set(result.studies["therapy_group"]) == {name}


@pytest.mark.parametrize("name", NAMES)
def test_each_class_on_the_real_records_keeps_what_the_options_view_puts_in_it(name: str) -> None:
    everything = _real()
    groups = grouped(everything.studies)
    expected = set(groups.loc[groups["therapy_group"] == name, "nct_id"])
    result = _real(name)
    assert _ids(result) == expected
    kept = result.studies
    if name in ("car-t", "allogeneic-car-t", "car-nk"):
        assert kept["car_t"].all()
    if name == "bispecific":
        assert all(
            {"CD3 bispecific", "bispecific antibody"} & set(c) for c in kept["therapy_classes"]
        )
    dropped = {nct for nct, _, _ in result.dropped}
    assert dropped == _ids(everything) - expected  # every other trial is dropped, and said so


def test_the_classes_split_the_real_records_with_none_lost() -> None:
    everything = _ids(_real())
    parts = [_ids(_real(name)) for name in NAMES]
    assert sum(len(p) for p in parts) == len(everything)  # each trial in exactly one class
    assert set().union(*parts) == everything
    assert {"car-t", "bispecific"} <= {n for n, p in zip(NAMES, parts, strict=True) if p}


def test_the_flag_repeats_and_takes_commas() -> None:
    both = _ids(_fixtures("adc", "checkpoint", condition="lymphoma"))
    assert both == _SAMPLE["adc"] | _SAMPLE["checkpoint"]
    assert _ids(_fixtures("adc,checkpoint", "ADC", condition="lymphoma")) == both
    cli = run(["search", "-c", "lymphoma", "--source", str(FIXTURES), "--therapy-class", "adc",
               "--therapy-class", "checkpoint", "-f", "json"])  # fmt: skip
    assert cli.code == 0, cli.err
    assert {row["nct_id"] for row in json.loads(cli.out)} == both


@pytest.mark.parametrize("value", ["nope", "", "car_t"])
def test_a_bad_class_is_one_error_line_naming_the_classes(value: str) -> None:
    for command in ("search", "options"):
        bad = run([command, "--source", str(FIXTURES), "--therapy-class", value])
        assert bad.code == 2 and bad.out == ""
        (line,) = bad.err_lines
        assert (
            line.startswith("Error: invalid value for --therapy-class")
            and "Traceback" not in bad.err
        )
        assert all(name in line for name in NAMES)


def test_csv_carries_the_class_and_the_classes_behind_it() -> None:
    out = run(["search", "-c", "lymphoma", "--source", str(FIXTURES), "--therapy-class",
               "bispecific", "-f", "csv"])  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert {r["nct_id"] for r in rows} == _SAMPLE["bispecific"]
    assert {r["therapy_group"] for r in rows} == {"bispecific"}
    assert all("CD3 bispecific" in r["therapy_classes"] for r in rows)
    plain = run(["search", "-c", "lymphoma", "--source", str(FIXTURES), "-f", "csv"])
    assert "therapy_group" not in plain.out.splitlines()[0]
    asked = run(["search", "--source", str(FIXTURES), "--columns", "nct_id,therapy_group"])
    assert asked.code == 2 and "--therapy-class" in asked.err


def test_explain_says_each_dropped_trials_class() -> None:
    result = run(["search", "-c", "lymphoma", "--source", str(FIXTURES), "--therapy-class",
                  "checkpoint", "--explain"])  # fmt: skip
    assert result.code == 0, result.err
    reasons = {line.split()[1]: line for line in result.err_lines if line.startswith("Dropped ")}
    assert "NCT90000114" not in reasons and "NCT90000113" in reasons
    assert reasons["NCT90000113"].endswith(
        "therapy class adc (ADC, monoclonal antibody), not checkpoint"
    )
    assert "therapy class car-t (CAR-T), not checkpoint" in reasons["NCT90000102"]


def test_explain_keeps_the_first_reason_of_several_filters() -> None:
    result = _fixtures("bispecific", condition="lymphoma", after_car_t=True)
    assert _ids(result) <= _SAMPLE["bispecific"]
    reasons = {nct: why for nct, _, why in result.dropped}
    assert reasons["NCT90000113"].startswith("therapy class adc")
    excluded_bispecific = _SAMPLE["bispecific"] - _ids(result)
    assert all(reasons[n].startswith("prior CAR-T ") for n in excluded_bispecific)


def test_the_table_shows_the_class_when_it_fits() -> None:
    base = ["search", "-c", "lymphoma", "--source", str(FIXTURES), "--therapy-class", "adc"]
    wide = run(base, {"COLUMNS": "120"})
    assert "therapy_group" in wide.out.splitlines()[0] and "adc" in wide.out
    near = run([*base, "--near", "77030", "--radius", "250mi"], {"COLUMNS": "80"})
    first, second = near.out.splitlines()[:2]  # headers wrap at their underscores
    # At 80 columns the near-me view keeps the distance, stance, title and whom to call.
    for start, end in (("distance_", "mi"), ("prior_", "car_t"), ("nearest_", "site_contact")):
        assert start in first and end in second
    assert "title" in first and "therapy_group" not in near.out
    assert max(len(line) for line in near.out.splitlines()) <= 80
    assert "713-555-0124" in near.out  # the phone number is whole


def test_only_car_classes_narrow_the_server_query_and_lose_nothing() -> None:
    local = {name: _ids(_fixtures(name, condition="lymphoma")) for name in ("car-t", "adc")}
    with FakeCtGov(FileSource(FIXTURES).load_raw()) as server:
        env = {"TRIALFINDER_API_URL": server.base_url, **FAST}
        unfiltered = run(["search", "-c", "lymphoma", "-f", "json"], env)
        served = {row["nct_id"] for row in json.loads(unfiltered.out)}
        for name in ("car-t", "adc"):
            before = len(server.requests)
            result = run(["search", "-c", "lymphoma", "--therapy-class", name, "-f", "json"], env)
            assert result.code == 0, result.err
            # The trials of that class among those the plain query finds: none lost.
            assert {row["nct_id"] for row in json.loads(result.out)} == local[name] & served
            advanced = [r.params.get("filter.advanced", "") for r in server.requests[before:]]
            asked_car = any("chimeric antigen receptor" in a for a in advanced)
            assert asked_car == (name == "car-t"), advanced


def test_a_watch_keeps_its_classes(tmp_path: Path) -> None:
    from trialfinder.watch.home import Home
    from trialfinder.watch.watchfile import WatchFile

    env = {"TRIALFINDER_HOME": str(tmp_path), "TRIALFINDER_API_URL": "http://127.0.0.1:9/api/v2"}
    added = run(["watch", "add", "after", "-c", "lymphoma", "--therapy-class", "bispecific",
                 "--therapy-class", "adc"], env)  # fmt: skip
    assert added.code == 0, added.err
    text = (tmp_path / "config" / "watches.toml").read_text(encoding="utf-8")
    assert "therapy-class = [" in text
    (watch,) = WatchFile(Home.find(tmp_path).watch_file).watches()
    assert watch.spec.therapy_class == ("bispecific", "adc")
    assert watch.search().options.therapy_classes == ("bispecific", "adc")
    edited = run(["watch", "edit", "after", "--therapy-class", "checkpoint"], env)
    assert edited.code == 0, edited.err
    (watch,) = WatchFile(Home.find(tmp_path).watch_file).watches()
    assert watch.spec.therapy_class == ("checkpoint",)
    refused = run(["watch", "add", "bad", "--therapy-class", "nope"], env)
    assert refused.code == 2 and "valid: car-t," in refused.err


def test_the_spec_round_trips_and_checks_the_classes() -> None:
    spec = SearchSpec(condition="lymphoma", therapy_class=("ADC", "bispecific,adc"))
    assert SearchSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["therapy-class"] == ["ADC", "bispecific,adc"]
    assert spec.resolve().options.therapy_classes == ("adc", "bispecific")
    assert SearchSpec.from_dict({"therapy_class": "adc"}).therapy_class == ("adc",)
    assert SearchSpec().resolve().options.therapy_classes == ()
