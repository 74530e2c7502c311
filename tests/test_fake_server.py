"""The fake ClinicalTrials.gov API, through httpx: one study, other endpoints, the life cycle."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from ctgov_server import FakeCtGov, make_study
from test_fake_helpers import TLS, assert_text_error, ids_of


@pytest.fixture
def client(ctgov_server: FakeCtGov) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ctgov_server.base_url, timeout=5.0, verify=TLS) as client:
        yield client


# ----------------------------------------------------------------------------------------------
# Single study, other endpoints


def test_single_study(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT01234567")
    ctgov_server.add_studies([study])
    response = client.get("/studies/NCT01234567")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == study
    assert client.get("/studies/nct1234567").json() == study  # the spec's pattern allows it
    pruned = client.get("/studies/NCT01234567", params={"fields": "NCTId|OverallStatus"})
    assert pruned.json() == {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT01234567"},
            "statusModule": {"overallStatus": "RECRUITING"},
        }
    }


def test_single_study_errors(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT01234567")])
    assert_text_error(client.get("/studies/NCT07654321"), 404, "NCT07654321")
    for bad in ("NCT123456789", "ABC01234567", "NCT00000000", "NCT0123456X", "01234567"):
        assert_text_error(client.get(f"/studies/{bad}"), 400, bad)
    assert_text_error(client.get("/studies/NCT01234567", params={"pageSize": 1}), 400, "pageSize")
    assert_text_error(client.get("/studies/NCT01234567", params={"fields": "Nope"}), 400, "Nope")
    assert_text_error(client.get("/studies/NCT01234567", params={"format": "ris"}), 501)


def test_single_study_alias_redirects(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    ctgov_server.add_studies([make_study("NCT01234567", nct_id_aliases=["NCT00000999"])])
    response = client.get("/studies/NCT00000999", params={"fields": "NCTId"})
    assert response.status_code == 301
    assert response.headers["location"] == "/api/v2/studies/NCT01234567?fields=NCTId"
    followed = client.get("/studies/NCT00000999", follow_redirects=True)
    assert followed.json()["protocolSection"]["identificationModule"]["nctId"] == "NCT01234567"
    by_alias = client.get("/studies", params={"filter.ids": "NCT00000999"}).json()
    assert ids_of(by_alias["studies"]) == ["NCT01234567"]


def test_version_metadata_and_unknown_paths(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    version = client.get("/version")
    assert version.headers["content-type"] == "application/json"
    assert version.json() == {"apiVersion": "2.0.5", "dataTimestamp": ctgov_server.data_timestamp}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", version.json()["dataTimestamp"])
    metadata = client.get("/studies/metadata").json()
    assert metadata[0]["name"] == "protocolSection"
    for path in ("/nope", "/studies/NCT01234567/history", "/studies/"):
        assert_text_error(client.get(path), 404)
    with httpx.Client(verify=TLS) as bare:
        root = ctgov_server.base_url.removesuffix("/api/v2")
        assert_text_error(bare.get(root + "/studies"), 404)
    assert_text_error(client.get("/stats/size"), 501)
    assert_text_error(client.post("/studies", content=b"{}"), 405)


# ----------------------------------------------------------------------------------------------
# Life cycle


def test_context_manager_and_restart() -> None:
    server = FakeCtGov([make_study("NCT00000001")])
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        url = server.base_url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v2")
        with httpx.Client(verify=TLS) as client:
            assert client.get(url + "/studies/NCT00000001").status_code == 200
            # An idle keep-alive connection must not hold up stop().
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with httpx.Client(verify=TLS) as client, pytest.raises(httpx.ConnectError):
        client.get(url + "/version")
    server.stop()  # a second stop is harmless
    with server, httpx.Client(verify=TLS) as client:
        assert client.get(server.base_url + "/studies/NCT00000001").status_code == 200


def test_stop_with_an_idle_connection_open() -> None:
    with httpx.Client(verify=TLS) as client:
        server = FakeCtGov().start()
        assert client.get(server.base_url + "/version").status_code == 200
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2


def test_add_studies_copies_and_replaces(ctgov_server: FakeCtGov, client: httpx.Client) -> None:
    study = make_study("NCT00000001", brief_title="Old")
    ctgov_server.add_studies([study, make_study("NCT00000002")])
    study["protocolSection"]["identificationModule"]["briefTitle"] = "Mutated"
    assert (
        client.get("/studies/NCT00000001").json()["protocolSection"]["identificationModule"][
            "briefTitle"
        ]
        == "Old"
    )
    ctgov_server.add_studies([make_study("NCT00000001", brief_title="New")])
    assert ids_of(ctgov_server.studies) == ["NCT00000001", "NCT00000002"]
    assert ctgov_server.studies[0]["protocolSection"]["identificationModule"]["briefTitle"] == "New"
    with pytest.raises(ValueError, match="nctId"):
        ctgov_server.add_studies([{"protocolSection": {}}])
