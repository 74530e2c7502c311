"""Cron-friendly search and clear reasons (issue 10): --quiet silences notes, never errors;
--explain (--show-dropped) lists each trial a CAR-T or near-me filter dropped, and why."""

from __future__ import annotations

import json
import re
from pathlib import Path

from clirun import run
from ctgov_server import FakeCtGov

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")
NEAR = ["--near", "77030", "--radius", "250mi"]


def test_quiet_says_nothing_but_the_data(tmp_path: Path) -> None:
    loud = run(["search", "--source", FIXTURES, "-c", "lymphoma", "--after-car-t", *NEAR])
    quiet = run(["search", "--source", FIXTURES, "-c", "lymphoma", "--after-car-t", *NEAR, "-q"])
    assert loud.err and quiet.err == ""
    assert quiet.code == 0 and quiet.out == loud.out
    out = tmp_path / "x.csv"
    filed = run(["search", "--source", FIXTURES, "--quiet", "-f", "csv", "-o", str(out)])
    assert filed.err == "" and out.read_text(encoding="utf-8-sig").startswith("nct_id,")


def test_quiet_still_shows_errors() -> None:
    bad = run(["search", "--source", FIXTURES, "--near", "Nowhereville", "-q"])
    assert bad.code == 2 and bad.err.startswith("Error: ")
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps({"hello": "world"}))
        env = {"TRIALFINDER_API_URL": server.base_url, "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}
        failed = run(["search", "-c", "lymphoma", "--quiet"], env)
    assert failed.code == 1 and failed.err_lines[0].startswith("Error: page 1 of the search")


def test_explain_lists_every_dropped_trial_with_its_reason() -> None:
    argv = ["search", "--source", FIXTURES, "-c", "lymphoma", "--after-car-t", *NEAR]
    plain = run(argv)
    explained = run([*argv, "--explain"])
    assert explained.out == plain.out
    dropped = [line for line in explained.err_lines if line.startswith("Dropped ")]
    ids = [line.split()[1] for line in dropped]
    assert len(set(ids)) == len(ids)
    every = {
        r["nct_id"]
        for r in json.loads(
            run(["search", "--source", FIXTURES, "-c", "lymphoma", "-f", "json"]).out
        )
    }
    shown = {r["nct_id"] for r in json.loads(run([*argv, "-f", "json"]).out)}
    assert set(ids) == every - shown and shown
    excluded = next(line for line in dropped if "prior CAR-T excluded" in line)
    assert re.search(r'prior CAR-T excluded: ".+"$', excluded)
    far = [line for line in dropped if "no open site within 250 mi" in line]
    assert far and all(re.search(r"nearest open site: .+, \d+ mi \(\d+ km\)$", f) for f in far)
    assert run([*argv, "--show-dropped"]).err == explained.err


def test_explain_on_the_real_records_names_the_far_site(records_dir: Path) -> None:
    argv = ["search", "--source", str(records_dir), "-c", "lymphoma", "--after-car-t", *NEAR]
    result = run([*argv, "--explain"])
    assert result.code == 0, result.err
    line = next(x for x in result.err_lines if x.startswith("Dropped NCT02650414"))
    assert line.endswith(
        "no open site within 250 mi of ZIP 77030 (Houston, TX); nearest open site: "
        "Children's Hospital of Philadelphia, Philadelphia, United States, 1344 mi (2163 km)"
    )


def test_explain_says_when_nothing_was_dropped() -> None:
    result = run(["search", "--source", FIXTURES, "-c", "lymphoma", "--explain"])
    assert "Dropped: none (no CAR-T or near-me filter dropped a trial)" in result.err_lines
