"""Saved API output as a source: every accepted shape, and clear errors for the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import FileSource
from trialfinder.errors import InvalidNctId, SourceError, StudyNotFound
from trialfinder.records import parse_study


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
