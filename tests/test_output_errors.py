"""-o path errors (issue 10): exit 1 and one wording, "cannot write --output FILE: why",
checked before any work is done; also for a disk that fills while writing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clirun import run

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")


def _fails(output: str, reason: str, *extra: str) -> None:
    result = run(["search", "--source", FIXTURES, "-f", "csv", *extra, "-o", output])
    assert result.code == 1, result.err
    assert result.out == ""
    assert result.err_lines == [f"Error: cannot write --output {output}: {reason}"]


def test_a_folder(tmp_path: Path) -> None:
    _fails(str(tmp_path), "it is a folder; give a file name")


def test_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x.csv"
    _fails(str(target), f"the folder {tmp_path / 'nope'} does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_no_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _fails(str(locked / "x.csv"), "permission denied")
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_full_disk(fmt: str) -> None:
    result = run(["search", "--source", FIXTURES, "-f", fmt, "-o", "/dev/full"])
    assert result.code == 1
    assert result.err_lines[-1] == "Error: cannot write --output /dev/full: no space left on device"


def test_the_check_comes_before_the_search(tmp_path: Path) -> None:
    # A bad -o fails at once, even when the source would fail too.
    result = run(["search", "--source", str(tmp_path / "missing"), "-o", str(tmp_path)])
    assert result.code in (1, 2) and "Error: " in result.err
    assert run(["show", "NCT90000101", "--source", FIXTURES, "-o", str(tmp_path)]).err_lines == [
        f"Error: cannot write --output {tmp_path}: it is a folder; give a file name"
    ]
