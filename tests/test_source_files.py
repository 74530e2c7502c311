"""`--source` says what it could not read (issue 10): a folder without permission, the files it
skipped and why, and the website's CSV download refused by name."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from clirun import run

from trialfinder.ctgov.saved import CSV_DOWNLOAD
from trialfinder.ctgov.sources import FileSource
from trialfinder.errors import SourceError

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "fixtures" / "lymphoma_page.json"
CSV_NAME = "miracle_takehome_ctg-studies_download.csv"


def test_the_websites_csv_download_is_refused_by_name(records_dir: Path) -> None:
    result = run(["search", "--source", str(records_dir / CSV_NAME)])
    assert result.code == 2
    assert result.err_lines == [f"Error: --source {records_dir / CSV_NAME}: {CSV_DOWNLOAD}"]


def test_a_csv_download_under_another_name_is_recognised(tmp_path: Path, records_dir: Path) -> None:
    renamed = tmp_path / "studies.json"
    shutil.copy(records_dir / CSV_NAME, renamed)
    with pytest.raises(SourceError, match="the website's CSV download"):
        FileSource(renamed)


def test_skipped_files_are_counted_with_the_reason(tmp_path: Path, records_dir: Path) -> None:
    shutil.copy(PAGE, tmp_path / "page.json")
    shutil.copy(records_dir / CSV_NAME, tmp_path / "download.csv")
    (tmp_path / "export.zip").write_bytes(b"PK")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")  # not data: not counted
    result = run(["search", "--source", str(tmp_path), "-f", "json"])
    assert result.code == 0, result.err
    assert json.loads(result.out)
    assert (
        f"Note: 2 file(s) in {tmp_path} skipped: 1 .csv (the website's CSV download: use its "
        "JSON download), 1 other export(s) trialfinder cannot read (zip, xml, ris, ...)"
    ) in result.err_lines


def test_a_folder_of_csv_only_says_so(tmp_path: Path, records_dir: Path) -> None:
    shutil.copy(records_dir / CSV_NAME, tmp_path / "download.csv")
    with pytest.raises(SourceError, match=r"holds no \.json files \(it holds 1 CSV file\(s\): "):
        FileSource(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_folder_says_permission_denied(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = run(["search", "--source", str(locked)])
    finally:
        locked.chmod(0o700)
    assert result.code == 2
    assert result.err_lines == [
        f"Error: --source {locked}: cannot read the folder (permission denied)"
    ]


def test_an_unreadable_folder_without_root_is_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(SourceError, match="cannot read the folder \\(permission denied\\)"):
        FileSource(tmp_path)
