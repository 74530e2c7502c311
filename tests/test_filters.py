"""Local filters for saved data behave like the server's: status, phase, age, sex, dates, text."""

from __future__ import annotations

from typing import Any

import pytest

from trialfinder.ctgov.query import Query
from trialfinder.filters import apply_query, area_text, sort_frame, text_matches
from trialfinder.frames import studies_frame
from trialfinder.records import parse_study


def study(nct: str, **kw: Any) -> dict[str, Any]:
    elig: dict[str, Any] = {"sex": kw.get("sex", "ALL")}
    if kw.get("min_age"):
        elig["minimumAge"] = kw["min_age"]
    if kw.get("max_age"):
        elig["maximumAge"] = kw["max_age"]
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": kw.get("title", "A trial")},
            "statusModule": {
                "overallStatus": kw.get("status", "RECRUITING"),
                "lastUpdatePostDateStruct": {"date": kw.get("updated", "2026-01-10")},
                "startDateStruct": {"date": kw.get("start", "2025-01")},
            },
            "conditionsModule": {"conditions": kw.get("conditions", ["Lymphoma"])},
            "designModule": {"phases": kw.get("phases", ["PHASE2"]), "studyType": "INTERVENTIONAL"},
            "eligibilityModule": elig,
            "sponsorCollaboratorsModule": {"leadSponsor": {"name": kw.get("sponsor", "Acme")}},
            "armsInterventionsModule": {
                "interventions": [{"type": "DRUG", "name": kw.get("drug", "glofitamab")}]
            },
        }
    }


STUDIES = [
    study("NCT90000001", min_age="18 Years", max_age="75 Years", phases=["PHASE1", "PHASE2"]),
    study("NCT90000002", status="COMPLETED", conditions=["Multiple Myeloma"], drug="teclistamab"),
    study(
        "NCT90000003", min_age="6 Months", max_age="25 Years", sex="FEMALE", updated="2025-03-01"
    ),
    study(
        "NCT90000004",
        min_age="65 Years",
        conditions=["Diffuse Large B-Cell Lymphoma"],
        sponsor="Gulf Coast Cancer Institute",
    ),
]


RECORDS = [parse_study(s, keep_text=True) for s in STUDIES]


def run(**kw: Any) -> list[str]:
    by_id = {s.nct_id: s for s in RECORDS}
    frame = apply_query(studies_frame(RECORDS), by_id, Query.build(**kw))
    return list(frame["nct_id"])


def test_default_status_keeps_open_trials_only() -> None:
    assert run() == ["NCT90000001", "NCT90000003", "NCT90000004"]
    assert run(status=["any"]) == [
        s["protocolSection"]["identificationModule"]["nctId"] for s in STUDIES
    ]
    assert run(status=["completed"]) == ["NCT90000002"]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0.25, []),
        (0.5, ["NCT90000003"]),
        (18, ["NCT90000001", "NCT90000003"]),
        (25, ["NCT90000001", "NCT90000003"]),
        (70, ["NCT90000001", "NCT90000004"]),
        (90, ["NCT90000004"]),
    ],
)
def test_age_admits_min_and_max_inclusive(age: float, expected: list[str]) -> None:
    assert run(age=age) == expected


def test_phase_sex_date_sponsor_intervention() -> None:
    assert run(phase=["1"]) == ["NCT90000001"]
    assert run(sex="male") == ["NCT90000001", "NCT90000004"]
    assert run(sex="female") == ["NCT90000001", "NCT90000003", "NCT90000004"]
    assert run(updated_since="2026-01-01") == ["NCT90000001", "NCT90000004"]
    assert run(sponsor="gulf coast") == ["NCT90000004"]
    assert run(intervention="teclistamab", status=["any"]) == ["NCT90000002"]


def test_condition_text_matching() -> None:
    assert run(condition="large b-cell lymphoma") == ["NCT90000004"]
    assert run(condition="myeloma OR large", status=["any"]) == ["NCT90000002", "NCT90000004"]
    assert run(condition='"B-Cell Lymphoma"') == ["NCT90000004"]
    assert run(condition="leukemia") == []


def test_text_matches_and_area_text() -> None:
    assert text_matches("relapsed lymphoma", "lymphoma AND relapsed")
    assert not text_matches("relapsed lymphoma", "myeloma")
    assert text_matches("anything", "")
    assert "glofitamab" in area_text(RECORDS[0], "intr")
    assert "acme" in area_text(RECORDS[0], "spons")


def test_sort_frame() -> None:
    frame = studies_frame(RECORDS)
    assert list(sort_frame(frame, "last-update")["nct_id"])[:2] == ["NCT90000001", "NCT90000002"]
    assert list(sort_frame(frame, "nct-id")["nct_id"]) == sorted(frame["nct_id"])
