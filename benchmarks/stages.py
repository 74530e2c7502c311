"""The search's stages one at a time, in this process, on the pages the server sends.

The CLI's run (benchmarks.child) gives the whole; this gives its parts, on one core, each
timed by CPU time (`time.process_time`; wall time is noisy on a shared machine):

    decode    json.loads of each /studies page body, as received with the default fields
    records   trialfinder.records.parse_study on every raw study
    classify  trialfinder.cart.profile.profile_row on every Study (CAR-T and stance columns)
    filter    trialfinder.frames.studies_frame, filters.apply_query and sort_frame
    render    trialfinder.render.formats.render as the default table, 120 columns wide

and the classifier alone: `trialfinder.cart.stance.classify_prior_car_t` on every criteria
text (what `cart.profile` calls for the prior-CAR-T stance).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd

from trialfinder import filters
from trialfinder.cart.profile import CART_COLUMNS, profile_row
from trialfinder.cart.stance import classify_prior_car_t
from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query
from trialfinder.frames import studies_frame
from trialfinder.records import Study, parse_study
from trialfinder.render.columns import default_columns, table_view
from trialfinder.render.formats import render
from trialfinder.search import SearchOptions, all_columns, needed_fields


@dataclass
class Stage:
    """One stage's cost over `items` inputs."""

    name: str
    cpu: float
    wall: float
    items: int

    @property
    def rate(self) -> float:
        """Items a CPU second."""
        return self.items / self.cpu if self.cpu > 0 else float("inf")


def timed(name: str, items: int, work: Callable[[], Any]) -> tuple[Stage, Any]:
    """Run `work` once; its CPU and wall seconds, and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return Stage(name, time.process_time() - cpu, time.perf_counter() - wall, items), value


def search_query() -> Query:
    """The benchmark's search: every study, whatever its status (`search --status any`)."""
    return Query.build(status=["any"])


def table_fields() -> tuple[str, ...]:
    """The API `fields` the benchmark's search asks for as the default table (what the CLI
    sends: the columns the table can show, its filters and its sort)."""
    options = SearchOptions()
    shown = list(table_view(options, all_columns(options)).columns)
    return needed_fields(search_query(), options, shown)


def page_bodies(base_url: str, fields: Sequence[str]) -> list[bytes]:
    """Every /studies page body of the search, as the server sends it (no pacing: loopback)."""
    params = dict(search_query().to_params(fields))
    params["pageSize"] = str(MAX_PAGE_SIZE)
    bodies: list[bytes] = []
    with httpx.Client(timeout=300) as http:
        while True:
            response = http.get(f"{base_url}/studies", params=params)
            response.raise_for_status()
            bodies.append(response.content)
            token = json.loads(response.content).get("nextPageToken")
            if not token:
                return bodies
            params["pageToken"] = token


def run_stages(base_url: str) -> tuple[list[Stage], int, Stage]:
    """The five stages over the server's studies, the bytes they came in, and the classifier."""
    options = SearchOptions()
    bodies = page_bodies(base_url, table_fields())
    received = sum(len(b) for b in bodies)
    total = sum(len(json.loads(b)["studies"]) for b in bodies)
    decode, pages = timed("decode", total, lambda: [json.loads(b) for b in bodies])
    raws = [s for page in pages for s in page["studies"]]
    records, studies = timed("records", total, lambda: [parse_study(r) for r in raws])
    classify, rows = timed("classify", total, lambda: [profile_row(s) for s in studies])
    by_id: dict[str, Study] = {s.nct_id: s for s in studies}

    def filtered() -> pd.DataFrame:
        frame = studies_frame(studies)
        frame = filters.apply_query(frame, by_id, search_query(), text=False)
        return filters.sort_frame(frame, "last-update")

    filter_stage, frame = timed("filter", total, filtered)
    cart = pd.DataFrame(rows, columns=list(CART_COLUMNS), index=[s.nct_id for s in studies])
    frame = frame.join(cart, on="nct_id")
    columns = default_columns(options, "table", list(frame.columns))
    render_stage, _ = timed("render", total, lambda: render(frame, "table", columns, width=120))
    criteria = [s.eligibility_criteria for s in studies if s.eligibility_criteria]
    classifier, _ = timed(
        "classifier", len(criteria), lambda: [classify_prior_car_t(c) for c in criteria]
    )
    return [decode, records, classify, filter_stage, render_stage], received, classifier
