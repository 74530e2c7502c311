"""Access to the real API records in ../shared/ctgov/records (read at test time, never copied)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

RECORDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "ctgov" / "records"


def records_dir() -> Path:
    """The records folder, or skip the calling test with the reason."""
    if not RECORDS_DIR.is_dir():
        pytest.skip(f"real API records not available at {RECORDS_DIR}")
    return RECORDS_DIR


@lru_cache(maxsize=1)
def _load(path: str) -> tuple[dict[str, Any], ...]:
    from trialfinder.ctgov.saved import studies_in_json

    studies: list[dict[str, Any]] = []
    for file in sorted(Path(path).glob("*.json")):
        studies.extend(studies_in_json(json.loads(file.read_text(encoding="utf-8")), file.name))
    return tuple(studies)


def real_studies() -> list[dict[str, Any]]:
    """Every study object in every record file (a few NCT ids appear in two files)."""
    return list(_load(str(records_dir())))
