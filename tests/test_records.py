"""Records and frames: parsing once, declared columns, ages and dates, every real record."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest
from records import real_studies

from trialfinder.errors import RecordError
from trialfinder.frames import sites_frame, studies_frame, study_row
from trialfinder.records import Contact, Study, parse_study
from trialfinder.rows import study_values
from trialfinder.schema import SITE_COLUMNS, STUDY_COLUMNS
from trialfinder.values import clean_date, parse_age_years


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("6 Months", 0.5),
        ("1 Year", 1.0),
        ("2 Weeks", 14 / 365.25),
        (None, None),
        ("", None),
        ("N/A", None),
    ],
)
def test_parse_age(text: str | None, years: float | None) -> None:
    assert parse_age_years(text) == (pytest.approx(years) if years is not None else None)


def test_clean_date_keeps_partial_dates() -> None:
    assert clean_date("2024-05") == "2024-05"
    assert clean_date("2024-05-17") == "2024-05-17"
    assert clean_date("May 2024") is None and clean_date(None) is None


def test_a_study_with_no_modules_still_gives_a_full_row() -> None:
    row = study_row(
        parse_study({"protocolSection": {"identificationModule": {"nctId": "NCT90000001"}}})
    )
    assert list(row) == list(STUDY_COLUMNS)
    assert row["nct_id"] == "NCT90000001" and row["title"] == ""
    assert row["phases"] == [] and row["sites_count"] == 0 and row["min_age_years"] == 0.0


def test_unknown_enum_values_are_kept() -> None:
    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT90000002"},
            "statusModule": {"overallStatus": "SOME_FUTURE_STATUS"},
            "designModule": {"phases": ["PHASE9"], "studyType": "NEW_TYPE"},
            "contactsLocationsModule": {"locations": [{"facility": "X", "status": "NEW_SITE"}]},
        }
    }
    record = parse_study(study)
    row = study_row(record)
    assert row["status"] == "SOME_FUTURE_STATUS" and row["phases"] == ["PHASE9"]
    assert sites_frame([record])["site_status"].tolist() == ["NEW_SITE"]


def test_empty_input_gives_frames_with_declared_columns() -> None:
    assert list(studies_frame([]).columns) == list(STUDY_COLUMNS)
    assert list(sites_frame([]).columns) == list(SITE_COLUMNS)


def test_studies_frame_takes_a_row_made_ahead_only_for_that_very_record() -> None:
    first, second, third = (parse_study(raw) for raw in real_studies()[:3])
    ahead = tuple({**study_row(first), "title": "made ahead"}.values())
    # second's NCT id maps to another record (a repeated id whose other record was kept)
    made = {first.nct_id: (first, ahead), second.nct_id: (third, study_values(third))}
    frame = studies_frame([first, second], made)
    assert list(frame["title"]) == ["made ahead", second.title]
    plain_frame = studies_frame([first, second])
    pd.testing.assert_frame_equal(
        studies_frame([first, second], {first.nct_id: (first, study_values(first))}), plain_frame
    )


def test_a_rows_values_are_its_columns_in_order() -> None:
    for study in (parse_study(raw) for raw in real_studies()):
        assert study_values(study) == tuple(study_row(study).values())


def _expected(study: dict[str, Any]) -> dict[str, Any]:
    ps = study["protocolSection"]
    return {
        "nct_id": dig(ps, "identificationModule", "nctId"),
        "status": dig(ps, "statusModule", "overallStatus"),
        "phases": dig(ps, "designModule", "phases") or [],
        "enrollment": dig(ps, "designModule", "enrollmentInfo", "count"),
        "sites_count": len(dig(ps, "contactsLocationsModule", "locations") or []),
        "start_date": dig(ps, "statusModule", "startDateStruct", "date"),
        "min_age": dig(ps, "eligibilityModule", "minimumAge"),
        "sex": dig(ps, "eligibilityModule", "sex"),
    }


def test_every_real_record_normalises_with_matching_values() -> None:
    studies = real_studies()
    assert len(studies) >= 385
    frame = studies_frame(parse_study(s) for s in studies)
    assert list(frame.columns) == list(STUDY_COLUMNS)
    assert len(frame) == len(studies)
    for study, row in zip(studies, frame.to_dict("records"), strict=True):
        want = _expected(study)
        assert row["nct_id"] == want["nct_id"]
        assert (row["status"] if isinstance(row["status"], str) else None) == want["status"]
        assert list(row["phases"]) == want["phases"]
        got_enrollment = None if pd.isna(row["enrollment"]) else int(row["enrollment"])
        assert got_enrollment == want["enrollment"]
        assert row["sites_count"] == want["sites_count"]
        if want["start_date"]:
            assert row["start_date"] == want["start_date"]
        if want["min_age"]:
            assert row["min_age"] == want["min_age"]
            assert row["min_age_years"] == pytest.approx(parse_age_years(want["min_age"]))
        assert row["url"] == f"https://clinicaltrials.gov/study/{want['nct_id']}"


def test_every_real_site_is_a_row_with_coordinates_when_given() -> None:
    studies = real_studies()
    sites = sites_frame(parse_study(s) for s in studies)
    assert list(sites.columns) == list(SITE_COLUMNS)
    locations = [
        loc
        for s in studies
        for loc in dig(s, "protocolSection", "contactsLocationsModule", "locations") or []
    ]
    assert len(sites) == len(locations)
    with_geo = sum(1 for loc in locations if loc.get("geoPoint"))
    assert int(sites["lat"].notna().sum()) == with_geo
    assert sites["lat"].dropna().between(-90, 90).all()
    assert sites["lon"].dropna().between(-180, 180).all()


def test_a_record_is_parsed_once_into_frozen_values() -> None:
    study = parse_study(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT90000003", "officialTitle": "Official"},
                "contactsLocationsModule": {
                    "centralContacts": [{"name": "A\x1b[31m B", "phone": "713", "phoneExt": "9"}],
                    "locations": [{"city": "Houston", "geoPoint": {"lat": 29.7, "lon": "x"}}],
                },
            }
        }
    )
    assert isinstance(study, Study) and study.title == "Official"
    assert study.central_contact == "A B; 713 ext 9"
    assert study.sites[0].lat == 29.7 and study.sites[0].lon is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.nct_id = "NCT00000000"  # type: ignore[misc]
    assert Contact(email="x@example.org").line() == "x@example.org"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ([], "not a study object"),
        ({"protocolSection": {}}, "no nctId"),
        (
            {"protocolSection": {"identificationModule": {"nctId": "NCT1"}, "statusModule": []}},
            "protocolSection.statusModule is not an object",
        ),
        (
            {"protocolSection": {"identificationModule": {"nctId": "NCT1"}}, "derivedSection": 3},
            "derivedSection is not an object",
        ),
    ],
)
def test_what_is_not_a_study_record_is_refused(raw: Any, words: str) -> None:
    with pytest.raises(RecordError, match=words):
        parse_study(raw)


def test_free_text_is_kept_only_when_asked_for() -> None:
    raw = {"protocolSection": {"identificationModule": {"nctId": "NCT1"}, "x": {"y": "zebra"}}}
    assert parse_study(raw).text == ""
    assert "zebra" in parse_study(raw, keep_text=True).text
