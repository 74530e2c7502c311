"""Every command-line option, spelled once as an `Annotated` alias, so commands share spellings.

The search options here map one to one onto `SearchSpec` fields; a saved search takes the
same options. The choices a help text names are read from where they are defined (the query's
tables, the formats registry, the spec), all light modules: typer builds every help text at
start-up, so nothing here may pull in pandas or httpx.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast, get_type_hints

import typer

from trialfinder.cart.vocab_file import option_group_names
from trialfinder.ctgov.query import DEFAULT_STATUSES, PHASES, SEXES, SORTS, STUDY_TYPES
from trialfinder.render.formats import FILE_FORMATS, FORMATS
from trialfinder.schema import PRIOR_CAR_T_LABELS

CART = "CAR-T"
NEAR = "Near me"


def listed(names: Iterable[str], last: str = "or") -> str:
    """Choices for a help text: "a, b or c" (`last` joins the final two)."""
    items = list(names)
    return (
        f" {last} ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
    )


# -- output, shared by every command that prints data -----------------------------------

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help=f"Output format: {listed([*FORMATS, *FILE_FORMATS])} (a file: use -o).",
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
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="COLUMNS",
        help="Comma-separated columns to output (see the README for the list).",
    ),
]

# -- where the data comes from ------------------------------------------------------------

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

# -- the cache of the API's answers (interactive commands; reports never use it) -------------

NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Neither use nor keep trialfinder's cache of recent API answers.",
    ),
]
RefreshOpt = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="Fetch every answer from the API anew, ignoring the cache, and keep it there.",
    ),
]

# -- the query ------------------------------------------------------------------------------

ConditionOpt = Annotated[
    str | None,
    typer.Option("--condition", "-c", metavar="TEXT", help="Condition or disease, e.g. lymphoma."),
]
TermOpt = Annotated[
    str | None, typer.Option("--term", metavar="TEXT", help="Any other search words.")
]
InterventionOpt = Annotated[
    str | None,
    typer.Option("--intervention", metavar="TEXT", help="Drug, product or procedure."),
]
LocationOpt = Annotated[
    str | None,
    typer.Option("--location", metavar="TEXT", help="Free-text location words (city, country...)."),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="Recruitment status, repeatable: recruiting, not-yet-recruiting, "
        "active-not-recruiting, completed, ..., or open, closed, any "
        f"(default: {listed((s.lower().replace('_', '-') for s in DEFAULT_STATUSES), 'and')}).",
    ),
]
PhaseOpt = Annotated[
    list[str] | None,
    typer.Option("--phase", metavar="PHASE", help=f"Phase, repeatable: {', '.join(PHASES)}."),
]
StudyTypeOpt = Annotated[
    str | None,
    typer.Option("--study-type", metavar="TYPE", help=f"{listed(STUDY_TYPES)}."),
]
SponsorOpt = Annotated[
    str | None, typer.Option("--sponsor", metavar="TEXT", help="Sponsor or collaborator.")
]
AgeOpt = Annotated[
    float | None,
    typer.Option(
        "--age", metavar="YEARS", help="Keep trials that admit a person of this age (years)."
    ),
]
SexOpt = Annotated[
    str | None,
    typer.Option(
        "--sex",
        metavar="SEX",
        help=f"{listed(s for s in SEXES if s != 'all')}: keep trials open to this sex.",
    ),
]
UpdatedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--updated-since",
        help="Keep trials updated on or after DATE (YYYY-MM-DD).",
        metavar="DATE",
    ),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", metavar="N", help="At most this many trials.")
]
SortOpt = Annotated[
    str | None,
    typer.Option(
        "--sort",
        metavar="ORDER",
        help=f"{listed(SORTS)} (default: relevance; distance with --near).",
    ),
]

# -- CAR-T ------------------------------------------------------------------------------------

CarTOpt = Annotated[
    bool,
    typer.Option(
        "--car-t",
        help="Only trials whose own treatment is a CAR cell product.",
        rich_help_panel=CART,
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="TARGET",
        help="CAR target, repeatable, e.g. CD19, BCMA (implies --car-t).",
        rich_help_panel=CART,
    ),
]
AfterCarTOpt = Annotated[
    bool,
    typer.Option(
        "--after-car-t",
        help="Trials that require or allow prior CAR-T (required first); those that "
        "exclude it are dropped and counted.",
        rich_help_panel=CART,
    ),
]
PriorCarTOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prior-car-t",
        metavar="STANCE",
        help="Keep trials with this stance on prior CAR-T, repeatable: "
        f"{', '.join(PRIOR_CAR_T_LABELS)}.",
        rich_help_panel=CART,
    ),
]

# The option groups of trialfinder.cart.options, read from the vocabulary data without
# compiling it (cart/vocab_file.py), so --help stays light.
THERAPY_CLASSES = ", ".join(option_group_names())
TherapyClassOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--therapy-class",
        metavar="CLASS",
        help=f"Keep trials whose own treatment is of this kind, repeatable: {THERAPY_CLASSES}.",
        show_default=False,
        rich_help_panel=CART,
    ),
]

# -- near me ------------------------------------------------------------------------------------

NearOpt = Annotated[
    str | None,
    typer.Option(
        "--near",
        metavar="PLACE",
        help='Where the patient is: a US ZIP, "City, ST", "City, Country" or a country.',
        rich_help_panel=NEAR,
    ),
]
RadiusOpt = Annotated[
    str | None,
    typer.Option(
        "--radius",
        metavar="DISTANCE",
        help="Distance from --near, e.g. 50mi or 100km (default: 100mi; a whole "
        "country for a country).",
        rich_help_panel=NEAR,
    ),
]
LatOpt = Annotated[
    float | None,
    typer.Option(
        "--lat",
        metavar="DEGREES",
        help="Latitude, instead of --near (with --lon).",
        rich_help_panel=NEAR,
    ),
]
LonOpt = Annotated[
    float | None,
    typer.Option(
        "--lon",
        metavar="DEGREES",
        help="Longitude, instead of --near (with --lat).",
        rich_help_panel=NEAR,
    ),
]
AnySiteStatusOpt = Annotated[
    bool,
    typer.Option(
        "--any-site-status",
        help="Count sites of any status, not only recruiting or not-yet-recruiting ones.",
        rich_help_panel=NEAR,
    ),
]
SitesOpt = Annotated[
    bool,
    typer.Option(
        "--sites", help="One row per site (within the radius with --near) instead of per trial."
    ),
]

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No notes on stderr (where the data came from, counts, what was dropped); "
        "errors are still shown. For cron.",
    ),
]
ExplainOpt = Annotated[
    bool,
    typer.Option(
        "--explain",
        "--show-dropped",
        help="List on stderr each trial a CAR-T or near-me filter dropped, and why "
        "(the stance and its sentence; the nearest open site and its distance).",
    ),
]

# -- show -------------------------------------------------------------------------------------

NctIdsArg = Annotated[
    list[str],
    typer.Argument(
        help="One or more NCT ids, e.g. NCT01234567 (separated by spaces or commas); "
        "'-' reads them from stdin.",
        metavar="NCT_ID...",
    ),
]


# -- every search option, once, for every command that takes a search ---------------------

# (name, option, default): the names are SearchSpec's fields, so a saved search takes exactly
# the options `search` does.
SEARCH_OPTIONS: tuple[tuple[str, object, object], ...] = (
    ("condition", ConditionOpt, None),
    ("term", TermOpt, None),
    ("intervention", InterventionOpt, None),
    ("location", LocationOpt, None),
    ("status", StatusOpt, None),
    ("phase", PhaseOpt, None),
    ("study_type", StudyTypeOpt, None),
    ("sponsor", SponsorOpt, None),
    ("age", AgeOpt, None),
    ("sex", SexOpt, None),
    ("updated_since", UpdatedSinceOpt, None),
    ("limit", LimitOpt, None),
    ("sort", SortOpt, None),
    ("car_t", CarTOpt, False),
    ("target", TargetOpt, None),
    ("after_car_t", AfterCarTOpt, False),
    ("prior_car_t", PriorCarTOpt, None),
    ("therapy_class", TherapyClassOpt, None),
    ("near", NearOpt, None),
    ("radius", RadiusOpt, None),
    ("lat", LatOpt, None),
    ("lon", LonOpt, None),
    ("any_site_status", AnySiteStatusOpt, False),
    ("sites", SitesOpt, False),
)
_REPEATABLE = ("status", "phase", "target", "prior_car_t", "therapy_class")

Command = TypeVar("Command", bound=Callable[..., None])


def with_search_options(command: Command) -> Command:
    """Give a command every search option; it receives them as one `spec: SearchSpec`.

    The command's own arguments come first in its help, then the search options, then its
    other options.
    """
    signature = inspect.signature(command)
    hints = get_type_hints(command, include_extras=True)  # typer needs the real annotations
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name != "spec"
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    added = [inspect.Parameter(n, keyword, default=d, annotation=a) for n, a, d in SEARCH_OPTIONS]
    first = [p.replace(kind=keyword) for p in own if p.default is inspect.Parameter.empty]
    rest = [p.replace(kind=keyword) for p in own if p.default is not inspect.Parameter.empty]

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        from trialfinder.spec import SearchSpec

        options = {n: values.pop(n) for n, _, _ in SEARCH_OPTIONS}
        options |= {n: tuple(options[n] or ()) for n in _REPEATABLE}
        command(spec=SearchSpec(**options), **values)

    wrapper.__signature__ = signature.replace(parameters=[*first, *added, *rest])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{k: v for k, v in hints.items() if k != "spec"},
        **{n: a for n, a, _ in SEARCH_OPTIONS},
    }
    return cast(Command, wrapper)
