"""Saved pages decoded lean (`ctgov.lean`) make the same studies as pages decoded whole, and a
page that does not decode lean is read whole, with the same errors as before."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from records import real_studies

from trialfinder.ctgov.lean import NotLean, lean_studies
from trialfinder.ctgov.saved import parsed_items, read_studies
from trialfinder.errors import SourceError
from trialfinder.records import UNREAD_TERMS, Reading, Study, parse_study

ROOT = Path(__file__).resolve().parents[1]
SAVED_FILES = sorted((ROOT / "fixtures").glob("*.json"))


def _same(study: Study) -> Study:
    return study


def _lean(data: bytes, sites: bool, mesh: bool = True) -> list[dict[str, Any]] | None:
    try:
        return list(lean_studies(data, sites=sites, mesh=mesh))
    except NotLean:
        return None


def _whole(page: dict[str, Any], sites: bool) -> list[Any]:
    return [s for _, s in parsed_items(page, "page", Reading(sites=sites))]


@pytest.mark.parametrize("sites", [True, False])
def test_every_real_record_makes_the_same_study_decoded_lean(sites: bool) -> None:
    page = {"studies": real_studies(), "nextPageToken": "abc"}
    lean = _lean(json.dumps(page).encode(), sites=sites)
    assert lean is not None
    assert len(lean) == len(page["studies"]) > 300
    made = [parse_study(raw, sites=sites) for raw in lean]
    assert made == _whole(page, sites)
    # Counted sites keep their number; the long texts that are read are all there.
    assert sum(len(s.sites) for s in made) > 1000
    assert sum(bool(s.eligibility_criteria) for s in made) > 300
    assert sum(bool(s.condition_mesh) for s in made) > 250


@pytest.mark.parametrize("sites", [True, False])
def test_every_real_record_makes_the_same_study_lean_without_its_mesh_terms(sites: bool) -> None:
    page = {"studies": real_studies()}
    lean = _lean(json.dumps(page).encode(), sites=sites, mesh=False)
    assert lean is not None and not any("derivedSection" in raw for raw in lean)
    made = [parse_study(raw, sites=sites, mesh=False) for raw in lean]
    whole = [s for _, s in parsed_items(page, "page", Reading(sites=sites, mesh=False))]
    assert made == whole
    assert all(s.condition_mesh is UNREAD_TERMS for s in made)
    with_terms = _whole(page, sites)
    assert [replace(s, condition_mesh=(), intervention_mesh=()) for s in made] == [
        replace(s, condition_mesh=(), intervention_mesh=()) for s in with_terms
    ]


@pytest.mark.parametrize("path", SAVED_FILES, ids=lambda p: p.name)
def test_bundled_files_read_the_same_lean_and_whole(path: Path) -> None:
    """Pages and the website's JSON download (an array) are read lean; one study whole."""
    whole = _whole(json.loads(path.read_text(encoding="utf-8")), True)
    assert read_studies(path, _same, Reading(sites=True)) == whole
    assert whole
    shape = path.read_bytes().lstrip()[:1]
    assert (_lean(path.read_bytes(), sites=True) is not None) == (shape == b"[" or len(whole) > 1)


def test_every_real_record_file_reads_the_same_lean_and_whole(records_dir: Path) -> None:
    files = sorted(records_dir.glob("*.json"))
    assert len(files) > 30
    for path in files:
        whole = _whole(json.loads(path.read_text(encoding="utf-8")), False)
        assert read_studies(path, _same, Reading(sites=False)) == whole, path.name


def test_unread_pieces_are_skipped_and_read_ones_kept() -> None:
    study = next(s for s in real_studies() if _sites(s))
    protocol = {**study["protocolSection"], "outcomesModule": {"primaryOutcomes": [{"x": 1}]}}
    protocol["descriptionModule"] = {"briefSummary": "Short.", "detailedDescription": "Long."}
    raw = {**study, "protocolSection": protocol, "resultsSection": {"big": list(range(99))}}
    decoded = _lean(json.dumps({"studies": [raw]}).encode(), sites=False)
    assert decoded is not None
    (lean,) = decoded
    assert set(lean) <= {"protocolSection", "derivedSection"}
    assert "outcomesModule" not in lean["protocolSection"]
    assert lean["protocolSection"]["descriptionModule"] == {"briefSummary": "Short."}
    assert len(_sites(lean)) == len(_sites(study)) > 0
    assert _sites(lean)[0] == {}  # counted, not read


def _sites(study: dict[str, Any]) -> list[Any]:
    contacts = study["protocolSection"].get("contactsLocationsModule", {})
    return list(contacts.get("locations", []))


@pytest.mark.parametrize(
    "body",
    [
        b'[{"protocolSection": {"statusModule": 5}}]',  # a list with a module not an object
        b'{"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}}',  # one study
        b'{"studies": [{"protocolSection": {"statusModule": []}}]}',  # a read module not an object
        b'{"studies": [7]}',  # a study that is not an object
        b'{"studies": [{"protocolSection": {"contactsLocationsModule": {"locations": [1]}}}]}',
        b'{"studies": [], "x": NaN}',  # what only `json` reads
        b'{"studies": [{"protocolSection": {"identificationModule": {"briefTitle": "\xe9"}}}]}',
        b'{"studies": [',
    ],
)
def test_what_does_not_decode_lean_is_left_to_the_whole_decoding(body: bytes) -> None:
    assert _lean(body, sites=False) is None


def test_a_page_that_is_not_read_lean_fails_as_before(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "studies": [
                    {
                        "protocolSection": {
                            "identificationModule": {"nctId": "NCT1"},
                            "statusModule": [],
                        }
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"statusModule is not an object"):
        read_studies(bad, _same, Reading())
    latin = tmp_path / "latin.json"
    latin.write_bytes(
        b'{"studies": [{"protocolSection": {"identificationModule": {"briefTitle": "\xe9"}}}]}'
    )
    with pytest.raises(SourceError, match="cannot read"):
        read_studies(latin, _same, Reading())


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    page = {"studies": real_studies()[:3]}
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(page).encode())
    assert _lean(path.read_bytes(), sites=True) is not None
    assert read_studies(path, _same, Reading()) == _whole(page, True)


def test_a_study_that_stops_the_lean_decoding_midway_has_the_file_read_whole(
    tmp_path: Path,
) -> None:
    """The lean decoder refuses a site that is not an object; the whole decoding skips it.
    The studies before it were already worked on: the answer is still the whole file's."""
    first, second = [s for s in real_studies() if _sites(s)][:2]
    odd = json.loads(json.dumps(second))
    odd["protocolSection"]["contactsLocationsModule"]["locations"].insert(0, 1)
    page = {"studies": [first, odd]}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert _lean(path.read_bytes(), sites=False) is None
    seen: list[str] = []

    def work(study: Study) -> Study:
        seen.append(study.nct_id)
        return study

    assert read_studies(path, work, Reading(sites=False)) == _whole(page, False)
    ids = [first["protocolSection"]["identificationModule"]["nctId"]]
    ids.append(odd["protocolSection"]["identificationModule"]["nctId"])
    assert seen == [ids[0], *ids]  # the first study lean, then the whole file


@pytest.mark.parametrize(
    ("module", "key", "value"),
    [
        ("designModule", "enrollmentInfo", None),  # an inner object that is null
        ("statusModule", "startDateStruct", "2024-01"),  # ... or a string
        ("armsInterventionsModule", "interventions", ["CAR-T"]),  # a list of non-objects
        ("sponsorCollaboratorsModule", "leadSponsor", ["a"]),
        ("contactsLocationsModule", "centralContacts", {"name": "x"}),  # an object, not a list
    ],
)
@pytest.mark.parametrize("sites", [True, False])
def test_an_odd_inner_value_the_parser_reads_gives_the_whole_decodings_study(
    tmp_path: Path, module: str, key: str, value: Any, sites: bool
) -> None:
    """The lean decoder types the objects the parser reads inside a module; one of another
    type sends the file to the whole decoding, which reads it as leniently as ever."""
    study = json.loads(json.dumps(real_studies()[0]))
    study["protocolSection"].setdefault(module, {})[key] = value
    page = {"studies": [real_studies()[1], study]}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert _lean(path.read_bytes(), sites=sites) is None
    assert read_studies(path, _same, Reading(sites=sites)) == _whole(page, sites)


def test_a_site_point_of_another_type_reads_as_a_site_without_coordinates(
    tmp_path: Path,
) -> None:
    study = json.loads(json.dumps(next(s for s in real_studies() if _sites(s))))
    _sites(study)[0]["geoPoint"] = "nowhere"
    page = {"studies": [study]}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert _lean(path.read_bytes(), sites=True) is None
    assert _lean(path.read_bytes(), sites=False) is not None  # sites counted: not read
    (made,) = read_studies(path, _same, Reading(sites=True))
    assert made == _whole(page, True)[0]
    assert made.sites[0].lat is None
