"""The typer commands; the only module that imports typer, and the single error boundary.

Heavy modules (pandas, httpx) are imported inside the commands so that `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from trialfinder import __version__
from trialfinder.errors import InvalidOption, TrialfinderError, UsageError
from trialfinder.output import ProgressBar, check_output, write_output

if TYPE_CHECKING:
    from trialfinder.geo.distance import Distance, Place
    from trialfinder.ctgov.sources import StudySource

app = typer.Typer(
    name="trialfinder",
    help=(
        "Find CAR T-cell therapy trials, and trials open to people whose CAR-T did not work, "
        "on ClinicalTrials.gov.\n\nThis tool uses publicly available data from the U.S. "
        "National Library of Medicine (NLM); NLM is not responsible for it and does not "
        "endorse it. It is not medical advice: talk to your care team about any trial."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# -- shared option spellings (every command spells them the same way) -------------------

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, csv, json, jsonl or markdown.",
        metavar="FORMAT",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the data to this file instead of stdout.",
        dir_okay=False,
    ),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        metavar="PATH",
        help="Read saved API output (a JSON file or a directory of them) instead of the network.",
    ),
]
ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        metavar="URL",
        help="API base URL (default: $TRIALFINDER_API_URL, else https://clinicaltrials.gov/api/v2).",
    ),
]
NearOpt = Annotated[
    str | None,
    typer.Option(
        "--near",
        metavar="PLACE",
        help='Where the patient is: a US ZIP, "City, ST", "City, Country" or a country.',
        rich_help_panel="Near me",
    ),
]
RadiusOpt = Annotated[
    str | None,
    typer.Option(
        "--radius",
        metavar="DISTANCE",
        help="Distance from --near, e.g. 50mi or 100km (default: 100mi; a whole "
        "country for a country).",
        rich_help_panel="Near me",
    ),
]
LatOpt = Annotated[
    float | None,
    typer.Option(
        "--lat",
        metavar="DEGREES",
        help="Latitude, instead of --near (with --lon).",
        rich_help_panel="Near me",
    ),
]
LonOpt = Annotated[
    float | None,
    typer.Option(
        "--lon",
        metavar="DEGREES",
        help="Longitude, instead of --near (with --lat).",
        rich_help_panel="Near me",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trialfinder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Find CAR-T trials, and trials open after CAR-T, on ClinicalTrials.gov."""


# -- helpers -----------------------------------------------------------------------------


def note(message: str) -> None:
    """A line for the user on stderr (never mixed into the data on stdout)."""
    typer.echo(message, err=True)


def _open_source(source: str | None, api_url: str | None) -> StudySource:
    from trialfinder.ctgov.sources import ApiSource, FileSource

    if source is not None:
        return FileSource(source)
    from trialfinder.ctgov.client import CtGovClient

    return ApiSource(CtGovClient(api_url))


def _close(source: StudySource) -> None:
    client = getattr(source, "client", None)
    if client is not None:
        client.close()


def _place(near: str | None, lat: float | None, lon: float | None) -> Place | None:
    if near is None and lat is None and lon is None:
        return None
    from trialfinder.geo.distance import place_from_coordinates, resolve_place

    if near is not None and (lat is not None or lon is not None):
        raise UsageError("give either --near or --lat/--lon, not both")
    if near is not None:
        place = resolve_place(near)
    else:
        if lat is None or lon is None:
            raise UsageError("--lat and --lon go together: give both")
        place = place_from_coordinates(lat, lon)
    note(f"Near: {place.label} ({place.lat:.4f}, {place.lon:.4f})")
    return place


def _radius(radius: str | None, has_place: bool) -> Distance | None:
    if radius is None:
        return None
    if not has_place:
        raise UsageError("--radius needs --near (or --lat and --lon)")
    from trialfinder.geo.distance import parse_radius

    return parse_radius(radius)


def _to_file(output: Path | None) -> bool:
    return output is not None and str(output) != "-"  # "-" means stdout


def _width() -> int:
    """$COLUMNS, else the terminal's width (stdout's, or stderr's when stdout is piped to a
    pager or `head`), else 120."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(40, int(columns))
    for fd in (1, 2, 0):
        try:
            return max(40, os.get_terminal_size(fd).columns)
        except OSError:
            continue
    return 120


# -- commands ----------------------------------------------------------------------------


@app.command()
def search(
    condition: Annotated[
        str | None,
        typer.Option(
            "--condition", "-c", metavar="TEXT", help="Condition or disease, e.g. lymphoma."
        ),
    ] = None,
    term: Annotated[
        str | None, typer.Option("--term", metavar="TEXT", help="Any other search words.")
    ] = None,
    intervention: Annotated[
        str | None,
        typer.Option("--intervention", metavar="TEXT", help="Drug, product or procedure."),
    ] = None,
    location: Annotated[
        str | None,
        typer.Option(
            "--location", metavar="TEXT", help="Free-text location words (city, country...)."
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="Recruitment status, repeatable: recruiting, not-yet-recruiting, "
            "active-not-recruiting, completed, ..., or open, closed, any "
            "(default: recruiting and not-yet-recruiting).",
        ),
    ] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option("--phase", metavar="PHASE", help="Phase, repeatable: early1, 1, 2, 3, 4, na."),
    ] = None,
    study_type: Annotated[
        str | None,
        typer.Option(
            "--study-type", metavar="TYPE", help="interventional, observational or expanded-access."
        ),
    ] = None,
    sponsor: Annotated[
        str | None, typer.Option("--sponsor", metavar="TEXT", help="Sponsor or collaborator.")
    ] = None,
    age: Annotated[
        float | None,
        typer.Option(
            "--age", metavar="YEARS", help="Keep trials that admit a person of this age (years)."
        ),
    ] = None,
    sex: Annotated[
        str | None,
        typer.Option("--sex", metavar="SEX", help="female or male: keep trials open to this sex."),
    ] = None,
    updated_since: Annotated[
        str | None,
        typer.Option(
            "--updated-since",
            help="Keep trials updated on or after DATE (YYYY-MM-DD).",
            metavar="DATE",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", help="At most this many trials.")
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            metavar="ORDER",
            help="relevance, last-update, start-date, enrollment, nct-id or distance "
            "(default: relevance; distance with --near).",
        ),
    ] = None,
    car_t: Annotated[
        bool,
        typer.Option(
            "--car-t",
            help="Only trials whose own treatment is a CAR cell product.",
            rich_help_panel="CAR-T",
        ),
    ] = False,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="TARGET",
            help="CAR target, repeatable, e.g. CD19, BCMA (implies --car-t).",
            rich_help_panel="CAR-T",
        ),
    ] = None,
    after_car_t: Annotated[
        bool,
        typer.Option(
            "--after-car-t",
            help="Trials that require or allow prior CAR-T (required first); those that "
            "exclude it are dropped and counted.",
            rich_help_panel="CAR-T",
        ),
    ] = False,
    prior_car_t: Annotated[
        list[str] | None,
        typer.Option(
            "--prior-car-t",
            metavar="STANCE",
            help="Keep trials with this stance on prior CAR-T, repeatable: required, allowed, "
            "excluded, unmentioned.",
            rich_help_panel="CAR-T",
        ),
    ] = None,
    near: NearOpt = None,
    radius: RadiusOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    any_site_status: Annotated[
        bool,
        typer.Option(
            "--any-site-status",
            help="Count sites of any status, not only recruiting or not-yet-recruiting ones.",
            rich_help_panel="Near me",
        ),
    ] = False,
    sites: Annotated[
        bool,
        typer.Option(
            "--sites", help="One row per site (within the radius with --near) instead of per trial."
        ),
    ] = False,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="COLUMNS",
            help="Comma-separated columns to output (see the README for the list).",
        ),
    ] = None,
    source: SourceOpt = None,
    api_url: ApiUrlOpt = None,
) -> None:
    """Search trials by condition, treatment, status, phase, CAR-T stance and distance.

    Data goes to stdout; where it came from, counts and notes go to stderr.

    Example: trialfinder search -c lymphoma --after-car-t --near "Houston, TX" --radius 200mi
    """
    from trialfinder.ctgov.query import Query
    from trialfinder.render.formats import check_format

    fmt = check_format(fmt)
    query = Query.build(
        condition=condition,
        term=term,
        intervention=intervention,
        location=location,
        status=status,
        phase=phase,
        study_type=study_type,
        sponsor=sponsor,
        age=age,
        sex=sex,
        updated_since=updated_since,
        limit=limit,
        sort=sort or ("distance" if (near or lat is not None) else None),
    )
    if query.sort == "distance" and near is None and lat is None:
        raise UsageError("--sort distance needs --near (or --lat and --lon)")
    targets = _targets(target or [])
    stances = _stances(prior_car_t or [])
    distance = _radius(radius, near is not None or lat is not None or lon is not None)
    place = _place(near, lat, lon)
    if any_site_status and place is None:
        raise UsageError("--any-site-status needs --near (or --lat and --lon)")
    if after_car_t and set(stances) - {"required", "allowed"}:
        raise UsageError(
            "--after-car-t keeps trials that require or allow prior CAR-T; it cannot be "
            "combined with --prior-car-t excluded or unmentioned"
        )

    from trialfinder.search import (
        SITE_OUTPUT_COLUMNS,
        SearchOptions,
        all_columns,
        default_columns,
        parse_columns,
        run_search,
        site_rows,
    )

    options = SearchOptions(
        car_t=car_t,
        targets=targets,
        after_car_t=after_car_t,
        prior_car_t=stances,
        near=place,
        radius=distance,
        any_site_status=any_site_status,
        per_site=sites,
    )
    available = list(SITE_OUTPUT_COLUMNS) if sites else all_columns(options)
    chosen = parse_columns(columns, available)
    check_output(output)
    data_source = _open_source(source, api_url)
    client = getattr(data_source, "client", None)
    bar = ProgressBar(seconds_per_page=client.pacer.interval) if client else ProgressBar()
    if client is not None:
        client.on_retry = bar.retrying
    try:
        result = run_search(query, data_source, options, progress=bar)
    finally:
        bar.finish()
        _close(data_source)
    note(f"Data: {result.source}")
    by_distance = query.sort == "distance"
    frame = site_rows(result, by_distance=by_distance) if sites else result.studies
    cols = chosen or default_columns(
        options, fmt, list(frame.columns), None if _to_file(output) else _width()
    )
    for line in result.notes:
        note(f"Note: {line}")
    _summary(result, sites, len(frame))
    _emit(frame, cols, fmt, output)


def _summary(result: Any, per_site: bool, rows: int) -> None:
    trials = len(result.studies)
    if trials == 0:
        note("No trials matched.")
        return
    total = ""
    if result.total is not None and result.total != trials and not result.truncated:
        total = f"; the API matched {result.total} before trialfinder's own filters"
    if per_site:
        note(f"Found {rows} site(s) in {trials} trial(s){total}.")
    else:
        note(f"Found {trials} trial(s){total}.")


def _emit(frame: Any, cols: list[str], fmt: str, output: Path | None) -> None:
    from trialfinder.render.formats import render

    to_file = _to_file(output)
    if fmt == "table" and frame.empty and not to_file:
        return  # nothing to show; a file is still rewritten so it never holds stale results
    width = None if to_file else _width()
    write_output(render(frame, fmt, cols, width=width), output, bom=fmt == "csv" and to_file)


def _targets(values: list[str]) -> tuple[str, ...]:
    if not values:
        return ()
    from trialfinder.cart.stance import parse_targets

    parts = [p.strip() for raw in values for p in (raw.split(",") if raw.strip() else [raw])]
    return parse_targets([p for p in parts if p] or [""])


def _stances(values: list[str]) -> tuple[str, ...]:
    if not values:
        return ()
    from trialfinder.cart.stance import PRIOR_CAR_T_LABELS

    out = []
    for raw in values:
        for part in raw.split(",") if raw.strip() else [raw]:
            key = part.strip().lower()
            if key not in PRIOR_CAR_T_LABELS:
                raise InvalidOption("--prior-car-t", part.strip(), list(PRIOR_CAR_T_LABELS))
            out.append(key)
    return tuple(dict.fromkeys(out))


@app.command()
def show(
    nct_ids: Annotated[
        list[str],
        typer.Argument(help="One or more NCT ids, e.g. NCT01234567.", metavar="NCT_ID..."),
    ],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="text (readable), json or jsonl.", metavar="FORMAT"),
    ] = "text",
    output: OutputOpt = None,
    near: NearOpt = None,
    radius: RadiusOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    source: SourceOpt = None,
    api_url: ApiUrlOpt = None,
) -> None:
    """Show trials in full: eligibility (with the prior-CAR-T sentence marked), contacts, sites.

    Example: trialfinder show NCT01234567 --near 77030
    """
    from trialfinder.ctgov.query import check_nct_id

    fmt = fmt.strip().lower()
    if fmt == "table":
        fmt = "text"
    if fmt not in ("text", "json", "jsonl"):
        raise InvalidOption("--format", fmt, ["text", "json", "jsonl"])
    ids = list(dict.fromkeys(check_nct_id(i) for i in nct_ids))
    check_output(output)
    distance = _radius(radius, near is not None or lat is not None or lon is not None)
    place = _place(near, lat, lon)

    from trialfinder.detail import study_detail
    from trialfinder.render.formats import render_json, render_study

    data_source = _open_source(source, api_url)
    try:
        details = [study_detail(data_source.get(i), near=place, radius=distance) for i in ids]
    finally:
        _close(data_source)
    note(f"Data: {data_source.description}")
    if fmt == "text":
        width = min(_width(), 120) if output is None else 100
        text = "\n".join(render_study(d, width=width) for d in details)
        text += (
            "\nThis is not medical advice. Data: ClinicalTrials.gov, U.S. National Library of "
            "Medicine (NLM); NLM does not endorse this tool.\n"
        )
    elif fmt == "json":
        text = render_json(details if len(details) > 1 else details[0])
    else:
        text = render_json(details, lines=True)
    write_output(text, output)


# -- the error boundary ------------------------------------------------------------------


def _fail(message: str, code: int, hint: str | None = None) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    if hint and code != 2:
        typer.echo(f"Tip: {hint}", err=True)
    raise SystemExit(code)


def _click_kind(exc: BaseException) -> set[str]:
    # typer >= 0.20 vendors click as typer._click; older typer uses click itself. Match the
    # exception classes by name so the boundary works with either.
    return {cls.__name__ for cls in type(exc).__mro__}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and turn every failure into one clear line."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="trialfinder", standalone_mode=False)
    except TrialfinderError as exc:
        _fail(exc.message, exc.exit_code, exc.hint)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        raise SystemExit(0) from None
    except OSError as exc:
        # Most often stdout cannot be written (a full disk): a cron job must see a failure.
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
    except Exception as exc:
        kinds = _click_kind(exc)
        if "NoArgsIsHelpError" in kinds:
            ctx = getattr(exc, "ctx", None)
            help_text = ctx.get_help() if ctx is not None else ""
            if help_text:
                typer.echo(help_text)
            raise SystemExit(0) from None
        if "ClickException" in kinds:
            message = " ".join(str(getattr(exc, "format_message", exc.__str__)()).split())
            _fail(message, int(getattr(exc, "exit_code", 2)))
        raise
    if isinstance(code, int) and code:
        raise SystemExit(code)
