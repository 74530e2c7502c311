"""Saved API output on disk: which files --source reads, and the study records in each.

A saved file may be a /studies page, one study object, or a JSON array of them; the website's
CSV download is refused with what to download instead, since it lacks the criteria and sites.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from trialfinder.ctgov.lean import NotLean, lean_studies
from trialfinder.ctgov.pages import decode_json
from trialfinder.errors import RecordError, SourceError
from trialfinder.records import READ_ALL, Reading, Study, nct_id_of, parse_study

Done = TypeVar("Done")

__all__ = [
    "CSV_DOWNLOAD",
    "list_files",
    "parsed_items",
    "read_json",
    "read_studies",
    "studies_in_json",
]


def parsed_items(
    data: Any, where: str, reading: Reading = READ_ALL
) -> list[tuple[dict[str, Any], Study]]:
    """Saved API output -> (raw, Study) pairs: a /studies page, one study, or a list, each
    study read as `reading` says."""
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        items = data["studies"]
    elif isinstance(data, dict) and "protocolSection" in data:
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise SourceError(
            f"{where} is not ClinicalTrials.gov API output "
            "(expected a /studies page, a study object, or a JSON array of studies)"
        )
    return [(item, _parsed(item, number, where, reading)) for number, item in enumerate(items, 1)]


def _parsed(item: Any, number: int, where: str, reading: Reading) -> Study:
    if not isinstance(item, dict) or not nct_id_of(item):
        raise SourceError(f"{where}: item {number} is not a study (it has no nctId)")
    try:
        return parse_study(item, keep_text=reading.text, sites=reading.sites, mesh=reading.mesh)
    except RecordError as exc:
        raise SourceError(f"{where}: {exc}") from None


def read_json(path: Path) -> Any:
    """A saved file's JSON (a UTF-8 byte-order mark is fine); SourceError when unreadable."""
    return _decoded(_bytes(path), path)


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None


def _decoded(data: bytes, path: Path) -> Any:
    try:
        # Decoded here, so that a file that is not UTF-8 is named as such (json would guess
        # another encoding from its first bytes).
        return decode_json(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path} is not valid JSON: {exc}") from None


def read_studies(path: Path, work: Callable[[Study], Done], reading: Reading) -> list[Done]:
    """`work` of each study of one saved file, in order, each study made and worked on in
    turn, and read as `reading` says. A /studies page or an array of studies is decoded lean
    (`ctgov.lean`: only the pieces a Study is made from, a study at a time) unless every
    string is read (`reading.text`);
    any other file, or one that does not decode so, is decoded whole (and worked on again
    from its first study)."""
    data = _bytes(path)
    where = str(path)
    if not reading.text:
        try:
            each = lean_studies(data, sites=reading.sites, mesh=reading.mesh)
            return [work(_parsed(raw, n, where, reading)) for n, raw in enumerate(each, 1)]
        except NotLean:
            pass
    decoded = _decoded(data, path)
    del data
    return [work(study) for _, study in parsed_items(decoded, where, reading)]


def studies_in_json(data: Any, where: str) -> list[dict[str, Any]]:
    """Saved API output -> its raw study objects, each checked to be a study record."""
    return [raw for raw, _ in parsed_items(data, where)]


_OTHER_DATA = frozenset({".zip", ".gz", ".xml", ".ris", ".tsv", ".xlsx", ".ndjson", ".jsonl"})
CSV_DOWNLOAD = (
    "this is the website's CSV download, which lacks the eligibility criteria and sites "
    "trialfinder reads; download JSON instead (Download, then JSON, on clinicaltrials.gov)"
)


def _is_csv_download(path: Path) -> bool:
    if path.suffix.lower() == ".csv":
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"NCT Number,")
    except OSError:
        return False


def list_files(path: Path) -> tuple[list[Path], str]:
    """The JSON files --source reads (a file, or every .json under a folder), and a note on
    the files skipped ("" when none): the website's CSV download and other exports."""
    skipped_note = ""
    if path.is_file():
        if _is_csv_download(path):
            raise SourceError(f"--source {path}: {CSV_DOWNLOAD}")
        return [path], ""
    if not os.access(path, os.R_OK | os.X_OK):
        raise SourceError(f"--source {path}: cannot read the folder (permission denied)")
    try:
        every = sorted(p for p in path.rglob("*") if p.is_file())
    except PermissionError as exc:
        raise SourceError(
            f"--source {path}: cannot read {exc.filename or 'a folder'} (permission denied)"
        ) from None
    files = [p for p in every if p.suffix.lower() == ".json"]
    csvs = [p for p in every if p.suffix.lower() == ".csv"]
    # Other exports of the registry's data are counted; notes and scripts beside the data
    # (a README, a generator) are not data and pass without a word.
    others = sum(1 for p in every if p.suffix.lower() in _OTHER_DATA)
    if not files:
        why = f" (it holds {len(csvs)} CSV file(s): {CSV_DOWNLOAD})" if csvs else ""
        raise SourceError(f"--source {path}: the directory holds no .json files{why}")
    skipped = []
    if csvs:
        skipped.append(f"{len(csvs)} .csv (the website's CSV download: use its JSON download)")
    if others:
        skipped.append(f"{others} other export(s) trialfinder cannot read (zip, xml, ris, ...)")
    if skipped:
        skipped_note = f"{len(csvs) + others} file(s) in {path} skipped: " + ", ".join(skipped)
    return files, skipped_note
