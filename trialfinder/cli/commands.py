"""The `search` and `show` commands: options mapped onto the core, results rendered; no logic.

Validation lives in the core (`SearchSpec.resolve`, `check_format`, `check_nct_id`); these
functions only translate options, call the core, and write what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trialfinder.cli.app import app, cache_notes, note, open_source, to_file, width
from trialfinder.cli.options import (
    ApiUrlOpt,
    ColumnsOpt,
    ExplainOpt,
    FormatOpt,
    LatOpt,
    LonOpt,
    NctIdsArg,
    NearOpt,
    NoCacheOpt,
    OutputOpt,
    QuietOpt,
    RadiusOpt,
    RefreshOpt,
    SourceOpt,
    with_search_options,
)
from trialfinder.output import check_binary_output, check_output, write_output
from trialfinder.spec import SearchSpec

if TYPE_CHECKING:
    import pandas as pd

    from trialfinder.records import Study
    from trialfinder.search import SearchResult
    from trialfinder.spec import Search

DISCLAIMER = (
    "\nThis is not medical advice. Data: ClinicalTrials.gov, U.S. National Library of "
    "Medicine (NLM); NLM does not endorse this tool.\n"
)


@app.command()
@with_search_options
def search(
    spec: SearchSpec,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    columns: ColumnsOpt = None,
    source: SourceOpt = None,
    api_url: ApiUrlOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    quiet: QuietOpt = False,
    explain: ExplainOpt = False,
) -> None:
    """Search trials by condition, treatment, status, phase, CAR-T stance and distance.

    Data goes to stdout; where it came from, counts and notes go to stderr (none with
    --quiet; --explain lists each trial a CAR-T or near-me filter dropped, and why).

    Example: trialfinder search -c lymphoma --after-car-t --near "Houston, TX" --radius 200mi
    """
    from trialfinder.render.columns import default_columns, parse_columns
    from trialfinder.render.formats import check_format, is_binary
    from trialfinder.search import SITE_OUTPUT_COLUMNS, all_columns, site_rows

    fmt = check_format(fmt)
    plan = spec.resolve()
    say = _silent if quiet else note
    _echo_place(plan, say)
    available = list(SITE_OUTPUT_COLUMNS) if spec.sites else all_columns(plan.options)
    chosen = parse_columns(columns, available, _columns_needing(plan))
    check_output(output)
    if is_binary(fmt):
        check_binary_output(output, fmt)
    reads = _reads(plan, fmt, chosen, available)
    result, cached = _run(
        plan,
        source,
        api_url,
        quiet=quiet,
        cache=(no_cache, refresh),
        columns=reads,
        with_sites=spec.sites,
        with_long_texts=False,  # the search's output shows none of them
    )
    say(f"Data: {result.source}")
    for line in cached:
        say(f"Note: {line}")
    by_distance = plan.query.sort == "distance"
    frame = site_rows(result, by_distance=by_distance) if spec.sites else result.studies
    group = None
    if chosen:
        cols = chosen
    elif fmt == "table":
        from trialfinder.render.columns import table_view
        from trialfinder.render.tables import fit_columns

        view = table_view(plan.options, list(frame.columns))
        shown = None if to_file(output) else width()
        cols, group = fit_columns(frame, view.columns, shown, view.priority), view.group
    else:
        cols = default_columns(plan.options, fmt, list(frame.columns))
    for line in result.notes:
        say(f"Note: {line}")
    _summary(result, spec.sites, len(frame), say)
    if explain:
        for nct, title, reason in result.dropped:
            note(f"Dropped {nct} ({title}): {reason}")
        if not result.dropped:
            note("Dropped: none (no CAR-T or near-me filter dropped a trial)")
    _emit(frame, cols, fmt, output, group, sheet="sites" if spec.sites else "trials", quiet=quiet)


def _reads(
    plan: Search, fmt: str, chosen: list[str] | None, available: list[str]
) -> list[str] | None:
    """The columns the output can show (the API is asked for what they need); None: all."""
    if chosen:
        return chosen
    if fmt == "table":
        from trialfinder.render.columns import table_view

        return list(table_view(plan.options, available).columns)
    return None


def _columns_needing(plan: Search) -> dict[str, str]:
    """Columns this search lacks, and the option that would bring them."""
    from trialfinder.search import GEO_COLUMNS

    needs = {} if plan.options.therapy_classes else {"therapy_group": "--therapy-class CLASS"}
    if plan.options.near is not None:
        return needs
    near = "--near (or --lat and --lon): a place to measure from"
    return needs | {c: near for c in (*GEO_COLUMNS, "located_by")}


def _silent(message: str) -> None:
    """--quiet: a note that is not said."""


def _echo_place(plan: Search, say: Callable[[str], None] = note) -> None:
    place = plan.options.near
    if place is not None:
        say(f"Near: {place.label} ({place.lat:.4f}, {place.lon:.4f})")


def _run(
    plan: Search,
    source: str | None,
    api_url: str | None,
    *,
    quiet: bool = False,
    cache: tuple[bool, bool] = (False, False),
    columns: Sequence[str] | None = None,
    with_sites: bool = True,
    with_long_texts: bool = True,
) -> tuple[SearchResult, list[str]]:
    """The search's result, and what the cache did (`cache`: --no-cache, --refresh);
    `columns`: what the output reads (the API is asked only for that); `with_sites` and
    `with_long_texts`: whether it reads the sites and the long texts (`run_search`)."""
    from trialfinder.cli.progress import ProgressBar
    from trialfinder.ctgov.sources import Hooks
    from trialfinder.search import run_search

    no_cache, refresh = cache
    say = _silent if quiet else note
    data_source = open_source(source, api_url, no_cache=no_cache, refresh=refresh, say=say)
    bar = ProgressBar(seconds_per_page=data_source.pace or 1.2)
    try:
        hooks = Hooks(idle=_preload) if quiet else Hooks(bar, bar.retrying, idle=_preload)
        result = run_search(
            plan.query,
            data_source,
            plan.options,
            hooks=hooks,
            columns=columns,
            with_sites=with_sites,
            with_long_texts=with_long_texts,
        )
        return result, cache_notes(data_source)
    finally:
        bar.finish()
        data_source.close()


def _preload() -> None:
    """Import the frames' modules (pandas) while the API's next page travels: the first
    request leaves before them."""
    import trialfinder.filters
    import trialfinder.frames
    import trialfinder.geo.distance  # noqa: F401


def _summary(
    result: SearchResult, per_site: bool, rows: int, say: Callable[[str], None] = note
) -> None:
    trials = len(result.studies)
    if trials == 0:
        say("No trials matched.")
        return
    total = ""
    if result.total is not None and result.total != trials and not result.truncated:
        total = f"; the API matched {result.total} before trialfinder's own filters"
    if per_site:
        say(f"Found {rows} site(s) in {trials} trial(s){total}.")
    else:
        say(f"Found {trials} trial(s){total}.")


def _emit(
    frame: pd.DataFrame,
    cols: list[str],
    fmt: str,
    output: Path | None,
    group: str | None = None,
    *,
    sheet: str = "trials",
    quiet: bool = False,
) -> None:
    from trialfinder.render.formats import FORMATS, is_binary, render_bytes, render_chunks

    if is_binary(fmt):
        write_output(render_bytes(frame, fmt, cols, sheet=sheet), output, quiet=quiet)
        return
    into_file = to_file(output)
    if fmt == "table" and frame.empty and not into_file:
        return  # nothing to show; a file is still rewritten so it never holds stale results
    # Written as it is made: a CSV, JSON or JSON-lines export never holds its whole text.
    text = render_chunks(frame, fmt, cols, width=None if into_file else width(), group=group)
    write_output(text, output, bom=FORMATS[fmt].bom_in_files and into_file, quiet=quiet)


@app.command()
def show(
    nct_ids: NctIdsArg,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    near: NearOpt = None,
    radius: RadiusOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    source: SourceOpt = None,
    api_url: ApiUrlOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """Show trials in full: eligibility (with the prior-CAR-T sentence marked), contacts, sites.

    The table format is readable text (also spelled `text`); json gives the whole record,
    jsonl one record per line, csv and markdown one row per trial.

    Example: trialfinder show NCT01234567 --near 77030
    """
    from trialfinder.ctgov.query import check_nct_id
    from trialfinder.render.formats import check_format, is_binary
    from trialfinder.spec import SearchSpec

    fmt = check_format(fmt)
    ids = list(dict.fromkeys(check_nct_id(i) for i in _split_ids(nct_ids)))
    check_output(output)
    if is_binary(fmt):
        check_binary_output(output, fmt)
    where = SearchSpec(near=near, lat=lat, lon=lon, radius=radius)
    distance = where.distance()
    place = where.place()
    if place is not None:
        note(f"Near: {place.label} ({place.lat:.4f}, {place.lon:.4f})")

    from trialfinder.detail import study_detail

    data_source = open_source(source, api_url, no_cache=no_cache, refresh=refresh)
    try:
        studies = [data_source.get(i) for i in ids]
    finally:
        data_source.close()
    note(f"Data: {data_source.description}")
    for line in cache_notes(data_source):
        note(f"Note: {line}")
    for asked, study in zip(ids, studies, strict=True):
        if study.nct_id != asked:
            note(f"Note: {asked} is an alias; ClinicalTrials.gov now lists it as {study.nct_id}")
    studies = list({s.nct_id: s for s in studies}.values())
    details = [study_detail(s, near=place, radius=distance) for s in studies]
    write_output(_show_text(details, studies, fmt, output), output)


def _split_ids(values: list[str]) -> list[str]:
    """NCT ids as given: several in one argument (commas or spaces), '-' for stdin."""
    import re
    import sys

    words: list[str] = []
    for value in values:
        text = sys.stdin.read() if value == "-" else value
        words += [w for w in re.split(r"[\s,;]+", text) if w]
    if not words:
        from trialfinder.errors import UsageError

        raise UsageError("show needs at least one NCT id (e.g. NCT01234567), none was given")
    return words


def _show_text(
    details: list[dict[str, object]], studies: list[Study], fmt: str, output: Path | None
) -> str | bytes:
    from trialfinder.render.formats import is_binary, render, render_bytes, render_json
    from trialfinder.render.study import render_study

    if fmt == "table":
        text_width = min(width(), 120) if output is None else 100
        return "\n".join(render_study(d, width=text_width) for d in details) + DISCLAIMER
    if fmt == "json":
        return render_json(details if len(details) > 1 else details[0])
    if fmt == "jsonl":
        return render_json(details, lines=True)
    from trialfinder.search import study_rows

    frame = study_rows(studies)
    if is_binary(fmt):
        return render_bytes(frame, fmt, list(frame.columns))
    return render(frame, fmt, list(frame.columns), width=None if to_file(output) else width())
