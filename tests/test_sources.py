"""Saved API output as a source: every accepted shape, and clear errors for the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import FileSource
from trialfinder.errors import InvalidNctId, SourceError, StudyNotFound
from trialfinder.records import UNREAD_TERMS, UnreadSites, parse_study


def study(nct: str, title: str = "T") -> dict[str, Any]:
    return {"protocolSection": {"identificationModule": {"nctId": nct, "briefTitle": title}}}


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_reads_a_page_an_array_a_single_study_and_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "a_page.json", {"studies": [study("NCT90000001")], "nextPageToken": "x"})
    write(tmp_path / "b_array.json", [study("NCT90000002"), study("NCT90000003")])
    write(tmp_path / "c_one.json", study("NCT90000004"))
    source = FileSource(tmp_path)
    fetched = source.fetch(Query())
    ids = [s.nct_id for s in fetched.studies]
    assert ids == ["NCT90000001", "NCT90000002", "NCT90000003", "NCT90000004"]
    assert not fetched.server_filtered
    assert "not the live API" in source.description and "3 files" in source.description
    assert FileSource(tmp_path / "c_one.json").fetch(Query()).studies[0].nct_id == "NCT90000004"


def test_a_repeated_study_is_kept_once_with_a_note(tmp_path: Path) -> None:
    write(tmp_path / "a.json", [study("NCT90000001", "first")])
    write(tmp_path / "b.json", [study("NCT90000001", "second")])
    fetched = FileSource(tmp_path).fetch(Query())
    assert len(fetched.studies) == 1
    assert fetched.studies[0].brief_title == "first"
    assert any("repeated" in n for n in fetched.notes)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not ClinicalTrials.gov API output"),
        ('[{"protocolSection": {}}]', "item 1 is not a study"),
        ("42", "not ClinicalTrials.gov API output"),
    ],
)
def test_bad_files_are_source_errors(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        FileSource(tmp_path).fetch(Query())


@pytest.mark.parametrize("head", [b"\xff\xfe", b"\xfe\xff", b"caf\xe9 "])
def test_a_file_that_is_not_utf8_is_named_as_such(tmp_path: Path, head: bytes) -> None:
    (tmp_path / "bad.json").write_bytes(head + b'{"studies": []}')
    with pytest.raises(SourceError, match=r"cannot read .*'utf-8' codec can't decode"):
        FileSource(tmp_path).fetch(Query())


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", [study("NCT90000001")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [s.nct_id for s in FileSource(path).fetch(Query()).studies] == ["NCT90000001"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        FileSource(tmp_path / "nope")
    with pytest.raises(SourceError, match=r"no \.json files"):
        FileSource(tmp_path)


def test_get_by_id(tmp_path: Path) -> None:
    source = FileSource(write(tmp_path / "a.json", [study("NCT90000001")]))
    assert source.get("nct90000001") == parse_study(study("NCT90000001"))
    with pytest.raises(StudyNotFound, match="NCT90000009"):
        source.get("NCT90000009")
    with pytest.raises(InvalidNctId):
        source.get("90000001")


def test_every_string_is_kept_only_for_a_term(tmp_path: Path) -> None:
    """Study.text (every string of the record) costs memory; only --term reads it."""
    raw = study("NCT90000001")
    raw["protocolSection"]["descriptionModule"] = {"detailedDescription": "a zebra finch"}
    source = FileSource(write(tmp_path / "a.json", [raw]))
    assert source.fetch(Query.build(condition="lymphoma")).studies[0].text == ""
    assert "zebra" in source.fetch(Query.build(term="zebra")).studies[0].text
    assert "zebra" in source.fetch(Query.build()).studies[0].text  # loaded once, kept


def test_utf8_bom_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "bom.json").write_text(json.dumps([study("NCT90000001")]), encoding="utf-8-sig")
    assert len(FileSource(tmp_path).fetch(Query()).studies) == 1


def _with_sites(nct: str, cities: list[str]) -> dict[str, Any]:
    raw = study(nct)
    locations = [{"facility": f"{c} Hospital", "city": c, "country": "US"} for c in cities]
    raw["protocolSection"]["contactsLocationsModule"] = {"locations": locations}
    return raw


def test_sites_are_counted_not_read_when_the_search_needs_only_their_number(
    tmp_path: Path,
) -> None:
    """Sites are most of a saved record; a search showing `sites_count` only counts them."""
    saved = write(tmp_path / "a.json", [_with_sites("NCT90000001", ["Austin", "Waco"])])
    source = FileSource(saved)
    counted = source.fetch(Query(), sites=False).studies[0]
    assert len(counted.sites) == 2 and counted.sites and isinstance(counted.sites, UnreadSites)
    with pytest.raises(RuntimeError, match="not read"):
        list(counted.sites)  # a view that needs sites but did not ask fails loudly
    read = source.fetch(Query()).studies[0]  # read again, with the sites
    assert [s.city for s in read.sites] == ["Austin", "Waco"]
    assert source.get("NCT90000001").sites == read.sites
    # A --location query is matched against the sites locally: they are read for it.
    fresh = FileSource(tmp_path / "a.json")
    located = fresh.fetch(Query.build(location="Waco"), sites=False).studies[0]
    assert [s.city for s in located.sites] == ["Austin", "Waco"]


def test_unread_sites_pickle_and_compare_by_their_number() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(UnreadSites(3))) == UnreadSites(3)
    assert UnreadSites(3) != UnreadSites(2) and not UnreadSites(0)
    assert hash(UnreadSites(3)) == hash(UnreadSites(3))
    with pytest.raises(RuntimeError):
        UnreadSites(1)[0]


def _with_mesh(nct: str, title: str, term: str) -> dict[str, Any]:
    raw = study(nct, title)
    browse = {
        "meshes": [{"id": "D1", "term": term}],
        "ancestors": [{"id": "D2", "term": "Neoplasms"}],
    }
    raw["derivedSection"] = {"conditionBrowseModule": browse}
    return raw


@pytest.mark.parametrize("shape", ["array", "page"])
def test_mesh_terms_are_read_only_for_a_condition_or_intervention_query(
    tmp_path: Path, shape: str
) -> None:
    """Only condition and intervention queries match the MeSH terms, locally; other searches
    leave them unread (`UNREAD_TERMS`), and one that needs them reads the files again."""
    studies = [_with_mesh("NCT90000001", "A trial", "Multiple Myeloma"), study("NCT90000002")]
    saved = write(tmp_path / "a.json", studies if shape == "array" else {"studies": studies})
    source = FileSource(saved)
    plain = source.fetch(Query()).studies[0]
    assert plain.condition_mesh is UNREAD_TERMS and plain.intervention_mesh is UNREAD_TERMS
    with pytest.raises(RuntimeError, match="MeSH terms of this record were not read"):
        list(plain.condition_mesh)  # what reads them without asking fails loudly
    found = source.fetch(Query.build(condition="myeloma")).studies[0]
    assert found.condition_mesh == ("Multiple Myeloma", "Neoplasms")
    assert source.get("NCT90000001").condition_mesh == found.condition_mesh
    by_drug = FileSource(saved).fetch(Query.build(intervention="x")).studies[0]
    assert by_drug.condition_mesh == found.condition_mesh
    assert FileSource(saved).get("NCT90000001").condition_mesh == found.condition_mesh


def test_unread_terms_pickle_as_themselves_and_equal_only_themselves() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(UNREAD_TERMS)) is UNREAD_TERMS
    assert UNREAD_TERMS != () and not UNREAD_TERMS and () != UNREAD_TERMS  # noqa: SIM300
    assert parse_study(_with_mesh("NCT90000001", "T", "Lymphoma"), mesh=False) != parse_study(
        study("NCT90000001")
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_saved_data_with_sites_counted_shows_what_reading_them_shows(
    monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Every format of a search over saved records, its sites counted (what the search asks
    for without --near or site columns), equals the same search with every site read."""
    from clirun import run

    folder = str(Path(__file__).resolve().parents[1] / "fixtures")
    args = ["search", "--source", folder, "--status", "any", "--limit", "1000", "-f", fmt]
    asked: list[bool] = []
    fetch = FileSource.fetch

    def spy(self: FileSource, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("sites", True))
        return fetch(self, *args, **kwargs)

    monkeypatch.setattr(FileSource, "fetch", spy)
    counted = run(args)
    monkeypatch.setattr(FileSource, "fetch", lambda s, *a, **k: spy(s, *a, **{**k, "sites": True}))
    read = run(args)
    assert counted.code == read.code == 0, counted.err
    assert counted.out == read.out and "NCT" in counted.out
    assert asked == [False, True]  # counted, then read
