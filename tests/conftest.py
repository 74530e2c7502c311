"""Shared pytest fixtures: a fake ClinicalTrials.gov API on loopback, and the saved API records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ctgov_server import FakeCtGov

# Saved real API output, gathered for this project (see shared/ctgov/PROVENANCE.md).
RECORDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "ctgov" / "records"


@pytest.fixture
def ctgov_server() -> Iterator[FakeCtGov]:
    """A started, empty `FakeCtGov`; stopped after the test, which fails if the fake crashed."""
    with FakeCtGov() as server:
        yield server
    if server.errors:
        pytest.fail("FakeCtGov raised while serving:\n" + "\n".join(server.errors))


@pytest.fixture(scope="session")
def records_dir() -> Path:
    """The directory of saved ClinicalTrials.gov API output; skips the test when it is absent."""
    if not RECORDS_DIR.is_dir():
        pytest.skip(f"saved ClinicalTrials.gov records not found at {RECORDS_DIR}")
    return RECORDS_DIR


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the place indexes, the watches and the snapshots out of the user's home."""
    import os

    names = ("XDG_CACHE_HOME", "TRIALFINDER_HOME")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["TRIALFINDER_HOME"] = str(tmp_path_factory.mktemp("trialfinder-home"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _private_http_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A cache of API answers of each test's own, so that no test sees another's answers."""
    import os

    saved = os.environ.get("TRIALFINDER_CACHE_DIR")
    os.environ["TRIALFINDER_CACHE_DIR"] = str(tmp_path_factory.mktemp("http-cache"))
    yield
    if saved is None:
        os.environ.pop("TRIALFINDER_CACHE_DIR", None)
    else:
        os.environ["TRIALFINDER_CACHE_DIR"] = saved
