"""`trialfinder report` end to end on a loopback API whose data changes between runs.

Each test takes a baseline, loads new data the way the registry does (a new dataTimestamp),
and checks that the report lists exactly the changes made: no more, no fewer.
"""

from __future__ import annotations

import csv
import email
import io
import json
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import Api, api, edited, sample, with_status

NEAR = ["-c", "lymphoma", "--near", "77030", "--radius", "250mi"]
AFTER = ["-c", "lymphoma", "--after-car-t"]


def changes(result: Any) -> dict[str, dict[str, Any]]:
    """The JSON report's changes by NCT id."""
    assert result.code in (0, 3), result.err
    (report,) = json.loads(result.out)["reports"]
    return {str(c["nct_id"]): dict(c) for c in report["changes"]}


def fields(change: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["field"]: (f["old"], f["new"]) for f in change["fields"]}


def baseline(a: Api, name: str, options: list[str]) -> dict[str, Any]:
    assert a("watch", "add", name, *options).code == 0
    first = a("report", name, "-f", "json")
    (report,) = json.loads(first.out)["reports"]
    assert report["first_run"] and all(c["kind"] == "new" for c in report["changes"])
    return dict(report)


def test_first_run_is_the_baseline_and_a_second_run_without_new_data_is_one_quiet_request(
    tmp_path: Path,
) -> None:
    with api(tmp_path) as a:
        report = baseline(a, "near", NEAR)
        assert report["result_count"] == len(report["changes"]) > 5
        quiet, requests = a.requests_during("report", "near", "--quiet")
        assert (quiet.code, quiet.out, quiet.err, requests) == (0, "", "", 1)
        loud = a("report", "near")
        assert "no new data since 2026-01-02T03:04:05" in loud.out


def test_each_kind_of_change_is_reported_exactly(tmp_path: Path) -> None:
    s = sample()
    houston = {
        "facility": "Bayou City Cancer Center",
        "city": "Houston",
        "state": "Texas",
        "zip": "77030",
        "country": "United States",
        "status": "RECRUITING",
        "geoPoint": {"lat": 29.71, "lon": -95.40},
    }
    boston = {
        "facility": "Harbor Oncology",
        "city": "Boston",
        "state": "Massachusetts",
        "zip": "02115",
        "country": "United States",
        "status": "RECRUITING",
        "geoPoint": {"lat": 42.34, "lon": -71.10},
    }
    new_trial = edited(
        s["NCT90000114"], lambda p: p["identificationModule"].update(nctId="NCT90000199")
    )
    updates = [
        new_trial,
        with_status(s["NCT90000106"], "RECRUITING", updated="2026-12-01"),
        edited(
            s["NCT90000114"],
            lambda p: p["contactsLocationsModule"]["locations"].extend([houston, boston]),
            updated="2026-12-01",
        ),
        edited(
            s["NCT90000116"],
            lambda p: p["contactsLocationsModule"]["locations"][1].update(status="COMPLETED"),
            updated="2026-12-01",
        ),
        with_status(s["NCT90000113"], "COMPLETED", updated="2026-12-01"),
        # overdue: UNKNOWN without a new update date
        with_status(s["NCT90000115"], "UNKNOWN"),
    ]
    with api(tmp_path) as a:
        base = baseline(a, "near", NEAR)
        watched = {c["nct_id"] for c in base["changes"]}
        assert {
            "NCT90000106",
            "NCT90000113",
            "NCT90000114",
            "NCT90000115",
            "NCT90000116",
        } <= watched
        a.server.load(updates, remove=["NCT90000107"])  # withdrawn: gone from the registry
        got = changes(a("report", "near", "-f", "json"))
    assert set(got) == {
        "NCT90000199",
        "NCT90000106",
        "NCT90000114",
        "NCT90000116",
        "NCT90000113",
        "NCT90000115",
        "NCT90000107",
    }
    assert got["NCT90000199"]["kind"] == "new"
    assert got["NCT90000106"]["kind"] == "changed"
    assert fields(got["NCT90000106"]) == {"status": ("NOT_YET_RECRUITING", "RECRUITING")}
    sites = got["NCT90000114"]["sites"]
    assert [(x["kind"], x["site"].split(",")[0], x["within_radius"]) for x in sites] == [
        ("added", "Bayou City Cancer Center", True),
        ("added", "Harbor Oncology", False),
    ]
    assert sites[0]["distance_mi"] < sites[1]["distance_mi"]
    assert fields(got["NCT90000114"]) == {}
    closing = got["NCT90000116"]["sites"]
    assert [(x["kind"], x["old_status"], x["new_status"]) for x in closing] == [
        ("status", "RECRUITING", "COMPLETED")
    ]
    assert got["NCT90000113"]["kind"] == "left"
    assert got["NCT90000113"]["reason"] == "status now COMPLETED"
    assert got["NCT90000115"]["reason"] == "status now UNKNOWN"
    assert got["NCT90000107"]["reason"] == "no longer in the registry (removed or withdrawn)"


def test_an_overdue_status_without_a_new_update_date_is_still_seen(tmp_path: Path) -> None:
    s = sample()
    with api(tmp_path) as a:
        baseline(a, "any", ["-c", "lymphoma", "--status", "any"])
        a.server.load([with_status(s["NCT90000115"], "UNKNOWN")])
        got = changes(a("report", "any", "-f", "json"))
    assert set(got) == {"NCT90000115"}
    assert fields(got["NCT90000115"]) == {"status": ("RECRUITING", "UNKNOWN")}


def test_an_eligibility_edit_that_flips_the_stance(tmp_path: Path) -> None:
    s = sample()

    def exclude(p: dict[str, Any]) -> None:
        text = p["eligibilityModule"]["eligibilityCriteria"]
        p["eligibilityModule"]["eligibilityCriteria"] = text.replace(
            "* Prior CAR-T therapy is allowed if at least 30 days have elapsed since the CAR-T "
            "infusion and any CAR-T-related toxicity has resolved to grade 1 or lower",
            "* Prior CAR-T therapy is not allowed",
        )

    with api(tmp_path) as a:
        baseline(a, "all", ["-c", "lymphoma"])
        baseline(a, "after", AFTER)
        a.server.load([edited(s["NCT90000110"], exclude, updated="2026-12-01")])
        seen = changes(a("report", "all", "-f", "json"))
        after = changes(a("report", "after", "-f", "json"))
    assert set(seen) == {"NCT90000110"}
    changed = fields(seen["NCT90000110"])
    assert changed["prior_car_t"] == ("allowed", "excluded")
    removed, added = changed["eligibility"]
    assert removed.startswith("Prior CAR-T therapy is allowed if at least 30 days")
    assert added == "Prior CAR-T therapy is not allowed"
    assert set(after) == {"NCT90000110"}
    assert after["NCT90000110"]["kind"] == "left"
    assert after["NCT90000110"]["reason"] == "prior-CAR-T stance now excluded"


def test_white_space_and_markdown_escapes_are_not_changes(tmp_path: Path) -> None:
    s = sample()

    def rewrap(p: dict[str, Any]) -> None:
        text = p["eligibilityModule"]["eligibilityCriteria"]
        p["eligibilityModule"]["eligibilityCriteria"] = text.replace("\\>", ">").replace(" ", "  ")
        p["identificationModule"]["briefTitle"] += "  "

    with api(tmp_path) as a:
        baseline(a, "all", ["-c", "lymphoma"])
        a.server.load([edited(s["NCT90000110"], rewrap, updated="2026-12-01")])
        quiet = a("report", "all", "--quiet", "--fail-on-change")
    assert (quiet.code, quiet.out) == (0, "")


def test_a_data_load_in_the_middle_of_a_run_starts_it_again(tmp_path: Path) -> None:
    s = sample()
    with api(tmp_path) as a:
        baseline(a, "near", NEAR)
        a.server.load([])  # new data, nothing changed
        late = with_status(s["NCT90000106"], "RECRUITING", updated="2026-12-02")
        # The run asks /version twice (has anything loaded? and the sweep's start), then sweeps:
        a.server.before_request(3, lambda: a.server.load([late]))
        start = len(a.server.requests)
        got = changes(a("report", "near", "-f", "json"))
        versions = [r for r in a.server.requests[start:] if r.path.endswith("/version")]
    assert set(got) == {"NCT90000106"}
    assert len(versions) >= 4  # the first pass saw the load and the run started again


@pytest.mark.parametrize("fmt", ["markdown", "json", "csv", "html", "email"])
def test_every_format_lists_the_same_changes(fmt: str, tmp_path: Path) -> None:
    s = sample()
    with api(tmp_path) as a:
        baseline(a, "near", NEAR)
        a.server.load(
            [with_status(s["NCT90000106"], "RECRUITING", updated="2026-12-01")],
            remove=["NCT90000107"],
        )
        result = a("report", "near", "-f", fmt, "--fail-on-change", "--mail-to", "me@example.org")
    assert result.code == 3, result.err
    out = result.out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {(r["nct_id"], r["kind"], r["field"]) for r in rows} == {
            ("NCT90000106", "changed", "status"),
            ("NCT90000107", "left", ""),
        }
        return
    if fmt == "email":
        message = email.message_from_string(out)
        assert message["To"] == "me@example.org"
        assert message["Subject"] == "trialfinder: 2 change(s) in near"
        parts = {p.get_content_type(): p.get_payload(decode=True) for p in message.walk()}
        assert set(parts) >= {"text/plain", "text/html"}
        out = b"".join(v for v in parts.values() if isinstance(v, bytes)).decode("utf-8")
    assert "NCT90000106" in out and "NCT90000107" in out
    assert "RECRUITING" in out and "no longer in the registry" in out
    assert "2026-01-03" in out  # what data the report is as of
    assert "https://clinicaltrials.gov/study/NCT90000106" in out
    for other in ("NCT90000114", "NCT90000102"):
        assert other not in out
    if fmt == "html":
        assert "<script" not in out and "http" not in out.replace(
            "https://clinicaltrials.gov/study/", ""
        )
        assert len(out.encode("utf-8")) < 100_000


def test_trial_text_is_escaped_in_html(tmp_path: Path) -> None:
    s = sample()
    hostile = edited(
        s["NCT90000114"],
        lambda p: p["identificationModule"].update(
            nctId="NCT90000198", briefTitle="<script>alert(1)</script> & lymphoma"
        ),
    )
    with api(tmp_path) as a:
        baseline(a, "all", ["-c", "lymphoma"])
        a.server.load([hostile])
        page = a("report", "all", "-f", "html").out
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; lymphoma" in page


def test_a_trial_moved_to_another_id_says_so(tmp_path: Path) -> None:
    s = sample()

    def renumber(p: dict[str, Any]) -> None:
        p["identificationModule"].update(nctId="NCT90000197", nctIdAliases=["NCT90000110"])
        p["statusModule"]["overallStatus"] = "COMPLETED"

    with api(tmp_path) as a:
        baseline(a, "all", ["-c", "lymphoma"])
        a.server.load([edited(s["NCT90000110"], renumber)], remove=["NCT90000110"])
        got = changes(a("report", "all", "-f", "json"))
    assert set(got) == {"NCT90000110"}
    assert got["NCT90000110"]["kind"] == "left"
    assert got["NCT90000110"]["reason"] == "moved to NCT90000197"


def test_an_edited_watch_starts_a_new_baseline_and_says_so(tmp_path: Path) -> None:
    with api(tmp_path) as a:
        first = baseline(a, "near", NEAR)
        assert a("watch", "edit", "near", "--radius", "50mi").code == 0
        result = a("report", "near", "-f", "json")
    (report,) = json.loads(result.out)["reports"]
    assert report["new_baseline"] and not report["first_run"]
    assert all(c["kind"] == "new" for c in report["changes"])
    assert 0 < report["result_count"] < first["result_count"]
    assert "starts a new baseline" in report["summary"]


def test_a_new_classifier_is_not_a_change_to_the_trials(tmp_path: Path) -> None:
    import sqlite3

    with api(tmp_path) as a:
        baseline(a, "all", ["-c", "lymphoma"])
        db = tmp_path / "data" / "snapshots.sqlite3"
        with sqlite3.connect(db) as conn:  # as if an older classifier had read every text
            conn.execute("UPDATE runs SET classifier = 'older'")
            conn.execute("UPDATE members SET stance = 'unmentioned' WHERE stance = 'allowed'")
        a.server.load([with_status(sample()["NCT90000106"], "RECRUITING", updated="2026-12-01")])
        result = a("report", "all", "-f", "json")
    (report,) = json.loads(result.out)["reports"]
    assert {c["nct_id"] for c in report["changes"]} == {"NCT90000106"}
    assert "classifier has changed" in report["classifier_note"]
