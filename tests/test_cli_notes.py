"""What the CLI tells the user beside the data: counts, notes, widths, and `show --radius`."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from api_fakes import make_client, study
from clirun import run
from ctgov_server import FakeCtGov

from trialfinder.cli.app import width
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import ApiSource, FileSource
from trialfinder.output import write_output
from trialfinder.render.formats import FORMATS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}


def test_the_summary_says_how_many_the_api_matched_before_local_filters() -> None:
    with FakeCtGov(FileSource(FIXTURES).load_raw()) as server:
        env = {"TRIALFINDER_API_URL": server.base_url, **FAST}
        plain = run(["search", "-c", "lymphoma"], env)
        filtered = run(["search", "-c", "lymphoma", "--after-car-t"], env)
    assert plain.code == 0 and filtered.code == 0
    assert plain.err_lines[-1].startswith("Found ") and "the API matched" not in plain.err
    found = filtered.err_lines[-1]
    trials = int(found.split()[1])
    matched = int(found.split("the API matched ")[1].split()[0])
    assert matched > trials > 0, found
    assert found == (
        f"Found {trials} trial(s); the API matched {matched} before trialfinder's own filters."
    )


def test_a_count_that_disagrees_with_the_pages_is_a_note() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"studies": [study(1), study(2)], "totalCount": 5})

    fetched = ApiSource(make_client(handler)).fetch(Query())
    assert [s.nct_id for s in fetched.studies] == ["NCT00000001", "NCT00000002"]
    assert fetched.notes == [
        "the API counted 5 matching studies but sent 2 (the data may have changed while paging)"
    ]


@pytest.mark.parametrize(("columns", "expected"), [("10", 40), ("0", None), ("wide", None)])
def test_columns_is_clamped_and_bad_values_are_ignored(
    columns: str, expected: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    got = width()
    assert got == expected if expected is not None else got >= 40


def test_a_narrow_columns_value_still_gives_a_table_no_wider_than_40() -> None:
    result = run(["search", "--source", str(FIXTURES), "--after-car-t"], {"COLUMNS": "12"})
    assert result.code == 0
    assert max(len(line) for line in result.out.splitlines()) <= 40


def test_a_new_file_gets_the_umask_mode_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        new = tmp_path / "new.csv"
        write_output("a\n", new)
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        old = tmp_path / "old.csv"
        old.write_text("x", encoding="utf-8")
        old.chmod(0o600)
        write_output("b\n", old)
        assert stat.S_IMODE(old.stat().st_mode) == 0o600 and old.read_text() == "b\n"
    finally:
        os.umask(mask)


@pytest.mark.parametrize("fmt", [*FORMATS, "text"])
def test_every_format_works_for_search_and_show(fmt: str) -> None:
    found = run(["search", "--source", str(FIXTURES), "-c", "lymphoma", "-f", fmt])
    shown = run(["show", "NCT90000101", "NCT90000203", "--source", str(FIXTURES), "-f", fmt])
    assert found.code == 0 and shown.code == 0, (found.err, shown.err)
    for out in (found.out, shown.out):
        assert "NCT90000101" in out
    if fmt in ("json", "jsonl"):
        first = shown.out if fmt == "json" else shown.out.splitlines()[0]
        parsed = json.loads(first)
        record = parsed[0] if isinstance(parsed, list) else parsed
        assert record["nct_id"] == "NCT90000101" and record["prior_car_t"] == "excluded"
    if fmt == "csv":
        assert shown.out.splitlines()[0].startswith("nct_id,title,status")
        assert len(shown.out.strip().splitlines()) == 3


def _saved_with_sites(tmp_path: Path, sites: list[dict[str, object]]) -> Path:
    base = copy.deepcopy(next(s for s in FileSource(FIXTURES).load_raw() if "101" in json.dumps(s)))
    base["protocolSection"]["identificationModule"]["nctId"] = "NCT90000101"
    base["protocolSection"]["contactsLocationsModule"]["locations"] = sites
    path = tmp_path / "one.json"
    path.write_text(json.dumps(base), encoding="utf-8")
    return path


def test_show_radius_uses_the_search_rule_at_the_boundary(tmp_path: Path) -> None:
    # 0.5 degrees of latitude north of the place, which is 55.597 km on the mean sphere.
    km = 6371.0088 * 0.5 * 3.141592653589793 / 180
    sites: list[dict[str, object]] = [
        {"facility": "At the edge", "city": "Somewhere", "country": "United States",
         "geoPoint": {"lat": 30.5, "lon": -95.0}},
        {"facility": "Houston, no coordinates", "city": "Houston", "state": "Texas",
         "country": "United States"},
        {"facility": "Beijing, no coordinates", "city": "Beijing", "country": "China"},
    ]  # fmt: skip
    path = _saved_with_sites(tmp_path, sites)
    near = ["--lat", "30.0", "--lon", "-95.0", "-f", "json", "--source", str(path)]
    inside = run(["show", "NCT90000101", *near, "--radius", f"{km + 0.001}km"])
    outside = run(["show", "NCT90000101", *near, "--radius", f"{km - 0.001}km"])
    assert inside.code == 0 and outside.code == 0, inside.err
    kept_in = [s["facility"] for s in json.loads(inside.out)["sites"]]
    kept_out = [s["facility"] for s in json.loads(outside.out)["sites"]]
    # Coordinates only: a site without them is never "within" a circle around bare coordinates.
    assert kept_in == ["At the edge"] and kept_out == []
    assert json.loads(outside.out)["near"]["sites_beyond_radius"] == 3

    by_name = run(
        ["show", "NCT90000101", "--near", "Houston, TX", "--radius", "50mi", "-f", "json",
         "--source", str(path)]
    )  # fmt: skip
    kept = [s["facility"] for s in json.loads(by_name.out)["sites"]]
    assert kept == ["Houston, no coordinates"]  # matched by city and state; Beijing is not
