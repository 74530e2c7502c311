"""Shared pieces for the watch tests: the sample studies on a loopback API, and edits to them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clirun import Result, run
from ctgov_server import FakeCtGov

from trialfinder.ctgov.sources import FileSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
Study = dict[str, Any]


def sample() -> dict[str, Study]:
    """The bundled sample studies by NCT id (fresh copies)."""
    return {
        s["protocolSection"]["identificationModule"]["nctId"]: copy.deepcopy(s)
        for s in FileSource(FIXTURES).load_raw()
    }


def edited(study: Study, change: Callable[[dict[str, Any]], object], *, updated: str = "") -> Study:
    """A copy of a study with `change` applied to its protocolSection (and a new update date)."""
    out = copy.deepcopy(study)
    change(out["protocolSection"])
    if updated:
        out["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": updated}
    return out


class Api:
    """The loopback API and a trialfinder home: run commands against both."""

    def __init__(self, server: FakeCtGov, home: Path) -> None:
        self.server = server
        self.home = home
        self.env = {
            "TRIALFINDER_API_URL": server.base_url,
            "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6",
            "TRIALFINDER_HOME": str(home),
        }

    def __call__(self, *argv: str) -> Result:
        return run(list(argv), self.env)

    def requests_during(self, *argv: str) -> tuple[Result, int]:
        """Run a command and count the API requests it made."""
        before = len(self.server.requests)
        result = self(*argv)
        return result, len(self.server.requests) - before


@contextmanager
def api(home: Path, studies: dict[str, Study] | None = None) -> Iterator[Api]:
    """The sample studies (or `studies`) served on loopback, with a fresh trialfinder home."""
    with FakeCtGov(list((studies or sample()).values())) as server:
        yield Api(server, home)


def with_status(study: Study, status: str, *, updated: str = "") -> Study:
    """A copy of a study with another overall status (and a new update date if given)."""
    return edited(study, lambda p: p["statusModule"].update(overallStatus=status), updated=updated)
