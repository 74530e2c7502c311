"""The fake ClinicalTrials.gov API, through httpx: study builders, saved records."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from ctgov_server import FakeCtGov, load_record_studies, make_studies, make_study
from test_fake_helpers import TLS, ids_of, page_all


def test_make_study_overrides() -> None:
    study = make_study(
        "NCT00000042",
        overall_status="COMPLETED",
        phases=["PHASE1", "PHASE2"],
        interventions=["Tisagenlecleucel", {"type": "GENETIC", "name": "Gene X"}],
        collaborators=["NCI"],
        **{"protocolSection.statusModule.whyStopped": "Funding", "hasResults": None},
    )
    protocol = study["protocolSection"]
    assert protocol["statusModule"]["overallStatus"] == "COMPLETED"
    assert protocol["statusModule"]["whyStopped"] == "Funding"
    assert protocol["designModule"]["phases"] == ["PHASE1", "PHASE2"]
    assert [i["name"] for i in protocol["armsInterventionsModule"]["interventions"]] == [
        "Tisagenlecleucel",
        "Gene X",
    ]
    assert protocol["armsInterventionsModule"]["armGroups"][0]["interventionNames"] == [
        "Drug: Tisagenlecleucel",
        "Genetic: Gene X",
    ]
    assert protocol["sponsorCollaboratorsModule"]["collaborators"] == [
        {"name": "NCI", "class": "OTHER"}
    ]
    assert "hasResults" not in study
    with pytest.raises(TypeError, match="colour"):
        make_study("NCT00000042", colour="red")
    with pytest.raises(ValueError):
        make_study("42")


def test_make_studies_are_distinct_and_json_clean() -> None:
    studies = make_studies(3, first=12345678)
    assert ids_of(studies) == ["NCT12345678", "NCT12345679", "NCT12345680"]
    dates = {
        s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] for s in studies
    }
    assert len(dates) == 3
    assert json.loads(json.dumps(studies)) == studies


def test_load_record_studies_shapes(tmp_path: Path) -> None:
    one, two = make_study("NCT00000001"), make_study("NCT00000002")
    shapes = {
        "page.json": {"studies": [one, two], "nextPageToken": "x", "totalCount": 9},
        "study.json": one,
        "array.json": [one, two],
        "empty_page.json": {"studies": []},
    }
    for name, data in shapes.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    assert load_record_studies(tmp_path / "page.json") == [one, two]
    assert load_record_studies(tmp_path / "study.json") == [one]
    assert load_record_studies(tmp_path / "array.json") == [one, two]
    assert load_record_studies(tmp_path / "empty_page.json") == []
    for bad in ({"apiVersion": "2.0.5"}, [1, 2], "text"):
        (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(ValueError):
            load_record_studies(tmp_path / "bad.json")


def test_serves_the_saved_records(records_dir: Path) -> None:
    studies = [s for path in sorted(records_dir.glob("*.json")) for s in load_record_studies(path)]
    assert studies
    latest = {ids_of([s])[0]: s for s in studies}  # a repeated id: the last one wins
    with FakeCtGov(studies) as server, httpx.Client(base_url=server.base_url, verify=TLS) as client:
        pages = page_all(client, {"pageSize": 1000, "fields": "NCTId,BriefTitle"})
        served = [s for page in pages for s in page["studies"]]
        assert ids_of(served) == list(latest)
        for study in served:
            ident = study["protocolSection"]["identificationModule"]
            original = latest[ident["nctId"]]["protocolSection"]["identificationModule"]
            assert ident.get("briefTitle") == original.get("briefTitle")
        biggest = max(latest.values(), key=lambda s: len(json.dumps(s)))
        nct = ids_of([biggest])[0]
        assert client.get(f"/studies/{nct}").json() == biggest
        sites = client.get(
            "/studies", params={"fields": "NCTId,LocationGeoPoint", "pageSize": 1000}
        )
        assert sites.status_code == 200
    assert not server.errors
