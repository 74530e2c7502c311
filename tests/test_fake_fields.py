"""The fake ClinicalTrials.gov API, through httpx: `fields` pruning and the field tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ctgov_server import DEFAULT_METADATA_PATH, FakeCtGov, make_study
from ctgov_server import fields as fake_fields
from ctgov_server.embedded import _EMBEDDED_FIELDS
from test_fake_helpers import TLS


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


def test_fields_by_piece_name(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT00000001", brief_title="Hello")])
    page = client.get("/studies", params={"fields": "NCTId,BriefTitle,OverallStatus"}).json()
    assert page["studies"] == [
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000001", "briefTitle": "Hello"},
                "statusModule": {"overallStatus": "RECRUITING"},
            }
        }
    ]


def test_fields_leaf_in_a_list_keeps_the_list(
    ctgov_server: FakeCtGov, client: httpx.Client
) -> None:
    sites = [
        {"facility": "A", "city": "Houston", "geoPoint": {"lat": 29.7, "lon": -95.3}},
        {"facility": "B", "country": "United States"},  # no city, no geoPoint
        {"facility": "C", "city": "Boston", "status": "RECRUITING"},
    ]
    ctgov_server.add_studies([make_study("NCT00000001", locations=sites)])
    one = client.get("/studies", params={"fields": "LocationCity"}).json()["studies"][0]
    assert one == {
        "protocolSection": {
            "contactsLocationsModule": {"locations": [{"city": "Houston"}, {"city": "Boston"}]}
        }
    }
    two = client.get("/studies", params={"fields": "LocationCity|LocationGeoPoint"}).json()
    assert two["studies"][0]["protocolSection"]["contactsLocationsModule"]["locations"] == [
        {"city": "Houston", "geoPoint": {"lat": 29.7, "lon": -95.3}},
        {"city": "Boston"},
    ]


def test_fields_by_module_section_and_path(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT00000001")
    ctgov_server.add_studies([study])

    def fields(value: str) -> Any:
        response = client.get("/studies", params={"fields": value})
        assert response.status_code == 200, response.text
        return response.json()["studies"][0]

    protocol = study["protocolSection"]
    assert fields("IdentificationModule") == {
        "protocolSection": {"identificationModule": protocol["identificationModule"]}
    }
    assert fields("ProtocolSection") == {"protocolSection": protocol}
    assert fields("ProtocolSection,NCTId") == {"protocolSection": protocol}
    assert fields("HasResults") == {"hasResults": False}
    assert fields("protocolSection.designModule.phases") == {
        "protocolSection": {"designModule": {"phases": ["PHASE2"]}}
    }
    assert fields("Phase,EnrollmentCount") == {
        "protocolSection": {
            "designModule": {"phases": ["PHASE2"], "enrollmentInfo": {"count": 10 + 1 % 491}}
        }
    }
    assert fields("ResultsSection") == {}  # the study has none
    assert fields("@query") == study


def test_embedded_field_tree_matches_the_metadata() -> None:
    if not DEFAULT_METADATA_PATH.is_file():
        pytest.skip(f"metadata not found at {DEFAULT_METADATA_PATH}")
    full, _ = fake_fields._FieldIndex.load(DEFAULT_METADATA_PATH)
    embedded = list(fake_fields._fields_from_table(_EMBEDDED_FIELDS))
    assert len(embedded) > 150
    for node in embedded:
        assert full.by_path.get(node.dotted) == node, node.dotted


def test_works_without_the_metadata_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fake_fields, "DEFAULT_METADATA_PATH", tmp_path / "absent.json")
    server = FakeCtGov([make_study("NCT00000001")])
    assert server.metadata_source is None
    with server, httpx.Client(base_url=server.base_url, verify=TLS) as client:
        page = client.get(
            "/studies",
            params={
                "fields": "NCTId,LocationCity",
                "filter.advanced": "AREA[Phase]PHASE2",
                "sort": "LastUpdatePostDate",
                "query.cond": "lymphoma",
            },
        )
        assert page.status_code == 200, page.text
        assert page.json()["studies"][0]["protocolSection"]["contactsLocationsModule"] == {
            "locations": [{"city": "Houston"}]
        }
        assert client.get("/studies/metadata").json()[0]["piece"] == "ProtocolSection"
