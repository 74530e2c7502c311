"""Outputs of the README examples and of every output path, compared byte for byte with files.

The files in tests/golden/ were written by this test (`TRIALFINDER_UPDATE_GOLDEN=1`) before the
core was reshaped; a refactor must leave them unchanged unless an issue asks for a change, and
then the change is in the diff of the golden file for a reviewer to read.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from clirun import run
from ctgov_server import FakeCtGov
from test_readme import examples

from trialfinder.ctgov.sources import FileSource

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("TRIALFINDER_UPDATE_GOLDEN") == "1"

# Beyond the README: every format, per-site rows, narrow terminals, show, and refusals.
EXTRA = [
    "search --source fixtures/ --status any",
    "search --source fixtures/ -c lymphoma -f csv",
    "search --source fixtures/ -c lymphoma -f json --limit 3",
    "search --source fixtures/ --car-t -f jsonl --sort nct-id",
    "search --source fixtures/ --prior-car-t excluded -f markdown",
    "search --source fixtures/ --target BCMA --status any",
    'search --source fixtures/ -c lymphoma --near "Houston, TX" --radius 200mi --sites',
    'search --source fixtures/ -c lymphoma --near "Houston, TX" --radius 200mi --sites -f csv',
    "search --source fixtures/ -c lymphoma --after-car-t --near 77030 --radius 250mi",
    "search --source fixtures/ --near Germany",
    "search --source fixtures/ --lat 29.76 --lon -95.37 --radius 50km -f json --limit 2",
    "search --source fixtures/ --age 70 --sex female --phase 2 --study-type interventional",
    "search --source fixtures/ --updated-since 2025-01-01 --sort start-date",
    "search --source fixtures/ --columns nct_id,title,prior_car_t_evidence --after-car-t",
    "search --source fixtures/ -c myeloma --limit 2",
    "show NCT90000102 --source fixtures/",
    "show NCT90000101 NCT90000203 --source fixtures/ -f json",
    "show NCT90000111 --source fixtures/ -f jsonl",
    'show NCT90000101 --source fixtures/ --near "Houston, TX" --radius 50mi',
    "show NCT90000207 --source fixtures/ --near Shanghai",
    "search --source fixtures/ --radius 10mi",
    "search --source fixtures/ --after-car-t --prior-car-t excluded",
    "search --source fixtures/ --sort distance",
    "search --source fixtures/ --format xml",
    "search --source fixtures/ --columns nope",
    "show NCT123 --source fixtures/",
    "show NCT99999999 --source fixtures/",
]
NARROW = [
    "search --source fixtures/ --status any",
    "search --source fixtures/ -c lymphoma --after-car-t --near 77030 --radius 250mi",
    "search --source fixtures/ --after-car-t",
    "show NCT90000114 --source fixtures/",
]


def _cases() -> list[tuple[str, list[str], str]]:
    # Saved searches write a home and depend on each other: tests/test_watch_*.py cover them.
    cases = [("readme", argv, "120") for argv in examples() if argv[0] in ("search", "show")]
    cases += [("extra", shlex.split(line), "120") for line in EXTRA]
    cases += [("narrow", shlex.split(line), "80") for line in NARROW]
    return cases


def _name(kind: str, argv: list[str], columns: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", " ".join(argv)).strip("_")[:90]
    return f"{kind}-{columns}-{slug}.txt"


def _transcript(argv: list[str], columns: str, tmp_path: Path) -> str:
    argv = [str(ROOT / "fixtures") if a == "fixtures/" else a for a in argv]
    argv = [str(tmp_path / a) if a.endswith(".csv") else a for a in argv]
    env = {"COLUMNS": columns}
    if "--source" in argv:
        result = run(argv, env)
        base = ""
    else:  # a live-API example, against the loopback API holding the sample data
        with FakeCtGov(FileSource(ROOT / "fixtures").load_raw()) as server:
            env |= {
                "TRIALFINDER_API_URL": server.base_url,
                "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6",
            }
            result = run(argv, env)
            base = server.base_url
    parts = [f"exit {result.code}", "--- stdout", result.out, "--- stderr", result.err]
    for path in sorted(tmp_path.glob("*.csv")):
        parts += [f"--- file {path.name}", path.read_bytes().decode("utf-8")]
    text = "\n".join(parts)
    text = text.replace(str(tmp_path), "<tmp>").replace(str(ROOT), "<root>")
    return text.replace(base, "<api>") if base else text


@pytest.mark.parametrize(
    ("kind", "argv", "columns"), _cases(), ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_output_is_unchanged(kind: str, argv: list[str], columns: str, tmp_path: Path) -> None:
    got = _transcript(argv, columns, tmp_path)
    path = GOLDEN / _name(kind, argv, columns)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8", newline="")
    assert path.exists(), f"no golden file {path.name}; run with TRIALFINDER_UPDATE_GOLDEN=1"
    assert got == path.read_bytes().decode("utf-8"), path.name


def test_every_golden_file_belongs_to_a_case() -> None:
    names = {_name(k, a, c) for k, a, c in _cases()}
    assert {p.name for p in GOLDEN.glob("*.txt")} <= names
