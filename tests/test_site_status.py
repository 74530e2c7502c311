"""A site listed without a status of its own takes the trial's, flagged, so trials about to
open near home are kept (issue 10); on the real records and on built studies."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run
from geo_sites import HOUSTON

from trialfinder.frames import sites_frame
from trialfinder.geo.distance import STATUS_FROM_TRIAL, sites_within
from trialfinder.records import Site, Study

MD_ANDERSON = Site(facility="MD Anderson", city="Houston", state="Texas", lat=29.71, lon=-95.40)


def test_a_site_without_status_takes_the_trials_and_says_so() -> None:
    study = Study(
        nct_id="NCT00000001",
        status="NOT_YET_RECRUITING",
        sites=(MD_ANDERSON, Site(facility="own", status="WITHDRAWN", lat=29.7, lon=-95.4)),
    )
    sites = sites_frame([study])
    assert sites["site_status"].tolist() == ["NOT_YET_RECRUITING", "WITHDRAWN"]
    assert sites["site_status_from"].tolist() == ["trial", "site"]
    kept = sites_within(sites, HOUSTON, None)
    assert kept["facility"].tolist() == ["MD Anderson"]
    assert kept["located_by"].tolist() == ["coordinates" + STATUS_FROM_TRIAL]


def test_a_closed_trial_lends_its_closed_status() -> None:
    study = Study(nct_id="NCT00000001", status="COMPLETED", sites=(MD_ANDERSON,))
    assert sites_within(sites_frame([study]), HOUSTON, None).empty


def test_neither_status_stays_empty() -> None:
    sites = sites_frame([Study(nct_id="NCT00000001", sites=(MD_ANDERSON,))])
    assert sites["site_status"].isna().all() and sites["site_status_from"].isna().all()


def test_real_not_yet_recruiting_trial_near_houston_is_kept(records_dir: Path) -> None:
    argv = ["search", "--source", str(records_dir), "--term", "NCT05827016"]
    argv += ["--near", "Houston, TX", "--radius", "50mi"]
    result = run([*argv, "-f", "json"])
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [r["nct_id"] for r in rows] == ["NCT05827016"]
    assert rows[0]["distance_mi"] < 1
    assert rows[0]["nearest_site_located_by"] == "coordinates; site status from trial"
    assert "site status from trial" in result.err  # the note says why it was kept

    sites = json.loads(run([*argv, "--sites", "-f", "json"]).out)
    assert [(s["site_status"], s["site_status_from"]) for s in sites] == [
        ("NOT_YET_RECRUITING", "trial")
    ]


def test_show_marks_a_borrowed_status(records_dir: Path) -> None:
    argv = ["show", "NCT05827016", "--source", str(records_dir), "--near", "Houston, TX"]
    result = run([*argv, "--radius", "50mi", "-f", "json"])
    assert result.code == 0, result.err
    site = json.loads(result.out)["sites"][0]
    assert (site["site_status"], site["site_status_from"]) == ("NOT_YET_RECRUITING", "trial")
    text = run([*argv, "--radius", "50mi"]).out
    assert "NOT_YET_RECRUITING (from" in text and "trial)" in text
